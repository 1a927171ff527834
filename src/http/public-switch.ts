import { S3Error, type Principal } from '../s3/index.ts';
import { parsePolicy, PolicyError, publicReadPrefixes, withPublicRead } from '../iam/policy/index.ts';
import type { JsonResponse } from './admin-api.ts';
import type { OwnerApiDeps, OwnerApiRequest } from './owner-api.ts';

// The console's "make this bucket / folder public for reading" switch:
//   GET    buckets/<bucket>/public             -> {bucket, prefixes: [...]}   ('' = the whole bucket)
//   PUT    buckets/<bucket>/public?prefix=<p>  -> {bucket, prefixes}          (anyone may GET objects under p)
//   DELETE buckets/<bucket>/public?prefix=<p>  -> {bucket, prefixes}
// It writes the documented bucket policy statement (src/iam/policy/public-read.ts) with
// updateBucketSettings, so GetBucketPolicy and this switch show one state. Owner only.

export async function publicSwitch(deps: OwnerApiDeps, req: OwnerApiRequest, caller: Principal, bucketName: string): Promise<JsonResponse> {
  const gate = deps.gate(caller, new URLSearchParams());
  const action = req.method === 'GET' ? 's3:GetBucketPolicy' : 's3:PutBucketPolicy';
  const bucket = await gate.check(action, bucketName);
  // A policy may let others read or write the policy through S3; the switch stays the owner's.
  if (bucket.owner !== caller.accountId) throw new S3Error('AccessDenied', 'Only the bucket owner may change whether it is public.');
  const current = (text: string | undefined) => (text === undefined ? undefined : parsePolicy(text, bucketName));
  if (req.method === 'GET') return { status: 200, body: { bucket: bucketName, prefixes: publicReadPrefixes(current(bucket.settings.policy)) } };
  if (req.method !== 'PUT' && req.method !== 'DELETE') return { status: 405, body: { error: { code: 'MethodNotAllowed', message: 'GET, PUT or DELETE' } } };
  const prefix = req.query.get('prefix') ?? '';
  if (!prefix.isWellFormed()) throw new S3Error('InvalidArgument', 'prefix is not valid Unicode');
  const on = req.method === 'PUT';
  let prefixes: string[] = [];
  try {
    const updated = await deps.meta.updateBucketSettings(bucketName, (s) => {
      if (on && s.publicAccessBlock?.blockPublicPolicy) throw new S3Error('AccessDenied', 'The bucket blocks public policies (BlockPublicPolicy).');
      const next = withPublicRead(current(s.policy), bucketName, prefix, on);
      prefixes = publicReadPrefixes(next);
      const { policy: _, ...rest } = s;
      return next ? { ...rest, policy: next.text } : rest;
    });
    if (!updated) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucketName });
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', err.message);
    throw err;
  }
  return { status: 200, body: { bucket: bucketName, prefixes } };
}
