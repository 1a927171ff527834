import { S3Error } from './errors.ts';

// Bucket naming rules of Amazon S3 (general purpose buckets).
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * Names the gateway keeps for itself: path-style `/share/...` serves share links (src/share/). Creating
 * one answers BucketAlreadyExists: the name is valid but taken, as S3 says of a name someone else owns.
 */
export const RESERVED_BUCKET_NAMES: ReadonlySet<string> = new Set(['share']);

export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_RE.test(name) &&
    !IPV4_RE.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !RESERVED_PREFIXES.some((p) => name.startsWith(p)) &&
    !RESERVED_SUFFIXES.some((s) => name.endsWith(s))
  );
}

export function checkBucketName(name: string): void {
  if (!isValidBucketName(name)) throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
}

export const MAX_KEY_BYTES = 1024;

/** Keys are names, never paths: any UTF-8 up to 1024 bytes. */
export function checkKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 'Object key must not be empty.');
  if (!key.isWellFormed()) throw new S3Error('InvalidArgument', 'Object key is not valid UTF-8.');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { Key: key.slice(0, 64) });
}
