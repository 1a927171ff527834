// Public face of s3/: S3 semantics and XML, talking to MetaStore and ObjectEngine through interfaces.
export { S3Error, toS3Error } from './errors.ts';
export type { S3Context, S3Response, Principal } from './context.ts';
export { resolveOperation, dispatch, type Operation } from './router.ts';
export { doc, el } from './xml.ts';
