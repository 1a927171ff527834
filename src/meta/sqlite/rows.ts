// Row <-> record mapping for the SQLite MetaStore. Column lists live here, next to the mapping,
// so a statement and the code that reads its rows cannot disagree.
//
// Optional record fields that are absent come back absent (not `undefined`), so records round-trip
// exactly. A multipart object's parts are one JSON array of compact tuples:
//   [number, size, etag, locator]  or  [number, size, etag, locator, algorithm, value, type]
// (10,000 parts then take ~0.6 MB instead of ~1 MB as JSON objects).

import type { SQLInputValue, SQLOutputValue } from 'node:sqlite';
import type { Bucket, BucketSettings, Checksum, Grant, MultipartUpload, ObjectPart, ObjectSummary, ObjectVersion, Tag, UploadPart } from '../types.ts';

type Row = Record<string, SQLOutputValue>;
type Params = Record<string, SQLInputValue>;

// Buckets

export const BUCKET_COLUMNS = 'name, owner, region, created_at, settings';

export function bucketParams(b: Bucket): Params {
  return { name: b.name, owner: b.owner, region: b.region, created_at: b.createdAt.getTime(), settings: JSON.stringify(b.settings) };
}

export function bucketFrom(r: Row): Bucket {
  return {
    name: r.name as string,
    owner: r.owner as string,
    region: r.region as string,
    createdAt: new Date(r.created_at as number),
    settings: JSON.parse(r.settings as string) as BucketSettings,
  };
}

// ACLs and tags of objects and uploads: JSON, NULL for the default (absent).

