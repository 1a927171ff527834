import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Bucket, MetaStore } from '../meta/index.ts';
import type { CompiledPolicy } from '../iam/authorize.ts';
import type { ObjectEngine } from '../engine/index.ts';

/** Who sent a request: an account, by one of its access keys, or nobody (ANONYMOUS). */
export interface Principal {
  accountId: string;
  displayName: string;
  accessKeyId: string;
  /** Administrators may use the admin API. */
  isAdmin: boolean;
  /** An unsigned request: its accountId is S3's anonymous owner id, no account's. */
  anonymous?: boolean;
}

/** The caller of an unsigned request (S3 shows this id as the owner of what anonymous users write). */
export const ANONYMOUS: Principal = Object.freeze({
  accountId: '65a011a29cdf8ec533ec3d1ccaae921c',
  displayName: 'anonymous',
  accessKeyId: '',
  isAdmin: false,
  anonymous: true,
});

/** The access decision as handlers see it (src/iam/authorize.ts behind it). */
export interface AccessGate {
  /**
   * Loads bucket `name` and checks that `principal` (default: the request's) may do `action` on it,
   * or on `key` in it. NoSuchBucket or AccessDenied otherwise (also when `expectedOwner` is given and
   * is not the bucket's owner). Handlers use it for resources other than the request's own: a copy
   * source, each key of DeleteObjects, a form upload's key. `conditionHeaders` replaces the request's
   * headers as the source of the object's condition keys (s3:x-amz-acl, s3:RequestObjectTag/...): a
   * form upload carries them as fields.
   */
  check(
    action: string,
    name: string,
    key?: string,
    options?: { principal?: Principal; expectedOwner?: string; conditionHeaders?: IncomingHttpHeaders },
  ): Promise<Bucket>;
  /** Validates and compiles a bucket policy (MalformedPolicy with the reason when it is not valid). */
  compilePolicy(text: string, bucket: string): CompiledPolicy;
  /** An active access key's secret and principal, for handlers that verify signatures themselves. */
  credentials(accessKeyId: string): Promise<{ principal: Principal; secretAccessKey: string } | undefined>;
}

/** What every handler gets: the parsed request, its verified body, and the stores behind it. */
export interface S3Context {
  requestId: string;
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  principal: Principal;
  /** The request's bucket, once the gateway has loaded it and the access decision allowed the request. */
  bucketRecord?: Bucket;
  gate: AccessGate;
  /** The verified payload (aws-chunked framing already removed). */
  body: Readable;
  /** Payload length when the client declared it. */
  contentLength: number | undefined;
  /** Trailing headers of an aws-chunked body, filled in by the time `body` ends. */
  trailers: Map<string, string>;
  meta: MetaStore;
  engine: ObjectEngine;
  region: string;
  /** The request came over TLS (https URLs in answers). */
  secure: boolean;
  /** The storage class a write gets without x-amz-storage-class (ARCHIVE on the s3-archive endpoint). */
  defaultStorageClass: 'STANDARD' | 'ARCHIVE';
}

export interface S3Response {
  status: number;
  headers?: Record<string, string | number>;
  /** XML text, bytes, or a stream of the object. */
  body?: string | Buffer | Readable;
}

export type Handler = (ctx: S3Context) => Promise<S3Response>;

/** A header's single value (the first, if repeated). */
export function header(ctx: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
