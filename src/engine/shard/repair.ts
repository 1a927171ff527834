// Background repair: brings queued segments back to k+m intact pieces (design/engine.md 8.9).
//
// - The queue lives in the database (SegmentStore), so work resumes after a restart.
// - Jobs run most urgent first (priority = healthy pieces - k), a few at a time.
// - A token bucket limits rebuilt bytes per second; critical segments (healthy <= k+1) skip it.
// - Per job: every remaining piece is read stripe by stripe and each block checked against its
//   trailer hash; blocks of the missing or bad pieces are rebuilt from k good ones and streamed
//   into new pieces (the same domain for a corrupt piece, else a domain holding nothing of the
//   segment). The rebuilt piece's Merkle root must equal the recorded one. The piece rows change in
//   one transaction that first checks they still name the old domains (the object may have been
//   deleted or repaired meanwhile).
// - Memory: three batches of four stripes, in one fixed arena per job that shards are read into,
//   decoded in and written from, with no copies and no allocation per stripe. The blocks are
//   hashed in place by worker threads (hash-pool.ts), so hashing runs beside decoding and I/O.

import { setTimeout as sleep } from 'node:timers/promises';
import { codecFor, type EngineContext } from './context.ts';
import type { FailureDomain, PieceHandle, PieceWriter } from './domain.ts';
import { hashPool } from './hash-pool.ts';
import { criticalThreshold, SegmentLayout } from './layout.ts';
import {
  decodeHeader,
  decodeTrailer,
  encodeHeader,
  encodeTrailer,
  HEADER_SIZE,
  merkleRoot,
  pieceName,
  trailerOffset,
  trailerSize,
} from './piece-file.ts';
import type { CodecArena, ReedSolomon } from './reed-solomon.ts';
import type { PieceChange, RepairJob, SegmentRecord, StreamRecord } from './segment-store.ts';

export interface RepairOptions {
  /** Rebuilt bytes per second for non-critical segments (0: unlimited). */
  bytesPerSecond: number;
  /** Segments repaired at once. */
  concurrency: number;
  /** A failed or deferred job is retried after this long. */
  retryAfterMs: number;
}

export const DEFAULT_REPAIR: RepairOptions = { bytesPerSecond: 64 * 1024 * 1024, concurrency: 2, retryAfterMs: 30_000 };

export type RepairOutcome = 'repaired' | 'healthy' | 'gone' | 'deferred';

class TokenBucket {
  private readonly rate: number;
  private tokens: number;
  private last = performance.now();

  constructor(rate: number) {
    this.rate = rate;
    this.tokens = rate;
  }

  async take(n: number): Promise<void> {
    if (this.rate <= 0) return;
    const now = performance.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) await sleep((-this.tokens / this.rate) * 1000);
  }
}

export interface RepairStatus {
  queuedSegments: number;
  /** Ciphertext bytes of the queued segments. */
  queuedBytes: number;
  /** Bytes of pieces rebuilt since start. */
  repairedBytes: number;
  repairedSegments: number;
  /** Rebuilt bytes per second over the last minute or so. */
  rate: number;
  /** Seconds until the queue is empty at this rate (undefined when idle). */
  etaSeconds: number | undefined;
}

export class Repairer {
  private readonly ctx: EngineContext;
  private readonly options: RepairOptions;
  private readonly bucket: TokenBucket;
  private readonly active = new Set<string>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private forceNext = false;
  private repairedBytes = 0;
  private repairedSegments = 0;
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(ctx: EngineContext, options: RepairOptions) {
    this.ctx = ctx;
    this.options = options;
    this.bucket = new TokenBucket(options.bytesPerSecond);
  }

