import { S3Error } from './errors.ts';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Parses a Range header against an object size, as S3 does: one range of the forms
 * `bytes=a-b`, `bytes=a-`, `bytes=-n`. A header S3 would ignore (bad syntax, several ranges)
 * gives undefined (the whole object is served); a range that starts past the end is InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m) return undefined;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) throw unsatisfiable(size);
    if (size === 0) throw unsatisfiable(size);
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return undefined;
  if (start >= size) throw unsatisfiable(size);
  return { start, end: Math.min(end, size - 1) };
}

function unsatisfiable(size: number): S3Error {
  return new S3Error('InvalidRange', undefined, { RangeRequested: '', ActualObjectSize: String(size) }, { 'content-range': `bytes */${size}` });
}
