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
/** Full stripes read together on the healthy path (at most this many, and this many bytes). */
const GROUP_STRIPES = 4;
const GROUP_BYTES = 4 * 1024 * 1024;

export class DataUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DataUnavailableError';
  }
}

export function readStream(ctx: EngineContext, streamId: string, range?: { start: number; end: number }): Readable {
  // Object mode: each read() hands out one decrypted chunk as it is; in byte mode the async
  // iterator's read() concatenated everything buffered (up to 1 MiB) into a new Buffer each time.
  return Readable.from(streamBytes(ctx, streamId, range), { objectMode: true, highWaterMark: 16 });
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
  const buffers = new BufferPool();
  for (const seg of segments) {
    const segEnd = seg.plainOffset + seg.plainSize - 1;
    if (segEnd < start || seg.plainSize === 0) continue;
    if (seg.plainOffset > end) break;
    const reader = new SegmentReader(ctx, stream, seg, cipher, buffers);
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
  /** Pieces that did not answer within the hedging deadline: later stripes avoid them. */
  private readonly slow = new Set<number>();
  private repairQueued = false;
  /**
   * Whether pieces on domains the cluster holds suspect or offline (not lost) may be asked: only
   * once the others cannot rebuild a stripe. A node that was hung, or missed heartbeats, may well
   * answer again; asking it beats failing the read.
   */
  private lastResort = false;
  /** Pieces recorded ok on such domains: left out (as bad) until `lastResort`. */
  private readonly standby = new Set<number>();
  /** Ciphertext read buffers, lent per healthy read and given back once decrypted. */
  private readonly buffers: BufferPool;

  constructor(ctx: EngineContext, stream: StreamRecord, seg: SegmentRecord, cipher: StreamCipher, buffers = new BufferPool()) {
    this.ctx = ctx;
    this.buffers = buffers;
    this.stream = stream;
    this.seg = seg;
    this.layout = new SegmentLayout(seg.k, seg.m, seg.blockSize, seg.plainSize);
    this.cipher = cipher;
    for (const p of seg.pieces) {
      if (p.state !== 'ok' || !ctx.domains.usable(p.domainId)) this.bad.add(p.piece);
      if (p.state === 'ok' && !ctx.domains.usable(p.domainId) && ctx.domains.notLost(p.domainId)) this.standby.add(p.piece);
    }
  }

  async *read(start: number, end: number): AsyncGenerator<Buffer> {
    const groups = this.group(this.plan(start, end));
    const inflight: Array<Promise<Buffer[]>> = [];
    let next = 0;
    // Keep about READ_AHEAD_BYTES of ciphertext requested ahead (at least two groups of stripes).
    const perGroup = this.layout.stripeSize * Math.max(1, ...groups.map((g) => g.length));
    const depth = Math.max(2, Math.ceil(READ_AHEAD_BYTES / perGroup));
    const fill = () => {
      while (inflight.length < depth && next < groups.length) {
        const p = this.readGroup(groups[next++]!);
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

  /**
   * Consecutive full stripes in groups of up to GROUP_BYTES of ciphertext: a healthy read of a
   * group asks each data piece once (its blocks of consecutive stripes are contiguous), which
   * cuts the requests per byte by the group size (what a storage node's round trip costs).
   */
  private group(units: Unit[]): Unit[][] {
    const most = Math.max(1, Math.min(GROUP_STRIPES, Math.floor(GROUP_BYTES / this.layout.stripeSize)));
    const groups: Unit[][] = [];
    for (const u of units) {
      const g = groups[groups.length - 1];
      const prev = g?.[g.length - 1];
      if (g && prev && g.length < most && u.stripe === prev.stripe + 1 && u.stripe < this.layout.fullStripes) g.push(u);
      else groups.push([u]);
    }
    return groups;
  }

  /** A group's plaintext: one merged healthy read (hedged), else stripe by stripe. */
  private async readGroup(g: Unit[]): Promise<Buffer[]> {
    if (g.length > 1 && !g.some((u) => this.needsDecode(u))) {
      const pending = new Set<number>();
      const healthy = this.readGroupHealthy(g, pending).catch(() => undefined);
      if (this.seg.m === 0) return (await healthy) ?? this.readUnits(g); // nothing to hedge with
      const first = await raceDeadline(healthy, this.deadlineFor(g.flatMap((u) => [...this.shardsOf(u)])));
      if (first !== LATE && first) return first;
      if (first === LATE) {
        for (const shard of pending) this.slow.add(shard);
        const plain = await firstDefined([healthy, this.readUnits(g).catch(() => undefined)]);
        if (plain) return plain;
      }
    }
    return this.readUnits(g);
  }

  private async readUnits(g: Unit[]): Promise<Buffer[]> {
    return (await Promise.all(g.map((u) => this.readUnit(u)))).flat();
  }

  /** One request per data piece for the whole group; undefined on any failure (then stripe by stripe). */
  private async readGroupHealthy(g: Unit[], pending: Set<number>): Promise<Buffer[] | undefined> {
    const runs: Array<{ shard: number; at: number; length: number }> = [];
    const spans = new Map<number, { start: number; end: number; bytes: number }>();
    for (let c = g[0]!.firstChunk; c <= g[g.length - 1]!.lastChunk; c++) {
      const { stripe, runs: rs } = this.layout.locateChunk(c);
      for (const r of rs) {
        const at = this.layout.pieceOffsetOf(stripe) + r.offset;
        runs.push({ shard: r.shard, at, length: r.length });
        const span = spans.get(r.shard);
        if (!span) spans.set(r.shard, { start: at, end: at + r.length, bytes: r.length });
        else {
          span.start = Math.min(span.start, at);
          span.end = Math.max(span.end, at + r.length);
          span.bytes += r.length;
        }
      }
    }
    for (const span of spans.values()) if (span.end - span.start !== span.bytes) return undefined; // not contiguous
    const fetched = new Map<number, Buffer>();
    const lent: Buffer[] = [];
    try {
      const ok = await Promise.all(
        [...spans].map(async ([shard, span]) => {
          const h = await this.handle(shard);
          if (!h) return false;
          pending.add(shard);
          const into = this.buffers.take(span.end - span.start);
          lent.push(into);
          try {
            fetched.set(shard, await this.timed(shard, readPiece(h, HEADER_SIZE + span.start, into.subarray(0, span.end - span.start))));
            return true;
          } catch {
            this.markBad(shard);
            return false;
          } finally {
            pending.delete(shard);
          }
        }),
      );
      if (ok.includes(false)) return undefined;
      const cipherText = runs.map((r) => {
        const b = fetched.get(r.shard)!;
        const from = r.at - spans.get(r.shard)!.start;
        return b.subarray(from, from + r.length);
      });
      const all: Unit = { stripe: g[0]!.stripe, firstChunk: g[0]!.firstChunk, lastChunk: g[g.length - 1]!.lastChunk, skip: 0, take: 0 };
      const plain = this.decryptChunks(all, cipherText, () => {});
      if (!plain) return undefined;
      const out: Buffer[] = [];
      let at = 0;
      for (const u of g) {
        const count = u.lastChunk - u.firstChunk + 1;
        out.push(...cut(u, plain.slice(at, at + count)));
        at += count;
      }
      return out;
    } finally {
      // Every read has settled (Promise.all above) and the plaintext is in new buffers.
      for (const b of lent) this.buffers.give(b);
    }
  }

  /** The unit's plaintext, one buffer per chunk, cut to the requested bytes. */
  private async readUnit(u: Unit): Promise<Buffer[]> {
    let plain: Buffer[] | undefined;
    if (!this.needsDecode(u)) plain = await this.readHedged(u);
    if (!plain) plain = await this.readDegraded(u);
    return cut(u, plain);
  }

  /**
   * The healthy read, hedged: if a data shard has not answered within max(hedgeMinMs, its domain's
   * p95), the stripe is also rebuilt from other pieces (parity), avoiding the slow ones, and
   * whichever yields authenticated plaintext first wins. Slow pieces are avoided for the rest of
   * this read.
   */
  private async readHedged(u: Unit): Promise<Buffer[] | undefined> {
    const pending = new Set<number>();
    const healthy = this.readHealthy(u, pending).catch(() => undefined);
    if (this.seg.m === 0) return healthy;
    const first = await raceDeadline(healthy, this.deadlineFor(this.shardsOf(u)));
    if (first !== LATE) return first;
    for (const shard of pending) this.slow.add(shard);
    const hedge = this.readDegraded(u, pending).catch(() => undefined);
    return firstDefined([healthy, hedge]);
  }

  private shardsOf(u: Unit): Set<number> {
    const shards = new Set<number>();
    for (let c = u.firstChunk; c <= u.lastChunk; c++) for (const run of this.layout.locateChunk(c).runs) shards.add(run.shard);
    return shards;
  }

  /** True when a data shard the unit needs is already known bad (or slow, for this read). */
  private needsDecode(u: Unit): boolean {
    for (const shard of this.shardsOf(u)) if (this.bad.has(shard) || this.slow.has(shard)) return true;
    return false;
  }

  private handle(piece: number): Promise<PieceHandle | undefined> {
    let h = this.handles.get(piece);
    if (!h) {
      const rec = this.seg.pieces.find((p) => p.piece === piece);
      const domain =
        rec && rec.state === 'ok'
          ? (this.ctx.domains.usable(rec.domainId) ?? (this.lastResort ? this.ctx.domains.notLost(rec.domainId) : undefined))
          : undefined;
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
  private async readHealthy(u: Unit, pending = new Set<number>()): Promise<Buffer[] | undefined> {
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
        pending.add(r.shard);
        try {
          return await this.timed(r.shard, h.read(HEADER_SIZE + this.layout.pieceOffsetOf(u.stripe) + r.offset, r.length));
        } catch {
          this.markBad(r.shard);
          return undefined;
        } finally {
          pending.delete(r.shard);
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
  private async readDegraded(u: Unit, avoid: ReadonlySet<number> = this.slow): Promise<Buffer[]> {
    const { k, m } = this.seg;
    // Pool buffers whose reads have settled, and rebuilt blocks; given back once the stripe is
    // decrypted (the plaintext is in new buffers). A hedged read that settles later keeps its buffer.
    const settled: Buffer[] = [];
    try {
      const fast = await this.collect((i) => this.rawBlock(i, u.stripe, settled), avoid);
      if (fast) {
        const plain = this.decodeAndDecrypt(u, fast, settled);
        if (plain) return plain;
      }
      const resortBefore = this.lastResort;
      let shards = await this.collect((i) => this.verifiedBlock(i, u.stripe), avoid);
      // Once more with the pieces of suspect or offline domains, if this stripe has not had them.
      if (!shards && (this.admitLastResort() || (!resortBefore && this.lastResort))) shards = await this.collect((i) => this.verifiedBlock(i, u.stripe), avoid);
      if (!shards) {
        const have = k + m - this.bad.size;
        throw new DataUnavailableError(
          `segment ${this.seg.segment} of stream ${this.seg.streamId}: only ${Math.max(0, have)} of ${k} shards of stripe ${u.stripe} are intact`,
        );
      }
      const plain = this.decodeAndDecrypt(u, shards, settled);
      if (!plain) throw new DataUnavailableError(`segment ${this.seg.segment} of stream ${this.seg.streamId}: stripe ${u.stripe} fails authentication`);
      return plain;
    } finally {
      for (const b of settled.splice(0)) this.buffers.give(b);
    }
  }

  /** Lets the pieces on suspect or offline domains be asked (once per read); false if it adds none. */
  private admitLastResort(): boolean {
    if (this.lastResort || this.standby.size === 0) return false;
    this.lastResort = true;
    for (const piece of this.standby) this.bad.delete(piece);
    return true;
  }

  /**
   * k blocks of a stripe from pieces not known bad: k are asked at once in index order (data
   * first, pieces in `avoid` last); each failure asks the next candidate, and so does every
   * hedging deadline that passes without k answers, so a hung piece never holds the stripe up.
   */
  private collect(get: (piece: number) => Promise<Buffer | undefined>, avoid: ReadonlySet<number>): Promise<Array<Buffer | undefined> | undefined> {
    const { k, m } = this.seg;
    const order = [...Array(k + m).keys()].filter((i) => !this.bad.has(i)).sort((a, b) => Number(avoid.has(a)) - Number(avoid.has(b)) || a - b);
    const deadline = this.deadlineFor(this.seg.pieces.map((p) => p.piece));
    return new Promise((resolve) => {
      const shards: Array<Buffer | undefined> = new Array(k + m).fill(undefined);
      let have = 0;
      let inflight = 0;
      let next = 0;
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(have >= k ? shards : undefined);
      };
      const launch = (): void => {
        while (next < order.length && this.bad.has(order[next]!)) next++;
        if (next >= order.length) {
          if (inflight === 0) finish();
          return;
        }
        const i = order[next++]!;
        inflight++;
        void get(i).then(
          (b) => {
            inflight--;
            if (done) return;
            if (b) {
              shards[i] = b;
              if (++have >= k) return finish();
            } else launch();
            if (inflight === 0 && next >= order.length) finish();
          },
          () => {
            inflight--;
            if (!done) launch();
          },
        );
      };
      for (let j = 0; j < k; j++) launch();
      const hedge = () => {
        if (done) return;
        launch();
        timer = setTimeout(hedge, deadline);
      };
      if (!done) timer = setTimeout(hedge, deadline);
    });
  }

  /** The hedging deadline for reads of these pieces: max(hedgeMinMs, the p95 of their slowest domain). */
  private deadlineFor(pieces: Iterable<number>): number {
    let d = this.ctx.hedgeMinMs;
    for (const piece of pieces) {
      const rec = this.seg.pieces.find((p) => p.piece === piece);
      if (rec) d = Math.max(d, this.ctx.latency.p95(rec.domainId));
    }
    return d;
  }

  /**
   * One block of a piece, unchecked, or undefined (and the piece marked bad) if it cannot be read.
   * It is read into a pool buffer, which goes into `settled` once the read is over either way.
   */
  private async rawBlock(piece: number, stripe: number, settled: Buffer[]): Promise<Buffer | undefined> {
    if (this.bad.has(piece)) return undefined;
    const h = await this.handle(piece);
    if (!h) return undefined;
    const size = this.layout.blockOf(stripe);
    const into = this.buffers.take(size);
    try {
      return await this.timed(piece, readPiece(h, HEADER_SIZE + this.layout.pieceOffsetOf(stripe), into.subarray(0, size)));
    } catch {
      this.markBad(piece);
      return undefined;
    } finally {
      settled.push(into);
    }
  }

  /** Records how long a piece read took (its domain's latency, for the hedging deadline). */
  private async timed(piece: number, read: Promise<Buffer>): Promise<Buffer> {
    const started = performance.now();
    const b = await read;
    const rec = this.seg.pieces.find((p) => p.piece === piece);
    if (rec) this.ctx.latency.record(rec.domainId, performance.now() - started);
    return b;
  }

  /** Rebuilds the missing data shards of a stripe and decrypts the unit's chunks; undefined if they do not authenticate. */
  private decodeAndDecrypt(u: Unit, shards: Array<Buffer | undefined>, settled: Buffer[]): Buffer[] | undefined {
    const { k, m } = this.seg;
    const block = this.layout.blockOf(u.stripe);
    const missing: number[] = [];
    for (let j = 0; j < k; j++) if (!shards[j]) missing.push(j);
    const data = shards.slice(0, k);
    if (missing.length > 0) {
      // Rebuilt into pool buffers, which the caller gives back with the others (`settled`).
      const outs = missing.map(() => {
        const b = this.buffers.take(block);
        settled.push(b);
        return b.subarray(0, block);
      });
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

/** A unit's plaintext chunks cut to its requested bytes. */
function cut(u: Unit, plain: Buffer[]): Buffer[] {
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

/** The first promise to resolve to a value other than undefined (undefined when none does). */
function firstDefined<T>(promises: Array<Promise<T | undefined>>): Promise<T | undefined> {
  return new Promise((resolve) => {
    let left = promises.length;
    for (const p of promises) {
      const settle = (v: T | undefined) => {
        left--;
        if (v !== undefined) resolve(v);
        else if (left === 0) resolve(undefined);
      };
      void p.then(settle, () => settle(undefined));
    }
  });
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

/** `target.length` bytes at `offset`: read into `target` where the piece can, else a buffer of its own. */
async function readPiece(h: PieceHandle, offset: number, target: Buffer): Promise<Buffer> {
  if (!h.readInto) return h.read(offset, target.length);
  await h.readInto(target, offset);
  return target;
}

const LATE = Symbol('late');

/** The promise's value, or LATE once `ms` pass first (a plain timer: no AbortController per read). */
async function raceDeadline<T>(p: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(resolve, ms, LATE)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Read buffers of one read, reused: a fresh buffer per 1 MiB read cost more CPU (page faults on
 * first touch, unmapping when collected) than the read itself. A buffer is given back only once
 * nothing refers to its bytes (the plaintext is always a new buffer).
 */
class BufferPool {
  private readonly free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    return i >= 0 ? this.free.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
  }

  give(b: Buffer): void {
    if (this.free.length < 16) this.free.push(b);
  }
}
