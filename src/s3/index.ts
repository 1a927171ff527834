// Public face of s3/: S3 semantics and XML, talking to MetaStore and ObjectEngine through interfaces.
export { S3Error, toS3Error } from './errors.ts';
export { ANONYMOUS, type S3Context, type S3Response, type Principal, type AccessGate } from './context.ts';
export { resolveOperation, dispatch, routeOf, type Operation } from './router.ts';
export { doc, el } from './xml.ts';
