// Plaintext of recently read inline objects. Opening one (base64 decode, unwrapping its data key,
// an AES-GCM context) costs more than the rest of the engine's part of a 4 KiB GET, and a hot
// object is read again and again. An entry answers only for its whole locator, which holds the
// ciphertext and its wrapped key: a hit returns exactly what opening it would have, and an entry
// can never go stale, since any change to the object (overwrite, re-wrap under a new master key)
// gives a new locator.
// Plaintext held here never leaves the process, which holds the master key anyway.

/** Default budget: locator (the key) plus plaintext bytes, plus ENTRY_OVERHEAD per entry. */
export const INLINE_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * What an entry costs beyond its locator and plaintext bytes (map slot, entry object, key string,
 * Buffer and its backing store): about 330 bytes measured. Left uncounted, a cache of tiny objects
 * held four times its budget.
 */
export const ENTRY_OVERHEAD = 320;

/**
 * Entries are found by the locator's last characters, its GCM tag, and a hit is confirmed against
 * the whole locator. A cold read's locator is a fresh string of several kilobytes from the store,
 * and hashing all of it for the lookup cost more than a third of what the cache saves.
 */
const ID_CHARS = 24;

const cost = (e: { locator: string; plain: Buffer }) => e.locator.length + e.plain.length + ENTRY_OVERHEAD;

export class InlineCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, { locator: string; plain: Buffer }>();
  private readonly budget: number;
  private bytes = 0;

  constructor(budget = INLINE_CACHE_BYTES) {
    this.budget = budget;
  }

  /** The plaintext behind `locator`, opening it with `open` on a miss. Callers must not modify it. */
  get(locator: string, open: (locator: string) => Buffer): Buffer {
    const id = locator.length > ID_CHARS ? locator.slice(-ID_CHARS) : locator;
    const hit = this.entries.get(id);
    if (hit?.locator === locator) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.plain;
    }
    if (hit) this.drop(id, hit);
    const plain = open(locator);
    const size = locator.length + plain.length + ENTRY_OVERHEAD;
    if (size > this.budget) return plain;
    for (const [oldest, e] of this.entries) {
      if (this.bytes + size <= this.budget) break;
      this.drop(oldest, e);
    }
    this.entries.set(id, { locator, plain });
    this.bytes += size;
    return plain;
  }

  private drop(id: string, e: { locator: string; plain: Buffer }): void {
    this.entries.delete(id);
    this.bytes -= cost(e);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
