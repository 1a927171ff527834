// Passes a body through while hashing it; fails with XAmzContentSHA256Mismatch at the end when the
// SHA-256 differs from the x-amz-content-sha256 the client signed.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../s3/errors.ts';

export class PayloadHashVerifier extends Transform {
  readonly #expected: string;
  readonly #hash: Hash = createHash('sha256');

  /** `expected`: lower-case hex SHA-256. */
  constructor(expected: string) {
    super();
    this.#expected = expected.toLowerCase();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.#hash.digest('hex');
    if (actual !== this.#expected) {
      callback(
        new S3Error('XAmzContentSHA256Mismatch', undefined, {
          ClientComputedContentSHA256: this.#expected,
          S3ComputedContentSHA256: actual,
        }),
      );
      return;
    }
    callback();
  }
}
