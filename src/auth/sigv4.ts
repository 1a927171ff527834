// SigV4 verification: `Authorization: AWS4-HMAC-SHA256 ...` and presigned `X-Amz-*` query URLs.
import type { KeyObject } from 'node:crypto';
import { S3Error } from '../s3/errors.ts';
import { MAX_SKEW_MS, parseAmzDate, parseHttpDate, toAmzDate, toIsoSeconds } from './amz-date.ts';
import { checkContentSha256, UNSIGNED_PAYLOAD, type ChunkSigning } from './payload-mode.ts';
import type { RequestParts } from './request-parts.ts';
import { headerNames, headerValue, queryValue, queryValueIgnoreCase } from './request-parts.ts';
import { ALGORITHM, matchV4Signature } from './sigv4-canonical.ts';
import { signingKeys } from './signing-key-cache.ts';
import type { AuthOptions, CredentialLookup } from './types.ts';

/** A verified SigV4 request. */
export interface V4Auth {
  accessKeyId: string;
  /** x-amz-content-sha256 as signed (UNSIGNED-PAYLOAD for presigned URLs unless they name one). */
  payloadHash: string;
  signing: ChunkSigning;
}

export const SERVICE = 's3';
const MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600;

/** x-amz-* headers that need not be signed: envelope headers bound elsewhere or read only for framing. */
const UNSIGNED_ALLOWED = new Set([
  'x-amz-content-sha256',
  'x-amz-decoded-content-length',
  'x-amz-trailer',
  'x-amz-sdk-checksum-algorithm',
]);

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

type Fail = (message: string, fields?: Record<string, string>) => S3Error;

