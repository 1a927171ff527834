import { randomBytes } from 'node:crypto';
import { S3Error } from '../errors.ts';
import { header, type S3Context, type S3Response } from '../context.ts';
import { checkKey } from '../names.ts';
import { requireBucket } from '../access.ts';
import { aclFromHeaders } from '../acl.ts';
import { ownerRenderer } from '../owners.ts';
import { contentHeadersFrom, engineClass, storageClassFrom, userMetadataFrom } from '../headers.ts';
import { storeBody } from '../upload-body.ts';
import { checksumHeaderName, checksumRequestFrom, parseAlgorithm } from '../checksums.ts';
import { readSmallBody } from '../body.ts';
import { doc, el, isoDate, parseXml } from '../xml.ts';
import { multipartChecksum, multipartEtag, supportsFullObject } from '../multipart-checksum.ts';
import { tagsForWrite, tagsFromHeader } from '../tags.ts';
import { copyData, requireCopySource } from './object-copy.ts';
import { deleteData, writeConditionFrom } from './object-put.ts';
import type { MultipartUpload, ObjectPart, ObjectVersion, UploadPart } from '../../meta/index.ts';

// Multipart upload: create, upload (or copy) parts, complete, abort, list parts and uploads.

const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10000;
const MAX_OBJECT_SIZE = 5 * 1024 ** 4;

async function requireUpload(ctx: S3Context): Promise<MultipartUpload> {
  const key = ctx.key!;
  checkKey(key);
  await requireBucket(ctx);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const upload = uploadId === '' ? undefined : await ctx.meta.getUpload(ctx.bucket!, key, uploadId);
  if (!upload) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  return upload;
}

function partNumberFrom(ctx: S3Context): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PARTS) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

function checksumHeaders(c: { algorithm: string; value: string } | undefined): Record<string, string> {
  return c ? { [checksumHeaderName(c.algorithm as never)]: c.value } : {};
}

export async function createMultipartUpload(ctx: S3Context): Promise<S3Response> {
  const key = ctx.key!;
  checkKey(key);
  const bucket = await requireBucket(ctx);
  const acl = await aclFromHeaders(ctx, ctx.principal.accountId, bucket.owner, bucket);
  const algHeader = header(ctx, 'x-amz-checksum-algorithm');
  const typeHeader = header(ctx, 'x-amz-checksum-type')?.toUpperCase();
  const checksumAlgorithm = algHeader !== undefined ? parseAlgorithm(algHeader) : undefined;
  if (typeHeader !== undefined && typeHeader !== 'FULL_OBJECT' && typeHeader !== 'COMPOSITE') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  if (typeHeader !== undefined && !checksumAlgorithm) {
    throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
  }
  // S3's defaults: CRC64NVME combines to a full-object checksum, the others compose.
  const checksumType = checksumAlgorithm
    ? ((typeHeader as 'FULL_OBJECT' | 'COMPOSITE' | undefined) ?? (checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE'))
    : undefined;
  if (checksumAlgorithm && checksumType === 'FULL_OBJECT' && !supportsFullObject(checksumAlgorithm)) {
    throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${checksumAlgorithm.toLowerCase()} checksum algorithm.`);
  }
  if (checksumAlgorithm === 'CRC64NVME' && checksumType === 'COMPOSITE') {
    throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  }
  const upload: MultipartUpload = {
    uploadId: randomBytes(24).toString('base64url'),
    bucket: ctx.bucket!,
    key,
    initiated: new Date(),
    owner: ctx.principal.accountId,
    storageClass: storageClassFrom(ctx.headers, ctx.defaultStorageClass),
    contentHeaders: contentHeadersFrom(ctx.headers),
    userMetadata: userMetadataFrom(ctx.headers),
    checksumAlgorithm,
    checksumType,
  };
  if (acl) upload.acl = acl;
  const tags = await tagsForWrite(ctx, tagsFromHeader(header(ctx, 'x-amz-tagging')));
  if (tags) upload.tags = tags;
  await ctx.meta.createUpload(upload);
  const headers: Record<string, string> = {};
  if (checksumAlgorithm) {
    headers['x-amz-checksum-algorithm'] = checksumAlgorithm;
    headers['x-amz-checksum-type'] = checksumType!;
  }
  return {
    status: 200,
    headers,
    body: doc('InitiateMultipartUploadResult', `${el('Bucket', upload.bucket)}${el('Key', key)}${el('UploadId', upload.uploadId)}`),
  };
}

/** Records a stored part; if the upload vanished meanwhile (aborted, completed), its data goes. */
async function savePart(ctx: S3Context, upload: MultipartUpload, part: UploadPart): Promise<void> {
  const result = await ctx.meta.putPart(upload.uploadId, part);
  if (result.status === 'missing') {
    await ctx.engine.delete(part.locator);
    throw new S3Error('NoSuchUpload', undefined, { UploadId: upload.uploadId });
  }
  if (result.previous) await ctx.engine.delete(result.previous.locator);
}

export async function uploadPart(ctx: S3Context): Promise<S3Response> {
  const number = partNumberFrom(ctx);
  const upload = await requireUpload(ctx);
  const req = checksumRequestFrom(ctx.headers);
  if (upload.checksumAlgorithm && req && req.algorithm !== upload.checksumAlgorithm) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${req.algorithm.toLowerCase()}`);
  }
  // The upload's algorithm is computed for every part, sent or not, so Complete can combine them.
  const stored = await storeBody(ctx, engineClass(upload.storageClass), upload.checksumAlgorithm);
  await savePart(ctx, upload, { number, size: stored.size, etag: stored.md5, checksum: stored.checksum, locator: stored.locator, lastModified: new Date() });
  return { status: 200, headers: { etag: `"${stored.md5}"`, ...checksumHeaders(stored.checksum) } };
}

/** x-amz-copy-source-range: `bytes=first-last`, inside the source. */
function copySourceRange(value: string | undefined, size: number) {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m) throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || end >= size) throw new S3Error('InvalidRange', undefined, { ActualObjectSize: String(size), RangeRequested: value });
  return { start, end };
}

