// A bucket's CORS rules: the CORSConfiguration XML in and out (with S3's validation), and which
// rule answers a browser's request. Matching follows S3: the first rule whose origin, method and
// (for preflights) every requested header match wins.

import { S3Error } from './errors.ts';
import { doc, el, parseXml } from './xml.ts';
import type { CorsRule } from '../meta/index.ts';

/** The only methods a CORS rule may allow. */
export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;
export const MAX_CORS_RULES = 100;
/** S3 accepts CORS configurations of up to 64 KB. */
export const MAX_CORS_BYTES = 64 * 1024;

const RULE_ELEMENTS = new Set(['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);

/** An element that may repeat, as a list of its text values (fast-xml-parser gives one or many). */
function texts(v: unknown): string[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string') throw new S3Error('MalformedXML');
    return x.trim();
  });
}

function wildcards(s: string): number {
  return s.split('*').length - 1;
}

function parseRule(raw: unknown): CorsRule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new S3Error('MalformedXML');
  const r = raw as Record<string, unknown>;
  for (const name of Object.keys(r)) if (!RULE_ELEMENTS.has(name)) throw new S3Error('MalformedXML');
  const ids = texts(r['ID']);
  const maxAges = texts(r['MaxAgeSeconds']);
  const allowedOrigins = texts(r['AllowedOrigin']);
  const allowedMethods = texts(r['AllowedMethod']);
  if (ids.length > 1 || maxAges.length > 1 || allowedOrigins.length === 0 || allowedMethods.length === 0) {
    throw new S3Error('MalformedXML');
  }
  for (const m of allowedMethods) {
    if (!(CORS_METHODS as readonly string[]).includes(m)) {
      throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
  }
  for (const o of allowedOrigins) {
    if (wildcards(o) > 1) throw new S3Error('InvalidRequest', `AllowedOrigin "${o}" can not have more than one wildcard.`);
  }
  const allowedHeaders = texts(r['AllowedHeader']);
  for (const h of allowedHeaders) {
    if (wildcards(h) > 1) throw new S3Error('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
  }
  const exposeHeaders = texts(r['ExposeHeader']);
  for (const h of exposeHeaders) {
    if (h.includes('*')) throw new S3Error('InvalidRequest', `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
  }
  const rule: CorsRule = { allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders };
  if (ids.length === 1) rule.id = ids[0]!;
  if (maxAges.length === 1) {
    if (!/^-?\d{1,10}$/.test(maxAges[0]!)) throw new S3Error('MalformedXML');
    rule.maxAgeSeconds = Number(maxAges[0]);
  }
  return rule;
}

/** A PutBucketCors body as rules; MalformedXML or InvalidRequest (with S3's message) when it is not valid. */
export function parseCorsConfiguration(text: string): CorsRule[] {
  const root = parseXml(text)['CORSConfiguration'];
  if (typeof root !== 'object' || root === null) throw new S3Error('MalformedXML');
  const conf = root as Record<string, unknown>;
  for (const name of Object.keys(conf)) if (name !== 'CORSRule') throw new S3Error('MalformedXML');
  const raw = conf['CORSRule'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || list.length > MAX_CORS_RULES) throw new S3Error('MalformedXML');
  return list.map(parseRule);
}

/** The GetBucketCors document. */
export function renderCorsConfiguration(rules: readonly CorsRule[]): string {
  const inner = rules
    .map((r) => {
      const parts = [
        el('ID', r.id),
        ...r.allowedHeaders.map((h) => el('AllowedHeader', h)),
        ...r.allowedMethods.map((m) => el('AllowedMethod', m)),
        ...r.allowedOrigins.map((o) => el('AllowedOrigin', o)),
        ...r.exposeHeaders.map((h) => el('ExposeHeader', h)),
        el('MaxAgeSeconds', r.maxAgeSeconds),
      ];
      return `<CORSRule>${parts.join('')}</CORSRule>`;
    })
    .join('');
  return doc('CORSConfiguration', inner);
}

/** `pattern` with at most one `*` standing for any run of characters. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

export interface CorsRequest {
  origin: string;
  /** The method asked for: the request's own, or a preflight's Access-Control-Request-Method. */
  method: string;
  /** A preflight's Access-Control-Request-Headers, lower-cased; actual requests' headers are not checked. */
  headers?: readonly string[];
}

/** The first rule that allows the request, as S3 evaluates them. Origins are case-sensitive, headers not. */
export function matchCorsRule(rules: readonly CorsRule[], req: CorsRequest): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedOrigins.some((o) => wildcardMatch(o, req.origin)) &&
      rule.allowedMethods.includes(req.method) &&
      (req.headers ?? []).every((h) => rule.allowedHeaders.some((a) => wildcardMatch(a.toLowerCase(), h))),
  );
}

/** Every response to a request a rule allowed says that it depends on these request headers. */
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/**
 * The Access-Control-* headers S3 sends for a matched rule. A rule open to every origin (`*`)
 * answers `*` without credentials; any other rule echoes the origin and allows credentials.
 */
export function corsResponseHeaders(rule: CorsRule, req: CorsRequest): Record<string, string> {
  const open = rule.allowedOrigins.includes('*');
  const h: Record<string, string> = {
    'access-control-allow-origin': open ? '*' : req.origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: VARY,
  };
  if (!open) h['access-control-allow-credentials'] = 'true';
  if (req.headers && req.headers.length > 0) h['access-control-allow-headers'] = req.headers.join(', ');
  if (rule.exposeHeaders.length > 0) h['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(rule.maxAgeSeconds);
  return h;
}
