// Scrub: re-hash every block of every piece on a domain against its trailer, check headers and
// trailers against the database, and queue what is corrupt or missing for repair. Runs with
// "tranquility": after each piece it sleeps `tranquility` times as long as the piece took, so a
// scrub uses about 1 / (1 + tranquility) of the disk (Garage's approach).

import { hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineContext } from './context.ts';
import type { FailureDomain, PieceHandle } from './domain.ts';
import { SegmentLayout } from './layout.ts';
import { decodeHeader, decodeTrailer, HEADER_SIZE, merkleRoot, parsePieceName, pieceName, trailerOffset, trailerSize } from './piece-file.ts';
import type { PieceRef } from './segment-store.ts';

export interface ScrubResult {
  pieces: number;
  bytes: number;
  corrupt: number;
  missing: number;
}

export interface ScrubOptions {
  tranquility: number;
  signal?: AbortSignal;
}

export async function scrubDomain(ctx: EngineContext, domain: FailureDomain, options: ScrubOptions): Promise<ScrubResult> {
  const result: ScrubResult = { pieces: 0, bytes: 0, corrupt: 0, missing: 0 };
  const recorded = new Map<string, PieceRef>();
  for (const ref of await ctx.segments.piecesOnDomain(domain.id)) recorded.set(pieceName(ref.streamId, ref.segment, ref.piece), ref);
  const seen = new Set<string>();
  const bad: PieceRef[] = [];
  for await (const info of domain.list()) {
    if (options.signal?.aborted) return result;
    const ref = recorded.get(info.name);
    if (!ref || !parsePieceName(info.name)) continue; // not ours to judge: garbage collection's
    seen.add(info.name);
    const started = performance.now();
    const ok = await verifyPiece(ctx, domain, ref).catch(() => false);
    result.pieces++;
    result.bytes += info.size;
    if (!ok) {
      result.corrupt++;
      bad.push(ref);
      await ctx.segments.setPieceState(ref, 'corrupt');
    }
    if (options.tranquility > 0) await sleep((performance.now() - started) * options.tranquility);
  }
  for (const [name, ref] of recorded) {
    if (seen.has(name)) continue;
    // Written after the listing started, or really gone: look again before judging.
    if (await domain.stat(name)) continue;
    const seg = await ctx.segments.getSegment(ref.streamId, ref.segment);
    const row = seg?.pieces.find((p) => p.piece === ref.piece);
    if (!row || row.domainId !== domain.id || row.state !== 'ok') continue;
    if ((await ctx.segments.getStream(ref.streamId))?.deletedAt) continue; // trashed, purged soon
    result.missing++;
    bad.push(ref);
    await ctx.segments.setPieceState(ref, 'missing');
  }
  if (bad.length > 0) {
    ctx.queueRepair(bad.map((b) => ({ streamId: b.streamId, segment: b.segment, priority: 0, reason: 'scrub' })));
  }
  return result;
}

/** True when the piece's header, trailer and every block match each other and the database. */
async function verifyPiece(ctx: EngineContext, domain: FailureDomain, ref: PieceRef): Promise<boolean> {
  const seg = await ctx.segments.getSegment(ref.streamId, ref.segment);
  const rec = seg?.pieces.find((p) => p.piece === ref.piece);
  if (!seg || !rec || rec.domainId !== domain.id) return true; // changed meanwhile
  const layout = new SegmentLayout(seg.k, seg.m, seg.blockSize, seg.plainSize);
  let handle: PieceHandle | undefined;
  try {
    handle = await domain.open(pieceName(ref.streamId, ref.segment, ref.piece));
    const header = decodeHeader(await handle.read(0, HEADER_SIZE));
    if (header.streamId !== ref.streamId || header.segment !== ref.segment || header.piece !== ref.piece) return false;
    if (!header.merkleRoot.equals(rec.merkleRoot)) return false;
    const hashes = decodeTrailer(await handle.read(trailerOffset(layout.pieceDataSize), trailerSize(layout.stripeCount)), layout.stripeCount);
    if (!merkleRoot(hashes).equals(rec.merkleRoot)) return false;
    for (let s = 0; s < layout.stripeCount; s++) {
      const block = await handle.read(HEADER_SIZE + layout.pieceOffsetOf(s), layout.blockOf(s));
      if (!hash('sha256', block, 'buffer').equals(hashes[s]!)) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    await handle?.close().catch(() => {});
  }
}
