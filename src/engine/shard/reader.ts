// The read path: locator -> plaintext bytes [start, end].
//
// Healthy: only the data shards' chunks that the range needs are read (one positional read per
// run of chunks in one piece) and authenticated by their GCM tags; nothing is decoded.
// Degraded: when a data piece is missing, unreadable, or a chunk fails authentication, the stripe
// is rebuilt from k blocks that match their pieces' trailer hashes (and those trailers match the
// Merkle roots in the database); the client still gets the right bytes and the segment is queued
// for repair. With fewer than k good blocks the read fails: corrupt data is never returned.

import { Readable } from 'node:stream';
import { hash } from 'node:crypto';
import { codecFor, type EngineContext } from './context.ts';
import { StreamCipher, unwrapKey } from './crypto.ts';
import type { PieceHandle } from './domain.ts';
import { CHUNK_CIPHER_SIZE, CHUNK_PLAIN_SIZE, SegmentLayout } from './layout.ts';
import { decodeTrailer, HEADER_SIZE, merkleRoot, pieceName, trailerOffset, trailerSize } from './piece-file.ts';
import type { SegmentRecord, StreamRecord } from './segment-store.ts';

/** Ciphertext requested ahead of the consumer. */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

export class DataUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DataUnavailableError';
  }
}

export function readStream(ctx: EngineContext, streamId: string, range?: { start: number; end: number }): Readable {
  return Readable.from(streamBytes(ctx, streamId, range), { objectMode: false, highWaterMark: 1024 * 1024 });
}

async function* streamBytes(ctx: EngineContext, streamId: string, range?: { start: number; end: number }): AsyncGenerator<Buffer> {
  const stream = await ctx.segments.getStream(streamId);
  if (!stream) throw new DataUnavailableError(`stream ${streamId} does not exist`);
  if (stream.size === 0) return;
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? stream.size - 1, stream.size - 1);
  if (end < start) return;
  const segments = await ctx.segments.getSegments(streamId);
  const cipher = new StreamCipher(unwrapKey(ctx.keys.get(stream.kekId), streamId, stream.wrappedKey), streamId);
  for (const seg of segments) {
    const segEnd = seg.plainOffset + seg.plainSize - 1;
    if (segEnd < start || seg.plainSize === 0) continue;
    if (seg.plainOffset > end) break;
    const reader = new SegmentReader(ctx, stream, seg, cipher);
    try {
      yield* reader.read(Math.max(start, seg.plainOffset) - seg.plainOffset, Math.min(end, segEnd) - seg.plainOffset);
    } finally {
      await reader.close();
    }
  }
}

interface Unit {
  stripe: number;
  firstChunk: number;
  lastChunk: number;
  /** Plaintext bytes to cut from the first chunk's start and keep in total. */
  skip: number;
  take: number;
}

/** Reads one segment's plaintext range, stripe by stripe, with read-ahead. */
export class SegmentReader {
  private readonly ctx: EngineContext;
  private readonly stream: StreamRecord;
  private readonly seg: SegmentRecord;
  private readonly layout: SegmentLayout;
  private readonly cipher: StreamCipher;
  private readonly handles = new Map<number, Promise<PieceHandle | undefined>>();
  private readonly trailers = new Map<number, Promise<Buffer[] | undefined>>();
  /** Pieces known bad for this read (missing, unreadable, or a failed block). */
  private readonly bad = new Set<number>();
  private repairQueued = false;

  constructor(ctx: EngineContext, stream: StreamRecord, seg: SegmentRecord, cipher: StreamCipher) {
    this.ctx = ctx;
    this.stream = stream;
    this.seg = seg;
    this.layout = new SegmentLayout(seg.k, seg.m, seg.blockSize, seg.plainSize);
    this.cipher = cipher;
    for (const p of seg.pieces) if (p.state !== 'ok' || !ctx.domains.usable(p.domainId)) this.bad.add(p.piece);
  }

