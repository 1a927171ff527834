import { S3Error } from './errors.ts';
import { doc, el, parseXml } from './xml.ts';
import type { Tag } from '../meta/index.ts';
import type { S3Context } from './context.ts';

// Object and bucket tags: the Tagging XML document, the x-amz-tagging header, and S3's limits.

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;

/** S3's tag alphabet: Unicode letters, numbers and spaces, and _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const HEADER_MESSAGE =
  "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

export type TagTarget = 'object' | 'bucket';

/** Unicode characters (code points), as S3 counts tag lengths. */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Checks a tag set against S3's rules; BadRequest for too many tags, InvalidTag for a bad one. */
export function validateTags(tags: Tag[], target: TagTarget): Tag[] {
  if (target === 'object' && tags.length > MAX_OBJECT_TAGS) throw new S3Error('BadRequest', 'Object tags cannot be greater than 10');
  if (target === 'bucket' && tags.length > MAX_BUCKET_TAGS) throw new S3Error('BadRequest', 'Bucket tag count cannot be greater than 50');
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: key });
    seen.add(key);
    if (key.startsWith('aws:')) {
      throw new S3Error('InvalidTag', target === 'object' ? 'Your TagKey cannot be prefixed with aws:' : 'System tags cannot be added/updated by requester', { TagKey: key });
    }
    if (key.length === 0 || !key.isWellFormed() || !TAG_TEXT.test(key)) {
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: key });
    }
    if (chars(key) > MAX_KEY_CHARS) throw new S3Error('InvalidTag', `The TagKey you have provided is too long, max ${MAX_KEY_CHARS}`, { TagKey: key });
    if (!value.isWellFormed() || !TAG_TEXT.test(value)) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', { TagKey: key, TagValue: value });
    }
    if (chars(value) > MAX_VALUE_CHARS) throw new S3Error('InvalidTag', `The TagValue you have provided is too long, max ${MAX_VALUE_CHARS}`, { TagKey: key });
  }
  return tags;
}

/**
 * The x-amz-tagging header (`k1=v1&k2=v2`, URL-encoded) of PutObject, CopyObject and
 * CreateMultipartUpload: undefined when absent or empty.
 */
export function tagsFromHeader(value: string | undefined): Tag[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const pair of value.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let key: string;
    let v: string;
    try {
      key = decodeURIComponent(rawKey.replaceAll('+', ' '));
      v = decodeURIComponent(rawValue.replaceAll('+', ' '));
    } catch {
      throw new S3Error('InvalidArgument', HEADER_MESSAGE, { ArgumentName: 'x-amz-tagging', ArgumentValue: value });
    }
    if (seen.has(key)) throw new S3Error('InvalidArgument', HEADER_MESSAGE, { ArgumentName: 'x-amz-tagging', ArgumentValue: value });
    seen.add(key);
    tags.push({ key, value: v });
  }
  return tags.length > 0 ? validateTags(tags, 'object') : undefined;
}

/**
 * Tags a write (PutObject, CopyObject, CreateMultipartUpload) gives its new object: as S3 asks, the
 * caller needs s3:PutObjectTagging on that object too, beyond the write itself.
 */
export async function tagsForWrite(ctx: S3Context, tags: Tag[] | undefined): Promise<Tag[] | undefined> {
  if (tags && tags.length > 0) await ctx.gate.check('s3:PutObjectTagging', ctx.bucket!, ctx.key!);
  return tags;
}

/** A parsed element that may be one child or several. */
function list(v: unknown): unknown[] {
  if (v === undefined || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

/** A <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging> body, validated. */
export function tagsFromXml(text: string, target: TagTarget): Tag[] {
  const root = parseXml(text)['Tagging'];
  if (typeof root !== 'object' || root === null) throw new S3Error('MalformedXML');
  const set = (root as Record<string, unknown>)['TagSet'];
  if (set === undefined || Array.isArray(set) || (typeof set !== 'object' && set !== '')) throw new S3Error('MalformedXML');
  const tags: Tag[] = [];
  for (const t of list(set === '' ? undefined : (set as Record<string, unknown>)['Tag'])) {
    if (typeof t !== 'object' || t === null) throw new S3Error('MalformedXML');
    const { Key: key, Value: value } = t as Record<string, unknown>;
    if (typeof key !== 'string' || typeof value !== 'string') throw new S3Error('MalformedXML');
    tags.push({ key, value });
  }
  return validateTags(tags, target);
}

/** The Tagging document GetObjectTagging and GetBucketTagging answer with. */
export function renderTagging(tags: readonly Tag[]): string {
  const items = tags.map((t) => `<Tag>${el('Key', t.key)}${el('Value', t.value)}</Tag>`).join('');
  return doc('Tagging', `<TagSet>${items}</TagSet>`);
}
