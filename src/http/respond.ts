import type { ServerResponse } from 'node:http';
import type { S3Error, S3Response } from '../s3/index.ts';
import { doc, el } from '../s3/index.ts';
import { endLater } from './end-later.ts';

/**
 * Sends a handler's response, with `base` (the gateway's per-request headers) before the handler's
 * own. The head goes out in one `writeHead`: headers set one by one with `setHeader` are checked
 * and stored twice, a cost every small GET pays. A complete (non-stream) answer is ended with the
 * turn's others (`endLater`). Returns the content-length declared (access log).
 *
 * A stream body is started only once its first bytes are in hand, so a failure to open the data
 * (a missing or unreadable file) still becomes a proper S3 error; after that it flows with
 * back-pressure, and a failure can only cut the connection.
 */
export async function sendResponse(res: ServerResponse, r: S3Response, head: boolean, base?: Record<string, string>): Promise<number> {
  const body = r.body;
  const headers: Record<string, string | number> = base ? { ...base, ...r.headers } : { ...r.headers };
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    if (body === undefined) {
      if (headers['content-length'] === undefined && r.status !== 304 && r.status !== 204) headers['content-length'] = 0;
      res.writeHead(r.status, headers);
      endLater(res);
      return Number(headers['content-length'] ?? 0);
    }
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (typeof body === 'string') headers['content-type'] = 'application/xml';
    headers['content-length'] = bytes.length;
    res.writeHead(r.status, headers);
    endLater(res, head ? undefined : bytes);
    return bytes.length;
  }
  if (head) {
    body.destroy();
    res.writeHead(r.status, headers);
    endLater(res);
    return Number(headers['content-length'] ?? 0);
  }
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let next = await chunks.next();
  res.writeHead(r.status, headers);
  // A plain loop rather than stream.pipeline: no AbortController and listeners per response, and
  // the drain wait removes its listeners each time (nothing accumulates over a long body).
  // write() reports "full" past the socket's 16 KiB mark, so after every 64 KiB chunk: waiting for
  // a drain each time cost an event-loop turn per chunk. Up to STREAM_QUEUE_BYTES may queue
  // instead (then written in one writev), which still bounds the memory a response holds.
  try {
    while (!next.done && !res.destroyed) {
      res.write(next.value);
      if (res.writableLength >= STREAM_QUEUE_BYTES) await drained(res);
      if (res.destroyed) break;
      next = await chunks.next();
    }
    if (res.destroyed) throw new Error('client went away');
    res.end();
  } finally {
    if (!res.writableEnded || res.destroyed) await chunks.return?.();
  }
  return Number(headers['content-length'] ?? 0);
}

/** Bytes of a stream body queued in the response before the loop waits for a drain. */
const STREAM_QUEUE_BYTES = 1024 * 1024;

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Sets each header on a response not yet started (the paths that answer without `sendResponse`). */
export function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const name in headers) res.setHeader(name, headers[name]!);
}

/** An S3 error as the XML document (or bare status, for HEAD) Amazon S3 sends. */
export function sendError(res: ServerResponse, err: S3Error, requestId: string, resource: string, head: boolean): void {
  res.statusCode = err.status;
  setHeaders(res, err.headers);
  if (err.status === 304 || head) {
    endLater(res);
    return;
  }
  const extra = Object.entries(err.fields).map(([k, v]) => el(k, v)).join('');
  const xml = doc('Error', `${el('Code', err.code)}${el('Message', err.message)}${extra}${el('Resource', resource)}${el('RequestId', requestId)}`)
    // S3 error documents carry no namespace.
    .replace(' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"', '');
  const bytes = Buffer.from(xml, 'utf8');
  res.setHeader('content-type', 'application/xml');
  res.setHeader('content-length', bytes.length);
  endLater(res, bytes);
}

/** A JSON answer (admin API, sign-up). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  if (body === undefined || status === 204) {
    endLater(res);
    return;
  }
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', bytes.length);
  endLater(res, bytes);
}
