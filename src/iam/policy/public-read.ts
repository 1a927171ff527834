import { PolicyError } from './errors.ts';
import { parsePolicy, type BucketPolicy } from './parse.ts';

// The console's "make public for reading" switch is an ordinary policy statement, so the console
// and the S3 API (GetBucketPolicy, GetBucketPolicyStatus) see one state:
//   {"Sid": "oort-public-read:<prefix>", "Effect": "Allow", "Principal": "*",
//    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::<bucket>/<prefix>*"}
// The Sid finds it again; the user's own statements are kept as they are (the document is
// re-serialised compactly when a statement is added or removed).

export const PUBLIC_READ_SID = 'oort-public-read:';

function publicReadStatement(bucket: string, prefix: string): Record<string, unknown> {
  return {
    Sid: `${PUBLIC_READ_SID}${prefix}`,
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: `arn:aws:s3:::${bucket}/${prefix}*`,
  };
}

/**
 * Adds (on) or removes (off) the public-read statement for `prefix` ('' = the whole bucket).
 * Returns the policy unchanged when there is nothing to do, undefined when no statement is left.
 */
export function withPublicRead(policy: BucketPolicy | undefined, bucket: string, prefix: string, on: boolean): BucketPolicy | undefined {
  // IAM has no escape for wildcard characters in a Resource, so such a prefix cannot be named exactly.
  if (prefix.includes('*') || prefix.includes('?')) throw new PolicyError('A public prefix cannot contain * or ?');
  const sid = `${PUBLIC_READ_SID}${prefix}`;
  const doc = policy ? (JSON.parse(policy.text) as Record<string, unknown>) : { Version: '2012-10-17', Statement: [] };
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Record<string, unknown>[];
  const index = statements.findIndex((s) => s.Sid === sid);
  let next: Record<string, unknown>[];
  if (on) {
    const wanted = publicReadStatement(bucket, prefix);
    if (index >= 0 && JSON.stringify(statements[index]) === JSON.stringify(wanted)) return policy;
    next = index >= 0 ? statements.map((s, i) => (i === index ? wanted : s)) : [...statements, wanted];
  } else {
    if (index < 0) return policy;
    next = statements.filter((s) => s.Sid !== sid);
    if (next.length === 0) return undefined;
  }
  return parsePolicy(JSON.stringify({ ...doc, Statement: next }), bucket);
}

/** The prefixes made public by withPublicRead, sorted ('' = the whole bucket). */
export function publicReadPrefixes(policy: BucketPolicy | undefined): string[] {
  if (!policy) return [];
  const prefixes = new Set<string>();
  for (const s of policy.statements) {
    if (s.sid?.startsWith(PUBLIC_READ_SID) && s.effect === 'Allow' && s.principals.anyone && !s.notPrincipal) {
      prefixes.add(s.sid.slice(PUBLIC_READ_SID.length));
    }
  }
  return [...prefixes].sort();
}
