import type { Credentials } from '../auth/index.ts';
import type { Principal } from '../s3/index.ts';
import type { MetaStore } from '../meta/index.ts';
import type { SecretBox } from './secret-box.ts';

interface Entry {
  credentials: Credentials;
  principal: Principal;
  /** Requests per second for this key's account, when overridden. */
  rateLimit: number | undefined;
  expires: number;
}

/** How long a looked-up key is trusted before the store is asked again (other gateways' changes). */
const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
/** last-used times are written at most this often per key. */
const LAST_USED_EVERY_MS = 60_000;

/**
 * Who an access key belongs to. Looks keys up in the MetaStore (secrets unsealed with the master
 * key) and caches them briefly; changes made through this process (disable, delete, suspend)
 * invalidate the cache at once.
 */
export class Identity {
  private readonly meta: MetaStore;
  private readonly box: SecretBox;
  private readonly cache = new Map<string, Entry>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(meta: MetaStore, box: SecretBox) {
    this.meta = meta;
    this.box = box;
  }

  private async entry(accessKeyId: string): Promise<Entry | undefined> {
    const now = Date.now();
    const hit = this.cache.get(accessKeyId);
    if (hit && hit.expires > now) return hit;
    const key = await this.meta.getAccessKey(accessKeyId);
    if (!key || key.status !== 'Active') return this.forget(accessKeyId);
    const account = await this.meta.getAccount(key.accountId);
    if (!account || account.status !== 'active') return this.forget(accessKeyId);
    const entry: Entry = {
      credentials: { accessKeyId, secretAccessKey: this.box.open(accessKeyId, key.sealedSecret) },
      principal: { accountId: account.id, displayName: account.displayName, accessKeyId, isAdmin: account.isAdmin },
      rateLimit: account.rateLimit,
      expires: now + CACHE_MS,
    };
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(accessKeyId, entry);
    return entry;
  }

  private forget(accessKeyId: string): undefined {
    this.cache.delete(accessKeyId);
    return undefined;
  }

  /** For auth: the secret of an active key of an active account. */
  readonly lookup = async (accessKeyId: string): Promise<Credentials | undefined> => (await this.entry(accessKeyId))?.credentials;

  /** The account behind a verified key; records its last use (at most once a minute). */
  async principal(accessKeyId: string): Promise<{ principal: Principal; rateLimit: number | undefined } | undefined> {
    const e = await this.entry(accessKeyId);
    if (!e) return undefined;
    const now = Date.now();
    if ((this.lastUsedWritten.get(accessKeyId) ?? 0) + LAST_USED_EVERY_MS < now) {
      this.lastUsedWritten.set(accessKeyId, now);
      if (this.lastUsedWritten.size > CACHE_MAX) this.lastUsedWritten.delete(this.lastUsedWritten.keys().next().value!);
      this.meta.updateAccessKey(accessKeyId, { lastUsed: new Date(now) }).catch(() => {});
    }
    return { principal: e.principal, rateLimit: e.rateLimit };
  }

  /** An active key's principal and secret, for requests that carry their own signature (form uploads). */
  async credentialsOf(accessKeyId: string): Promise<{ principal: Principal; secretAccessKey: string } | undefined> {
    const e = await this.entry(accessKeyId);
    return e && { principal: e.principal, secretAccessKey: e.credentials.secretAccessKey };
  }

  /** Drops cached keys (all of them, or one) after a change. */
  invalidate(accessKeyId?: string): void {
    if (accessKeyId === undefined) this.cache.clear();
    else this.cache.delete(accessKeyId);
  }
}
