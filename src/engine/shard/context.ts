// What the writer, reader, repairer and scrubber share: the engine's state, passed explicitly.

import type { KeyRing } from '../../security/master-key.ts';
import type { DomainSet } from './placement.ts';
import type { Profile } from './layout.ts';
import { ReedSolomon } from './reed-solomon.ts';
import type { SegmentStore } from './segment-store.ts';

export interface EngineContext {
  segments: SegmentStore;
  keys: KeyRing;
  domains: DomainSet;
  /** The profile new segments are written with. */
  profile: Profile;
  /** The profile of ARCHIVE writes (wider, less parity). */
  archiveProfile: Profile;
  blockSize: number;
  /** Objects up to this many bytes are kept inline in their locator (-1: never). */
  inlineThreshold: number;
  /** Queues repair jobs and wakes the repairer. */
  queueRepair(jobs: Array<{ streamId: string; segment: number; priority: number; reason: string }>): void;
  log(message: string): void;
  /** Read latencies per domain, for hedged reads. */
  latency: LatencyTracker;
  /** A read not answered within max(this, the domain's p95) is hedged (ms). */
  hedgeMinMs: number;
}

/** New samples a domain's p95 may lag by: every stripe of a read asks for it, sorting is not free. */
const P95_EVERY = 8;

/** The last 64 read latencies of each domain, and their 95th percentile. */
export class LatencyTracker {
  private readonly samples = new Map<string, { ring: number[]; next: number; p95: number; fresh: number }>();

  record(domainId: string, ms: number): void {
    let s = this.samples.get(domainId);
    if (!s) this.samples.set(domainId, (s = { ring: [], next: 0, p95: 0, fresh: 0 }));
    if (s.ring.length < 64) s.ring.push(ms);
    else s.ring[s.next] = ms;
    s.next = (s.next + 1) % 64;
    s.fresh++;
  }

  p95(domainId: string): number {
    const s = this.samples.get(domainId);
    if (!s || s.ring.length < 8) return 0;
    if (s.fresh >= P95_EVERY || s.p95 === 0) {
      const sorted = [...s.ring].sort((a, b) => a - b);
      s.p95 = sorted[Math.floor(sorted.length * 0.95)]!;
      s.fresh = 0;
    }
    return s.p95;
  }
}

const codecs = new Map<string, ReedSolomon>();

/** A shared codec per profile (its decode matrices are cached). */
export function codecFor(k: number, m: number): ReedSolomon {
  const key = `${k}+${m}`;
  let c = codecs.get(key);
  if (!c) codecs.set(key, (c = new ReedSolomon(k, m)));
  return c;
}
