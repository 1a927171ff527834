import { S3Error } from './errors.ts';
import type { S3Context } from './context.ts';
import type { Bucket, BucketSettings } from '../meta/index.ts';

/**
 * The request's bucket, loaded by the gateway once the access decision allowed the request.
 * Other buckets (a copy source) go through `ctx.gate.check` with their own action.
 */
export async function requireBucket(ctx: S3Context): Promise<Bucket> {
  if (ctx.bucket === undefined) throw new S3Error('InvalidRequest', 'A bucket is required.');
  if (ctx.bucketRecord) return ctx.bucketRecord;
  return ctx.gate.check('s3:ListBucket', ctx.bucket);
}

/** Sets (a value) or clears (undefined) one of a bucket's settings, atomically. */
export async function setBucketSetting<K extends keyof BucketSettings>(ctx: S3Context, bucket: Bucket, name: K, value: BucketSettings[K] | undefined): Promise<void> {
  const updated = await ctx.meta.updateBucketSettings(bucket.name, (current) => {
    const next = { ...current };
    if (value === undefined) delete next[name];
    else next[name] = value;
    return next;
  });
  // Deleting a setting of a bucket that vanished meanwhile is done; setting one is not.
  if (!updated && value !== undefined) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket.name });
}
