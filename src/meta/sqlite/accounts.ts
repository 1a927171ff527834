// Accounts and access keys in the SQLite MetaStore: their statements and row mapping.

import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import { MAX_KEYS_PER_ACCOUNT, type AccessKey, type Account, type AccountChange } from '../types.ts';

type Row = Record<string, SQLOutputValue>;

const ACCOUNT_COLUMNS = 'id, display_name, email, status, is_admin, created_at, password_hash, rate_limit, max_buckets';
const KEY_COLUMNS = 'access_key_id, account_id, sealed_secret, status, created_at, last_used';

function accountFrom(r: Row): Account {
  const a: Account = {
    id: r.id as string,
    displayName: r.display_name as string,
    status: r.status as Account['status'],
    isAdmin: r.is_admin === 1,
    createdAt: new Date(r.created_at as number),
  };
  if (r.email !== null) a.email = r.email as string;
  if (r.password_hash !== null) a.passwordHash = r.password_hash as string;
  if (r.rate_limit !== null) a.rateLimit = r.rate_limit as number;
  if (r.max_buckets !== null) a.maxBuckets = r.max_buckets as number;
  return a;
}

function keyFrom(r: Row): AccessKey {
  const k: AccessKey = {
    accessKeyId: r.access_key_id as string,
    accountId: r.account_id as string,
    sealedSecret: r.sealed_secret as string,
    status: r.status as AccessKey['status'],
    createdAt: new Date(r.created_at as number),
  };
  if (r.last_used !== null) k.lastUsed = new Date(r.last_used as number);
  return k;
}

export class AccountRows {
  private readonly db: DatabaseSync;
  private readonly q: Record<string, StatementSync>;

  constructor(db: DatabaseSync) {
    this.db = db;
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      insertAccount: p(`INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      getAccount: p(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`),
      getAccountByEmail: p(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = ?`),
      listAccounts: p(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, id`),
      insertKey: p(`INSERT INTO access_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      countKeys: p('SELECT count(*) AS n FROM access_keys WHERE account_id = ?'),
      getKey: p(`SELECT ${KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?`),
      listKeys: p(`SELECT ${KEY_COLUMNS} FROM access_keys WHERE account_id = ? ORDER BY created_at, access_key_id`),
      deleteKey: p('DELETE FROM access_keys WHERE access_key_id = ?'),
    };
  }

  createAccount(a: Account): 'created' | 'exists' {
    const { changes } = this.q.insertAccount!.run(
      a.id,
      a.displayName,
      a.email?.toLowerCase() ?? null,
      a.status,
      a.isAdmin ? 1 : 0,
      a.createdAt.getTime(),
      a.passwordHash ?? null,
      a.rateLimit ?? null,
      a.maxBuckets ?? null,
    );
    return changes === 1 ? 'created' : 'exists';
  }

  getAccount(id: string): Account | undefined {
    const r = this.q.getAccount!.get(id);
    return r ? accountFrom(r) : undefined;
  }

  getAccountByEmail(email: string): Account | undefined {
    const r = this.q.getAccountByEmail!.get(email.toLowerCase());
    return r ? accountFrom(r) : undefined;
  }

  listAccounts(): Account[] {
    return this.q.listAccounts!.all().map(accountFrom);
  }

  updateAccount(id: string, c: AccountChange): boolean {
    const sets: string[] = [];
    const args: Array<string | number | null> = [];
    const put = (col: string, v: string | number | null) => {
      sets.push(`${col} = ?`);
      args.push(v);
    };
    if (c.displayName !== undefined) put('display_name', c.displayName);
    if (c.email !== undefined) put('email', c.email.toLowerCase());
    if (c.status !== undefined) put('status', c.status);
    if (c.isAdmin !== undefined) put('is_admin', c.isAdmin ? 1 : 0);
    if (c.passwordHash !== undefined) put('password_hash', c.passwordHash);
    if (c.rateLimit !== undefined) put('rate_limit', c.rateLimit);
    if (c.maxBuckets !== undefined) put('max_buckets', c.maxBuckets);
    if (sets.length === 0) return this.getAccount(id) !== undefined;
    // Few and rare: not worth a prepared statement per combination of columns.
    const { changes } = this.db.prepare(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    return changes === 1;
  }

  /** Runs inside the store's write transaction, so the count and the insert are one step. */
  createAccessKey(k: AccessKey): 'created' | 'exists' | 'limit' | 'missing' {
    if (!this.q.getAccount!.get(k.accountId)) return 'missing';
    if (Number(this.q.countKeys!.get(k.accountId)?.n ?? 0) >= MAX_KEYS_PER_ACCOUNT) return 'limit';
    const { changes } = this.q.insertKey!.run(k.accessKeyId, k.accountId, k.sealedSecret, k.status, k.createdAt.getTime(), k.lastUsed?.getTime() ?? null);
    return changes === 1 ? 'created' : 'exists';
  }

  getAccessKey(id: string): AccessKey | undefined {
    const r = this.q.getKey!.get(id);
    return r ? keyFrom(r) : undefined;
  }

  listAccessKeys(accountId: string): AccessKey[] {
    return this.q.listKeys!.all(accountId).map(keyFrom);
  }

  updateAccessKey(id: string, c: Partial<Pick<AccessKey, 'status' | 'sealedSecret' | 'lastUsed'>>): boolean {
    const sets: string[] = [];
    const args: Array<string | number> = [];
    if (c.status !== undefined) (sets.push('status = ?'), args.push(c.status));
    if (c.sealedSecret !== undefined) (sets.push('sealed_secret = ?'), args.push(c.sealedSecret));
    if (c.lastUsed !== undefined) (sets.push('last_used = ?'), args.push(c.lastUsed.getTime()));
    if (sets.length === 0) return this.getAccessKey(id) !== undefined;
    const { changes } = this.db.prepare(`UPDATE access_keys SET ${sets.join(', ')} WHERE access_key_id = ?`).run(...args, id);
    return changes === 1;
  }

  deleteAccessKey(id: string): boolean {
    return this.q.deleteKey!.run(id).changes === 1;
  }
}
