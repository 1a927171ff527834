// Bucket policies for the access decision: the policy language (src/iam/policy) behind the
// CompiledPolicy interface, its validation errors as S3's MalformedPolicy.

import { S3Error } from '../s3/errors.ts';
import type { CompiledPolicy } from './authorize.ts';

export function compileBucketPolicy(_text: string, _bucket: string): CompiledPolicy {
  // The policy language lands with src/iam/policy; until then no policy can be stored.
  throw new S3Error('NotImplemented', 'Bucket policies are not implemented yet.');
}
