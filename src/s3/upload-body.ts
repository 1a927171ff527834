import { createHash } from 'node:crypto';
import { S3Error } from './errors.ts';
import { header, type S3Context } from './context.ts';
import { checksumRequestFrom, createHasher, verifyChecksum } from './checksums.ts';
import type { Checksum, ChecksumAlgorithm } from '../meta/index.ts';
import type { StorageClass } from './headers.ts';

/** Largest single PUT (and part), as Amazon S3. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

export interface StoredBody {
  locator: string;
  size: number;
  /** Hex MD5 of the bytes. */
  md5: string;
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

  const md5 = createHash('md5');
  const hasher = checksumReq ? createHasher(checksumReq.algorithm) : undefined;
  let seen = 0;
  async function* digesting(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    for await (const chunk of source) {
      seen += chunk.length;
      if (seen > MAX_PUT_SIZE) throw new S3Error('EntityTooLarge');
      md5.update(chunk);
      hasher?.update(chunk);
      yield chunk;
    }
  }

  const written = await ctx.engine.write(digesting(ctx.body), { storageClass });
  try {
    if (written.size !== ctx.contentLength) throw new S3Error('IncompleteBody');
    const md5Hex = md5.digest('hex');
    if (md5Expected !== undefined && md5Expected !== md5Hex) throw new S3Error('BadDigest');
    let checksum: Checksum | undefined;
    if (checksumReq && hasher) {
      const value = await hasher.digest();
      verifyChecksum(checksumReq, value, ctx.trailers);
      checksum = { algorithm: checksumReq.algorithm, value, type: 'FULL_OBJECT' };
    }
    return { locator: written.locator, size: written.size, md5: md5Hex, checksum };
  } catch (err) {
    await ctx.engine.delete(written.locator);
    throw err;
  }
}
