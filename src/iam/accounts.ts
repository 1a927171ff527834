import { randomBytes, randomUUID } from 'node:crypto';
import { MAX_KEYS_PER_ACCOUNT, type AccessKey, type Account, type MetaStore } from '../meta/index.ts';
import { SecretBox } from './secret-box.ts';
import type { KeyRing } from '../security/master-key.ts';
import type { Identity } from './identity.ts';
import { hashPassword } from './password.ts';

// Account and access-key management: what the admin API, sign-up and start-up call.

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function newAccessKeyId(): string {
  let out = 'OORT';
  for (const b of randomBytes(16)) out += KEY_ALPHABET[b % KEY_ALPHABET.length];
  return out;
}

export function newSecret(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

export class AccountError extends Error {
  readonly code: 'NotFound' | 'Conflict' | 'LimitExceeded' | 'Invalid';
  constructor(code: AccountError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** An access key as shown to people: never the secret, except once at creation. */
export interface KeyInfo {
  accessKeyId: string;
  accountId: string;
  status: AccessKey['status'];
  createdAt: string;
  lastUsed: string | null;
}

export function keyInfo(k: AccessKey): KeyInfo {
  return { accessKeyId: k.accessKeyId, accountId: k.accountId, status: k.status, createdAt: k.createdAt.toISOString(), lastUsed: k.lastUsed?.toISOString() ?? null };
}

export function accountInfo(a: Account) {
  return { id: a.id, displayName: a.displayName, email: a.email ?? null, status: a.status, isAdmin: a.isAdmin, createdAt: a.createdAt.toISOString(), rateLimit: a.rateLimit ?? null, maxBuckets: a.maxBuckets ?? null };
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class Accounts {
  private readonly meta: MetaStore;
  private readonly box: SecretBox;
  private readonly identity: Identity;

  constructor(meta: MetaStore, box: SecretBox, identity: Identity) {
    this.meta = meta;
    this.box = box;
    this.identity = identity;
  }

  async createAccount(input: { displayName: string; email?: string; isAdmin?: boolean; password?: string; id?: string }): Promise<Account> {
    const displayName = input.displayName.trim();
    if (displayName === '' || displayName.length > 128) throw new AccountError('Invalid', 'displayName must be 1 to 128 characters');
    if (input.email !== undefined && !EMAIL_RE.test(input.email)) throw new AccountError('Invalid', 'email is not valid');
    if (input.password !== undefined && input.password.length < 8) throw new AccountError('Invalid', 'password must be at least 8 characters');
    const account: Account = {
      id: input.id ?? randomUUID().replaceAll('-', ''),
      displayName,
      email: input.email?.toLowerCase(),
      status: 'active',
      isAdmin: input.isAdmin ?? false,
      createdAt: new Date(),
      passwordHash: input.password !== undefined ? await hashPassword(input.password) : undefined,
    };
    if ((await this.meta.createAccount(account)) === 'exists') throw new AccountError('Conflict', 'an account with that id or email exists');
    return account;
  }

  async requireAccount(id: string): Promise<Account> {
    const a = await this.meta.getAccount(id);
    if (!a) throw new AccountError('NotFound', `no account ${id}`);
    return a;
  }

  /** Requests per second for this account's keys; null returns it to the server default. */
  async setRateLimit(id: string, rateLimit: number | null): Promise<void> {
    if (!(await this.meta.updateAccount(id, { rateLimit }))) {
      throw new AccountError('NotFound', `no account ${id}`);
    }
    this.identity.invalidate();
  }

  /** Most buckets the account may own; null returns it to the server default (100). */
  async setMaxBuckets(id: string, maxBuckets: number | null): Promise<void> {
    if (!(await this.meta.updateAccount(id, { maxBuckets }))) throw new AccountError('NotFound', `no account ${id}`);
  }

  async setStatus(id: string, status: Account['status']): Promise<void> {
    if (!(await this.meta.updateAccount(id, { status }))) throw new AccountError('NotFound', `no account ${id}`);
    this.identity.invalidate();
  }

  /** A new key; the secret is returned this once and stored only sealed. */
  async createKey(accountId: string, given?: { accessKeyId: string; secretAccessKey: string }): Promise<{ key: AccessKey; secretAccessKey: string }> {
    const accessKeyId = given?.accessKeyId ?? newAccessKeyId();
    const secretAccessKey = given?.secretAccessKey ?? newSecret();
    const key: AccessKey = { accessKeyId, accountId, sealedSecret: this.box.seal(accessKeyId, secretAccessKey), status: 'Active', createdAt: new Date() };
    const result = await this.meta.createAccessKey(key);
    if (result === 'missing') throw new AccountError('NotFound', `no account ${accountId}`);
    if (result === 'limit') throw new AccountError('LimitExceeded', `an account holds at most ${MAX_KEYS_PER_ACCOUNT} access keys`);
    if (result === 'exists') throw new AccountError('Conflict', `access key ${accessKeyId} exists`);
    return { key, secretAccessKey };
  }

  async setKeyStatus(accessKeyId: string, status: AccessKey['status']): Promise<void> {
    if (!(await this.meta.updateAccessKey(accessKeyId, { status }))) throw new AccountError('NotFound', `no access key ${accessKeyId}`);
    this.identity.invalidate(accessKeyId);
  }

  async deleteKey(accessKeyId: string): Promise<void> {
    if (!(await this.meta.deleteAccessKey(accessKeyId))) throw new AccountError('NotFound', `no access key ${accessKeyId}`);
    this.identity.invalidate(accessKeyId);
  }

  /**
   * The root (administrator) account, made on first start. With OORT_ROOT_ACCESS_KEY/SECRET the
   * root holds exactly that key (re-sealed if the secret changed); otherwise a key is generated once
   * and returned so it can be printed.
   */
  async ensureRoot(env: { accessKey?: string; secretKey?: string }): Promise<{ account: Account; created?: { accessKeyId: string; secretAccessKey: string } }> {
    let root = (await this.meta.listAccounts()).find((a) => a.isAdmin && a.displayName === 'root');
    if (!root) root = await this.createAccount({ displayName: 'root', isAdmin: true });
    if (env.accessKey && env.secretKey) {
      const existing = await this.meta.getAccessKey(env.accessKey);
      if (!existing) await this.createKey(root.id, { accessKeyId: env.accessKey, secretAccessKey: env.secretKey });
      else {
        if (existing.accountId !== root.id) throw new Error(`OORT_ROOT_ACCESS_KEY ${env.accessKey} belongs to another account`);
        await this.meta.updateAccessKey(env.accessKey, { status: 'Active', sealedSecret: this.box.seal(env.accessKey, env.secretKey) });
      }
      return { account: root };
    }
    if ((await this.meta.listAccessKeys(root.id)).length > 0) return { account: root };
    const { key, secretAccessKey } = await this.createKey(root.id);
    return { account: root, created: { accessKeyId: key.accessKeyId, secretAccessKey } };
  }
}

/**
 * Re-seals every access-key secret under the ring's current master key (master key rotation).
 * Returns how many were re-sealed.
 */
export async function resealSecrets(meta: MetaStore, keys: KeyRing): Promise<number> {
  const box = new SecretBox(keys);
  let n = 0;
  for (const account of await meta.listAccounts()) {
    for (const key of await meta.listAccessKeys(account.id)) {
      if (SecretBox.keyIdOf(key.sealedSecret) === keys.current.id) continue;
      const secret = box.open(key.accessKeyId, key.sealedSecret);
      await meta.updateAccessKey(key.accessKeyId, { sealedSecret: box.seal(key.accessKeyId, secret) });
      n++;
    }
  }
  return n;
}
