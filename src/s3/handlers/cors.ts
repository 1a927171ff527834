import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.ts';
import { header, type S3Context, type S3Response } from '../context.ts';
import type { Bucket } from '../../meta/index.ts';
import { requireBucket, setBucketSetting } from '../access.ts';
import { readSmallBody } from '../body.ts';
import {
  CORS_METHODS,
  MAX_CORS_BYTES,
  corsResponseHeaders,
  matchCorsRule,
  parseCorsConfiguration,
  renderCorsConfiguration,
} from '../cors-rules.ts';

// CORS: the bucket's rules (Get/Put/DeleteBucketCors), OPTIONS preflights answered from them, and
// Access-Control-* headers on actual responses (the gateway asks corsHeaders for every request
// with an Origin on a bucket it loaded; form uploads ask for themselves).

export async function getBucketCors(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const rules = bucket.settings.cors;
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: bucket.name });
  return { status: 200, body: renderCorsConfiguration(rules) };
}

export async function putBucketCors(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const body = await readSmallBody(ctx.body, MAX_CORS_BYTES);
  const md5 = header(ctx, 'content-md5');
  if (md5 !== undefined) {
    const expected = Buffer.from(md5, 'base64');
    if (expected.length !== 16 || expected.toString('base64') !== md5.trim()) throw new S3Error('InvalidDigest');
    if (!createHash('md5').update(body).digest().equals(expected)) throw new S3Error('BadDigest');
  }
  const rules = parseCorsConfiguration(body.toString('utf8'));
  await setBucketSetting(ctx, bucket, 'cors', rules);
  return { status: 200 };
}

export async function deleteBucketCors(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  await setBucketSetting(ctx, bucket, 'cors', undefined);
  return { status: 204 };
}

/** S3 refuses a preflight with AccessForbidden, its message prefixed "CORSResponse: ". */
function forbidden(ctx: S3Context, reason: string, method: string | undefined): S3Error {
  return new S3Error('AccessForbidden', `CORSResponse: ${reason}`, {
    Method: method ?? 'OPTIONS',
    ResourceType: ctx.key === undefined ? 'BUCKET' : 'OBJECT',
  });
}

/**
 * OPTIONS: a browser's preflight. Unsigned by nature, so no access decision: it only tells the
 * browser what the bucket's rules allow; the actual request is decided on its own.
 */
export async function preflight(ctx: S3Context): Promise<S3Response> {
  const origin = header(ctx, 'origin');
  if (origin === undefined) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = header(ctx, 'access-control-request-method');
  const bucket = await ctx.meta.getBucket(ctx.bucket!);
  if (!bucket) throw forbidden(ctx, 'Bucket not found', method);
  const rules = bucket.settings.cors;
  if (!rules) throw forbidden(ctx, 'CORS is not enabled for this bucket.', method);
  if (method === undefined || !(CORS_METHODS as readonly string[]).includes(method)) {
    throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  }
  const headers = (header(ctx, 'access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const rule = matchCorsRule(rules, { origin, method, headers });
  if (!rule) {
    throw forbidden(
      ctx,
      "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      method,
    );
  }
  return { status: 200, headers: corsResponseHeaders(rule, { origin, method, headers }) };
}

/** The Access-Control-* headers for an actual (non-preflight) request with an Origin, if a rule matches. */
export function corsHeaders(bucket: Bucket, method: string, headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const origin = headers.origin;
  const rules = bucket.settings.cors;
  if (origin === undefined || !rules) return undefined;
  const rule = matchCorsRule(rules, { origin, method });
  return rule ? corsResponseHeaders(rule, { origin, method }) : undefined;
}