const headerMalformed: Fail = (message, fields) =>
  new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`, fields);
const queryMalformed: Fail = (message, fields) =>
  new S3Error('AuthorizationQueryParametersError', message, fields);

function parseCredential(value: string, fail: Fail, prefix: string, region: string): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[0] === '' || !/^\d{8}$/.test(parts[1]!)) {
    throw fail(`${prefix}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  const [accessKeyId, date, credRegion, service, terminal] = parts as [string, string, string, string, string];
  if (credRegion !== region) {
    throw fail(`${prefix}the region '${credRegion}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (service !== SERVICE) {
    throw fail(`${prefix}incorrect service '${service}'. This endpoint belongs to '${SERVICE}'.`);
  }
  if (terminal !== 'aws4_request') {
    throw fail(`${prefix}incorrect terminal '${terminal}'. This endpoint uses 'aws4_request'.`);
  }
  return { accessKeyId, date, region: credRegion, service };
}

function parseSignedHeaders(value: string, fail: Fail): string[] {
  const names = value.split(';').map((n) => n.trim().toLowerCase());
  if (names.length === 0 || names.some((n) => !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(n))) {
    throw fail('the SignedHeaders component is malformed.');
  }
  return names;
}

/** S3 refuses a request carrying headers that steer it but are not covered by the signature. */
function checkHeadersSigned(req: RequestParts, signed: string[]): void {
  const set = new Set(signed);
  const missing: string[] = [];
  if (!set.has('host')) missing.push('host');
  for (const name of headerNames(req)) {
    if (name.startsWith('x-amz-') && !set.has(name) && !UNSIGNED_ALLOWED.has(name)) missing.push(name);
  }
  if (missing.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: missing.join(', '),
    });
  }
}

function checkSignatureFormat(signature: string, fail: Fail, what: string): void {
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw fail(`${what} is malformed.`);
}

async function resolveSigningKey(cred: Credential, lookup: CredentialLookup): Promise<{ accessKeyId: string; key: KeyObject }> {
  const found = await lookup(cred.accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: cred.accessKeyId });
  return { accessKeyId: found.accessKeyId, key: signingKeys.get(found.secretAccessKey, cred.date, cred.region, cred.service) };
}

function signatureMismatch(accessKeyId: string, provided: string, m: { canonicalRequest: string; stringToSign: string }): S3Error {
  return new S3Error('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: accessKeyId,
    StringToSign: m.stringToSign,
    SignatureProvided: provided,
    CanonicalRequest: m.canonicalRequest,
  });
}

/** Splits `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` into its components. */
/** The last step of both forms: look the key up, recompute the signature, compare. */
async function checkV4Signature(
  req: RequestParts,
  cred: Credential,
  lookup: CredentialLookup,
  v: { signedHeaders: string[]; payloadHash: string; amzDate: string; signature: string; excludeQueryParam?: string },
): Promise<V4Auth> {
  const { accessKeyId, key } = await resolveSigningKey(cred, lookup);
  const scope = `${cred.date}/${cred.region}/${cred.service}/aws4_request`;
  const match = matchV4Signature({
    req,
    signedHeaders: v.signedHeaders,
    payloadHash: v.payloadHash,
    amzDate: v.amzDate,
    scope,
    signingKey: key,
    provided: v.signature,
    excludeQueryParam: v.excludeQueryParam,
  });
  if (!match.ok) throw signatureMismatch(cred.accessKeyId, v.signature, match);
  return {
    accessKeyId,
    payloadHash: v.payloadHash,
    signing: { signingKey: key, amzDate: v.amzDate, scope, seedSignature: v.signature.toLowerCase() },
  };
}

function parseAuthorization(value: string): { credential: string; signedHeaders: string; signature: string } {
  const parts: Record<string, string> = {};
  for (const part of value.slice(ALGORITHM.length).split(/[\s,]+/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq) : '';
    if (name === '' || Object.hasOwn(parts, name)) {
      throw headerMalformed(`the authorization component "${part}" is malformed.`);
    }
    parts[name] = part.slice(eq + 1);
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = parts;
  if (!credential || !signedHeaders || !signature) {
    throw headerMalformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  return { credential, signedHeaders, signature };
}

export async function verifyV4Header(
  req: RequestParts,
  authorization: string,
  lookup: CredentialLookup,
  opts: AuthOptions,
): Promise<V4Auth> {
  const auth = parseAuthorization(authorization);
  const cred = parseCredential(auth.credential, headerMalformed, '', opts.region);
  const signedHeaders = parseSignedHeaders(auth.signedHeaders, headerMalformed);
  checkSignatureFormat(auth.signature, headerMalformed, 'the Signature component');

  // The timestamp: x-amz-date, else Date.
  const xAmzDate = headerValue(req, 'x-amz-date')?.trim();
  const dateHeader = headerValue(req, 'date');
  let time: number | undefined;
  let amzDate = '';
  if (xAmzDate !== undefined) {
    time = parseAmzDate(xAmzDate);
    amzDate = xAmzDate;
  } else if (dateHeader !== undefined) {
    time = parseHttpDate(dateHeader);
    if (time !== undefined) amzDate = toAmzDate(time);
  }
  if (time === undefined) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (cred.date !== amzDate.slice(0, 8)) {
    throw headerMalformed(`Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const now = (opts.now ?? Date.now)();
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: amzDate,
      ServerTime: toIsoSeconds(now),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }

  const payloadHash = headerValue(req, 'x-amz-content-sha256')?.trim();
  if (payloadHash === undefined || payloadHash === '') {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  checkContentSha256(payloadHash);
  checkHeadersSigned(req, signedHeaders);

  return checkV4Signature(req, cred, lookup, { signedHeaders, payloadHash, amzDate, signature: auth.signature });
}

/** True when the query carries any SigV4 presigning parameter. */
export function hasV4Query(req: RequestParts): boolean {
  return req.query.some((p) => p.name === 'X-Amz-Algorithm' || p.name === 'X-Amz-Credential' || p.name === 'X-Amz-Signature');
}

export async function verifyV4Query(req: RequestParts, lookup: CredentialLookup, opts: AuthOptions): Promise<V4Auth> {
  const algorithm = queryValue(req, 'X-Amz-Algorithm');
  const credential = queryValue(req, 'X-Amz-Credential');
  const amzDate = queryValue(req, 'X-Amz-Date');
  const expires = queryValue(req, 'X-Amz-Expires');
  const signedHeadersValue = queryValue(req, 'X-Amz-SignedHeaders');
  const signature = queryValue(req, 'X-Amz-Signature');
  if (!algorithm || !credential || !amzDate || !expires || !signedHeadersValue || !signature) {
    throw queryMalformed(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
        'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (algorithm !== ALGORITHM) throw queryMalformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const cred = parseCredential(credential, queryMalformed, 'Error parsing the X-Amz-Credential parameter; ', opts.region);
  const time = parseAmzDate(amzDate);
  if (time === undefined) throw queryMalformed('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (cred.date !== amzDate.slice(0, 8)) {
    throw queryMalformed(`Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  if (!/^\d{1,10}$/.test(expires)) throw queryMalformed('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expires);
  if (expiresSeconds < 1) throw queryMalformed('X-Amz-Expires must be non-negative');
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES) {
    throw queryMalformed('X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  const signedHeaders = parseSignedHeaders(signedHeadersValue, queryMalformed);
  checkSignatureFormat(signature, queryMalformed, 'X-Amz-Signature');

  const now = (opts.now ?? Date.now)();
  if (time - now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  if (now > time + expiresSeconds * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expires,
      Expires: toIsoSeconds(time + expiresSeconds * 1000),
      ServerTime: toIsoSeconds(now),
    });
  }

  // Hoisted x-amz-content-sha256 (the SDK presigner adds X-Amz-Content-Sha256=UNSIGNED-PAYLOAD).
  const payloadHash = queryValueIgnoreCase(req, 'x-amz-content-sha256') ?? UNSIGNED_PAYLOAD;
  if (payloadHash !== UNSIGNED_PAYLOAD && !/^[0-9a-fA-F]{64}$/.test(payloadHash)) {
    throw queryMalformed('X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value in a presigned URL.');
  }
  checkHeadersSigned(req, signedHeaders);

  return checkV4Signature(req, cred, lookup, { signedHeaders, payloadHash, amzDate, signature, excludeQueryParam: 'X-Amz-Signature' });
}
