import { createHash } from 'node:crypto';
import { S3Error } from './errors.ts';
import { header, type S3Context } from './context.ts';
import { checksumRequestFrom, createHasher, verifyChecksum, type Hasher } from './checksums.ts';
import type { Checksum, ChecksumAlgorithm } from '../meta/index.ts';
import type { StorageClass } from './headers.ts';

/** Largest single PUT (and part), as Amazon S3. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

/** What was written, with the hex MD5 of its bytes. */
export interface WrittenBody {
  locator: string;
  size: number;
  md5: string;
}

/** A verified request body: what was written, and the checksum it carried or had computed. */
export interface StoredBody extends WrittenBody {
  checksum?: Checksum;
}

function expectedMd5(ctx: S3Context): string | undefined {
  const v = header(ctx, 'content-md5');
  if (v === undefined) return undefined;
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== v.trim()) throw new S3Error('InvalidDigest');
  return bytes.toString('hex');
}

/**
 * Streams `source` into the engine through MD5 (and `hasher`), throwing `tooLarge(seen)` as soon as
 * more than `max` bytes have come. PUT bodies, parts and form files all arrive this way.
 */
export async function writeDigested(
  ctx: S3Context,
  source: AsyncIterable<Buffer>,
  storageClass: StorageClass,
  max: number,
  tooLarge: (seen: number) => S3Error,
  hasher?: Hasher,
): Promise<WrittenBody> {
  const md5 = createHash('md5');
  let seen = 0;
  async function* digesting(): AsyncIterable<Buffer> {
    for await (const chunk of source) {
      seen += chunk.length;
      if (seen > max) throw tooLarge(seen);
      md5.update(chunk);
      hasher?.update(chunk);
      yield chunk;
    }
  }
  const written = await ctx.engine.write(digesting(), { storageClass });
  return { locator: written.locator, size: written.size, md5: md5.digest('hex') };
}

/**
 * Streams the request body into the engine while computing MD5 and the requested checksum,
 * then checks Content-MD5, the checksum (header or trailer) and the length. `alwaysCompute` names
 * an algorithm to compute even when the request carries none (multipart uploads need every part's). Data that fails a
 * check is deleted before the error is thrown, so nothing half-verified is ever committed.
 */
export async function storeBody(ctx: S3Context, storageClass: StorageClass, alwaysCompute?: ChecksumAlgorithm): Promise<StoredBody> {
  const md5Expected = expectedMd5(ctx);
  const checksumReq = checksumRequestFrom(ctx.headers) ?? (alwaysCompute ? { algorithm: alwaysCompute } : undefined);
  if (ctx.contentLength === undefined) throw new S3Error('MissingContentLength');
  if (ctx.contentLength > MAX_PUT_SIZE) throw new S3Error('EntityTooLarge');

  const hasher = checksumReq ? createHasher(checksumReq.algorithm) : undefined;
  const written = await writeDigested(ctx, ctx.body, storageClass, MAX_PUT_SIZE, () => new S3Error('EntityTooLarge'), hasher);
  try {
    if (written.size !== ctx.contentLength) throw new S3Error('IncompleteBody');
    if (md5Expected !== undefined && md5Expected !== written.md5) throw new S3Error('BadDigest');
    let checksum: Checksum | undefined;
    if (checksumReq && hasher) {
      const value = await hasher.digest();
      verifyChecksum(checksumReq, value, ctx.trailers);
      checksum = { algorithm: checksumReq.algorithm, value, type: 'FULL_OBJECT' };
    }
    return { ...written, checksum };
  } catch (err) {
    await ctx.engine.delete(written.locator);
    throw err;
  }
}