  async *read(start: number, end: number): AsyncGenerator<Buffer> {
    const units = this.plan(start, end);
    const inflight: Array<Promise<Buffer[]>> = [];
    let next = 0;
    // Keep about READ_AHEAD_BYTES of ciphertext requested ahead (at least two stripes).
    const depth = Math.max(2, Math.ceil(READ_AHEAD_BYTES / this.layout.stripeSize));
    const fill = () => {
      while (inflight.length < depth && next < units.length) {
        const p = this.readUnit(units[next++]!);
        p.catch(() => {}); // awaited below; keeps an early failure from being unhandled
        inflight.push(p);
      }
    };
    fill();
    while (inflight.length > 0) {
      const data = await inflight.shift()!;
      fill();
      for (const b of data) if (b.length > 0) yield b;
    }
  }

  /** Splits [start, end] into per-stripe units of whole chunks. */
  private plan(start: number, end: number): Unit[] {
    const units: Unit[] = [];
    const first = Math.floor(start / CHUNK_PLAIN_SIZE);
    const last = Math.floor(end / CHUNK_PLAIN_SIZE);
    const chunksPerStripe = this.layout.stripeSize / CHUNK_CIPHER_SIZE;
    let c = first;
    while (c <= last) {
      const stripe = Math.floor(c / chunksPerStripe);
      const stripeLast = Math.min(last, (stripe + 1) * chunksPerStripe - 1);
      const unitStart = Math.max(start, c * CHUNK_PLAIN_SIZE);
      const unitEnd = Math.min(end, (stripeLast + 1) * CHUNK_PLAIN_SIZE - 1);
      units.push({ stripe, firstChunk: c, lastChunk: stripeLast, skip: unitStart - c * CHUNK_PLAIN_SIZE, take: unitEnd - unitStart + 1 });
      c = stripeLast + 1;
    }
    return units;
  }

