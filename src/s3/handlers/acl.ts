import { S3Error } from '../errors.ts';
import { header, type S3Context, type S3Response } from '../context.ts';
import { requireBucket, setBucketSetting } from '../access.ts';
import { readSmallBody } from '../body.ts';
import { aclFromHeaders, aclFromXml, checkNotBlocked, renderAcl } from '../acl.ts';
import { requireObject } from './object-get.ts';
import type { Bucket, Grant } from '../../meta/index.ts';

// Get/Put Bucket and Object ACLs. A PUT takes the ACL from the headers (canned or grants) or from
// an AccessControlPolicy body, never both.

const MAX_ACL_BODY = 64 * 1024;

async function requestedAcl(ctx: S3Context, owner: string, bucket: Bucket): Promise<Grant[] | undefined> {
  const fromHeaders = await aclFromHeaders(ctx, owner, bucket.owner, bucket);
  const body = await readSmallBody(ctx.body, MAX_ACL_BODY);
  if (body.length > 0) {
    if (header(ctx, 'x-amz-acl') !== undefined || fromHeaders !== undefined) {
      throw new S3Error('UnexpectedContent', 'This request does not support content');
    }
    const grants = await aclFromXml(ctx, body.toString('utf8'));
    checkNotBlocked(bucket, grants);
    return grants;
  }
  if (header(ctx, 'x-amz-acl') === undefined && fromHeaders === undefined) {
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  }
  return fromHeaders;
}

export async function getBucketAcl(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  return { status: 200, body: await renderAcl(ctx, bucket.owner, bucket.settings.acl) };
}

export async function putBucketAcl(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const acl = await requestedAcl(ctx, bucket.owner, bucket);
  await setBucketSetting(ctx, bucket, 'acl', acl);
  return { status: 200 };
}

export async function getObjectAcl(ctx: S3Context): Promise<S3Response> {
  const obj = await requireObject(ctx, { locators: false });
  return { status: 200, headers: { 'x-amz-version-id': 'null' }, body: await renderAcl(ctx, obj.owner, obj.acl) };
}

export async function putObjectAcl(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const obj = await requireObject(ctx, { locators: false });
  const acl = await requestedAcl(ctx, obj.owner, bucket);
  // Only if the version we read is still current: a concurrent overwrite keeps its own ACL.
  const updated = await ctx.meta.updateObjectAttributes(bucket.name, obj.key, { acl: acl ?? null }, obj.etag);
  if (!updated) throw new S3Error('NoSuchKey', undefined, { Key: obj.key });
  return { status: 200, headers: { 'x-amz-version-id': 'null' } };
}
