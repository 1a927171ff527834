// The write path: plaintext stream -> inline locator, or segments of encrypted chunks, striped,
// Reed-Solomon coded, and streamed into k+m pieces on distinct failure domains.
//
// Memory is bounded by a small ring of stripe buffers per write ((k+m) x block each, about 4 MiB of
// stripes, at most eight and never fewer than two): one is filled while the others' blocks are being written. A segment is committed to the SegmentStore once at least
// min(k+m, k+2) of its pieces are durable; pieces that failed are recorded as missing and queued
// for repair at once. The locator `s:<stream id>` is returned when every segment is committed.

import { hash, randomBytes } from 'node:crypto';
import { codecFor, type EngineContext } from './context.ts';
import { newDataKey, StreamCipher, wrapKey } from './crypto.ts';
import type { PieceWriter } from './domain.ts';
import { sealInline } from './inline.ts';
import {
  CHUNK_PLAIN_SIZE,
  CHUNKS_PER_SEGMENT,
  shrunkBlockSize,
  successThreshold,
  TAG_SIZE,
  type Profile,
} from './layout.ts';
import { encodeHeader, encodeTrailer, HEADER_SIZE, merkleRoot, pieceName, trailerSize } from './piece-file.ts';
import { CODEC_ID } from './reed-solomon.ts';
import type { PieceRecord, SegmentRecord, StreamRecord } from './segment-store.ts';
import { StorageUnavailableError } from '../types.ts';

export const STREAM_PREFIX = 's:';

/** Ciphertext stripes a write may hold (being filled or being written). */
const RING_BYTES = 4 * 1024 * 1024;
/**
 * Stripes in the ring at most, whatever RING_BYTES allows: with 1-wide stripes (k = 1, 256 KiB)
 * 16 stripes in flight wrote no faster than 8, and eight parallel uploads paid 16 MiB for them.
 */
const RING_MAX_STRIPES = 8;

export interface WriteOutcome {
  locator: string;
  size: number;
}

export async function writeObject(ctx: EngineContext, source: AsyncIterable<Buffer>, profile: Profile = ctx.profile): Promise<WriteOutcome> {
  const threshold = ctx.inlineThreshold;
  const held: Buffer[] = [];
  let heldBytes = 0;
  let stream: StreamWriter | undefined;
  try {
    for await (const chunk of source) {
      if (chunk.length === 0) continue;
      if (stream) {
        await stream.feed(chunk);
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes > threshold) {
        stream = new StreamWriter(ctx, profile);
        for (const h of held) await stream.feed(h);
        held.length = 0;
      }
    }
    if (!stream) {
      if (threshold >= 0) return { locator: sealInline(ctx.keys, Buffer.concat(held, heldBytes)), size: heldBytes };
      stream = new StreamWriter(ctx, profile);
    }
    return await stream.finish();
  } catch (err) {
    await stream?.abort();
    throw err;
  }
}

interface Slot {
  index: number;
  domainId: string;
  writer: PieceWriter | undefined;
  error?: unknown;
}

