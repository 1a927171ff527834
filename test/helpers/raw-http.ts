// Raw HTTP/1.1 over a TCP socket, for requests no well-behaved client would send (broken framing,
// bytes the URL parser refuses, stalls), plus SigV4 signing of such requests with the SDK's signer.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { sdkSigner, queryString, signingKey } from '../auth/helpers.ts';

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawResult {
  /** Complete responses, in order. */
  responses: RawResponse[];
  /** The server closed (or reset) the connection before the timeout. */
  closed: boolean;
  reset: boolean;
  timedOut: boolean;
  /** Everything received. */
  raw: Buffer;
}

/** A step: bytes to write, or a pause in milliseconds. */
export type RawStep = Buffer | string | number;

export interface ExchangeOptions {
  /** Half-close (FIN) after the last step. */
  end?: boolean;
  /** Give up (and destroy the socket) after this long. Default 10 s. */
  timeoutMs?: number;
  /** Parse responses to HEAD (no bodies). */
  head?: boolean;
  /** Destroys the connection when aborted (the result then reports timedOut). */
  signal?: AbortSignal;
}

/** Writes the steps to a fresh connection and collects what comes back until the server closes. */
export async function exchange(port: number, steps: RawStep[], options: ExchangeOptions = {}): Promise<RawResult> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  let reset = false;
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  for (const step of steps) {
    if (isClosed) break;
    if (typeof step === 'number') await sleep(step);
    else await new Promise<void>((resolve) => socket.write(step, () => resolve()));
  }
  if (options.end && !isClosed) socket.end();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const aborted = new Promise<boolean>((resolve) => {
    if (options.signal?.aborted) resolve(true);
    options.signal?.addEventListener('abort', () => resolve(true), { once: true });
  });
  const timer = new AbortController();
  const timedOut = await Promise.race([closed.then(() => false), sleep(timeoutMs, true, { signal: timer.signal }).catch(() => false), aborted]);
  timer.abort();
  if (timedOut) {
    socket.destroy();
    await closed;
  }
  const raw = Buffer.concat(received);
  return { responses: parseResponses(raw, options.head ?? false), closed: !timedOut, reset, timedOut, raw };
}

/** Splits a byte stream into HTTP/1.1 responses (Content-Length, chunked or read-to-close bodies). */
export function parseResponses(raw: Buffer, head = false): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const end = raw.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const lines = raw.subarray(pos, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (!m) break;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    pos = end + 4;
    let body: Buffer = Buffer.alloc(0);
    if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      // no body
    } else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', pos);
        if (lineEnd < 0) return out;
        const size = parseInt(raw.subarray(pos, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) return out;
        pos = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = raw.indexOf('\r\n\r\n', pos - 2);
          pos = trailerEnd < 0 ? raw.length : trailerEnd + 4;
          break;
        }
        if (pos + size > raw.length) return out;
        parts.push(raw.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (pos + n > raw.length) {
        out.push({ status, headers, body: raw.subarray(pos) });
        return out;
      }
      body = raw.subarray(pos, pos + n);
      pos += n;
    } else {
      body = raw.subarray(pos);
      pos = raw.length;
    }
    out.push({ status, headers, body });
  }
  return out;
}