  /** Starts the background loop (resumes whatever the queue holds). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Runs the due jobs now, failed or deferred ones included (a domain was added). */
  kick(): void {
    this.forceNext = true;
    this.wake();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const force = this.forceNext;
      this.forceNext = false;
      const worked = await this.pass(force).catch((err: unknown) => {
        this.ctx.log(`repair pass failed: ${String(err)}`);
        return 0;
      });
      if (!this.running) break;
      if (worked === 0) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          setTimeout(resolve, 5000).unref();
        });
      }
    }
  }

  /** Runs one batch of due jobs; returns how many ran. `all` ignores the retry delay. */
  private async pass(all: boolean, limit = this.options.concurrency * 4): Promise<number> {
    const retryBefore = new Date(all ? Date.now() + 1 : Date.now() - this.options.retryAfterMs);
    const now = Date.now();
    const jobs = (await this.ctx.segments.nextRepairs(limit, retryBefore)).filter(
      (j) =>
        !this.active.has(`${j.streamId}/${j.segment}`) &&
        // Failed jobs back off exponentially (30 s, 1 min, 2 min, ... up to about 8 h).
        (all || !j.attemptedAt || j.attemptedAt.getTime() + this.options.retryAfterMs * 2 ** Math.min(j.attempts - 1, 10) <= now),
    );
    let ran = 0;
    const queue = [...jobs];
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        if (!all && !this.running) return;
        ran++;
        await this.runJob(job);
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
    return ran;
  }

  /** Repairs everything queued now, ignoring retry delays and the throttle's schedule (tests, `drive replace`). */
  async drain(): Promise<void> {
    let before = (await this.ctx.segments.repairQueue()).segments;
    while (before > 0) {
      await this.pass(true, 1_000_000);
      const after = (await this.ctx.segments.repairQueue()).segments;
      // Jobs that cannot run now (no domain for a rebuilt piece) stay queued: stop when nothing moves.
      if (after >= before) return;
      before = after;
    }
  }

  private async runJob(job: RepairJob): Promise<void> {
    const key = `${job.streamId}/${job.segment}`;
    if (this.active.has(key)) return;
    this.active.add(key);
    try {
      const outcome = await repairSegment(this.ctx, job.streamId, job.segment, {
        throttle: (bytes, critical) => (critical ? Promise.resolve() : this.bucket.take(bytes)),
        onBytes: (bytes) => this.count(bytes),
      });
      if (outcome === 'repaired') this.repairedSegments++;
      if (outcome === 'repaired' || outcome === 'healthy') await this.recheck(job.streamId, job.segment);
      if (outcome === 'deferred') {
        await this.ctx.segments.recordRepairFailure(job.streamId, job.segment, 'no failure domain available for a rebuilt piece', new Date());
      }
    } catch (err) {
      this.ctx.log(`repair of ${key} failed: ${String(err)}`);
      await this.ctx.segments.recordRepairFailure(job.streamId, job.segment, String(err), new Date()).catch(() => {});
    } finally {
      this.active.delete(key);
    }
  }

  /**
   * A piece may have been found bad (audit, scrub, read) or its domain set draining while the job
   * ran, and the job's row removed with the repair: queue the segment again if it still needs work.
   */
  private async recheck(streamId: string, segment: number): Promise<void> {
    const seg = await this.ctx.segments.getSegment(streamId, segment);
    if (!seg) return;
    const bad = seg.pieces.filter((p) => p.state !== 'ok' || this.ctx.domains.leaving(p.domainId) || !this.ctx.domains.get(p.domainId));
    if (bad.length === 0) return;
    const healthy = seg.pieces.length - bad.length;
    await this.ctx.segments.enqueueRepairs([{ streamId, segment, priority: healthy - seg.k, reason: 'recheck' }]);
  }

  private count(bytes: number): void {
    this.repairedBytes += bytes;
    const now = performance.now();
    this.samples.push({ at: now, bytes: this.repairedBytes });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 60_000) this.samples.shift();
  }

  async status(): Promise<RepairStatus> {
    const q = await this.ctx.segments.repairQueue();
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const rate = first && last && last.at > first.at ? ((last.bytes - first.bytes) / (last.at - first.at)) * 1000 : 0;
    return {
      queuedSegments: q.segments,
      queuedBytes: q.bytes,
      repairedBytes: this.repairedBytes,
      repairedSegments: this.repairedSegments,
      rate,
      etaSeconds: q.segments === 0 ? undefined : rate > 0 ? q.bytes / rate : undefined,
    };
  }
}

interface RepairHooks {
  throttle(bytes: number, critical: boolean): Promise<void>;
  onBytes(bytes: number): void;
}

class RestartWithMoreTargets extends Error {}

/** Stripes read and rebuilt per step: 1 MiB reads per piece at 256 KiB blocks. */
const BATCH_STRIPES = 4;
/** Batches in flight: one read and checked, one rebuilt, one written. */
const SLOTS = 3;

