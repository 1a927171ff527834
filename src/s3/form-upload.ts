// Reads a browser form upload (multipart/form-data) with busboy, as S3 does: the fields before the
// `file` part, then the file as a stream (never buffered). Fields after the file are ignored.

import type { IncomingHttpHeaders } from 'node:http';
import { Readable, finished } from 'node:stream';
import busboy from 'busboy';
import { S3Error } from './errors.ts';

/** S3 refuses forms whose fields before the file exceed 20 KB. */
export const MAX_PRE_FILE_BYTES = 20 * 1024;

export interface FormFile {
  stream: Readable;
  /** The name the browser gave the file ('' when none). */
  filename: string;
}

export interface Form {
  /** Fields before the file, by lower-case name (form field names are case-insensitive); the first of repeats. */
  fields: Map<string, string>;
  /** The `file` part; undefined when the form has none. */
  file?: FormFile;
  /** Settles when the rest of the form has been read: rejects if it was cut short or malformed. */
  done: Promise<void>;
}

/** The form is not valid multipart/form-data, or ended before its closing boundary. */
export function malformed(): S3Error {
  return new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
}

/** Parses the form up to the start of its file (or its end, when there is none). */
export function readForm(body: Readable, headers: IncomingHttpHeaders): Promise<Form> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers, limits: { fieldSize: MAX_PRE_FILE_BYTES, fieldNameSize: 1024, parts: 1000 } });
  } catch {
    throw malformed();
  }
  const fields = new Map<string, string>();
  let preFileBytes = 0;
  let started = false;
  const done = new Promise<void>((resolve, reject) => {
    parser.once('close', resolve);
    parser.once('error', () => reject(malformed()));
  });
  // Whoever awaits `done` sees its failure; this only keeps an unawaited one from being unhandled.
  done.catch(() => {});
  // Not stream.pipeline: it would destroy the request on a parse failure, and the client must
  // still get the error. The request is left paused instead (the gateway then closes the connection).
  body.pipe(parser);
  finished(body, (err) => {
    if (err && !parser.destroyed) parser.destroy(err);
  });
  parser.once('error', () => body.unpipe(parser));

  return new Promise<Form>((resolve, reject) => {
    const start = (file: FormFile | undefined) => {
      if (started) return;
      started = true;
      resolve({ fields, file, done });
    };
    const fail = (err: S3Error) => {
      if (started) return;
      started = true;
      reject(err);
      body.unpipe(parser);
      parser.destroy();
    };
    parser.on('field', (name, value, info) => {
      if (started) return;
      preFileBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (preFileBytes > MAX_PRE_FILE_BYTES || info.valueTruncated) return fail(new S3Error('MaxPostPreDataLengthExceededError'));
      const lower = name.toLowerCase();
      // A plain-text `file` field is the file's content (curl -F file=text).
      if (lower === 'file') return start({ stream: Readable.from([Buffer.from(value, 'utf8')]), filename: '' });
      if (!fields.has(lower)) fields.set(lower, value);
    });
    parser.on('file', (name, stream, info) => {
      if (started || name.toLowerCase() !== 'file') {
        stream.resume();
        return;
      }
      start({ stream, filename: info.filename ?? '' });
    });
    done.then(
      () => start(undefined),
      (err: S3Error) => fail(err),
    );
  });
}

/**
 * Reads and drops what is left of a body, up to `maxBytes` or `ms`, so that a browser still
 * sending a small form receives the error instead of a reset connection. Past either bound the
 * rest stays unread (and the gateway closes the connection after its answer). True when it ended.
 */
export function drain(stream: Readable, maxBytes = 1024 * 1024, ms = 2000): Promise<boolean> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    let seen = 0;
    const stop = () => {
      clearTimeout(timer);
      stream.off('data', count);
      stream.off('end', stop);
      stream.off('close', stop);
      stream.off('error', stop);
      stream.pause();
      resolve(stream.readableEnded);
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) stop();
    };
    const timer = setTimeout(stop, ms);
    stream.on('data', count);
    stream.once('end', stop);
    stream.once('close', stop);
    stream.once('error', stop);
    stream.resume();
  });
}

