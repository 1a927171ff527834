import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { doc } from '../xml.ts';
import { requireObject } from './object-get.ts';

/** Object tags are not stored yet: every object has an empty tag set (tools copy tags with it). */
export async function getObjectTagging(ctx: S3Context): Promise<S3Response> {
  await requireObject(ctx, { locators: false });
  return { status: 200, headers: { 'x-amz-version-id': 'null' }, body: doc('Tagging', '<TagSet></TagSet>') };
}

export async function putObjectTagging(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

export async function deleteObjectTagging(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

export async function getBucketTagging(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

export async function putBucketTagging(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}

export async function deleteBucketTagging(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}