/** Repairs one segment. */
export async function repairSegment(ctx: EngineContext, streamId: string, segment: number, hooks: RepairHooks): Promise<RepairOutcome> {
  const seg = await ctx.segments.getSegment(streamId, segment);
  const stream = await ctx.segments.getStream(streamId);
  if (!seg || !stream || stream.deletedAt) {
    await ctx.segments.removeRepair(streamId, segment);
    return 'gone';
  }
  const layout = new SegmentLayout(seg.k, seg.m, seg.blockSize, seg.plainSize);
  const sources = new Map<number, { handle: PieceHandle; hashes: Buffer[] }>();
  const targets = new Set<number>();
  try {
    // Which pieces can serve: recorded ok, on a usable domain, header and trailer intact.
    // Pieces on draining or quarantined domains are rebuilt elsewhere (moved), not read.
    const opened = await Promise.all(
      seg.pieces.map((p) => {
        const domain = p.state === 'ok' && !ctx.domains.leaving(p.domainId) ? ctx.domains.usable(p.domainId) : undefined;
        return domain ? openVerified(domain, seg, layout, p.piece) : undefined;
      }),
    );
    // Too few: as a last resort, pieces on suspect or offline (not lost) domains may serve too.
    if (opened.filter(Boolean).length < seg.k) {
      await Promise.all(
        seg.pieces.map(async (p, i) => {
          const domain = p.state === 'ok' && !opened[i] && !ctx.domains.leaving(p.domainId) ? ctx.domains.notLost(p.domainId) : undefined;
          if (domain) opened[i] = await openVerified(domain, seg, layout, p.piece);
        }),
      );
    }
    seg.pieces.forEach((p, i) => {
      const source = opened[i];
      if (source) sources.set(p.piece, source);
      else targets.add(p.piece);
    });
    for (let attempt = 0; attempt <= seg.k + seg.m; attempt++) {
      if (sources.size < seg.k) throw new Error(`segment ${streamId}/${segment} has only ${sources.size} of ${seg.k} pieces needed to repair`);
      try {
        return await rebuild(ctx, stream, seg, layout, sources, targets, hooks);
      } catch (err) {
        if (!(err instanceof RestartWithMoreTargets)) throw err;
      }
    }
    throw new Error('repair did not converge');
  } finally {
    await Promise.all([...sources.values()].map((s) => s.handle.close().catch(() => {})));
  }
}

async function openVerified(
  domain: FailureDomain,
  seg: SegmentRecord,
  layout: SegmentLayout,
  piece: number,
): Promise<{ handle: PieceHandle; hashes: Buffer[] } | undefined> {
  let handle: PieceHandle | undefined;
  try {
    handle = await domain.open(pieceName(seg.streamId, seg.segment, piece));
    const header = decodeHeader(await handle.read(0, HEADER_SIZE));
    const rec = seg.pieces.find((p) => p.piece === piece)!;
    if (header.streamId !== seg.streamId || header.segment !== seg.segment || header.piece !== piece || !header.merkleRoot.equals(rec.merkleRoot)) {
      throw new Error('piece header does not match its record');
    }
    const hashes = decodeTrailer(await handle.read(trailerOffset(layout.pieceDataSize), trailerSize(layout.stripeCount)), layout.stripeCount);
    if (!merkleRoot(hashes).equals(rec.merkleRoot)) throw new Error('piece trailer does not match its record');
    return { handle, hashes };
  } catch {
    await handle?.close().catch(() => {});
    return undefined;
  }
}

