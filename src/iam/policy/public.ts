import { parseCidr, type ConditionTest } from './conditions.ts';
import type { BucketPolicy, Statement } from './parse.ts';
import { hasWildcard } from './wildcard.ts';

// S3's "meaning of public" for bucket policies (GetBucketPolicyStatus, BlockPublicPolicy,
// RestrictPublicBuckets): a policy is public when an Allow statement grants to everyone ("*",
// {"AWS": "*"}, or any NotPrincipal) without a condition that pins one of the keys below to
// fixed values (no wildcards, no policy variables). aws:SourceIp counts only with CIDRs no
// broader than /8 (IPv4) or /32 (IPv6).

const PINNING_KEYS = new Set([
  'aws:sourceip',
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:principalorgid',
  'aws:principalaccount',
  'aws:userid',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);

/** Operators that, with fixed values, admit only those values (a missing key fails them). */
const PINNING_OPERATORS = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'IpAddress']);

export function isPublicPolicy(policy: BucketPolicy): boolean {
  return policy.statements.some(isPublicStatement);
}

export function isPublicStatement(s: Statement): boolean {
  return s.effect === 'Allow' && (s.notPrincipal || s.principals.anyone) && !s.conditions.some(pins);
}

function pins(c: ConditionTest): boolean {
  // IfExists, negated operators and ForAllValues all pass when the key is missing, so they pin nothing.
  if (c.ifExists || c.negated || c.qualifier === 'ForAllValues') return false;
  if (!PINNING_OPERATORS.has(c.base) || !PINNING_KEYS.has(c.key)) return false;
  if (c.key === 'aws:sourceip') return c.base === 'IpAddress' && c.values.every(narrowCidr);
  return c.base !== 'IpAddress' && c.values.every((v) => !hasWildcard(v) && !v.includes('${'));
}

function narrowCidr(value: string): boolean {
  const cidr = parseCidr(value);
  return cidr !== undefined && cidr.prefix >= (cidr.family === 'ipv4' ? 8 : 32);
}
