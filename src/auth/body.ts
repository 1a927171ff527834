// Builds the verified payload stream for a request from its PayloadMode.
import { finished, type Readable, type Transform } from 'node:stream';
import { S3Error } from '../s3/errors.ts';
import { ChunkedDecoder } from './chunked-decoder.ts';
import { PayloadHashVerifier } from './payload-hash.ts';
import { EMPTY_SHA256 } from './crypto.ts';
import type { PayloadMode } from './payload-mode.ts';
import type { RequestParts } from './request-parts.ts';
import { headerValue } from './request-parts.ts';

export interface VerifiedBody {
  body: Readable;
  contentLength: number | undefined;
}

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new S3Error('InvalidArgument', `Invalid ${name}: ${value}`, { ArgumentName: name, ArgumentValue: value });
  }
  return Number(v);
}

/**
 * Pipes the raw body into a verifying transform. The raw body is never destroyed here: after a
 * verification error it is unpiped and left paused, so the HTTP layer can still answer the error
 * (and then close the connection). A raw body that errors or closes early fails the output with
 * IncompleteBody.
 */
function pipeThrough(raw: Readable, transform: Transform): Transform {
  raw.pipe(transform);
  finished(raw, (err) => {
    if (err && !transform.destroyed && !transform.writableFinished) {
      transform.destroy(new S3Error('IncompleteBody'));
    }
  });
  transform.once('error', () => raw.unpipe(transform));
  return transform;
}

export function verifiedBody(
  raw: Readable,
  req: RequestParts,
  mode: PayloadMode,
  trailers: Map<string, string>,
): VerifiedBody {
  if (mode.kind === 'chunked') {
    const decodedLength = parseLength(headerValue(req, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length');
    const declared = (headerValue(req, 'x-amz-trailer') ?? '')
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n !== '');
    const decoder = new ChunkedDecoder({
      signing: mode.signing,
      trailer: mode.trailer,
      declaredTrailers: mode.trailer ? declared : [],
      decodedLength,
      trailers,
    });
    return { body: pipeThrough(raw, decoder), contentLength: decodedLength };
  }
  const contentLength = parseLength(headerValue(req, 'content-length'), 'Content-Length');
  if (mode.kind === 'sha256') {
    // A bodiless request (no length, no chunked framing) signed for the empty payload has nothing
    // to hash: skip the verifying stream, the common case of every GET, HEAD and DELETE.
    const bodiless = (contentLength ?? 0) === 0 && headerValue(req, 'transfer-encoding') === undefined;
    if (bodiless && mode.expected === EMPTY_SHA256) return { body: raw, contentLength };
    return { body: pipeThrough(raw, new PayloadHashVerifier(mode.expected)), contentLength };
  }
  return { body: raw, contentLength };
}
