import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { requireBucket, setBucketSetting } from '../access.ts';
import { readSmallBody } from '../body.ts';
import { doc, el, parseXml } from '../xml.ts';
import type { PublicAccessBlock } from '../../meta/index.ts';

// A bucket's public access block: four switches that override ACLs and policies that would make
// it public (their effects are applied in src/iam/authorize.ts and where ACLs/policies are written).

const FIELDS: ReadonlyArray<[keyof PublicAccessBlock, string]> = [
  ['blockPublicAcls', 'BlockPublicAcls'],
  ['ignorePublicAcls', 'IgnorePublicAcls'],
  ['blockPublicPolicy', 'BlockPublicPolicy'],
  ['restrictPublicBuckets', 'RestrictPublicBuckets'],
];

export async function getPublicAccessBlock(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const pab = bucket.settings.publicAccessBlock;
  if (!pab) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: bucket.name });
  const inner = FIELDS.map(([field, name]) => el(name, pab[field] ? 'true' : 'false')).join('');
  return { status: 200, body: doc('PublicAccessBlockConfiguration', inner) };
}

export async function putPublicAccessBlock(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  const body = await readSmallBody(ctx.body, 64 * 1024);
  const root = parseXml(body.toString('utf8'))['PublicAccessBlockConfiguration'];
  if (root === undefined) throw new S3Error('MalformedXML');
  const conf = typeof root === 'object' && root !== null ? (root as Record<string, unknown>) : {};
  const pab = {} as PublicAccessBlock;
  for (const [field, name] of FIELDS) {
    const v = conf[name];
    const s = typeof v === 'string' ? v.trim().toLowerCase() : v === undefined ? 'false' : undefined;
    if (s !== 'true' && s !== 'false') throw new S3Error('MalformedXML');
    pab[field] = s === 'true';
  }
  await setBucketSetting(ctx, bucket, 'publicAccessBlock', pab);
  return { status: 200 };
}

export async function deletePublicAccessBlock(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  await setBucketSetting(ctx, bucket, 'publicAccessBlock', undefined);
  return { status: 204 };
}
