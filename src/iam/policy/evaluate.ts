import { conditionKeyId, testCondition, type ContextLookup } from './conditions.ts';
import { listed, type BucketPolicy, type Statement } from './parse.ts';
import { principalMatches } from './principal.ts';

// Evaluation of a parsed policy for one request: an explicit Deny wins over any Allow; with
// neither, the policy has no say ('none') and the caller falls back to ownership and ACLs.

export interface PolicyRequest {
  /** The caller's account id, or null for an anonymous request. */
  accountId: string | null;
  /** IAM action, e.g. 's3:GetObject', 's3:ListBucket'. */
  action: string;
  /** 'arn:aws:s3:::bucket' or 'arn:aws:s3:::bucket/key' (key not URL-encoded). */
  resource: string;
  /** Condition keys (matched case-insensitively) -> values; a missing key is absent. */
  context: Record<string, string | string[] | undefined>;
}

export function evaluatePolicy(policy: BucketPolicy, req: PolicyRequest): 'allow' | 'deny' | 'none' {
  const action = req.action.toLowerCase();
  let lookup: ContextLookup | undefined;
  let allowed = false;
  for (const s of policy.statements) {
    if (allowed && s.effect === 'Allow') continue; // only a Deny can change the answer now
    if (!applies(s, req.accountId, action, req.resource)) continue;
    if (s.conditions.length > 0) {
      lookup ??= contextLookup(req);
      if (!s.conditions.every((c) => testCondition(c, lookup!))) continue;
    }
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

function applies(s: Statement, accountId: string | null, action: string, resource: string): boolean {
  return (
    principalMatches(s.principals, accountId) !== s.notPrincipal &&
    listed(s.actions, action) !== s.actions.negated &&
    listed(s.resources, resource) !== s.resources.negated
  );
}

/**
 * Condition key names are case-insensitive (tag keys in them are not): index the request's context by `conditionKeyId`, once per
 * evaluation. aws:PrincipalAccount defaults to the caller's account.
 */
function contextLookup(req: PolicyRequest): ContextLookup {
  const byKey = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(req.context)) {
    if (v === undefined) continue;
    byKey.set(conditionKeyId(k), typeof v === 'string' ? [v] : v);
  }
  if (req.accountId !== null && !byKey.has('aws:principalaccount')) byKey.set('aws:principalaccount', [req.accountId]);
  return (key) => byKey.get(key);
}