export async function uploadPartCopy(ctx: S3Context): Promise<S3Response> {
  const number = partNumberFrom(ctx);
  const upload = await requireUpload(ctx);
  const source = await requireCopySource(ctx);
  const range = copySourceRange(header(ctx, 'x-amz-copy-source-range'), source.size);
  const length = range ? range.end - range.start + 1 : source.size;
  if (length > 5 * 1024 ** 3) throw new S3Error('EntityTooLarge');
  const copied = await copyData(ctx, source, range, engineClass(upload.storageClass), upload.checksumAlgorithm);
  const lastModified = new Date();
  await savePart(ctx, upload, { number, size: copied.size, etag: copied.md5, checksum: copied.checksum, locator: copied.locator, lastModified });
  const checksumEl = copied.checksum ? el(`Checksum${copied.checksum.algorithm}`, copied.checksum.value) : '';
  return { status: 200, body: doc('CopyPartResult', `${el('LastModified', isoDate(lastModified))}${el('ETag', `"${copied.md5}"`)}${checksumEl}`) };
}

interface RequestedPart {
  number: number;
  etag: string;
  checksums: Record<string, string>;
}

function parseCompleteBody(text: string): RequestedPart[] {
  const root = parseXml(text)['CompleteMultipartUpload'];
  if (typeof root !== 'object' || root === null) throw new S3Error('MalformedXML');
  const parts = (root as Record<string, unknown>)['Part'];
  if (!Array.isArray(parts) || parts.length === 0) throw new S3Error('MalformedXML');
  return parts.map((p) => {
    if (typeof p !== 'object' || p === null) throw new S3Error('MalformedXML');
    const r = p as Record<string, unknown>;
    const num = String(r['PartNumber'] ?? '').trim();
    const etag = String(r['ETag'] ?? '').trim().replace(/^"|"$/g, '').replace(/^&quot;|&quot;$/g, '');
    if (!/^\d+$/.test(num) || etag === '') throw new S3Error('MalformedXML');
    const checksums: Record<string, string> = {};
    for (const [k, v] of Object.entries(r)) if (k.startsWith('Checksum') && typeof v === 'string') checksums[k.slice('Checksum'.length).toUpperCase()] = v.trim();
    return { number: Number(num), etag, checksums };
  });
}

