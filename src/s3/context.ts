import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { MetaStore } from '../meta/index.ts';
import type { ObjectEngine } from '../engine/index.ts';

/** Who sent a request: an account, by one of its access keys. */
export interface Principal {
  accountId: string;
  displayName: string;
  accessKeyId: string;
  /** Administrators may use the admin API. */
  isAdmin: boolean;
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
  /** The verified payload (aws-chunked framing already removed). */
  body: Readable;
  /** Payload length when the client declared it. */
  contentLength: number | undefined;
  /** Trailing headers of an aws-chunked body, filled in by the time `body` ends. */
  trailers: Map<string, string>;
  meta: MetaStore;
  engine: ObjectEngine;
  region: string;
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