class StreamWriter {
  private readonly ctx: EngineContext;
  private readonly profile: Profile;
  readonly record: StreamRecord;
  private readonly cipher: StreamCipher;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_PLAIN_SIZE);
  private fill = 0;
  private total = 0;
  private segmentIndex = 0;
  private plainOffset = 0;
  private segment: SegmentWriter | undefined;
  private committed = false;
  /** The previous segment's trailers, fsync and commit, overlapped with filling the next one. */
  private finishing: Promise<void> | undefined;
  /** The stripe ring, handed from each drained segment to the next (no new buffers per segment). */
  private ring: StripeBuffers[] | undefined;

  constructor(ctx: EngineContext, profile: Profile) {
    this.ctx = ctx;
    this.profile = profile;
    const streamId = randomBytes(16).toString('hex');
    const dek = newDataKey();
    this.cipher = new StreamCipher(dek, streamId);
    this.record = {
      streamId,
      kekId: ctx.keys.current.id,
      wrappedKey: wrapKey(ctx.keys.current, streamId, dek),
      createdAt: new Date(),
      state: 'writing',
      size: 0,
    };
  }

  async feed(data: Buffer): Promise<void> {
    let at = 0;
    while (at < data.length) {
      // A full chunk is encrypted only once more bytes exist: then it is known not to be the last.
      if (this.fill === CHUNK_PLAIN_SIZE) await this.flushChunk(false);
      const n = Math.min(data.length - at, CHUNK_PLAIN_SIZE - this.fill);
      data.copy(this.chunk, this.fill, at, at + n);
      this.fill += n;
      at += n;
      this.total += n;
    }
  }

  private async flushChunk(end: boolean): Promise<void> {
    if (!this.segment) this.segment = await SegmentWriter.open(this.ctx, this.record, this.cipher, this.segmentIndex, this.profile, this.ring);
    const seg = this.segment;
    const last = end || seg.chunks === CHUNKS_PER_SEGMENT - 1;
    seg.addChunk(this.chunk.subarray(0, this.fill), last);
    this.fill = 0;
    await seg.stripeDone();
    if (last) {
      this.ring = await seg.drain();
      // At most one segment finishes behind the writer; segments commit in order. Its fsync then
      // overlaps receiving and encrypting the next segment instead of stalling the upload.
      await this.finishing;
      this.segment = undefined;
      const plainOffset = this.plainOffset;
      const total = end ? this.total : undefined;
      this.plainOffset += seg.plainSize;
      this.segmentIndex++;
      const done = this.commit(seg, plainOffset, total);
      done.catch(() => {}); // awaited at the next segment's end, in finish() or abort()
      this.finishing = done;
    }
  }

  private async commit(seg: SegmentWriter, plainOffset: number, total: number | undefined): Promise<void> {
    const { record, missing } = await seg.finish(plainOffset);
    const options: { repair?: { priority: number; reason: string }; complete?: number } = {};
    if (missing > 0) options.repair = { priority: this.profile.m - missing, reason: 'write' };
    if (total !== undefined) options.complete = total;
    await this.ctx.segments.commitSegment(this.record, record, options);
    this.committed = true;
    if (options.repair) this.ctx.queueRepair([]);
  }

  async finish(): Promise<WriteOutcome> {
    if (this.fill > 0) {
      await this.flushChunk(true);
      await this.finishing;
    } else {
      await this.finishing;
      await this.ctx.segments.commitEmptyStream(this.record);
      this.committed = true;
    }
    return { locator: STREAM_PREFIX + this.record.streamId, size: this.total };
  }

  async abort(): Promise<void> {
    await this.finishing?.catch(() => {});
    await this.segment?.abort();
    this.segment = undefined;
    if (this.committed || this.segmentIndex > 0) {
      const pieces = await this.ctx.segments.deleteStream(this.record.streamId).catch(() => []);
      await Promise.all(
        pieces.map((p) => this.ctx.domains.get(p.domainId)?.delete(pieceName(p.streamId, p.segment, p.piece)).catch(() => {})),
      );
    }
  }
}

interface StripeBuffers {
  data: Buffer;
  parity: Buffer[];
  pending: Promise<void> | undefined;
}

class SegmentWriter {
  private readonly ctx: EngineContext;
  private readonly stream: StreamRecord;
  private readonly cipher: StreamCipher;
  private readonly index: number;
  private readonly k: number;
  private readonly m: number;
  private readonly block: number;
  private readonly threshold: number;
  private readonly slots: Slot[];
  private readonly hashes: Buffer[][];
  private readonly buffers: StripeBuffers[];
  private current = 0;
  private stripeFill = 0;
  private stripes = 0;
  private tailBlock = 0;
  plainSize = 0;
  private cipherSize = 0;
  chunks = 0;
  private full: Promise<void> | undefined;
  private drained = false;