/** Every part the upload has, by number (paged through the store). */
async function allParts(ctx: S3Context, uploadId: string): Promise<Map<number, UploadPart>> {
  const out = new Map<number, UploadPart>();
  let after = 0;
  for (;;) {
    const page = await ctx.meta.listParts(uploadId, after, 1000);
    for (const p of page) out.set(p.number, p);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.number;
  }
}

export async function completeMultipartUpload(ctx: S3Context): Promise<S3Response> {
  const upload = await requireUpload(ctx);
  const condition = writeConditionFrom(ctx);
  const requested = parseCompleteBody((await readSmallBody(ctx.body, 4 * 1024 * 1024)).toString('utf8'));
  const stored = await allParts(ctx, upload.uploadId);

  // As S3: the order of the whole list first, then each part, then the sizes.
  for (let i = 1; i < requested.length; i++) {
    if (requested[i]!.number <= requested[i - 1]!.number) throw new S3Error('InvalidPartOrder');
  }
  const parts: ObjectPart[] = [];
  for (const r of requested) {
    const p = stored.get(r.number);
    if (!p || p.etag !== r.etag) {
      throw new S3Error('InvalidPart', "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", { UploadId: upload.uploadId, PartNumber: String(r.number), ETag: r.etag });
    }
    const given = upload.checksumAlgorithm ? r.checksums[upload.checksumAlgorithm] : undefined;
    if (given !== undefined && p.checksum && given !== p.checksum.value) {
      throw new S3Error('InvalidPart', `The ${upload.checksumAlgorithm} checksum of part ${r.number} does not match.`, { PartNumber: String(r.number) });
    }
    parts.push({ number: p.number, size: p.size, etag: p.etag, checksum: p.checksum, locator: p.locator });
  }
  let size = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i < parts.length - 1 && p.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, { ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_SIZE), PartNumber: String(p.number), ETag: p.etag });
    }
    size += p.size;
  }
  if (size > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge');

  const obj: ObjectVersion = {
    bucket: upload.bucket,
    key: upload.key,
    versionId: 'null',
    size,
    etag: multipartEtag(parts),
    lastModified: new Date(),
    storageClass: upload.storageClass,
    owner: upload.owner,
    contentHeaders: upload.contentHeaders,
    userMetadata: upload.userMetadata,
    checksum: upload.checksumAlgorithm ? await multipartChecksum(upload.checksumAlgorithm, upload.checksumType ?? 'COMPOSITE', parts) : undefined,
    locator: '',
    parts,
  };
  if (upload.acl) obj.acl = upload.acl;
  if (upload.tags) obj.tags = upload.tags;
  const result = await ctx.meta.completeUpload(upload.uploadId, obj, condition);
  if (result.status === 'missing') throw new S3Error('NoSuchUpload', undefined, { UploadId: upload.uploadId });
  if (result.status === 'precondition-failed') throw new S3Error('PreconditionFailed', undefined, { Condition: condition?.ifMatch !== undefined ? 'If-Match' : 'If-None-Match' });
  await Promise.all(result.unusedParts.map((p) => ctx.engine.delete(p.locator)));
  if (result.previous) await deleteData(ctx, result.previous);

  const checksumEls = obj.checksum ? el(`Checksum${obj.checksum.algorithm}`, obj.checksum.value) + el('ChecksumType', obj.checksum.type) : '';
  const location = `/${encodeURIComponent(obj.bucket)}/${obj.key.split('/').map(encodeURIComponent).join('/')}`;
  return {
    status: 200,
    body: doc('CompleteMultipartUploadResult', `${el('Location', location)}${el('Bucket', obj.bucket)}${el('Key', obj.key)}${el('ETag', `"${obj.etag}"`)}${checksumEls}`),
  };
}

export async function abortMultipartUpload(ctx: S3Context): Promise<S3Response> {
  const upload = await requireUpload(ctx);
  const parts = await ctx.meta.abortUpload(upload.uploadId);
  if (!parts) throw new S3Error('NoSuchUpload', undefined, { UploadId: upload.uploadId });
  await Promise.all(parts.map((p) => ctx.engine.delete(p.locator)));
  return { status: 204 };
}

function maxFrom(ctx: S3Context, name: string): number {
  const raw = ctx.query.get(name);
  if (raw === null) return 1000;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(1000, Number(raw));
}


