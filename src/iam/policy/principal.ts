import { PolicyError } from './errors.ts';

// Principal / NotPrincipal: "*", {"AWS": "*" | id | [..]}, {"CanonicalUser": id}, {"Service": name}.
// An account matches as its bare id, `arn:aws:iam::<id>:root` or any `arn:aws:iam::<id>:user/...`
// (our accounts have no separate users: every key of an account acts as the account).

export interface Principals {
  /** "*" or {"AWS": "*"}: everyone, anonymous included. */
  readonly anyone: boolean;
  /** Account ids named by the statement. */
  readonly accounts: ReadonlySet<string>;
}

const INVALID = 'Invalid principal in policy';
const BARE_ID = /^[A-Za-z0-9][A-Za-z0-9._@+=,-]*$/;
// arn:<partition>:iam::<account>:root | user/... | role/... ; arn:<partition>:sts::<account>:assumed-role/...
const IAM_ARN = /^arn:[a-z-]+:(?:iam::([A-Za-z0-9._-]+):(?:root|user\/.+|role\/.+)|sts::([A-Za-z0-9._-]+):(?:assumed-role|federated-user)\/.+)$/;
const USER_ARN = /^arn:[a-z-]+:iam::[^:]+:(?:root|user\/.+)$/;
const SERVICE = /^[a-z0-9][a-z0-9.-]*$/;

export function parsePrincipal(value: unknown): Principals {
  if (value === '*') return { anyone: true, accounts: new Set() };
  if (!isPlainObject(value) || Object.keys(value).length === 0) throw new PolicyError(INVALID);
  let anyone = false;
  const accounts = new Set<string>();
  for (const [type, raw] of Object.entries(value)) {
    const ids = Array.isArray(raw) ? raw : [raw];
    if (ids.length === 0) throw new PolicyError(INVALID);
    for (const id of ids) {
      if (typeof id !== 'string' || id === '') throw new PolicyError(INVALID);
      if (type === 'AWS') {
        if (id === '*') {
          anyone = true;
        } else if (BARE_ID.test(id)) {
          accounts.add(id);
        } else {
          const m = IAM_ARN.exec(id);
          if (!m || id.includes('*') || id.includes('?')) throw new PolicyError(INVALID);
          // Roles and assumed roles are valid names but no request of ours is ever made as one.
          if (USER_ARN.test(id)) accounts.add(m[1]!);
        }
      } else if (type === 'CanonicalUser') {
        if (!/^[A-Za-z0-9]+$/.test(id)) throw new PolicyError(INVALID);
        accounts.add(id);
      } else if (type === 'Service') {
        if (!SERVICE.test(id)) throw new PolicyError(INVALID); // accepted, never matches a request here
      } else {
        throw new PolicyError(INVALID);
      }
    }
  }
  return { anyone, accounts };
}

/** Whether a request by `accountId` (null: anonymous) is one of `p`. */
export function principalMatches(p: Principals, accountId: string | null): boolean {
  return p.anyone || (accountId !== null && p.accounts.has(accountId));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
