import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { requireBucket } from '../access.ts';
import { doc, el, isoDate } from '../xml.ts';
import { ownerRenderer } from '../owners.ts';
import type { ListPage, ObjectSummary } from '../../meta/index.ts';

// ListObjects (V1), ListObjectsV2 and ListObjectSummarys over the same MetaStore listing.

interface ListParams {
  prefix: string;
  delimiter: string | undefined;
  maxKeys: number;
  /** encoding-type=url: keys, prefixes and delimiters are URL-encoded in the response. */
  encode: (s: string) => string;
  encodingType: string | undefined;
}

function listParams(ctx: S3Context): ListParams {
  const q = ctx.query;
  const rawMax = q.get('max-keys');
  let maxKeys = 1000;
  if (rawMax !== null) {
    if (!/^\d+$/.test(rawMax)) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: rawMax });
    maxKeys = Math.min(1000, Number(rawMax));
  }
  const encodingType = q.get('encoding-type') ?? undefined;
  if (encodingType !== undefined && encodingType.toLowerCase() !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encodingType });
  }
  const delimiter = q.get('delimiter') || undefined;
  return {
    prefix: q.get('prefix') ?? '',
    delimiter,
    maxKeys,
    encodingType,
    encode: encodingType ? encodeKey : (s) => s,
  };
}

/** URL-encoding of keys as S3 does for encoding-type=url (spaces as +, `/` kept). */
function encodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/').replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Renders `<Owner>` for the page's objects, each distinct owner looked up once. */
async function owners(ctx: S3Context, page: ListPage): Promise<(o: ObjectSummary) => string> {
  const ids = new Set<string>();
  for (const e of page.entries) if ('object' in e) ids.add(e.object.owner);
  const render = await ownerRenderer(ctx, ids);
  return (o) => render('Owner', o.owner);
}

function checksumEls(obj: ObjectSummary): string {
  return obj.checksum ? el('ChecksumAlgorithm', obj.checksum.algorithm) + el('ChecksumType', obj.checksum.type) : '';
}

function contents(obj: ObjectSummary, p: ListParams, ownerXml: string): string {
  return (
    // ETag (hex), dates, sizes and class names never need escaping.
    `<Contents>${el('Key', p.encode(obj.key))}<LastModified>${obj.lastModified.toISOString()}</LastModified><ETag>&quot;${obj.etag}&quot;</ETag>` +
    `${checksumEls(obj)}<Size>${obj.size}</Size>${ownerXml}<StorageClass>${obj.storageClass}</StorageClass></Contents>`
  );
}

function entriesXml(page: ListPage, p: ListParams, render: (obj: ObjectSummary) => string): { xml: string; count: number } {
  let xml = '';
  let prefixes = '';
  for (const e of page.entries) {
    if ('object' in e) xml += render(e.object);
    else prefixes += `<CommonPrefixes>${el('Prefix', p.encode(e.prefix))}</CommonPrefixes>`;
  }
  return { xml: xml + prefixes, count: page.entries.length };
}

function commonEls(ctx: S3Context, p: ListParams): string {
  return `${el('Name', ctx.bucket!)}${el('Prefix', p.encode(p.prefix))}${p.delimiter !== undefined ? el('Delimiter', p.encode(p.delimiter)) : ''}${el('MaxKeys', p.maxKeys)}${p.encodingType !== undefined ? el('EncodingType', 'url') : ''}`;
}

function list(ctx: S3Context, p: ListParams, after: string | undefined): Promise<ListPage> {
  return ctx.meta.listObjects(ctx.bucket!, { prefix: p.prefix, delimiter: p.delimiter, after, limit: p.maxKeys });
}

export async function listObjectsV1(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  const p = listParams(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const page = await list(ctx, p, marker || undefined);
  const owner = await owners(ctx, page);
  const { xml } = entriesXml(page, p, (o) => contents(o, p, owner(o)));
  // NextMarker is returned only with a delimiter; clients use the last key otherwise.
  const next = page.isTruncated && p.delimiter !== undefined && page.next !== undefined ? el('NextMarker', p.encode(page.next)) : '';
  const body = `${commonEls(ctx, p)}${el('Marker', p.encode(marker))}${el('IsTruncated', page.isTruncated)}${next}${xml}`;
  return { status: 200, body: doc('ListBucketResult', body) };
}

function encodeToken(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || encodeToken(s) !== token) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  return s;
}

export async function listObjectsV2(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  const p = listParams(ctx);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? undefined;
  const fetchOwner = ctx.query.get('fetch-owner') === 'true';
  let after = startAfter || undefined;
  if (token !== null) {
    const fromToken = decodeToken(token);
    if (after === undefined || fromToken > after) after = fromToken;
  }
  const page = await list(ctx, p, after);
  const owner = fetchOwner ? await owners(ctx, page) : undefined;
  const { xml, count } = entriesXml(page, p, (o) => contents(o, p, owner ? owner(o) : ''));
  const body =
    `${commonEls(ctx, p)}${el('KeyCount', count)}${el('IsTruncated', page.isTruncated)}` +
    `${token !== null ? el('ContinuationToken', token) : ''}` +
    `${page.isTruncated && page.next !== undefined ? el('NextContinuationToken', encodeToken(page.next)) : ''}` +
    `${startAfter !== undefined ? el('StartAfter', p.encode(startAfter)) : ''}${xml}`;
  return { status: 200, body: doc('ListBucketResult', body) };
}

/** Never-versioned buckets: every object is its single, latest version `null`. */
export async function listObjectVersions(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  const p = listParams(ctx);
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker' });
  }
  const page = await list(ctx, p, keyMarker || undefined);
  const owner = await owners(ctx, page);
  const { xml } = entriesXml(page, p, (o) =>
    `<Version>${el('Key', p.encode(o.key))}${el('VersionId', 'null')}${el('IsLatest', true)}${el('LastModified', isoDate(o.lastModified))}` +
    `${el('ETag', `"${o.etag}"`)}${checksumEls(o)}${el('Size', o.size)}${owner(o)}${el('StorageClass', o.storageClass)}</Version>`,
  );
  const next = page.isTruncated && page.next !== undefined ? `${el('NextKeyMarker', p.encode(page.next))}${el('NextVersionIdMarker', 'null')}` : '';
  const body = `${commonEls(ctx, p)}${el('KeyMarker', p.encode(keyMarker))}${el('VersionIdMarker', versionIdMarker)}${el('IsTruncated', page.isTruncated)}${next}${xml}`;
  return { status: 200, body: doc('ListVersionsResult', body) };
}
