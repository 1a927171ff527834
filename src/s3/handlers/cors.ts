import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import type { Bucket } from '../../meta/index.ts';
import type { IncomingHttpHeaders } from 'node:http';

// CORS: the bucket's rules (Get/Put/DeleteBucketCors), OPTIONS preflights answered from them, and
// Access-Control-* headers on actual responses. Not built yet: every call answers NotImplemented.

export async function getBucketCors(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

export async function putBucketCors(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

export async function deleteBucketCors(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

/** OPTIONS: a browser's preflight; unsigned, answered from the bucket's rules. */
export async function preflight(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

/** The Access-Control-* headers for an actual (non-preflight) request with an Origin, if a rule matches. */
export function corsHeaders(_bucket: Bucket, _method: string, _headers: IncomingHttpHeaders): Record<string, string> | undefined {
  return undefined;
}
