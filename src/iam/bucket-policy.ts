// Bucket policies for the access decision: the policy language (src/iam/policy) behind the
// CompiledPolicy interface, its validation errors as S3's MalformedPolicy.

import { S3Error } from '../s3/errors.ts';
import { evaluatePolicy, isPublicPolicy, parsePolicy, PolicyError } from './policy/index.ts';
import type { CompiledPolicy } from './authorize.ts';

export function compileBucketPolicy(text: string, bucket: string): CompiledPolicy {
  let policy;
  try {
    policy = parsePolicy(text, bucket);
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', err.message);
    throw err;
  }
  const isPublic = isPublicPolicy(policy);
  return {
    isPublic,
    evaluate: (req) => evaluatePolicy(policy, req),
  };
}