  private constructor(ctx: EngineContext, stream: StreamRecord, cipher: StreamCipher, index: number, profile: Profile, slots: Slot[], ring?: StripeBuffers[]) {
    this.ctx = ctx;
    this.stream = stream;
    this.cipher = cipher;
    this.index = index;
    this.k = profile.k;
    this.m = profile.m;
    this.block = ctx.blockSize;
    this.threshold = successThreshold(profile);
    this.slots = slots;
    this.hashes = slots.map(() => []);
    const make = (): StripeBuffers => ({
      data: Buffer.alloc(this.k * this.block),
      parity: Array.from({ length: this.m }, () => Buffer.alloc(this.block)),
      pending: undefined,
    });
    const count = Math.max(2, Math.min(RING_MAX_STRIPES, Math.ceil(RING_BYTES / (this.k * this.block))));
    this.buffers = ring ?? Array.from({ length: count }, make);
  }

  static async open(ctx: EngineContext, stream: StreamRecord, cipher: StreamCipher, index: number, profile: Profile, ring?: StripeBuffers[]): Promise<SegmentWriter> {
    const n = profile.k + profile.m;
    const chosen = ctx.domains.choose(stream.streamId, index, n);
    const slots: Slot[] = await Promise.all(
      Array.from({ length: n }, async (_, i): Promise<Slot> => {
        const domain = chosen[i];
        if (!domain) return { index: i, domainId: '', writer: undefined, error: new Error('no failure domain available') };
        try {
          return { index: i, domainId: domain.id, writer: await domain.create(pieceName(stream.streamId, index, i)) };
        } catch (error) {
          ctx.log(`piece ${i} of ${stream.streamId}/${index} could not be created on ${domain.address}: ${String(error)}`);
          return { index: i, domainId: domain.id, writer: undefined, error };
        }
      }),
    );
    const writer = new SegmentWriter(ctx, stream, cipher, index, profile, slots, ring);
    try {
      writer.checkQuorum();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer;
  }

  private live(): Slot[] {
    return this.slots.filter((s) => s.writer);
  }

  private checkQuorum(): void {
    const live = this.live().length;
    if (live < this.threshold) {
      const cause = this.slots.find((s) => s.error)?.error;
      throw new StorageUnavailableError(`only ${live} of the ${this.threshold} pieces needed could be written (profile ${this.k}+${this.m})`, { cause });
    }
  }

  /** Encrypts a chunk into the current stripe; a full stripe is coded and its writes started. */
  addChunk(plain: Buffer, last: boolean): void {
    const buf = this.buffers[this.current]!;
    const segmentPlainSize = this.plainSize + plain.length;
    this.cipher.encryptInto(plain, { segment: this.index, chunk: this.chunks, last, segmentPlainSize }, buf.data, this.stripeFill);
    this.stripeFill += plain.length + TAG_SIZE;
    this.plainSize = segmentPlainSize;
    this.cipherSize += plain.length + TAG_SIZE;
    this.chunks++;
    if (this.stripeFill === this.k * this.block) this.full = this.flushStripe(this.block);
  }

  /** Waits until the buffer for the next chunk is free (back-pressure from the disks). */
  async stripeDone(): Promise<void> {
    const f = this.full;
    this.full = undefined;
    if (f) await f;
  }

  private async flushStripe(block: number): Promise<void> {
    const buf = this.buffers[this.current]!;
    const shards: Buffer[] = [];
    for (let j = 0; j < this.k; j++) shards.push(buf.data.subarray(j * block, (j + 1) * block));
    const parity = buf.parity.map((p) => p.subarray(0, block));
    codecFor(this.k, this.m).encode(shards, parity, block);
    shards.push(...parity);
    for (let i = 0; i < shards.length; i++) this.hashes[i]!.push(hash('sha256', shards[i]!, 'buffer'));
    buf.pending = Promise.all(
      this.live().map((slot) =>
        slot.writer!.write(shards[slot.index]!).catch((err: unknown) => this.fail(slot, err)),
      ),
    ).then(() => {});
    this.stripes++;
    this.stripeFill = 0;
    this.current = (this.current + 1) % this.buffers.length;
    const next = this.buffers[this.current]!;
    if (next.pending) {
      await next.pending;
      next.pending = undefined;
    }
    this.checkQuorum();
  }

  private async fail(slot: Slot, err: unknown): Promise<void> {
    if (!slot.writer) return;
    this.ctx.log(`piece ${slot.index} of ${this.stream.streamId}/${this.index} failed: ${String(err)}`);
    const w = slot.writer;
    slot.writer = undefined;
    slot.error = err;
    await w.abort().catch(() => {});
  }

  /** Flushes the shrunk last stripe and waits for every stripe write: the ring is free again. */
  async drain(): Promise<StripeBuffers[]> {
    if (this.stripeFill > 0) {
      const bytes = this.stripeFill;
      this.tailBlock = shrunkBlockSize(bytes, this.k);
      this.buffers[this.current]!.data.fill(0, bytes, this.k * this.tailBlock);
      await this.flushStripe(this.tailBlock);
    }
    await Promise.all(this.buffers.map((b) => b.pending));
    for (const b of this.buffers) b.pending = undefined;
    this.drained = true;
    return this.buffers;
  }

  /** After drain(): writes trailers and headers, fsyncs: the segment's record. */
  async finish(plainOffset: number): Promise<{ record: SegmentRecord; missing: number }> {
    if (!this.drained) await this.drain();
    const fullStripes = this.tailBlock ? this.stripes - 1 : this.stripes;
    const tail = this.tailBlock || this.block;
    const pieceDataSize = fullStripes * this.block + (this.tailBlock ? this.tailBlock : 0);
    const roots = this.hashes.map((h) => merkleRoot(h));
    const createdAt = Date.now();
    await Promise.all(
      this.live().map(async (slot) => {
        try {
          await slot.writer!.write(encodeTrailer(this.hashes[slot.index]!));
          const header = encodeHeader({
            streamId: this.stream.streamId,
            segment: this.index,
            piece: slot.index,
            k: this.k,
            m: this.m,
            codec: CODEC_ID,
            blockSize: this.block,
            stripeCount: this.stripes,
            tailBlockSize: tail,
            segmentPlainSize: this.plainSize,
            segmentCipherSize: this.cipherSize,
            pieceDataSize,
            createdAt,
            merkleRoot: roots[slot.index]!,
            kekId: this.stream.kekId,
            wrappedKey: this.stream.wrappedKey,
          });
          await slot.writer!.commit(header);
        } catch (err) {
          await this.fail(slot, err);
        }
      }),
    );
    const durable = this.live();
    if (durable.length < this.threshold) {
      await this.abort();
      this.checkQuorum();
    }
    const fileSize = HEADER_SIZE + pieceDataSize + trailerSize(this.stripes);
    const pieces: PieceRecord[] = this.slots.map((s) => ({
      piece: s.index,
      domainId: s.domainId,
      size: fileSize,
      merkleRoot: roots[s.index]!,
      state: s.writer ? 'ok' : 'missing',
    }));
    const record: SegmentRecord = {
      streamId: this.stream.streamId,
      segment: this.index,
      plainOffset,
      plainSize: this.plainSize,
      cipherSize: this.cipherSize,
      k: this.k,
      m: this.m,
      blockSize: this.block,
      codec: CODEC_ID,
      merkleRoot: merkleRoot(roots),
      createdAt: new Date(createdAt),
      pieces,
    };
    return { record, missing: this.slots.length - durable.length };
  }

  /** Drops every piece of this segment (unfinished or published). */
  async abort(): Promise<void> {
    await Promise.all(this.buffers.map((b) => b.pending?.catch(() => {})));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.writer) {
          const w = slot.writer;
          slot.writer = undefined;
          await w.abort().catch(() => {});
        }
        await this.ctx.domains.get(slot.domainId)?.delete(pieceName(this.stream.streamId, this.index, slot.index)).catch(() => {});
      }),
    );
  }
}
