import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.ts';
import type { ObjectVersion } from '../meta/index.ts';

/** Content headers S3 keeps with an object and returns on GET/HEAD. */
export const CONTENT_HEADERS = [
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
] as const;

const MAX_USER_METADATA = 2048;

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export function contentHeadersFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CONTENT_HEADERS) {
    const v = single(headers[name]);
    if (v !== undefined) out[name] = v;
  }
  // aws-chunked is the transfer framing, not the object's encoding.
  if (out['content-encoding'] !== undefined) {
    const kept = out['content-encoding'].split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'aws-chunked');
    if (kept.length) out['content-encoding'] = kept.join(',');
    else delete out['content-encoding'];
  }
  return out;
}

/** x-amz-meta-* headers, names lower-cased without the prefix; at most 2 KB as S3. */
export function userMetadataFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const key = name.slice('x-amz-meta-'.length);
    const v = single(value) ?? '';
    out[key] = v;
    size += Buffer.byteLength(key) + Buffer.byteLength(v);
  }
  if (size > MAX_USER_METADATA) throw new S3Error('MetadataTooLarge');
  return out;
}

const httpDates = new Map<number, string>();

/**
 * An HTTP date (Last-Modified). Formatting one costs about 2 µs; recent ones are remembered, by
 * the second (all an HTTP date shows), so objects written in the same second share one.
 */
export function httpDate(d: Date): string {
  const second = Math.floor(d.getTime() / 1000);
  let text = httpDates.get(second);
  if (text === undefined) {
    text = d.toUTCString();
    if (httpDates.size >= 4096) httpDates.clear();
    httpDates.set(second, text);
  }
  return text;
}

/** Headers describing an object on GET/HEAD (without length/range, which the caller sets). */
export function objectHeaders(obj: ObjectVersion): Record<string, string> {
  const h: Record<string, string> = {
    etag: `"${obj.etag}"`,
    'last-modified': httpDate(obj.lastModified),
    'accept-ranges': 'bytes',
    'content-type': 'binary/octet-stream',
  };
  for (const [name, value] of Object.entries(obj.contentHeaders)) h[name] = value;
  for (const [name, value] of Object.entries(obj.userMetadata)) h[`x-amz-meta-${name}`] = value;
  if (obj.storageClass !== 'STANDARD') h['x-amz-storage-class'] = obj.storageClass;
  if (obj.tags && obj.tags.length > 0) h['x-amz-tagging-count'] = String(obj.tags.length);
  return h;
}

export type StorageClass = 'STANDARD' | 'ARCHIVE';

/** The two classes, and the AWS archive names that mean ARCHIVE here. */
const STORAGE_CLASSES: Record<string, StorageClass> = {
  STANDARD: 'STANDARD',
  ARCHIVE: 'ARCHIVE',
  GLACIER: 'ARCHIVE',
  DEEP_ARCHIVE: 'ARCHIVE',
  GLACIER_IR: 'ARCHIVE',
};

/** x-amz-storage-class, else the endpoint's default; unknown classes are InvalidStorageClass. */
export function storageClassFrom(headers: IncomingHttpHeaders, fallback: StorageClass = 'STANDARD'): StorageClass {
  const v = single(headers['x-amz-storage-class']);
  if (v === undefined || v === '') return fallback;
  const cls = STORAGE_CLASSES[v.toUpperCase()];
  if (!cls) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: v });
  return cls;
}

/** What the engine should do with a stored class name (anything else was written before classes). */
export function engineClass(storageClass: string): StorageClass {
  return storageClass === 'ARCHIVE' ? 'ARCHIVE' : 'STANDARD';
}
