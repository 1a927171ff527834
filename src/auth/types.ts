import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A secret the gateway knows for an access key id. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Looks up an access key; undefined when unknown (-> InvalidAccessKeyId). */
export type CredentialLookup = (accessKeyId: string) => Promise<Credentials | undefined>;

/** What the authenticator needs of an HTTP request; nothing is read from the body before it returns. */
export interface AuthInput {
  method: string;
  /** Path and query exactly as received on the request line (still percent-encoded). */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  /** The raw request body stream (may be aws-chunked). */
  body: Readable;
  /**
   * Optional: `req.rawHeaders` (name, value, name, value...). Lets SigV4/SigV2 join repeated header
   * fields with ',' as clients sign them (Node's `headers` joins them with ', ').
   */
  rawHeaders?: string[];
  /**
   * Optional: the bucket named by the Host header in a virtual-hosted-style request
   * (`bucket.s3.example.com`). SigV2 signs `/bucket/key`, so it needs it; SigV4 does not.
   */
  virtualHostBucket?: string;
}

export interface AuthOptions {
  /** Region the gateway answers for; SigV4 credential scopes must name it. */
  region: string;
  /** Clock, for tests. Milliseconds since the epoch. */
  now?: () => number;
}

export interface AuthResult {
  /** The verified access key id, or null for an anonymous (unsigned) request. */
  accessKeyId: string | null;
  /**
   * The payload as the client meant it: aws-chunked framing removed, chunk and trailer
   * signatures checked, x-amz-content-sha256 checked. A mismatch fails the stream with an S3Error
   * (SignatureDoesNotMatch, XAmzContentSHA256Mismatch, IncompleteBody, ...) before it ends, so a
   * consumer that commits only after a clean end never commits bad data.
   */
  body: Readable;
  /** Payload length after decoding, when known in advance (x-amz-decoded-content-length or Content-Length). */
  contentLength: number | undefined;
  /**
   * Trailing headers of an aws-chunked body (lower-case names, e.g. x-amz-checksum-crc32).
   * Filled in before `body` emits 'end'; empty for other requests.
   */
  trailers: Map<string, string>;
}
