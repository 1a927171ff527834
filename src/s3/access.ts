import { S3Error } from './errors.ts';
import type { S3Context } from './context.ts';
import type { Bucket } from '../meta/index.ts';

/**
 * The bucket a request names, if it exists and the caller may use it. Until access control
 * lands (ACLs, policies), only the owning account may touch a bucket.
 */
export async function requireBucket(ctx: S3Context, name = ctx.bucket): Promise<Bucket> {
  if (name === undefined) throw new S3Error('InvalidRequest', 'A bucket is required.');
  const bucket = await ctx.meta.getBucket(name);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
  if (bucket.owner !== ctx.principal.accountId) throw new S3Error('AccessDenied');
  return bucket;
}