function jsonOrNull(value: Grant[] | Tag[] | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function withAccess<T extends { acl?: Grant[]; tags?: Tag[] }>(record: T, r: Row): T {
  if (r.acl !== null && r.acl !== undefined) record.acl = JSON.parse(r.acl as string) as Grant[];
  if (r.tags !== null && r.tags !== undefined) record.tags = JSON.parse(r.tags as string) as Tag[];
  return record;
}

// Objects

export const OBJECT_COLUMNS =
  'bucket, key, version_id, size, etag, last_modified, storage_class, owner, content_headers, user_metadata, ' +
  'checksum_algorithm, checksum_value, checksum_type, locator, parts, acl, tags';

export const OBJECT_VALUES =
  '$bucket, $key, $version_id, $size, $etag, $last_modified, $storage_class, $owner, $content_headers, $user_metadata, ' +
  '$checksum_algorithm, $checksum_value, $checksum_type, $locator, $parts, $acl, $tags';

export function objectParams(o: ObjectVersion): Params {
  return {
    bucket: o.bucket,
    key: o.key,
    version_id: o.versionId,
    size: o.size,
    etag: o.etag,
    last_modified: o.lastModified.getTime(),
    storage_class: o.storageClass,
    owner: o.owner,
    content_headers: JSON.stringify(o.contentHeaders),
    user_metadata: JSON.stringify(o.userMetadata),
    checksum_algorithm: o.checksum?.algorithm ?? null,
    checksum_value: o.checksum?.value ?? null,
    checksum_type: o.checksum?.type ?? null,
    locator: o.locator,
    parts: o.parts === undefined ? null : encodeParts(o.parts),
    acl: jsonOrNull(o.acl),
    tags: jsonOrNull(o.tags),
  };
}

/** The columns a listing needs (all stored before the large ones, so no overflow page is read). */
export const SUMMARY_COLUMNS = 'key, size, etag, last_modified, storage_class, owner, checksum_algorithm, checksum_value, checksum_type';

/** A listing row (an array in SUMMARY_COLUMNS order) as a summary. */
export function summaryFrom(r: SQLOutputValue[]): ObjectSummary {
  const o: ObjectSummary = {
    key: r[0] as string,
    size: r[1] as number,
    etag: r[2] as string,
    lastModified: new Date(r[3] as number),
    storageClass: r[4] as string,
    owner: r[5] as string,
  };
  const checksum = checksumOf(r[6], r[7], r[8]);
  if (checksum) o.checksum = checksum;
  return o;
}

/**
 * An object row, read as an array in OBJECT_COLUMNS order (arrays skip building a 17-property row
 * object per read). Indexes follow OBJECT_COLUMNS.
 */
export function objectFromArray(r: SQLOutputValue[]): ObjectVersion {
  const o: ObjectVersion = {
    bucket: r[0] as string,
    key: r[1] as string,
    versionId: r[2] as string,
    size: r[3] as number,
    etag: r[4] as string,
    lastModified: new Date(r[5] as number),
    storageClass: r[6] as string,
    owner: r[7] as string,
    contentHeaders: parseRecord(r[8] as string),
    userMetadata: parseRecord(r[9] as string),
    locator: r[13] as string,
  };
  const checksum = checksumOf(r[10], r[11], r[12]);
  if (checksum) o.checksum = checksum;
  if (r[14] !== null) o.parts = decodeParts(r[14] as string);
  if (r[15] !== null) o.acl = JSON.parse(r[15] as string) as Grant[];
  if (r[16] !== null) o.tags = JSON.parse(r[16] as string) as Tag[];
  return o;
}

/** Column count of OBJECT_COLUMNS: a statement's extra columns follow at this index. */
export const OBJECT_COLUMN_COUNT = OBJECT_COLUMNS.split(', ').length;
/** Where the stored locator (or '#id' of a moved-out one) is in such a row. */
export const OBJECT_LOCATOR = OBJECT_COLUMNS.split(', ').indexOf('locator');

/** Most objects have no content headers or metadata: '{}' needs no parser. */
function parseRecord(json: string): Record<string, string> {
  return json === '{}' ? {} : (JSON.parse(json) as Record<string, string>);
}

type PartTuple = [number, number, string, string] | [number, number, string, string, string, string, string];

export function encodeParts(parts: ObjectPart[]): string {
  const tuples: PartTuple[] = parts.map((p) =>
    p.checksum
      ? [p.number, p.size, p.etag, p.locator, p.checksum.algorithm, p.checksum.value, p.checksum.type]
      : [p.number, p.size, p.etag, p.locator],
  );
  return JSON.stringify(tuples);
}

export function decodeParts(json: string): ObjectPart[] {
  return (JSON.parse(json) as PartTuple[]).map((t) => {
    const part: ObjectPart = { number: t[0], size: t[1], etag: t[2], locator: t[3] };
    if (t.length === 7) part.checksum = { algorithm: t[4], value: t[5], type: t[6] } as Checksum;
    return part;
  });
}

function checksumOf(algorithm: SQLOutputValue | undefined, value: SQLOutputValue | undefined, type: SQLOutputValue | undefined): Checksum | undefined {
  if (algorithm === null || algorithm === undefined) return undefined;
  return { algorithm: algorithm as Checksum['algorithm'], value: value as string, type: type as Checksum['type'] };
}

function checksumFrom(r: Row): Checksum | undefined {
  return checksumOf(r.checksum_algorithm, r.checksum_value, r.checksum_type);
}

// Multipart uploads

export const UPLOAD_COLUMNS =
  'upload_id, bucket, key, initiated, owner, storage_class, content_headers, user_metadata, checksum_algorithm, checksum_type, acl, tags';

export const UPLOAD_VALUES =
  '$upload_id, $bucket, $key, $initiated, $owner, $storage_class, $content_headers, $user_metadata, $checksum_algorithm, $checksum_type, $acl, $tags';

export function uploadParams(u: MultipartUpload): Params {
  return {
    upload_id: u.uploadId,
    bucket: u.bucket,
    key: u.key,
    initiated: u.initiated.getTime(),
    owner: u.owner,
    storage_class: u.storageClass,
    content_headers: JSON.stringify(u.contentHeaders),
    user_metadata: JSON.stringify(u.userMetadata),
    checksum_algorithm: u.checksumAlgorithm ?? null,
    checksum_type: u.checksumType ?? null,
    acl: jsonOrNull(u.acl),
    tags: jsonOrNull(u.tags),
  };
}

export function uploadFrom(r: Row): MultipartUpload {
  const u: MultipartUpload = {
    uploadId: r.upload_id as string,
    bucket: r.bucket as string,
    key: r.key as string,
    initiated: new Date(r.initiated as number),
    owner: r.owner as string,
    storageClass: r.storage_class as string,
    contentHeaders: JSON.parse(r.content_headers as string) as Record<string, string>,
    userMetadata: JSON.parse(r.user_metadata as string) as Record<string, string>,
  };
  if (r.checksum_algorithm !== null) u.checksumAlgorithm = r.checksum_algorithm as MultipartUpload['checksumAlgorithm'];
  if (r.checksum_type !== null) u.checksumType = r.checksum_type as MultipartUpload['checksumType'];
  return withAccess(u, r);
}

// Parts of uploads

export const PART_COLUMNS = 'number, size, etag, checksum_algorithm, checksum_value, checksum_type, locator, last_modified';

export const PART_VALUES = '$upload_id, $number, $size, $etag, $checksum_algorithm, $checksum_value, $checksum_type, $locator, $last_modified';

export function partParams(uploadId: string, p: UploadPart): Params {
  return {
    upload_id: uploadId,
    number: p.number,
    size: p.size,
    etag: p.etag,
    checksum_algorithm: p.checksum?.algorithm ?? null,
    checksum_value: p.checksum?.value ?? null,
    checksum_type: p.checksum?.type ?? null,
    locator: p.locator,
    last_modified: p.lastModified.getTime(),
  };
}

export function partFrom(r: Row): UploadPart {
  const p: UploadPart = {
    number: r.number as number,
    size: r.size as number,
    etag: r.etag as string,
    locator: r.locator as string,
    lastModified: new Date(r.last_modified as number),
  };
  const checksum = checksumFrom(r);
  if (checksum) p.checksum = checksum;
  return p;
}
