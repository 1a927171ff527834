import { S3Error } from '../errors.ts';
import { header, type S3Context, type S3Response } from '../context.ts';
import { checkKey } from '../names.ts';
import { requireBucket } from '../access.ts';
import { httpDate, objectHeaders } from '../headers.ts';
import { parseRange, type ByteRange } from '../range.ts';
import { checkConditions } from '../conditions.ts';
import { checksumHeaderName } from '../checksums.ts';
import { readObject } from '../object-data.ts';
import type { ObjectVersion } from '../../meta/index.ts';

const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** The current version of the named object, or NoSuchKey. */
export async function requireObject(ctx: S3Context, options?: { locators?: boolean }): Promise<ObjectVersion> {
  const key = ctx.key!;
  checkKey(key);
  await requireBucket(ctx);
  const versionId = ctx.query.get('versionId');
  const obj = await ctx.meta.getObject(ctx.bucket!, key, options);
  if (versionId !== null && versionId !== 'null') {
    throw new S3Error(versionId === '' ? 'InvalidArgument' : 'NoSuchVersion', versionId === '' ? 'Version id cannot be the empty string' : undefined, { Key: key, VersionId: versionId });
  }
  if (!obj) throw new S3Error('NoSuchKey', undefined, { Key: key });
  return obj;
}

async function getOrHead(ctx: S3Context, withBody: boolean): Promise<S3Response> {
  // HEAD reads no data: the store need not load where it lives.
  const obj = await requireObject(ctx, { locators: withBody });
  try {
    checkConditions(ctx.headers, obj);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NotModified') {
      return { status: 304, headers: { etag: `"${obj.etag}"`, 'last-modified': httpDate(obj.lastModified) } };
    }
    throw err;
  }

  const headers: Record<string, string | number> = objectHeaders(obj);
  // S3 shows the tag count only to callers who may read the tags.
  if (headers['x-amz-tagging-count'] !== undefined && !(await mayReadTags(ctx, obj))) delete headers['x-amz-tagging-count'];
  // Most GETs carry no query at all: skip the lookups.
  const hasQuery = ctx.query.size > 0;
  if (hasQuery) {
    for (const param in OVERRIDES) {
      const v = ctx.query.get(param);
      if (v !== null) headers[OVERRIDES[param]!] = v;
    }
  }

  let range: ByteRange | undefined;
  const partNumber = hasQuery ? ctx.query.get('partNumber') : null;
  if (partNumber !== null) {
    range = partRange(obj, partNumber);
    headers['x-amz-mp-parts-count'] = obj.parts?.length ?? 1;
  } else {
    range = parseRange(header(ctx, 'range'), obj.size);
  }

  const checksumMode = header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  if (checksumMode && obj.checksum && range === undefined) {
    headers[checksumHeaderName(obj.checksum.algorithm)] = obj.checksum.value;
    headers['x-amz-checksum-type'] = obj.checksum.type;
  }

  let status = 200;
  if (range) {
    status = 206;
    headers['content-range'] = `bytes ${range.start}-${range.end}/${obj.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else {
    headers['content-length'] = obj.size;
  }
  if (!withBody || headers['content-length'] === 0) return { status, headers };
  const held = obj.parts ? undefined : ctx.engine.readHeld?.(obj.locator);
  if (held) return { status, headers, body: range ? held.subarray(range.start, range.end + 1) : held };
  return { status, headers, body: readObject(ctx.engine, obj, range) };
}

async function mayReadTags(ctx: S3Context, obj: ObjectVersion): Promise<boolean> {
  try {
    await ctx.gate.check('s3:GetObjectTagging', obj.bucket, obj.key);
    return true;
  } catch (err) {
    if (err instanceof S3Error) return false;
    throw err;
  }
}

/** partNumber=N: that part's byte range (a single-part object has only part 1). */
function partRange(obj: ObjectVersion, value: string): ByteRange | undefined {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: value });
  if (!obj.parts) {
    if (n !== 1) throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable');
    return obj.size === 0 ? undefined : { start: 0, end: obj.size - 1 };
  }
  let start = 0;
  for (const p of obj.parts) {
    if (p.number === n) return p.size === 0 ? undefined : { start, end: start + p.size - 1 };
    start += p.size;
  }
  throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable');
}

export const getObject = (ctx: S3Context) => getOrHead(ctx, true);
export const headObject = (ctx: S3Context) => getOrHead(ctx, false);
