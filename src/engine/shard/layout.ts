// Sizes and profiles of the shard engine (shared/design/engine.md, 8.1-8.3).
//
// object version -> segments (<= 64 MiB of plaintext) -> encryption chunks (65,520 B of plaintext +
// 16 B GCM tag = 64 KiB of ciphertext) -> stripes (k shard blocks of ciphertext, 256 KiB each; the
// last stripe shrunk) -> Reed-Solomon -> k+m shard blocks -> pieces (the blocks of one shard index
// of one segment, one file on one failure domain).

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const TAG_SIZE = 16;
/** Ciphertext of a full encryption chunk. */
export const CHUNK_CIPHER_SIZE = 64 * KiB;
/** Plaintext of a full encryption chunk. */
export const CHUNK_PLAIN_SIZE = CHUNK_CIPHER_SIZE - TAG_SIZE;
/** A segment holds at most this many chunks: 64 MiB of ciphertext, 67,092,480 B of plaintext. */
export const CHUNKS_PER_SEGMENT = 1024;
export const SEGMENT_PLAIN_SIZE = CHUNKS_PER_SEGMENT * CHUNK_PLAIN_SIZE;
/** Default shard block: four chunks, so a chunk never straddles two data shards of a full stripe. */
export const DEFAULT_BLOCK_SIZE = 256 * KiB;
/** The last stripe's block is rounded up to this. */
export const BLOCK_ALIGN = 64;

export interface Profile {
  k: number;
  m: number;
}

/**
 * The default k+m for D failure domains (directories) on one machine: 1 -> 1+0, 2 -> 1+1, 3 -> 2+1,
 * 4-7 -> (D-2)+2, 8-11 -> (D-3)+3, 12-15 -> (D-4)+4, 16+ -> 12+4 (a 16-wide set chosen per segment).
 */
export function profileFor(domains: number): Profile {
  if (!Number.isInteger(domains) || domains < 1) throw new RangeError('at least one data directory is needed');
  if (domains === 1) return { k: 1, m: 0 };
  if (domains === 2) return { k: 1, m: 1 };
  if (domains === 3) return { k: 2, m: 1 };
  if (domains <= 7) return { k: domains - 2, m: 2 };
  if (domains <= 11) return { k: domains - 3, m: 3 };
  if (domains <= 15) return { k: domains - 4, m: 4 };
  return { k: 12, m: 4 };
}

/**
 * The default k+m for N storage nodes (design/engine.md 8.2): 3 -> 2+1, 4 -> 2+2, 5 -> 3+2,
 * 6-13 -> 4+2, 14+ -> 10+4 (fewer than 3 as for directories).
 */
export function nodeProfileFor(nodes: number): Profile {
  if (nodes < 3) return profileFor(Math.max(1, nodes));
  if (nodes === 3) return { k: 2, m: 1 };
  if (nodes === 4) return { k: 2, m: 2 };
  if (nodes === 5) return { k: 3, m: 2 };
  if (nodes <= 13) return { k: 4, m: 2 };
  return { k: 10, m: 4 };
}

/**
 * ARCHIVE: a wider, cheaper code on the same directories: about half the parity of STANDARD
 * (never none where STANDARD has some), so less overhead and still a lost directory survived.
 */
export function archiveProfileFor(domains: number, standard: Profile = profileFor(domains)): Profile {
  if (standard.m <= 1) return standard;
  const m = Math.max(1, Math.floor(standard.m / 2));
  return { k: Math.min(domains, standard.k + standard.m) - m, m };
}

/** Pieces that must be durable before a write may succeed: min(k+m, k+2), never only k when m > 0. */
export function successThreshold(p: Profile): number {
  return Math.min(p.k + p.m, p.k + 2);
}

/** Healthy pieces at or below which a segment is repaired (m <= 2: any loss; m >= 3: k + ceil(m/2)). */
export function repairThreshold(p: Profile): number {
  return p.m <= 2 ? p.k + p.m - 1 : p.k + Math.ceil(p.m / 2);
}

