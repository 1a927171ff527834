// The parts of an HTTP request the signers read: raw path, raw query pairs, header values.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthInput } from './types.ts';
import { percentDecode } from './uri-encoding.ts';

export interface QueryParam {
  /** Name and value exactly as received (still percent-encoded); value '' when there was no `=`. */
  rawName: string;
  rawValue: string;
  /** Decoded name and value (`+` kept literal). */
  name: string;
  value: string;
  /** Whether the parameter had an `=` (`?acl` vs `?acl=`). */
  hasEquals: boolean;
}

export interface RequestParts {
  method: string;
  /** Path as received, percent-encoded, starting with `/`. */
  rawPath: string;
  query: QueryParam[];
  headers: IncomingHttpHeaders;
  rawHeaders: string[] | undefined;
  virtualHostBucket: string | undefined;
  /** The raw header lines by lower-cased name, once a signer has asked (see `headerValues`). */
  rawHeaderMap?: Map<string, string[]>;
}

export function requestParts(input: AuthInput): RequestParts {
  let url = input.rawUrl;
  // Absolute form (`GET http://host/path HTTP/1.1`, sent to proxies): keep path and query only.
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
  if (scheme) url = url.slice(scheme[0].length);
  const hash = url.indexOf('#');
  if (hash >= 0) url = url.slice(0, hash);
  const q = url.indexOf('?');
  let rawPath = q >= 0 ? url.slice(0, q) : url;
  if (!rawPath.startsWith('/')) rawPath = '/' + rawPath;
  return {
    method: input.method.toUpperCase(),
    rawPath,
    query: q >= 0 ? parseQuery(url.slice(q + 1)) : [],
    headers: input.headers,
    rawHeaders: input.rawHeaders,
    virtualHostBucket: input.virtualHostBucket,
  };
}

export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq >= 0 ? part.slice(0, eq) : part;
    const rawValue = eq >= 0 ? part.slice(eq + 1) : '';
    params.push({
      rawName,
      rawValue,
      name: percentDecode(rawName).toString('utf8'),
      value: percentDecode(rawValue).toString('utf8'),
      hasEquals: eq >= 0,
    });
  }
  return params;
}

/** First decoded value of a query parameter (names compared exactly, as S3 does). */
export function queryValue(req: RequestParts, name: string): string | undefined {
  for (const p of req.query) if (p.name === name) return p.value;
  return undefined;
}

/** First value of a query parameter whose name matches case-insensitively. */
export function queryValueIgnoreCase(req: RequestParts, lowerName: string): string | undefined {
  for (const p of req.query) if (p.name.toLowerCase() === lowerName) return p.value;
  return undefined;
}

/** A header's value as Node joined it (`, ` between repeated fields); undefined when absent. */
export function headerValue(req: RequestParts, lowerName: string): string | undefined {
  const v = req.headers[lowerName];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * Every value of a header, one per field line, when raw headers are known; otherwise Node's
 * joined value as a single entry. Empty array when absent.
 */
export function headerValues(req: RequestParts, lowerName: string): string[] {
  if (req.rawHeaders) {
    const values = rawHeaderMap(req).get(lowerName);
    if (values !== undefined || req.headers[lowerName] === undefined) return values ?? [];
  }
  const v = req.headers[lowerName];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}

/** The raw header lines by lower-cased name, built once per request (signers ask for several). */
function rawHeaderMap(req: RequestParts): Map<string, string[]> {
  if (req.rawHeaderMap) return req.rawHeaderMap;
  const raw = req.rawHeaders!;
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const values = map.get(name);
    if (values) values.push(raw[i + 1]!);
    else map.set(name, [raw[i + 1]!]);
  }
  req.rawHeaderMap = map;
  return map;
}

/** Lower-case names of all headers present. */
export function headerNames(req: RequestParts): string[] {
  return Object.keys(req.headers).map((n) => n.toLowerCase());
}