async function rebuild(
  ctx: EngineContext,
  stream: StreamRecord,
  seg: SegmentRecord,
  layout: SegmentLayout,
  sources: Map<number, { handle: PieceHandle; hashes: Buffer[] }>,
  targets: Set<number>,
  hooks: RepairHooks,
): Promise<RepairOutcome> {
  const n = seg.k + seg.m;
  const critical = n - targets.size <= criticalThreshold(seg);
  // Where each rebuilt piece goes.
  const placed = new Map<number, FailureDomain>();
  if (targets.size > 0) {
    const keep = new Set(seg.pieces.filter((p) => !targets.has(p.piece)).map((p) => p.domainId));
    const zones = new Set([...keep].map((id) => ctx.domains.zoneOf(id)).filter((z): z is string => z !== undefined));
    const takers = new Set(ctx.domains.placeable().map((d) => d.id));
    for (const t of [...targets].sort((a, b) => a - b)) {
      const rec = seg.pieces.find((p) => p.piece === t);
      // A corrupt piece is rebuilt in place when its domain still takes pieces.
      const same = rec && takers.has(rec.domainId) ? ctx.domains.get(rec.domainId) : undefined;
      const domain = same && !keep.has(same.id) ? same : ctx.domains.choose(seg.streamId, seg.segment, 1, keep, zones)[0];
      if (!domain) return 'deferred';
      placed.set(t, domain);
      keep.add(domain.id);
      const zone = ctx.domains.zoneOf(domain.id);
      if (zone !== undefined) zones.add(zone);
    }
  }
  const writers = new Map<number, PieceWriter>();
  const rebuiltHashes = new Map<number, Buffer[]>();
  const codec = codecFor(seg.k, seg.m);
  // Batches of BATCH_STRIPES stripes in SLOTS rotating slots of the arena; in a slot, piece i's
  // blocks lie together at region(i), as in the piece file (one read or write per piece and batch).
  const regionSize = BATCH_STRIPES * seg.blockSize;
  const slotSize = n * regionSize;
  const arena = takeArena(codec, SLOTS * slotSize);
  try {
    for (const [t, domain] of placed) {
      writers.set(t, await domain.create(pieceName(seg.streamId, seg.segment, t)));
      rebuiltHashes.set(t, new Array<Buffer>(layout.stripeCount));
    }
    const targetList = [...placed.keys()].sort((a, b) => a - b);
    const pool = hashPool();
    // Batch b+1 is read and its blocks checked (on the hash threads) while batch b is rebuilt, and
    // batch b-1 written and its rebuilt blocks hashed: three slots in use, none reused before its
    // I/O and hashing are done.
    const readBatch = async (first: number) => {
      const last = Math.min(layout.stripeCount, first + BATCH_STRIPES) - 1;
      const base = arena.base + ((first / BATCH_STRIPES) % SLOTS) * slotSize;
      const offset = HEADER_SIZE + layout.pieceOffsetOf(first);
      let length = 0;
      for (let s = first; s <= last; s++) length += layout.blockOf(s);
      // Read and check every remaining piece's blocks: a repair is also a verification pass. A
      // block is used only once its hash matched its piece's trailer.
      const bad: number[] = [];
      await Promise.all(
        [...sources].map(async ([i, src]) => {
          const at = base + i * regionSize;
          try {
            const into = arena.bytes(at, length);
            if (src.handle.readInto) await src.handle.readInto(into, offset);
            else into.set(await src.handle.read(offset, length));
            const digests = await pool.digest(arena.buffer, blockRanges(layout, first, last, at));
            for (let s = first; s <= last; s++) {
              if (!digests[s - first]!.equals(src.hashes[s]!)) {
                bad.push(i);
                return;
              }
            }
          } catch {
            bad.push(i);
          }
        }),
      );
      return { first, last, base, length, bad };
    };
    let next: ReturnType<typeof readBatch> | undefined = layout.stripeCount > 0 ? readBatch(0) : undefined;
    let writing: Promise<unknown> = Promise.resolve();
    try {
      while (next) {
        const { first, last, base, length, bad } = await next;
        next = last + 1 < layout.stripeCount ? readBatch(last + 1) : undefined;
        next?.catch(() => {});
        if (bad.length > 0) {
          await next?.catch(() => {});
          next = undefined;
          for (const i of bad) {
            const src = sources.get(i)!;
            sources.delete(i);
            await src.handle.close().catch(() => {});
            targets.add(i);
          }
          throw new RestartWithMoreTargets();
        }
        if (targetList.length === 0) continue;
        await hooks.throttle(length * targetList.length, critical);
        const offsets = new Array<number | undefined>(n).fill(undefined);
        let rel = 0;
        for (let s = first; s <= last; s++) {
          for (const i of sources.keys()) offsets[i] = base + i * regionSize + rel;
          codec.reconstructAt(arena, offsets, targetList, targetList.map((t) => base + t * regionSize + rel), layout.blockOf(s));
          rel += layout.blockOf(s);
        }
        const hashed = pool
          .digest(arena.buffer, targetList.flatMap((t) => blockRanges(layout, first, last, base + t * regionSize)))
          .then((digests) => targetList.forEach((t, j) => {
            const into = rebuiltHashes.get(t)!;
            for (let s = first; s <= last; s++) into[s] = digests[j * (last - first + 1) + s - first]!;
          }));
        // One batch's writes in flight at a time, in order; the slot is free once they and the
        // hashing have all ended, failed or not.
        await writing;
        writing = allSettled([...targetList.map((t) => writers.get(t)!.write(arena.bytes(base + t * regionSize, length))), hashed]);
        hooks.onBytes(length * targetList.length);
      }
      await writing;
    } finally {
      await next?.catch(() => {});
      await writing.catch(() => {});
    }
    if (targetList.length === 0) {
      await ctx.segments.removeRepair(seg.streamId, seg.segment);
      return 'healthy';
    }
    // Finish the rebuilt pieces: trailer, header, fsync, publish.
    const changes: PieceChange[] = [];
    const sample = sources.values().next().value!;
    const header = decodeHeader(await sample.handle.read(0, HEADER_SIZE));
    for (const t of targetList) {
      const hashes = rebuiltHashes.get(t)!;
      const root = merkleRoot(hashes);
      const rec = seg.pieces.find((p) => p.piece === t);
      if (rec && !root.equals(rec.merkleRoot)) throw new Error(`rebuilt piece ${t} does not match its recorded root`);
      changes.push({
        piece: t,
        expectDomainId: rec?.domainId,
        domainId: placed.get(t)!.id,
        size: HEADER_SIZE + layout.pieceDataSize + trailerSize(layout.stripeCount),
        merkleRoot: root,
      });
    }
    // The pieces are on different domains: their fsyncs run at once.
    await allSettled(
      changes.map(async (c) => {
        const w = writers.get(c.piece)!;
        await w.write(encodeTrailer(rebuiltHashes.get(c.piece)!));
        await w.commit(encodeHeader({ ...header, piece: c.piece, merkleRoot: c.merkleRoot, kekId: stream.kekId, wrappedKey: stream.wrappedKey }));
        writers.delete(c.piece);
      }),
    );
    const ok = await ctx.segments.replacePieces(seg.streamId, seg.segment, changes);
    if (!ok) {
      // Deleted or changed meanwhile: drop what was written where nothing else refers to it.
      const now = await ctx.segments.getSegment(seg.streamId, seg.segment);
      for (const c of changes) {
        const row = now?.pieces.find((p) => p.piece === c.piece);
        if (!row || row.domainId !== c.domainId) await placed.get(c.piece)!.delete(pieceName(seg.streamId, seg.segment, c.piece)).catch(() => {});
      }
      return 'gone';
    }
    // Old copies on other, still reachable domains are now unreferenced.
    for (const c of changes) {
      if (c.expectDomainId && c.expectDomainId !== c.domainId) {
        await ctx.domains.usable(c.expectDomainId)?.delete(pieceName(seg.streamId, seg.segment, c.piece)).catch(() => {});
      }
    }
    return 'repaired';
  } finally {
    await Promise.all([...writers.values()].map((w) => w.abort().catch(() => {})));
    giveArena(codec, arena);
  }
}