/** Healthy pieces at or below which a repair is critical: jumps the queue and skips the throttle. */
export function criticalThreshold(p: Profile): number {
  return p.k + 1;
}

export function ciphertextSize(plainSize: number): number {
  if (plainSize === 0) return 0;
  return plainSize + Math.ceil(plainSize / CHUNK_PLAIN_SIZE) * TAG_SIZE;
}

export function chunkCount(plainSize: number): number {
  return Math.ceil(plainSize / CHUNK_PLAIN_SIZE);
}

/** How one segment's ciphertext is cut into stripes and pieces. */
export class SegmentLayout {
  readonly k: number;
  readonly m: number;
  readonly blockSize: number;
  readonly plainSize: number;
  readonly cipherSize: number;
  readonly fullStripes: number;
  /** Ciphertext bytes in the last, shrunk stripe (0 when every stripe is full). */
  readonly tailBytes: number;
  /** Block size of the last stripe (equal to blockSize when it is full). */
  readonly tailBlockSize: number;
  readonly stripeCount: number;

  constructor(k: number, m: number, blockSize: number, plainSize: number) {
    this.k = k;
    this.m = m;
    this.blockSize = blockSize;
    this.plainSize = plainSize;
    this.cipherSize = ciphertextSize(plainSize);
    const stripeBytes = k * blockSize;
    this.fullStripes = Math.floor(this.cipherSize / stripeBytes);
    this.tailBytes = this.cipherSize - this.fullStripes * stripeBytes;
    this.tailBlockSize = this.tailBytes === 0 ? blockSize : shrunkBlockSize(this.tailBytes, k);
    this.stripeCount = this.fullStripes + (this.tailBytes > 0 ? 1 : 0);
  }

  get stripeSize(): number {
    return this.k * this.blockSize;
  }

  /** Block size of stripe s. */
  blockOf(stripe: number): number {
    return stripe < this.fullStripes ? this.blockSize : this.tailBlockSize;
  }

  /** Ciphertext bytes held by stripe s. */
  stripeCipherBytes(stripe: number): number {
    return stripe < this.fullStripes ? this.stripeSize : this.tailBytes;
  }

  /** Offset of stripe s's blocks inside every piece's data area. */
  pieceOffsetOf(stripe: number): number {
    return stripe * this.blockSize;
  }

  /** Bytes of block data in every piece. */
  get pieceDataSize(): number {
    return this.fullStripes * this.blockSize + (this.tailBytes > 0 ? this.tailBlockSize : 0);
  }

  get chunkCount(): number {
    return chunkCount(this.plainSize);
  }

  /** Plaintext bytes of chunk c. */
  chunkPlainSize(c: number): number {
    return Math.min(CHUNK_PLAIN_SIZE, this.plainSize - c * CHUNK_PLAIN_SIZE);
  }

  /**
   * Where chunk c's ciphertext lies: its stripe and the (shard, offset-in-block, length) runs that
   * hold it (one run, except possibly in the shrunk last stripe).
   */
  locateChunk(c: number): { stripe: number; runs: Array<{ shard: number; offset: number; length: number }> } {
    const start = c * CHUNK_CIPHER_SIZE;
    const length = this.chunkPlainSize(c) + TAG_SIZE;
    const stripe = Math.floor(start / this.stripeSize);
    const block = this.blockOf(stripe);
    let within = start - stripe * this.stripeSize;
    let left = length;
    const runs: Array<{ shard: number; offset: number; length: number }> = [];
    while (left > 0) {
      const shard = Math.floor(within / block);
      const offset = within - shard * block;
      const n = Math.min(left, block - offset);
      runs.push({ shard, offset, length: n });
      within += n;
      left -= n;
    }
    return { stripe, runs };
  }
}

/** The last stripe's block: ceil(bytes / k) rounded up to BLOCK_ALIGN. */
export function shrunkBlockSize(bytes: number, k: number): number {
  return Math.ceil(Math.ceil(bytes / k) / BLOCK_ALIGN) * BLOCK_ALIGN;
}
