import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { doc, el, escapeXml, isoDate, parseXml } from '../xml.ts';
import { readSmallBody } from '../body.ts';
import { checkBucketName, RESERVED_BUCKET_NAMES } from '../names.ts';
import { requireBucket } from '../access.ts';
import { aclFromHeaders } from '../acl.ts';
import type { BucketSettings } from '../../meta/index.ts';

/** Buckets an account may own unless its own limit says otherwise (S3's default quota). */
export const DEFAULT_MAX_BUCKETS = 100;

// Bucket-level operations: create, head, delete, list, location, versioning.

export async function listBuckets(ctx: S3Context): Promise<S3Response> {
  const prefix = ctx.query.get('prefix') ?? '';
  const buckets = (await ctx.meta.listBuckets(ctx.principal.accountId)).filter((b) => b.name.startsWith(prefix));
  const items = buckets
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', isoDate(b.createdAt))}${el('BucketRegion', b.region)}</Bucket>`)
    .join('');
  const owner = `<Owner>${el('ID', ctx.principal.accountId)}${el('DisplayName', ctx.principal.displayName)}</Owner>`;
  const prefixEl = ctx.query.has('prefix') ? el('Prefix', prefix) : '';
  return { status: 200, body: doc('ListAllMyBucketsResult', `${owner}<Buckets>${items}</Buckets>${prefixEl}`) };
}

export async function createBucket(ctx: S3Context): Promise<S3Response> {
  const name = ctx.bucket!;
  checkBucketName(name);
  if (RESERVED_BUCKET_NAMES.has(name)) throw new S3Error('BucketAlreadyExists', undefined, { BucketName: name });
  const body = await readSmallBody(ctx.body, 64 * 1024);
  if (body.length > 0) {
    const parsed = parseXml(body.toString('utf8'));
    const conf = parsed['CreateBucketConfiguration'];
    if (conf === undefined) throw new S3Error('MalformedXML');
    const location = typeof conf === 'object' && conf !== null ? (conf as Record<string, unknown>)['LocationConstraint'] : undefined;
    if (typeof location === 'string' && location !== '' && location !== ctx.region) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
  }
  const owner = ctx.principal.accountId;
  const acl = await aclFromHeaders(ctx, owner, owner);
  const account = await ctx.meta.getAccount(owner);
  const owned = await ctx.meta.listBuckets(owner);
  if (owned.length >= (account?.maxBuckets ?? DEFAULT_MAX_BUCKETS) && !owned.some((b) => b.name === name)) {
    throw new S3Error('TooManyBuckets');
  }
  const settings: BucketSettings = acl ? { acl } : {};
  const result = await ctx.meta.createBucket({ name, owner, region: ctx.region, createdAt: new Date(), settings });
  if (result === 'exists') {
    const existing = await ctx.meta.getBucket(name);
    if (existing?.owner === ctx.principal.accountId) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
    throw new S3Error('BucketAlreadyExists', undefined, { BucketName: name });
  }
  return { status: 200, headers: { location: `/${name}` } };
}

export async function headBucket(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  return { status: 200, headers: { 'x-amz-bucket-region': bucket.region } };
}

export async function deleteBucket(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  const result = await ctx.meta.deleteBucket(ctx.bucket!);
  if (result.status === 'not-empty') throw new S3Error('BucketNotEmpty', undefined, { BucketName: ctx.bucket! });
  if (result.status === 'missing') throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket! });
  await Promise.all(result.orphanLocators.map((l) => ctx.engine.delete(l)));
  return { status: 204 };
}

export async function getBucketLocation(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  // Amazon S3 answers an empty constraint for us-east-1.
  const region = bucket.region === 'us-east-1' ? '' : bucket.region;
  return { status: 200, body: doc('LocationConstraint', escapeXml(region)) };
}

export async function getBucketVersioning(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  // Never versioned: an empty configuration, as S3 answers for such a bucket.
  return { status: 200, body: doc('VersioningConfiguration', '') };
}
