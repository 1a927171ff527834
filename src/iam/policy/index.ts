// Public face of the bucket-policy language: parse + validate, evaluate, "is it public", and the
// console's public-read switch. Pure: no HTTP, no storage.
export { PolicyError } from './errors.ts';
export { parsePolicy, MAX_POLICY_BYTES, type BucketPolicy, type Statement } from './parse.ts';
export { evaluatePolicy, type PolicyRequest } from './evaluate.ts';
export { isPublicPolicy } from './public.ts';
export { withPublicRead, publicReadPrefixes, PUBLIC_READ_SID } from './public-read.ts';
export { S3_ACTIONS } from './actions.ts';
