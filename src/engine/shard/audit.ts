// Storage proofs (design/engine.md 8.10): an auditor loop challenges every failure domain (storage
// nodes and local directories alike) with (piece, random block index, fresh nonce); the domain
// answers with that block and its Merkle path, which must hash up to the root the database
// recorded when the piece was written, within a time limit proportional to the block size.
//
// - Freshness: over the node protocol every challenge is a request with its own 128-bit nonce,
//   which the node's signed answer binds.
// - Sampling: a few random live pieces of the domain, one picked with probability proportional to
//   its size (A-Res keys u^(1/size)); one challenge per domain per interval.
// - Outcomes: pass; fail (wrong bytes or proof) marks the piece corrupt and queues its repair;
//   missing marks it missing and queues its repair; unreachable is re-verified (the same piece
//   first) up to 3 times and then counts as offline, never as lost data.
// - Reputation: evidence alpha (passes) and beta (failures) decay by a forgetting factor; score =
//   (prior + alpha) / (prior + alpha + beta). Below the warning level operators are warned in the
//   log; below the quarantine level a storage node takes no new pieces and its pieces are moved
//   (repaired) elsewhere. Directories are warned about, not quarantined (one machine has no
//   spare domains to move to).

import { hash, randomInt } from 'node:crypto';
import type { EngineContext } from './context.ts';
import { PieceMissingError, type AuditAnswer, type FailureDomain } from './domain.ts';
import { SegmentLayout } from './layout.ts';
import { pieceName, verifyMerkleProof } from './piece-file.ts';
import type { AuditResult, DomainRecord, PieceRef } from './segment-store.ts';

export interface AuditOptions {
  /** One challenge per domain this often (ms); 0 turns the loop off. */
  intervalMs: number;
  /** Slowest acceptable transfer for the time limit (bytes/s). */
  minBandwidth: number;
  /** Added to the transfer time (ms). */
  baseTimeoutMs: number;
  forget: number;
  priorAlpha: number;
  quarantineBelow: number;
  warnBelow: number;
  maxReverify: number;
}

export const DEFAULT_AUDIT: AuditOptions = {
  intervalMs: 60_000,
  minBandwidth: 1024 * 1024,
  baseTimeoutMs: 5000,
  forget: 0.999,
  priorAlpha: 100,
  quarantineBelow: 0.96,
  warnBelow: 0.98,
  maxReverify: 3,
};

export function auditScore(d: Pick<DomainRecord, 'auditAlpha' | 'auditBeta'>, prior: number): number {
  const a = prior + (d.auditAlpha ?? 0);
  return a / (a + (d.auditBeta ?? 0));
}

export interface AuditHooks {
  quarantine(id: string, score: number): Promise<void>;
}

export interface AuditOutcome {
  domainId: string;
  ref: PieceRef;
  leaf: number;
  result: AuditResult;
  score: number | undefined;
}

export class Auditor {
  private readonly ctx: EngineContext;
  private readonly options: AuditOptions;
  private readonly hooks: AuditHooks;
  /** Pieces whose audit found the domain unreachable, with the retries so far. */
  private readonly contained = new Map<string, { ref: PieceRef; tries: number }>();
  private running: Promise<unknown> | undefined;

  constructor(ctx: EngineContext, options: AuditOptions, hooks: AuditHooks) {
    this.ctx = ctx;
    this.options = options;
    this.hooks = hooks;
  }

  /** One challenge to every domain that serves reads. */
  tick(): Promise<unknown> {
    if (this.running) return this.running;
    this.running = Promise.all(this.ctx.domains.online().map((d) => this.auditDomain(d).catch((err: unknown) => this.ctx.log(`audit of ${d.address} failed: ${String(err)}`)))).finally(
      () => (this.running = undefined),
    );
    return this.running;
  }

  /** Challenges one piece of a domain (a contained one first); undefined when it holds none. */
  async auditDomain(domain: FailureDomain): Promise<AuditOutcome | undefined> {
    const held = this.contained.get(domain.id);
    const ref = held?.ref ?? (await this.pick(domain.id));
    if (!ref) return undefined;
    const seg = await this.ctx.segments.getSegment(ref.streamId, ref.segment);
    const rec = seg?.pieces.find((p) => p.piece === ref.piece);
    if (!seg || !rec || rec.domainId !== domain.id || rec.state !== 'ok') {
      this.contained.delete(domain.id);
      return undefined;
    }
    const layout = new SegmentLayout(seg.k, seg.m, seg.blockSize, seg.plainSize);
    const leaf = randomInt(layout.stripeCount);
    const blockBytes = layout.blockOf(leaf);
    const limit = (blockBytes / this.options.minBandwidth) * 1000 + this.options.baseTimeoutMs;
    const started = performance.now();
    let result: AuditResult;
    try {
      const answer = await withTimeout(domain.audit(pieceName(ref.streamId, ref.segment, ref.piece), leaf), limit);
      const ok =
        answer.block.length === blockBytes &&
        verifyMerkleProof(hash('sha256', answer.block, 'buffer'), leaf, layout.stripeCount, answer.proof, rec.merkleRoot);
      result = ok ? 'pass' : 'fail';
    } catch (err) {
      result = err instanceof PieceMissingError ? 'missing' : 'unreachable';
    }
    const latencyMs = performance.now() - started;
    if (result === 'unreachable') {
      const tries = (held?.tries ?? 0) + 1;
      if (tries >= this.options.maxReverify) {
        this.contained.delete(domain.id);
        this.ctx.log(`audit: ${domain.address} unreachable ${tries} times for one piece: counted as offline, not as lost data`);
      } else this.contained.set(domain.id, { ref, tries });
    } else this.contained.delete(domain.id);
    if (result === 'fail' || result === 'missing') {
      await this.ctx.segments.setPieceState(ref, result === 'fail' ? 'corrupt' : 'missing');
      const healthy = seg.pieces.filter((p) => p.state === 'ok' && p.piece !== ref.piece).length;
      this.ctx.queueRepair([{ streamId: ref.streamId, segment: ref.segment, priority: healthy - seg.k, reason: `audit ${result}` }]);
      this.ctx.log(`audit: piece ${pieceName(ref.streamId, ref.segment, ref.piece)} on ${domain.address}: ${result}; queued for repair`);
    }
    const record = await this.ctx.segments.recordAudit({ domainId: domain.id, ref, leaf, result, latencyMs, at: new Date() }, this.options.forget);
    const score = record ? auditScore(record, this.options.priorAlpha) : undefined;
    if (score !== undefined && result !== 'pass' && result !== 'unreachable') {
      if (score < this.options.quarantineBelow && domain.kind === 'node' && this.ctx.domains.stateOf(domain.id) === 'online') {
        await this.hooks.quarantine(domain.id, score);
      } else if (score < this.options.warnBelow) {
        this.ctx.log(`warning: audit score of ${domain.address} is ${score.toFixed(4)} (quarantine below ${this.options.quarantineBelow})`);
      }
    }
    return { domainId: domain.id, ref, leaf, result, score };
  }

  /** A random live piece of the domain, weighted by size. */
  private async pick(domainId: string): Promise<PieceRef | undefined> {
    const sample = await this.ctx.segments.samplePieces(domainId, 16);
    let best: PieceRef | undefined;
    let bestKey = -1;
    for (const p of sample) {
      const key = Math.random() ** (1 / Math.max(1, p.size));
      if (key > bestKey) {
        bestKey = key;
        best = { streamId: p.streamId, segment: p.segment, piece: p.piece };
      }
    }
    return best;
  }
}

function withTimeout(p: Promise<AuditAnswer>, ms: number): Promise<AuditAnswer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
