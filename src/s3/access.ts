import { S3Error } from './errors.ts';
import type { S3Context } from './context.ts';
import type { Bucket } from '../meta/index.ts';

/**
 * The request's bucket, loaded by the gateway once the access decision allowed the request.
 * Other buckets (a copy source) go through `ctx.gate.check` with their own action.
 */
export async function requireBucket(ctx: S3Context): Promise<Bucket> {
  if (ctx.bucket === undefined) throw new S3Error('InvalidRequest', 'A bucket is required.');
  if (ctx.bucketRecord) return ctx.bucketRecord;
  return ctx.gate.check('s3:ListBucket', ctx.bucket);
}
