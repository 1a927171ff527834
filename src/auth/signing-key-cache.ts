// Derived SigV4 signing keys, cached per (secret, date, region, service): four HMACs saved on
// every request. Bounded, least recently used entries are dropped first.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { hmacSha256 } from './crypto.ts';

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256('AWS4' + secret, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, 'aws4_request');
}

export class SigningKeyCache {
  readonly maxEntries: number;
  #keys = new Map<string, KeyObject>();

  constructor(maxEntries = 4096) {
    this.maxEntries = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.#keys.size;
  }

  /** The last key handed out: a server mostly sees one key's requests in a row. */
  #last = { secret: '', date: '', region: '', service: '', key: undefined as KeyObject | undefined };

  get(secret: string, date: string, region: string, service: string): KeyObject {
    const last = this.#last;
    if (last.key && last.secret === secret && last.date === date && last.region === region && last.service === service) return last.key;
    const key = this.#lookup(secret, date, region, service);
    this.#last = { secret, date, region, service, key };
    return key;
  }

  #lookup(secret: string, date: string, region: string, service: string): KeyObject {
    const id = `${date}\n${region}\n${service}\n${secret}`;
    const hit = this.#keys.get(id);
    if (hit) {
      // Refresh recency: Map iterates in insertion order, oldest first.
      this.#keys.delete(id);
      this.#keys.set(id, hit);
      return hit;
    }
    const key = createSecretKey(deriveSigningKey(secret, date, region, service));
    if (this.#keys.size >= this.maxEntries) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.set(id, key);
    return key;
  }
}

/** The process-wide cache the gateway uses. */
export const signingKeys = new SigningKeyCache();
