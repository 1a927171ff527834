// Plaintext of recently read inline objects. Opening one (base64 decode, a data-key lookup, an
// AES-GCM context) costs more than the rest of the engine's part of a 4 KiB GET, and a hot object
// is read again and again. The cache key is the whole locator, which holds the ciphertext and its
// wrapped key: a hit returns exactly what opening it would have, and an entry can never go stale,
// since any change to the object (overwrite, re-wrap under a new master key) gives a new locator.
// Plaintext held here never leaves the process, which holds the master key anyway.

/** Default budget: locator (the key) plus plaintext bytes. */
export const INLINE_CACHE_BYTES = 32 * 1024 * 1024;

export class InlineCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Buffer>();
  private readonly budget: number;
  private bytes = 0;

  constructor(budget = INLINE_CACHE_BYTES) {
    this.budget = budget;
  }

  /** The plaintext behind `locator`, opening it with `open` on a miss. Callers must not modify it. */
  get(locator: string, open: (locator: string) => Buffer): Buffer {
    const hit = this.entries.get(locator);
    if (hit) {
      this.entries.delete(locator);
      this.entries.set(locator, hit);
      return hit;
    }
    const plain = open(locator);
    const size = locator.length + plain.length;
    if (size > this.budget) return plain;
    for (const [oldest, b] of this.entries) {
      if (this.bytes + size <= this.budget) break;
      this.entries.delete(oldest);
      this.bytes -= oldest.length + b.length;
    }
    this.entries.set(locator, plain);
    this.bytes += size;
    return plain;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
