import { S3Error } from '../errors.ts';
import { header, type S3Context, type S3Response } from '../context.ts';
import { checkKey } from '../names.ts';
import { requireBucket } from '../access.ts';
import { aclFromHeaders } from '../acl.ts';
import { contentHeadersFrom, storageClassFrom, userMetadataFrom } from '../headers.ts';
import { storeBody } from '../upload-body.ts';
import { checksumHeaderName } from '../checksums.ts';
import { tagsForWrite, tagsFromHeader } from '../tags.ts';
import type { ObjectVersion, PutCondition, PutOutcome } from '../../meta/index.ts';

/** If-None-Match: * and If-Match: etag on writes (S3 conditional writes). */
export function writeConditionFrom(ctx: S3Context): PutCondition | undefined {
  const ifNoneMatch = header(ctx, 'if-none-match');
  const ifMatch = header(ctx, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'If-None-Match on writes supports only "*".', { Header: 'If-None-Match' });
  }
  return {
    ifNoneMatch: ifNoneMatch !== undefined ? true : undefined,
    ifMatch: ifMatch !== undefined ? ifMatch.trim().replace(/^"|"$/g, '') : undefined,
  };
}

/**
 * Commits a new current version and removes the data it replaced. If the commit is refused, the
 * new data is removed instead, so a failed write changes nothing.
 */
export async function commitObject(ctx: S3Context, obj: ObjectVersion, condition: PutCondition | undefined): Promise<void> {
  let outcome: PutOutcome;
  try {
    outcome = await ctx.meta.putObject(obj, condition);
  } catch (err) {
    await deleteData(ctx, obj);
    throw err;
  }
  if (outcome.status !== 'ok') {
    await deleteData(ctx, obj);
    if (outcome.status === 'missing') throw new S3Error('NoSuchKey', undefined, { Key: obj.key });
    throw new S3Error('PreconditionFailed', undefined, { Condition: condition?.ifMatch !== undefined ? 'If-Match' : 'If-None-Match' });
  }
  if (outcome.previous) await deleteData(ctx, outcome.previous);
}

/** Removes an object version's bytes (its own file, or each of its parts'). */
export async function deleteData(ctx: S3Context, obj: ObjectVersion): Promise<void> {
  const locators = obj.parts ? obj.parts.map((p) => p.locator) : [obj.locator];
  await Promise.all(locators.filter((l) => l !== '').map((l) => ctx.engine.delete(l)));
}

export async function putObject(ctx: S3Context): Promise<S3Response> {
  const key = ctx.key!;
  checkKey(key);
  const bucket = await requireBucket(ctx);
  const condition = writeConditionFrom(ctx);
  const acl = await aclFromHeaders(ctx, ctx.principal.accountId, bucket.owner, bucket);
  const contentHeaders = contentHeadersFrom(ctx.headers);
  const userMetadata = userMetadataFrom(ctx.headers);
  const storageClass = storageClassFrom(ctx.headers, ctx.defaultStorageClass);
  const tags = await tagsForWrite(ctx, tagsFromHeader(header(ctx, 'x-amz-tagging')));

  const stored = await storeBody(ctx, storageClass);
  const obj: ObjectVersion = {
    bucket: ctx.bucket!,
    key,
    versionId: 'null',
    size: stored.size,
    etag: stored.md5,
    lastModified: new Date(),
    storageClass,
    owner: ctx.principal.accountId,
    contentHeaders,
    userMetadata,
    checksum: stored.checksum,
    locator: stored.locator,
  };
  if (acl) obj.acl = acl;
  if (tags) obj.tags = tags;
  await commitObject(ctx, obj, condition);
  const headers: Record<string, string> = { etag: `"${obj.etag}"` };
  if (obj.checksum) {
    headers[checksumHeaderName(obj.checksum.algorithm)] = obj.checksum.value;
    headers['x-amz-checksum-type'] = obj.checksum.type;
  }
  return { status: 200, headers };
}