/** Waits for every promise to settle, then rejects with the first failure if any. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** offset, length pairs of the blocks of stripes first..last lying one after another from `at`. */
function blockRanges(layout: SegmentLayout, first: number, last: number, at: number): number[] {
  const ranges: number[] = [];
  for (let s = first; s <= last; s++) {
    const block = layout.blockOf(s);
    ranges.push(at, block);
    at += block;
  }
  return ranges;
}

// Arenas are kept for the next jobs (a repair usually has many segments of one profile; two, as two
// jobs run at once by default) and let go when repair has been idle for 30 s.
const idleArenas = new Map<ReedSolomon, CodecArena[]>();
let dropTimer: NodeJS.Timeout | undefined;

function takeArena(codec: ReedSolomon, bytes: number): CodecArena {
  const free = idleArenas.get(codec);
  const found = free?.findIndex((a) => a.buffer.byteLength - a.base >= bytes) ?? -1;
  if (found >= 0) return free!.splice(found, 1)[0]!;
  return codec.createArena(bytes);
}

function giveArena(codec: ReedSolomon, arena: CodecArena): void {
  const free = idleArenas.get(codec) ?? [];
  if (free.length < 2) free.push(arena);
  idleArenas.set(codec, free);
  if (dropTimer) dropTimer.refresh();
  else dropTimer = setTimeout(() => {
    idleArenas.clear();
    dropTimer = undefined;
  }, 30_000).unref();
}
