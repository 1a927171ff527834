import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { requireBucket, setBucketSetting } from '../access.ts';
import { readSmallBody } from '../body.ts';
import { renderTagging, tagsFromXml } from '../tags.ts';
import { requireObject } from './object-get.ts';
import type { Tag } from '../../meta/index.ts';

// Get/Put/Delete Object and Bucket tagging. Changing an object's tags leaves its data, ETag and
// Last-Modified alone (MetaStore.updateObjectAttributes).

const MAX_TAGGING_BODY = 64 * 1024;

/** Versions do not exist yet: every object is version "null", as S3 names it in an unversioned bucket. */
const VERSION = { 'x-amz-version-id': 'null' };

async function tagsFromBody(ctx: S3Context, target: 'object' | 'bucket'): Promise<Tag[]> {
  const body = await readSmallBody(ctx.body, MAX_TAGGING_BODY);
  return tagsFromXml(body.toString('utf8'), target);
}

export async function getObjectTagging(ctx: S3Context): Promise<S3Response> {
  const obj = await requireObject(ctx, { locators: false });
  return { status: 200, headers: VERSION, body: renderTagging(obj.tags ?? []) };
}

export async function putObjectTagging(ctx: S3Context): Promise<S3Response> {
  const obj = await requireObject(ctx, { locators: false });
  const tags = await tagsFromBody(ctx, 'object');
  // Only if the version we read is still current: a concurrent overwrite keeps its own tags.
  const updated = await ctx.meta.updateObjectAttributes(obj.bucket, obj.key, { tags: tags.length > 0 ? tags : null }, obj.etag);
  if (!updated) throw new S3Error('NoSuchKey', undefined, { Key: obj.key });
  return { status: 200, headers: VERSION };
}

export async function deleteObjectTagging(ctx: S3Context): Promise<S3Response> {
  const obj = await requireObject(ctx, { locators: false });
  if (obj.tags !== undefined) {
    const updated = await ctx.meta.updateObjectAttributes(obj.bucket, obj.key, { tags: null }, obj.etag);
    if (!updated) throw new S3Error('NoSuchKey', undefined, { Key: obj.key });
  }
  return { status: 204, headers: VERSION };
}

export async function getBucketTagging(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const tags = bucket.settings.tags;
  if (!tags || tags.length === 0) throw new S3Error('NoSuchTagSet', undefined, { BucketName: bucket.name });
  return { status: 200, body: renderTagging(tags) };
}

async function setBucketTags(ctx: S3Context, tags: Tag[] | undefined): Promise<void> {
  await setBucketSetting(ctx, await requireBucket(ctx), 'tags', tags && tags.length > 0 ? tags : undefined);
}

/** S3 answers 204 No Content; an empty TagSet removes the bucket's tags. */
export async function putBucketTagging(ctx: S3Context): Promise<S3Response> {
  await setBucketTags(ctx, await tagsFromBody(ctx, 'bucket'));
  return { status: 204 };
}

export async function deleteBucketTagging(ctx: S3Context): Promise<S3Response> {
  await setBucketTags(ctx, undefined);
  return { status: 204 };
}
