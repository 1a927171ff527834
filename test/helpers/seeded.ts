// Deterministic randomness for robustness tests: a small seeded PRNG and reproducible bodies.
import { createCipheriv, createHash } from 'node:crypto';

/** mulberry32: a tiny 32-bit PRNG; the same seed always gives the same sequence. */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** `size` pseudo-random bytes fixed by `seed` (AES-128-CTR keystream: fast and reproducible). */
export function seededBytes(seed: number, size: number): Buffer {
  const key = createHash('sha256').update(`body-seed:${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export const md5Hex = (b: Uint8Array | string): string => createHash('md5').update(b).digest('hex');
export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** The S3 ETag of a multipart object: MD5 of the parts' binary MD5s, then `-<count>`. */
export function multipartEtag(partMd5Hex: readonly string[]): string {
  const h = createHash('md5');
  for (const m of partMd5Hex) h.update(Buffer.from(m, 'hex'));
  return `${h.digest('hex')}-${partMd5Hex.length}`;
}