export interface Target {
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

export interface RawRequest {
  method: string;
  /** Path exactly as sent (already percent-encoded as wanted; may be malformed on purpose). */
  path: string;
  /** Decoded query parameters (sent RFC 3986-encoded). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Signed payload hash: the body's SHA-256 by default. */
  body?: Buffer | string;
}

export interface SignedRequest {
  /** Request line (method, path, query). */
  line: string;
  headers: Record<string, string>;
  /** Signing material, for aws-chunked chunk signatures. */
  seedSignature: string;
  amzDate: string;
  scope: string;
  signingKey: Buffer;
}

/** Signs a request with the AWS SDK's own SigV4 signer (headers as given, plus host, date, hash). */
export async function signRaw(t: Target, r: RawRequest, date = new Date()): Promise<SignedRequest> {
  const region = t.region ?? 'us-east-1';
  const signer = sdkSigner({ accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, region);
  const host = `127.0.0.1:${t.port}`;
  const signed = await signer.sign(
    {
      method: r.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: t.port,
      path: r.path,
      query: { ...(r.query ?? {}) },
      headers: { host, ...(r.headers ?? {}) },
      body: r.body ?? '',
    },
    { signingDate: date },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers as Record<string, string>)) headers[k.toLowerCase()] = v;
  const qs = r.query && Object.keys(r.query).length ? '?' + queryString(r.query) : '';
  const auth = headers['authorization']!;
  const amzDate = headers['x-amz-date']!;
  const day = amzDate.slice(0, 8);
  return {
    line: `${r.method} ${r.path}${qs} HTTP/1.1`,
    headers,
    seedSignature: /Signature=([0-9a-f]{64})/.exec(auth)![1]!,
    amzDate,
    scope: `${day}/${region}/s3/aws4_request`,
    signingKey: signingKey(t.secretAccessKey, day, region),
  };
}

/** The request head: line, headers (in order, repeats allowed), blank line. */
export function head(line: string, headers: Record<string, string> | Array<[string, string]>): string {
  const list = Array.isArray(headers) ? headers : Object.entries(headers);
  return `${line}\r\n${list.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** Signs and sends a whole request (with Connection: close) and returns the exchange. */
export async function sendSigned(t: Target, r: RawRequest, options: ExchangeOptions = {}): Promise<RawResult> {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  const s = await signRaw(t, { ...r, headers: { 'content-length': String(body.length), ...(r.headers ?? {}) } });
  return exchange(t.port, [head(s.line, { ...s.headers, connection: 'close' }), body], options);
}

const STACK_TRACE = /\n\s+at .+[(:]\d+|\.ts:\d+|node:internal|Error: .*\n/;

/**
 * Asserts an S3 error document: the status, `<Error>` with a Code (one of `codes` if given), a
 * RequestId equal to the x-amz-request-id header, and no stack trace.
 */
export function assertS3Error(r: RawResponse, opts: { status?: number | [number, number]; codes?: string[]; note?: string } = {}): string {
  const note = opts.note ? `${opts.note}: ` : '';
  const text = r.body.toString('utf8');
  const [lo, hi] = Array.isArray(opts.status) ? opts.status : opts.status !== undefined ? [opts.status, opts.status] : [400, 499];
  assert.ok(r.status >= lo && r.status <= hi, `${note}status ${r.status} not in ${lo}-${hi}; body: ${text.slice(0, 300)}`);
  assert.match(r.headers['content-type'] ?? '', /xml/, `${note}content-type of the error (status ${r.status}, body ${JSON.stringify(text.slice(0, 200))})`);
  assert.match(text, /<Error>[\s\S]*<\/Error>/, `${note}an <Error> document, got ${JSON.stringify(text.slice(0, 300))}`);
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  assert.ok(code, `${note}<Code> in ${text.slice(0, 300)}`);
  if (opts.codes) assert.ok(opts.codes.includes(code), `${note}code ${code} not one of ${opts.codes.join(', ')}`);
  const requestId = /<RequestId>([^<]+)<\/RequestId>/.exec(text)?.[1];
  assert.ok(requestId, `${note}<RequestId> in ${text.slice(0, 300)}`);
  assert.equal(requestId, r.headers['x-amz-request-id'], `${note}RequestId matches the header`);
  assert.doesNotMatch(text, STACK_TRACE, `${note}no stack trace in the error body`);
  return code;
}

/**
 * The outcome of a request that must be refused: a 4xx S3 error document, or (when `allowClose`)
 * the connection closed without a response. A bare non-S3 response or a hang fails.
 */
export function assertRefused(res: RawResult, opts: { allowClose?: boolean; codes?: string[]; note?: string } = {}): string | undefined {
  const note = opts.note ?? '';
  assert.ok(!res.timedOut || res.responses.length > 0, `${note}: no answer and no close within the timeout`);
  if (res.responses.length === 0) {
    assert.ok(opts.allowClose, `${note}: connection closed without a response (received ${JSON.stringify(res.raw.toString('latin1').slice(0, 200))})`);
    return undefined;
  }
  return assertS3Error(res.responses[0]!, { codes: opts.codes, note });
}
