import type { ServerResponse } from 'node:http';
import type { S3Error, S3Response } from '../s3/index.ts';
import { doc, el } from '../s3/index.ts';

/**
 * Sends a handler's response. A stream body is started only once its first bytes are in hand, so a
 * failure to open the data (a missing or unreadable file) still becomes a proper S3 error; after
 * that it flows with back-pressure, and a failure can only cut the connection.
 */
export async function sendResponse(res: ServerResponse, r: S3Response, head: boolean): Promise<void> {
  const body = r.body;
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    writeHead(res, r);
    if (body === undefined) {
      if (!res.hasHeader('content-length') && r.status !== 304 && r.status !== 204) res.setHeader('content-length', 0);
      res.end();
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (typeof body === 'string') res.setHeader('content-type', 'application/xml');
    res.setHeader('content-length', bytes.length);
    res.end(head ? undefined : bytes);
    return;
  }
  if (head) {
    body.destroy();
    writeHead(res, r);
    res.end();
    return;
  }
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let next = await chunks.next();
  writeHead(res, r);
  // A plain loop rather than stream.pipeline: no AbortController and listeners per response, and
  // the drain wait removes its listeners each time (nothing accumulates over a long body).
  try {
    while (!next.done && !res.destroyed) {
      if (!res.write(next.value)) await drained(res);
      if (res.destroyed) break;
      next = await chunks.next();
    }
    if (res.destroyed) throw new Error('client went away');
    res.end();
  } finally {
    if (!res.writableEnded || res.destroyed) await chunks.return?.();
  }
}

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

function writeHead(res: ServerResponse, r: S3Response): void {
  res.statusCode = r.status;
  const headers = r.headers;
  if (headers) for (const name in headers) res.setHeader(name, headers[name]!);
}

/** An S3 error as the XML document (or bare status, for HEAD) Amazon S3 sends. */
export function sendError(res: ServerResponse, err: S3Error, requestId: string, resource: string, head: boolean): void {
  res.statusCode = err.status;
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  if (err.status === 304 || head) {
    res.end();
    return;
  }
  const extra = Object.entries(err.fields).map(([k, v]) => el(k, v)).join('');
  const xml = doc('Error', `${el('Code', err.code)}${el('Message', err.message)}${extra}${el('Resource', resource)}${el('RequestId', requestId)}`)
    // S3 error documents carry no namespace.
    .replace(' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"', '');
  const bytes = Buffer.from(xml, 'utf8');
  res.setHeader('content-type', 'application/xml');
  res.setHeader('content-length', bytes.length);
  res.end(bytes);
}

/** A JSON answer (admin API, sign-up). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  if (body === undefined || status === 204) {
    res.end();
    return;
  }
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', bytes.length);
  res.end(bytes);
}
