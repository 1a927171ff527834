// SigV2 verification (legacy, still used by s3cmd --signature-v2 and old tools):
// `Authorization: AWS AKID:base64(HMAC-SHA1)` and query `AWSAccessKeyId`/`Expires`/`Signature`.
import { createHmac } from 'node:crypto';
import { S3Error } from '../s3/errors.ts';
import { MAX_SKEW_MS, parseAnyDate, toIsoSeconds } from './amz-date.ts';
import { safeEqual, secretKeyOf } from './crypto.ts';
import type { RequestParts } from './request-parts.ts';
import { headerNames, headerValue, headerValues, queryValue } from './request-parts.ts';
import { canonicalPath, uriEncode, percentDecode } from './uri-encoding.ts';
import type { AuthOptions, CredentialLookup } from './types.ts';

/** Query parameters that are part of the signed resource (S3 sub-resources and response overrides). */
export const SUB_RESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'defaultObjectAcl', 'delete', 'inventory', 'lifecycle',
  'location', 'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy',
  'replication', 'requestPayment', 'restore', 'select', 'select-type', 'storageClass', 'tagging',
  'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires',
]);

/** `x-amz-name:value\n` lines, sorted; repeated fields joined by ','; folded whitespace unfolded. */
function canonicalAmzHeaders(req: RequestParts): string {
  const names = [...new Set(headerNames(req).filter((n) => n.startsWith('x-amz-')))].sort();
  let out = '';
  for (const name of names) {
    const values = headerValues(req, name).map((v) => v.replace(/\s*\r?\n\s*/g, ' ').trim());
    out += `${name}:${values.join(',')}\n`;
  }
  return out;
}

/**
 * Candidate canonicalized resources, the most common first: the path as sent or re-encoded
 * strictly (s3cmd), sub-resource values decoded (botocore) or encoded (s3cmd).
 */
function canonicalResources(req: RequestParts): string[] {
  const bucket = req.virtualHostBucket ? '/' + req.virtualHostBucket : '';
  const paths = [req.rawPath];
  const strict = canonicalPath(req.rawPath);
  if (strict !== req.rawPath) paths.push(strict);
  const subs = req.query
    .filter((p) => SUB_RESOURCES.has(p.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // S3 signs an empty sub-resource as its bare name (`?versioning`), whether or not the request
  // line carried `versioning=`; some clients sign what they sent, so both are tried.
  const render = (encodeValues: boolean, bareEmpty: boolean) =>
    subs
      .map((p) =>
        p.hasEquals && !(bareEmpty && p.value === '') ? `${p.name}=${encodeValues ? uriEncode(percentDecode(p.rawValue), false) : p.value}` : p.name,
      )
      .join('&');
  const queries: string[] = [];
  for (const q of [render(false, true), render(false, false), render(true, true)]) if (!queries.includes(q)) queries.push(q);
  const out: string[] = [];
  for (const path of paths) {
    for (const q of queries) out.push(bucket + path + (q ? '?' + q : ''));
  }
  return out;
}

function stringsToSign(req: RequestParts, dateLine: string): string[] {
  const head =
    `${req.method}\n${headerValue(req, 'content-md5') ?? ''}\n${headerValue(req, 'content-type') ?? ''}\n` +
    `${dateLine}\n${canonicalAmzHeaders(req)}`;
  return canonicalResources(req).map((resource) => head + resource);
}

async function check(
  req: RequestParts,
  accessKeyId: string,
  signature: string,
  dateLine: string,
  lookup: CredentialLookup,
): Promise<string> {
  const found = await lookup(accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  const candidates = stringsToSign(req, dateLine);
  for (const sts of candidates) {
    const expected = createHmac('sha1', secretKeyOf(found.secretAccessKey)).update(sts, 'utf8').digest('base64');
    if (safeEqual(expected, signature)) return found.accessKeyId;
  }
  throw new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: accessKeyId,
    StringToSign: candidates[0]!,
    SignatureProvided: signature,
  });
}

export async function verifyV2Header(
  req: RequestParts,
  authorization: string,
  lookup: CredentialLookup,
  opts: AuthOptions,
): Promise<string> {
  const m = /^AWS\s+([^:\s]+):(\S+)\s*$/.exec(authorization);
  if (!m) {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const xAmzDate = headerValue(req, 'x-amz-date');
  const date = headerValue(req, 'date');
  const stamp = xAmzDate ?? date;
  const time = stamp === undefined ? undefined : parseAnyDate(stamp);
  if (time === undefined) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const now = (opts.now ?? Date.now)();
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: stamp!,
      ServerTime: toIsoSeconds(now),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
  // With x-amz-date, the Date line is empty: the timestamp is signed among the x-amz-* headers.
  const dateLine = xAmzDate !== undefined ? '' : date!;
  return check(req, m[1]!, m[2]!, dateLine, lookup);
}

/** True when the query carries any SigV2 presigning parameter. */
export function hasV2Query(req: RequestParts): boolean {
  return req.query.some((p) => p.name === 'AWSAccessKeyId' || p.name === 'Signature');
}

export async function verifyV2Query(req: RequestParts, lookup: CredentialLookup, opts: AuthOptions): Promise<string> {
  const accessKeyId = queryValue(req, 'AWSAccessKeyId');
  const signature = queryValue(req, 'Signature');
  const expires = queryValue(req, 'Expires');
  if (!accessKeyId || !signature || !expires) {
    throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d{1,12}$/.test(expires)) {
    throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  }
  const now = (opts.now ?? Date.now)();
  if (now > Number(expires) * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: toIsoSeconds(Number(expires) * 1000),
      ServerTime: toIsoSeconds(now),
    });
  }
  return check(req, accessKeyId, signature, expires, lookup);
}
