// Test helpers: the AWS SDK's own SigV4 signer, credentials, request builders, stream collection.
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AuthInput, AuthOptions, CredentialLookup, Credentials } from '../../src/auth/index.ts';

export const REGION = 'eu-west-3';
export const CREDS: Credentials = {
  accessKeyId: 'AKIDTESTKEY0001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY01',
};
export const lookup: CredentialLookup = async (id) => (id === CREDS.accessKeyId ? CREDS : undefined);
export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const opts: AuthOptions = { region: REGION, now: () => NOW };
export const HOST = 's3.test.local:9000';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function toBytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === 'string') return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** The sha256 constructor the SDK signer wants, on node:crypto (HMAC when given a key). */
class Sha256 {
  #h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
}

export function sdkSigner(creds: Credentials = CREDS, region = REGION): SignatureV4 {
  return new SignatureV4({ service: 's3', region, credentials: creds, sha256: Sha256, uriEscapePath: false, applyChecksum: true });
}

export interface SpecRequest {
  method: string;
  /** Path as the signer sees it (already percent-encoded the way the client encodes). */
  path: string;
  /** Decoded query parameters. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

function sdkRequest(r: SpecRequest) {
  return {
    method: r.method,
    protocol: 'http:',
    hostname: HOST.split(':')[0]!,
    port: Number(HOST.split(':')[1]),
    path: r.path,
    query: { ...(r.query ?? {}) },
    headers: { host: HOST, ...(r.headers ?? {}) } as Record<string, string>,
    body: r.body,
  };
}

/** RFC 3986 strict encoding of a query component (what most SDKs send). */
export function encodeQueryPart(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function queryString(query: Record<string, string | undefined>, encode = encodeQueryPart): string {
  return Object.entries(query)
    .map(([k, v]) => (v === undefined ? encode(k) : `${encode(k)}=${encode(v)}`))
    .join('&');
}

export function lowerHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Signs with the SDK signer (Authorization header); returns the headers to send. */
export async function signHeaders(r: SpecRequest, date = new Date(NOW), signer = sdkSigner()): Promise<Record<string, string>> {
  const signed = await signer.sign(sdkRequest(r), { signingDate: date });
  return lowerHeaders(signed.headers as Record<string, string>);
}

/** Presigns with the SDK signer; returns the query (decoded) to send, X-Amz-* included. */
export async function presignQuery(
  r: SpecRequest,
  expiresIn = 3600,
  date = new Date(NOW),
  signer = sdkSigner(),
): Promise<{ query: Record<string, string>; headers: Record<string, string> }> {
  const req = sdkRequest(r);
  req.headers = { ...req.headers, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }; // as @aws-sdk/s3-request-presigner does
  const signed = await signer.presign(req, { expiresIn, signingDate: date });
  return { query: signed.query as Record<string, string>, headers: lowerHeaders(signed.headers as Record<string, string>) };
}

export function input(
  method: string,
  rawUrl: string,
  headers: Record<string, string>,
  body: Buffer | string | Buffer[] | Readable = Buffer.alloc(0),
): AuthInput {
  let stream: Readable;
  if (body instanceof Readable) stream = body;
  else if (Array.isArray(body)) stream = Readable.from(body);
  else stream = Readable.from(Buffer.from(body).length > 0 ? [Buffer.from(body)] : []);
  return { method, rawUrl, headers: lowerHeaders(headers), body: stream };
}

export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Rejects with what the stream failed with, or resolves when it ended cleanly. */
export async function collectError(stream: Readable): Promise<unknown> {
  try {
    await collect(stream);
  } catch (e) {
    return e;
  }
  return undefined;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacHex(key: Uint8Array | string, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** SigV4 signing key, written out here so chunk signatures in tests do not reuse the code under test. */
export function signingKey(secret: string, date: string, region = REGION): Buffer {
  let k = createHmac('sha256', 'AWS4' + secret).update(date).digest();
  for (const part of [region, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  return k;
}

/** Splits a buffer into pieces of at most n bytes (to exercise parsing across reads). */
export function pieces(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

/** Expects an S3Error with this code (assert.rejects predicate). */
export function s3code(code: string, message?: RegExp) {
  return (e: unknown) => {
    const err = e as { code?: string; message?: string };
    if (err?.code !== code) throw new Error(`expected S3Error ${code}, got ${err?.code}: ${err?.message}`);
    if (message && !message.test(err.message ?? '')) throw new Error(`message "${err.message}" does not match ${message}`);
    return true;
  };
}
