import { createHash } from 'node:crypto';
import { S3Error } from '../errors.ts';
import { header, type S3Context, type S3Response } from '../context.ts';
import { checkKey } from '../names.ts';
import { requireBucket } from '../access.ts';
import { aclFromHeaders } from '../acl.ts';
import { contentHeadersFrom, engineClass, storageClassFrom, userMetadataFrom, type StorageClass } from '../headers.ts';
import { checkConditions } from '../conditions.ts';
import { createHasher, parseAlgorithm } from '../checksums.ts';
import { readObject } from '../object-data.ts';
import { doc, el, isoDate } from '../xml.ts';
import { tagsForWrite, tagsFromHeader } from '../tags.ts';
import { commitObject, writeConditionFrom } from './object-put.ts';
import type { Checksum, ObjectVersion, Tag } from '../../meta/index.ts';
import type { ByteRange } from '../range.ts';

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/** Parses x-amz-copy-source: `[/]bucket/key[?versionId=v]`, URL-encoded. */
export function parseCopySource(value: string): CopySource {
  let raw = value;
  let versionId: string | undefined;
  const q = raw.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(raw.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    raw = raw.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** The readable current version named by x-amz-copy-source, its copy-source conditions checked. */
export async function requireCopySource(ctx: S3Context): Promise<ObjectVersion> {
  const src = parseCopySource(header(ctx, 'x-amz-copy-source')!);
  checkKey(src.key);
  await ctx.gate.check('s3:GetObject', src.bucket, src.key, { expectedOwner: header(ctx, 'x-amz-source-expected-bucket-owner') });
  const obj = await ctx.meta.getObject(src.bucket, src.key);
  if (src.versionId !== undefined && src.versionId !== 'null') throw new S3Error('NoSuchVersion', undefined, { Key: src.key, VersionId: src.versionId });
  if (!obj) throw new S3Error('NoSuchKey', undefined, { Key: src.key });
  checkConditions(ctx.headers, obj, 'x-amz-copy-source-');
  return obj;
}

/** Streams (a range of) a stored object into new data, computing its MD5 and optional checksum. */
export async function copyData(ctx: S3Context, source: ObjectVersion, range: ByteRange | undefined, storageClass: StorageClass, checksumAlg?: Checksum['algorithm']) {
  const md5 = createHash('md5');
  const hasher = checksumAlg ? createHasher(checksumAlg) : undefined;
  async function* digesting(): AsyncIterable<Buffer> {
    for await (const chunk of readObject(ctx.engine, source, range)) {
      md5.update(chunk);
      hasher?.update(chunk);
      yield chunk;
    }
  }
  const written = await ctx.engine.write(digesting(), { storageClass });
  const checksum: Checksum | undefined = hasher && checksumAlg ? { algorithm: checksumAlg, value: await hasher.digest(), type: 'FULL_OBJECT' } : undefined;
  return { locator: written.locator, size: written.size, md5: md5.digest('hex'), checksum };
}

/**
 * x-amz-tagging-directive: COPY (default) keeps the source's tags, which the caller must be allowed to
 * read (s3:GetObjectTagging, as S3 asks); REPLACE takes x-amz-tagging (none when absent).
 */
async function copiedTags(ctx: S3Context, source: ObjectVersion): Promise<Tag[] | undefined> {
  const directive = (header(ctx, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (directive === 'REPLACE') return tagsFromHeader(header(ctx, 'x-amz-tagging'));
  if (directive !== 'COPY') {
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: directive });
  }
  if (!source.tags || source.tags.length === 0) return undefined;
  await ctx.gate.check('s3:GetObjectTagging', source.bucket, source.key);
  return source.tags;
}

export async function copyObject(ctx: S3Context): Promise<S3Response> {
  const key = ctx.key!;
  checkKey(key);
  const bucket = await requireBucket(ctx);
  const source = await requireCopySource(ctx);
  // The copy gets the ACL the request names (private by default), never the source's.
  const acl = await aclFromHeaders(ctx, ctx.principal.accountId, bucket.owner, bucket);
  const directive = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  }
  const storageClass = header(ctx, 'x-amz-storage-class') !== undefined ? storageClassFrom(ctx.headers) : engineClass(source.storageClass);
  const sameObject = source.bucket === ctx.bucket && source.key === key;
  if (sameObject && directive === 'COPY' && header(ctx, 'x-amz-storage-class') === undefined) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const condition = writeConditionFrom(ctx);
  const algHeader = header(ctx, 'x-amz-checksum-algorithm');
  const checksumAlg = algHeader !== undefined ? parseAlgorithm(algHeader) : source.checksum?.type === 'FULL_OBJECT' ? source.checksum.algorithm : undefined;
  const replace = directive === 'REPLACE';
  const contentHeaders = replace ? contentHeadersFrom(ctx.headers) : source.contentHeaders;
  const userMetadata = replace ? userMetadataFrom(ctx.headers) : source.userMetadata;
  const tags = await tagsForWrite(ctx, await copiedTags(ctx, source));

  const copied = await copyData(ctx, source, undefined, storageClass, checksumAlg);
  const obj: ObjectVersion = {
    bucket: ctx.bucket!,
    key,
    versionId: 'null',
    size: copied.size,
    etag: copied.md5,
    lastModified: new Date(),
    storageClass,
    owner: ctx.principal.accountId,
    contentHeaders,
    userMetadata,
    checksum: copied.checksum,
    locator: copied.locator,
  };
  if (acl) obj.acl = acl;
  if (tags) obj.tags = tags;
  await commitObject(ctx, obj, condition);
  const checksumEl = obj.checksum ? el(`Checksum${obj.checksum.algorithm}`, obj.checksum.value) + el('ChecksumType', obj.checksum.type) : '';
  return {
    status: 200,
    body: doc('CopyObjectResult', `${el('LastModified', isoDate(obj.lastModified))}${el('ETag', `"${obj.etag}"`)}${checksumEl}`),
  };
}
