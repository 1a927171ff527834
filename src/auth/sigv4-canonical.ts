// SigV4 canonical request and string to sign, and the signature check over the canonical forms
// real clients produce.
import type { KeyObject } from 'node:crypto';
import { EMPTY_SHA256, hmacSha256Hex, safeEqual, sha256Hex } from './crypto.ts';
import type { QueryParam, RequestParts } from './request-parts.ts';
import { headerValues } from './request-parts.ts';
import { canonicalPath, canonicalQueryPart } from './uri-encoding.ts';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Query string in canonical form: names and values re-encoded, sorted by name then value. */
export function canonicalQuery(params: QueryParam[], plusAsSpace: boolean, excludeName?: string): string {
  const pairs: string[][] = [];
  for (const p of params) {
    if (excludeName !== undefined && p.name === excludeName) continue;
    pairs.push([canonicalQueryPart(p.rawName, plusAsSpace), canonicalQueryPart(p.rawValue, plusAsSpace)]);
  }
  pairs.sort((a, b) => compare(a[0]!, b[0]!) || compare(a[1]!, b[1]!));
  return pairs.map((p) => p[0] + '=' + p[1]).join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `name:value\n` for each signed header: values trimmed, inner whitespace runs collapsed, repeats joined by ','. */
export function canonicalHeaders(req: RequestParts, signedHeaders: string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const values = headerValues(req, name).map(canonicalValue);
    out += name + ':' + values.join(',') + '\n';
  }
  return out;
}

/** Trimmed, inner whitespace runs collapsed to one space (most values have none: no new string). */
function canonicalValue(v: string): string {
  const t = v.trim();
  return /\s\s|(?! )\s/.test(t) ? t.replace(/\s+/g, ' ') : t;
}

export function canonicalRequest(
  method: string,
  uri: string,
  query: string,
  headers: string,
  signedHeaders: string,
  payloadHash: string,
): string {
  return `${method}\n${uri}\n${query}\n${headers}\n${signedHeaders}\n${payloadHash}`;
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

export function signHex(signingKey: Uint8Array | KeyObject, text: string): string {
  return hmacSha256Hex(signingKey, text);
}

export interface V4SignatureInput {
  req: RequestParts;
  signedHeaders: string[];
  payloadHash: string;
  amzDate: string;
  scope: string;
  signingKey: Uint8Array | KeyObject;
  provided: string;
  /** Presigned requests leave X-Amz-Signature out of the canonical query. */
  excludeQueryParam?: string;
}

export type V4Match = { ok: true } | { ok: false; canonicalRequest: string; stringToSign: string };

/**
 * Checks a SigV4 signature. The strict canonical form (path and query decoded then re-encoded) is
 * tried first; then the path exactly as sent (clients that sign what they send, leaving `!*'()` or
 * `+` raw) and `+` in the query read as a space. Each variant is a faithful reading of the same
 * request bytes, so none widens what a signature authorizes.
 */
export function matchV4Signature(input: V4SignatureInput): V4Match {
  const { req } = input;
  const uris = [canonicalPath(req.rawPath)];
  if (uris[0] !== req.rawPath) uris.push(req.rawPath);
  const queries = [canonicalQuery(req.query, false, input.excludeQueryParam)];
  if (req.query.some((p) => p.rawName.includes('+') || p.rawValue.includes('+'))) {
    queries.push(canonicalQuery(req.query, true, input.excludeQueryParam));
  }
  const headers = canonicalHeaders(req, input.signedHeaders);
  const signedLine = input.signedHeaders.join(';');
  const provided = input.provided.toLowerCase();
  let first: { canonicalRequest: string; stringToSign: string } | undefined;
  for (const uri of uris) {
    for (const query of queries) {
      const creq = canonicalRequest(req.method, uri, query, headers, signedLine, input.payloadHash);
      const sts = stringToSign(input.amzDate, input.scope, creq);
      if (safeEqual(signHex(input.signingKey, sts), provided)) return { ok: true };
      first ??= { canonicalRequest: creq, stringToSign: sts };
    }
  }
  return { ok: false, ...first! };
}

/** String to sign of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256: string): string {
  return `${ALGORITHM}-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256}`;
}

/** String to sign of the trailing headers (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER). */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailersSha256: string): string {
  return `${ALGORITHM}-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${trailersSha256}`;
}
