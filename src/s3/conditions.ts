import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.ts';
import { header } from './context.ts';

// Conditional requests (RFC 7232 as S3 applies them) for GET/HEAD and for copy sources.

interface Validators {
  etag: string;
  lastModified: Date;
}

function parseDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** True when an If-Match / If-None-Match list names this ETag (or is `*`). */
export function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((raw) => {
    const t = raw.trim().replace(/^W\//, '');
    return t === '*' || t === `"${etag}"` || t === etag;
  });
}

/** Last-Modified at the one-second precision HTTP dates have. */
function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000) * 1000;
}

/**
 * GET/HEAD: throws PreconditionFailed (412) or NotModified (304) when the conditions say so.
 * `prefix` is '' for the request's own headers, 'x-amz-copy-source-' for copy sources.
 */
export function checkConditions(headers: IncomingHttpHeaders, obj: Validators, prefix = ''): void {
  const h = { headers };
  const ifMatch = header(h, `${prefix}if-match`);
  const ifNoneMatch = header(h, `${prefix}if-none-match`);
  const ifModifiedSince = parseDate(header(h, `${prefix}if-modified-since`));
  const ifUnmodifiedSince = parseDate(header(h, `${prefix}if-unmodified-since`));
  const modified = seconds(obj.lastModified);
  const copy = prefix !== '';

  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, obj.etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: `${prefix}If-Match` });
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw new S3Error('PreconditionFailed', undefined, { Condition: `${prefix}If-Unmodified-Since` });
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, obj.etag)) {
      if (copy) throw new S3Error('PreconditionFailed', undefined, { Condition: `${prefix}If-None-Match` });
      throw new S3Error('NotModified');
    }
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    if (copy) throw new S3Error('PreconditionFailed', undefined, { Condition: `${prefix}If-Modified-Since` });
    throw new S3Error('NotModified');
  }
}
