// Decodes an aws-chunked body (Content-Encoding: aws-chunked) as a stream:
//   signed:   <hex-size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//   unsigned: <hex-size>\r\n<data>\r\n ... 0\r\n
// then, with trailers, `name:value\r\n` lines (and x-amz-trailer-signature:<sig>\r\n when signed),
// then \r\n. Chunk data is passed on as it arrives, never buffered; each chunk's signature is
// checked when its last byte has arrived, so a bad chunk fails the stream before it can end.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error, toS3Error } from '../s3/errors.ts';
import { EMPTY_SHA256, safeEqual, sha256Hex } from './crypto.ts';
import type { ChunkSigning } from './payload-mode.ts';
import { chunkStringToSign, signHex, trailerStringToSign } from './sigv4-canonical.ts';

/** Largest chunk accepted by default. Chunks are streamed through, so this bounds no memory. */
export const DEFAULT_MAX_CHUNK_SIZE = 5 * 1024 ** 3;
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CR = 13;
const LF = 10;

export interface ChunkedDecoderOptions {
  /** Signing material when chunks carry signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]). */
  signing?: ChunkSigning;
  /** Whether trailing headers follow the last chunk (the *-TRAILER modes). */
  trailer: boolean;
  /** Trailer names announced in x-amz-trailer: each must arrive. */
  declaredTrailers?: string[];
  /** x-amz-decoded-content-length, when given: the decoded byte count must equal it. */
  decodedLength?: number;
  /** Filled with the trailing headers (lower-case names) before the stream ends. */
  trailers?: Map<string, string>;
  maxChunkSize?: number;
}

type State = 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';

const invalid = (message: string) => new S3Error('InvalidRequest', `Malformed aws-chunked body: ${message}`);

export class ChunkedDecoder extends Transform {
  readonly #signing: ChunkSigning | undefined;
  readonly #trailerMode: boolean;
  readonly #declared: string[];
  readonly #decodedLength: number | undefined;
  readonly #trailersOut: Map<string, string> | undefined;
  readonly #maxChunk: number;

  #state: State = 'size';
  #line: Buffer[] = [];
  #lineLength = 0;
  #remaining = 0;
  #decoded = 0;
  #chunkSignature = '';
  #previousSignature: string;
  #hash: Hash | undefined;
  #trailers = new Map<string, string>();
  #trailerBytes = 0;
  #trailerSignature: string | undefined;