export async function listParts(ctx: S3Context): Promise<S3Response> {
  const upload = await requireUpload(ctx);
  const maxParts = maxFrom(ctx, 'max-parts');
  const markerRaw = ctx.query.get('part-number-marker') ?? '0';
  if (!/^\d+$/.test(markerRaw)) throw new S3Error('InvalidArgument', 'Provided part-number-marker not an integer or within integer range', { ArgumentName: 'part-number-marker' });
  const marker = Number(markerRaw);
  const page = maxParts === 0 ? [] : await ctx.meta.listParts(upload.uploadId, marker, maxParts + 1);
  const truncated = page.length > maxParts;
  const shown = page.slice(0, maxParts);
  const partsXml = shown
    .map((p) => `<Part>${el('PartNumber', p.number)}${el('LastModified', isoDate(p.lastModified))}${el('ETag', `"${p.etag}"`)}${p.checksum ? el(`Checksum${p.checksum.algorithm}`, p.checksum.value) : ''}${el('Size', p.size)}</Part>`)
    .join('');
  const next = shown.length ? shown[shown.length - 1]!.number : marker;
  const ownerXml = await ownerRenderer(ctx, [upload.owner]);
  const body =
    `${el('Bucket', upload.bucket)}${el('Key', upload.key)}${el('UploadId', upload.uploadId)}` +
    `${ownerXml('Initiator', upload.owner)}${ownerXml('Owner', upload.owner)}${el('StorageClass', upload.storageClass)}` +
    `${el('PartNumberMarker', marker)}${el('NextPartNumberMarker', next)}${el('MaxParts', maxParts)}${el('IsTruncated', truncated)}` +
    `${upload.checksumAlgorithm ? el('ChecksumAlgorithm', upload.checksumAlgorithm) + el('ChecksumType', upload.checksumType) : ''}${partsXml}`;
  return { status: 200, body: doc('ListPartsResult', body) };
}

export async function listMultipartUploads(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  const q = ctx.query;
  const maxUploads = maxFrom(ctx, 'max-uploads');
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const keyMarker = q.get('key-marker') || undefined;
  const uploadIdMarker = keyMarker ? q.get('upload-id-marker') || undefined : undefined;
  const encodingType = q.get('encoding-type') ?? undefined;
  if (encodingType !== undefined && encodingType.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  const enc = encodingType ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;
  const page =
    maxUploads === 0
      ? { entries: [], isTruncated: false }
      : await ctx.meta.listUploads(ctx.bucket!, { prefix, delimiter, keyMarker, uploadIdMarker, limit: maxUploads });
  const ownerXml = await ownerRenderer(ctx, page.entries.flatMap((e) => ('upload' in e ? [e.upload.owner] : [])));
  let uploads = '';
  let prefixes = '';
  for (const e of page.entries) {
    if ('upload' in e) {
      const u = e.upload;
      uploads +=
        `<Upload>${el('Key', enc(u.key))}${el('UploadId', u.uploadId)}${ownerXml('Initiator', u.owner)}${ownerXml('Owner', u.owner)}` +
        `${el('StorageClass', u.storageClass)}${el('Initiated', isoDate(u.initiated))}${u.checksumAlgorithm ? el('ChecksumAlgorithm', u.checksumAlgorithm) + el('ChecksumType', u.checksumType) : ''}</Upload>`;
    } else prefixes += `<CommonPrefixes>${el('Prefix', enc(e.prefix))}</CommonPrefixes>`;
  }
  const body =
    `${el('Bucket', ctx.bucket!)}${el('KeyMarker', enc(keyMarker ?? ''))}${el('UploadIdMarker', uploadIdMarker ?? '')}` +
    `${page.isTruncated ? el('NextKeyMarker', enc(page.nextKeyMarker ?? '')) + el('NextUploadIdMarker', page.nextUploadIdMarker ?? '') : ''}` +
    `${el('Prefix', enc(prefix))}${delimiter ? el('Delimiter', enc(delimiter)) : ''}${el('MaxUploads', maxUploads)}${encodingType ? el('EncodingType', 'url') : ''}` +
    `${el('IsTruncated', page.isTruncated)}${uploads}${prefixes}`;
  return { status: 200, body: doc('ListMultipartUploadsResult', body) };
}
