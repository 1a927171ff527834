// The policy document of a browser form upload: base64 JSON with `expiration` and `conditions`.
// Conditions are exact matches ({"field": "value"} or ["eq", "$field", "value"]), prefixes
// (["starts-with", "$field", "prefix"]) and the file's size (["content-length-range", min, max]).
// Every form field, but for the few S3 exempts, must be covered by a condition.

import { S3Error } from './errors.ts';

type Condition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  expiration: Date;
  conditions: Condition[];
}

/** Fields a policy need not name (the signature, the policy itself, the file; x-ignore-* by design). */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file']);

function invalidPolicy(reason: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${reason}`);
}

function denied(reason: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${reason}`);
}

/** How S3 quotes a condition in its error message: `["eq", "$key", "value"]`. */
function quote(op: string, field: string, value: string): string {
  return `[${JSON.stringify(op)}, ${JSON.stringify('$' + field)}, ${JSON.stringify(value)}]`;
}

function scalar(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function parseCondition(c: unknown): Condition {
  if (Array.isArray(c)) {
    const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
    if (op === 'content-length-range') {
      const [min, max] = [Number(scalar(c[1])), Number(scalar(c[2]))];
      if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) {
        throw invalidPolicy(`Invalid content-length-range condition: ${JSON.stringify(c)}`);
      }
      return { op, min, max };
    }
    if ((op === 'eq' || op === 'starts-with') && c.length === 3 && typeof c[1] === 'string' && c[1].startsWith('$')) {
      const value = scalar(c[2]);
      if (value === undefined) throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
      const field = c[1].slice(1);
      return { op, field: field.toLowerCase(), value, text: quote(op, field, value) };
    }
    throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
  }
  if (typeof c === 'object' && c !== null) {
    const entries = Object.entries(c);
    const value = entries.length === 1 ? scalar(entries[0]![1]) : undefined;
    if (value === undefined) throw invalidPolicy(`Invalid Simple-Condition: ${JSON.stringify(c)}`);
    const field = entries[0]![0].replace(/^\$/, '');
    return { op: 'eq', field: field.toLowerCase(), value, text: quote('eq', field, value) };
  }
  throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
}

/** Decodes and validates a policy field (the base64 text as sent in the form). */
export function parsePostPolicy(base64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const at = typeof expiration === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(expiration) ? new Date(expiration) : undefined;
  if (!at || Number.isNaN(at.getTime())) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw invalidPolicy('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a list.");
  return { expiration: at, conditions: conditions.map(parseCondition) };
}

function satisfies(c: Extract<Condition, { field: string }>, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (c.op === 'eq') return value === c.value;
  // A Content-Type may list several types; each must carry the prefix.
  if (c.field === 'content-type') return value.split(',').every((v) => v.trim().startsWith(c.value));
  return value.startsWith(c.value);
}

/**
 * Checks the form's fields (lower-case names; `bucket` added by the caller) against the policy:
 * expiry, every condition, and that no field is left uncovered. Returns the allowed file sizes.
 * Failures are AccessDenied with S3's "Invalid according to Policy: ..." messages.
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, now = Date.now()): { min: number; max: number } {
  if (policy.expiration.getTime() <= now) throw denied('Policy expired.');
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  const covered = new Set<string>(['bucket']);
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') {
      min = Math.max(min, c.min);
      max = Math.min(max, c.max);
      continue;
    }
    covered.add(c.field);
    if (!satisfies(c, fields.get(c.field))) throw denied(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...fields.keys()].filter((name) => !covered.has(name) && !EXEMPT.has(name) && !name.startsWith('x-ignore-'));
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return { min, max };
}
