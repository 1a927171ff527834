import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { requireBucket, setBucketSetting } from '../access.ts';
import { readSmallBody } from '../body.ts';
import { doc, el } from '../xml.ts';

// Bucket policies: stored as the owner sent them, validated and compiled on the way in.

/** S3 accepts policies of up to 20 KB. */
const MAX_POLICY_BYTES = 20 * 1024;

export async function getBucketPolicy(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const policy = bucket.settings.policy;
  if (policy === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket.name });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: policy };
}

export async function putBucketPolicy(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const body = await readSmallBody(ctx.body, MAX_POLICY_BYTES).catch((err: unknown) => {
    if (err instanceof S3Error && err.code === 'MaxMessageLengthExceeded') throw new S3Error('MalformedPolicy', 'Policies cannot exceed 20 KB');
    throw err;
  });
  const text = body.toString('utf8');
  const compiled = ctx.gate.compilePolicy(text, bucket.name);
  if (compiled.isPublic && bucket.settings.publicAccessBlock?.blockPublicPolicy) throw new S3Error('AccessDenied');
  await setBucketSetting(ctx, bucket, 'policy', text);
  return { status: 204 };
}

export async function deleteBucketPolicy(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  await setBucketSetting(ctx, bucket, 'policy', undefined);
  return { status: 204 };
}

export async function getBucketPolicyStatus(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const policy = bucket.settings.policy;
  if (policy === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket.name });
  const isPublic = ctx.gate.compilePolicy(policy, bucket.name).isPublic;
  return { status: 200, body: doc('PolicyStatus', el('IsPublic', isPublic ? 'TRUE' : 'FALSE')) };
}