  constructor(options: ChunkedDecoderOptions) {
    super();
    this.#signing = options.signing;
    this.#trailerMode = options.trailer;
    this.#declared = options.declaredTrailers ?? [];
    this.#decodedLength = options.decodedLength;
    this.#trailersOut = options.trailers;
    this.#maxChunk = options.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
    this.#previousSignature = options.signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (e) {
      callback(toS3Error(e));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // A body may end right after the last chunk's line or after its trailer lines, without the
      // closing empty line (the AWS SDK for JavaScript sends `0\r\n` alone when it has no trailer).
      if (this.#state === 'trailer' && this.#lineLength === 0) this.#complete();
      if (this.#state !== 'done') throw new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.');
      callback();
    } catch (e) {
      callback(toS3Error(e));
    }
  }

  #consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.#state) {
        case 'size':
        case 'trailer': {
          const lf = buf.indexOf(LF, i);
          const end = lf < 0 ? buf.length : lf;
          this.#appendLine(buf.subarray(i, end));
          i = end;
          if (lf < 0) break;
          i++;
          const line = this.#takeLine();
          if (this.#state === 'size') this.#onSizeLine(line);
          else this.#onTrailerLine(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, buf.length - i);
          const data = buf.subarray(i, i + n);
          i += n;
          this.#remaining -= n;
          this.#decoded += n;
          this.#hash?.update(data);
          this.push(data);
          if (this.#remaining === 0) {
            this.#verifyChunk(this.#hash ? this.#hash.digest('hex') : EMPTY_SHA256);
            this.#state = 'data-cr';
          }
          break;
        }
        case 'data-cr':
          if (buf[i++] !== CR) throw invalid('chunk data is not followed by CRLF.');
          this.#state = 'data-lf';
          break;
        case 'data-lf':
          if (buf[i++] !== LF) throw invalid('chunk data is not followed by CRLF.');
          this.#state = 'size';
          break;
        case 'done':
          throw invalid('data after the end of the body.');
      }
    }
  }

  #appendLine(part: Buffer): void {
    if (part.length === 0) return;
    this.#lineLength += part.length;
    if (this.#lineLength > MAX_LINE) throw invalid('line too long.');
    if (this.#state === 'trailer') {
      this.#trailerBytes += part.length;
      if (this.#trailerBytes > MAX_TRAILER_BYTES) throw invalid('trailers too large.');
    }
    // Copy: the line outlives the incoming buffer, which may be reused.
    this.#line.push(Buffer.from(part));
  }

  /** The line just completed, without its CRLF. */
  #takeLine(): string {
    const bytes = this.#line.length === 1 ? this.#line[0]! : Buffer.concat(this.#line);
    this.#line = [];
    this.#lineLength = 0;
    if (bytes.length === 0 || bytes[bytes.length - 1] !== CR) throw invalid('line does not end with CRLF.');
    return bytes.subarray(0, bytes.length - 1).toString('latin1');
  }

  #onSizeLine(line: string): void {
    const semi = line.indexOf(';');
    const sizeText = semi < 0 ? line : line.slice(0, semi);
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw invalid(`bad chunk size "${sizeText.slice(0, 32)}".`);
    const size = parseInt(sizeText, 16);
    if (size > this.#maxChunk) throw invalid(`chunk of ${size} bytes exceeds the ${this.#maxChunk} byte limit.`);

    if (this.#signing) {
      const m = semi < 0 ? null : /(?:^|;)chunk-signature=([0-9a-fA-F]{64})(?:;|$)/.exec(line.slice(semi + 1));
      if (!m) throw new S3Error('SignatureDoesNotMatch', 'The chunk is missing a valid chunk-signature.');
      this.#chunkSignature = m[1]!.toLowerCase();
    }
    if (this.#decodedLength !== undefined && this.#decoded + size > this.#decodedLength) {
      throw new S3Error('IncompleteBody', 'The aws-chunked body is longer than x-amz-decoded-content-length.');
    }
    if (size === 0) {
      this.#verifyChunk(EMPTY_SHA256);
      this.#state = 'trailer';
      return;
    }
    this.#remaining = size;
    this.#hash = this.#signing ? createHash('sha256') : undefined;
    this.#state = 'data';
  }

  #verifyChunk(dataSha256: string): void {
    const s = this.#signing;
    if (!s) return;
    const expected = signHex(s.signingKey, chunkStringToSign(s.amzDate, s.scope, this.#previousSignature, dataSha256));
    if (!safeEqual(expected, this.#chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature does not match.');
    }
    this.#previousSignature = expected;
    this.#hash = undefined;
  }

  #onTrailerLine(line: string): void {
    if (line === '') {
      this.#complete();
      return;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (!/^[a-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) throw invalid('malformed trailing header.');
    const value = line.slice(colon + 1).trim();
    if (!this.#trailerMode) throw invalid('unexpected trailing header.');
    if (this.#trailerSignature !== undefined) throw invalid('trailing header after x-amz-trailer-signature.');
    if (name === 'x-amz-trailer-signature') {
      // Only meaningful in the signed-trailer mode; unsigned-trailer bodies have nothing to check it against.
      if (this.#signing) this.#trailerSignature = value.toLowerCase();
      return;
    }
    if (this.#trailers.has(name)) throw invalid(`repeated trailing header ${name}.`);
    if (this.#trailers.size >= 32) throw invalid('too many trailing headers.');
    this.#trailers.set(name, value);
  }

  /** End of body: check trailer signature, declared trailers and length, then publish trailers. */
  #complete(): void {
    const s = this.#signing;
    if (s && this.#trailerMode) {
      if (this.#trailerSignature === undefined) {
        throw new S3Error('SignatureDoesNotMatch', 'The trailing headers are missing x-amz-trailer-signature.');
      }
      const names = [...this.#trailers.keys()].sort();
      const canonical = names.map((n) => `${n}:${this.#trailers.get(n)}\n`).join('');
      const sts = trailerStringToSign(s.amzDate, s.scope, this.#previousSignature, sha256Hex(canonical));
      if (!safeEqual(signHex(s.signingKey, sts), this.#trailerSignature)) {
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature does not match.');
      }
    }
    for (const name of this.#declared) {
      if (!this.#trailers.has(name)) {
        throw new S3Error('InvalidRequest', `The trailing header ${name} declared in x-amz-trailer was not sent.`);
      }
    }
    if (this.#decodedLength !== undefined && this.#decoded !== this.#decodedLength) {
      throw new S3Error('IncompleteBody', 'The aws-chunked body is shorter than x-amz-decoded-content-length.');
    }
    if (this.#trailersOut) for (const [n, v] of this.#trailers) this.#trailersOut.set(n, v);
    this.#state = 'done';
  }
}