  /** The unit's plaintext, one buffer per chunk, cut to the requested bytes. */
  private async readUnit(u: Unit): Promise<Buffer[]> {
    let plain: Buffer[] | undefined;
    if (!this.needsDecode(u)) plain = await this.readHealthy(u).catch(() => undefined);
    if (!plain) plain = await this.readDegraded(u);
    let skip = u.skip;
    let left = u.take;
    const out: Buffer[] = [];
    for (const b of plain) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      const piece = b.subarray(skip, skip + left);
      skip = 0;
      left -= piece.length;
      out.push(piece);
      if (left === 0) break;
    }
    return out;
  }

  /** True when a data shard the unit needs is already known bad. */
  private needsDecode(u: Unit): boolean {
    for (let c = u.firstChunk; c <= u.lastChunk; c++) {
      for (const run of this.layout.locateChunk(c).runs) if (this.bad.has(run.shard)) return true;
    }
    return false;
  }

  private handle(piece: number): Promise<PieceHandle | undefined> {
    let h = this.handles.get(piece);
    if (!h) {
      const rec = this.seg.pieces.find((p) => p.piece === piece);
      const domain = rec && rec.state === 'ok' ? this.ctx.domains.usable(rec.domainId) : undefined;
      h = domain
        ? domain.open(pieceName(this.seg.streamId, this.seg.segment, piece)).catch(() => {
            this.markBad(piece);
            return undefined;
          })
        : Promise.resolve(undefined);
      this.handles.set(piece, h);
    }
    return h;
  }

  private markBad(piece: number): void {
    this.bad.add(piece);
    if (!this.repairQueued) {
      this.repairQueued = true;
      const healthy = this.seg.k + this.seg.m - this.bad.size;
      this.ctx.queueRepair([{ streamId: this.seg.streamId, segment: this.seg.segment, priority: healthy - this.seg.k, reason: 'read' }]);
    }
  }

  /** Reads the unit's chunks from the data shards and authenticates them; undefined on any failure. */
  private async readHealthy(u: Unit): Promise<Buffer[] | undefined> {
    // Runs of ciphertext per shard, merged where contiguous.
    const reads: Array<{ shard: number; offset: number; length: number }> = [];
    for (let c = u.firstChunk; c <= u.lastChunk; c++) {
      for (const run of this.layout.locateChunk(c).runs) {
        const prev = reads[reads.length - 1];
        if (prev && prev.shard === run.shard && prev.offset + prev.length === run.offset) prev.length += run.length;
        else reads.push({ ...run });
      }
    }
    const parts = await Promise.all(
      reads.map(async (r) => {
        const h = await this.handle(r.shard);
        if (!h) return undefined;
        try {
          return await h.read(HEADER_SIZE + this.layout.pieceOffsetOf(u.stripe) + r.offset, r.length);
        } catch {
          this.markBad(r.shard);
          return undefined;
        }
      }),
    );
    if (parts.some((p) => !p)) return undefined;
    const cipherText = parts as Buffer[];
    // A chunk that fails authentication sends the unit to the degraded path, whose block hashes
    // tell which shard is bad (a chunk of the shrunk last stripe may span several shards).
    return this.decryptChunks(u, cipherText, () => {});
  }

  /** Decrypts consecutive chunks laid out back to back; undefined if any fails (reported via onBad). */
  private decryptChunks(u: Unit, cipherText: Buffer[], onBad: (chunk: number) => void): Buffer[] | undefined {
    const out: Buffer[] = [];
    const bytes = new ByteCursor(cipherText);
    const lastChunk = this.layout.chunkCount - 1;
    for (let c = u.firstChunk; c <= u.lastChunk; c++) {
      const len = this.layout.chunkPlainSize(c) + 16;
      try {
        out.push(
          this.cipher.decrypt(bytes.take(len), {
            segment: this.seg.segment,
            chunk: c,
            last: c === lastChunk,
            segmentPlainSize: this.seg.plainSize,
          }),
        );
      } catch {
        onBad(c);
        return undefined;
      }
    }
    return out;
  }

  /** The block hashes of a piece, if its trailer is intact and matches the database's root. */
  private trailer(piece: number): Promise<Buffer[] | undefined> {
    let t = this.trailers.get(piece);
    if (!t) {
      t = (async () => {
        const h = await this.handle(piece);
        if (!h) return undefined;
        const rec = this.seg.pieces.find((p) => p.piece === piece)!;
        try {
          const raw = await h.read(trailerOffset(this.layout.pieceDataSize), trailerSize(this.layout.stripeCount));
          const hashes = decodeTrailer(raw, this.layout.stripeCount);
          if (!merkleRoot(hashes).equals(rec.merkleRoot)) throw new Error('trailer does not match the recorded root');
          return hashes;
        } catch {
          this.markBad(piece);
          return undefined;
        }
      })();
      this.trailers.set(piece, t);
    }
    return t;
  }

  /** One verified block of a piece, or undefined (and the piece marked bad). */
  private async verifiedBlock(piece: number, stripe: number): Promise<Buffer | undefined> {
    if (this.bad.has(piece)) return undefined;
    const hashes = await this.trailer(piece);
    const h = await this.handle(piece);
    if (!hashes || !h) return undefined;
    try {
      const block = await h.read(HEADER_SIZE + this.layout.pieceOffsetOf(stripe), this.layout.blockOf(stripe));
      if (!hash('sha256', block, 'buffer').equals(hashes[stripe]!)) throw new Error('block hash mismatch');
      return block;
    } catch {
      this.markBad(piece);
      return undefined;
    }
  }

  /**
   * Rebuilds the unit's stripe and decrypts it. First optimistically from k blocks read without
   * hashing (data shards first): GCM authenticates every chunk returned, including rebuilt ones, so
   * a bad source cannot slip through. If that fails, again from k blocks each checked against its
   * piece's trailer hash, which also tells which pieces are bad.
   */
  private async readDegraded(u: Unit): Promise<Buffer[]> {
    const { k, m } = this.seg;
    const fast = await this.collect((i) => this.rawBlock(i, u.stripe));
    if (fast) {
      const plain = this.decodeAndDecrypt(u, fast);
      if (plain) return plain;
    }
    const shards = await this.collect((i) => this.verifiedBlock(i, u.stripe));
    if (!shards) {
      const have = k + m - this.bad.size;
      throw new DataUnavailableError(
        `segment ${this.seg.segment} of stream ${this.seg.streamId}: only ${Math.max(0, have)} of ${k} shards of stripe ${u.stripe} are intact`,
      );
    }
    const plain = this.decodeAndDecrypt(u, shards);
    if (!plain) throw new DataUnavailableError(`segment ${this.seg.segment} of stream ${this.seg.streamId}: stripe ${u.stripe} fails authentication`);
    return plain;
  }

  /** k blocks of a stripe from pieces not known bad, asking k candidates at a time in index order (data first). */
  private async collect(get: (piece: number) => Promise<Buffer | undefined>): Promise<Array<Buffer | undefined> | undefined> {
    const { k, m } = this.seg;
    const shards: Array<Buffer | undefined> = new Array(k + m).fill(undefined);
    let have = 0;
    for (let next = 0; have < k && next < k + m; ) {
      const batch: number[] = [];
      while (batch.length < k - have && next < k + m) {
        if (!this.bad.has(next)) batch.push(next);
        next++;
      }
      if (batch.length === 0) break;
      const blocks = await Promise.all(batch.map(get));
      blocks.forEach((b, j) => {
        if (b) {
          shards[batch[j]!] = b;
          have++;
        }
      });
    }
    return have < k ? undefined : shards;
  }

  /** One block of a piece, unchecked, or undefined (and the piece marked bad) if it cannot be read. */
  private async rawBlock(piece: number, stripe: number): Promise<Buffer | undefined> {
    if (this.bad.has(piece)) return undefined;
    const h = await this.handle(piece);
    if (!h) return undefined;
    try {
      return await h.read(HEADER_SIZE + this.layout.pieceOffsetOf(stripe), this.layout.blockOf(stripe));
    } catch {
      this.markBad(piece);
      return undefined;
    }
  }

  /** Rebuilds the missing data shards of a stripe and decrypts the unit's chunks; undefined if they do not authenticate. */
  private decodeAndDecrypt(u: Unit, shards: Array<Buffer | undefined>): Buffer[] | undefined {
    const { k, m } = this.seg;
    const block = this.layout.blockOf(u.stripe);
    const missing: number[] = [];
    for (let j = 0; j < k; j++) if (!shards[j]) missing.push(j);
    const data = shards.slice(0, k);
    if (missing.length > 0) {
      const outs = missing.map(() => Buffer.allocUnsafe(block));
      codecFor(k, m).reconstruct(shards, missing, outs, block);
      missing.forEach((j, i) => (data[j] = outs[i]));
    }
    const from = u.firstChunk * CHUNK_CIPHER_SIZE - u.stripe * this.layout.stripeSize;
    const stripeData = new ByteCursor(data as Buffer[]);
    stripeData.take(from);
    return this.decryptChunks(u, stripeData.rest(), () => {});
  }

  async close(): Promise<void> {
    const handles = await Promise.all(this.handles.values());
    await Promise.all(handles.map((h) => h?.close().catch(() => {})));
    this.handles.clear();
  }
}

/** Takes consecutive byte ranges out of a list of buffers, copying only where a range spans two. */
class ByteCursor {
  private readonly parts: Buffer[];
  private index = 0;
  private offset = 0;

  constructor(parts: Buffer[]) {
    this.parts = parts;
  }

  take(n: number): Buffer {
    const first = this.parts[this.index];
    if (first && this.offset + n <= first.length) {
      const b = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) {
        this.index++;
        this.offset = 0;
      }
      return b;
    }
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const part = this.parts[this.index];
      if (!part) throw new Error('ciphertext shorter than expected');
      const m = Math.min(n - done, part.length - this.offset);
      part.copy(out, done, this.offset, this.offset + m);
      done += m;
      this.offset += m;
      if (this.offset === part.length) {
        this.index++;
        this.offset = 0;
      }
    }
    return out;
  }

  /** What is left, as buffers. */
  rest(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = this.index; i < this.parts.length; i++) out.push(i === this.index ? this.parts[i]!.subarray(this.offset) : this.parts[i]!);
    return out;
  }
}
