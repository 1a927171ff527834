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
}

const codecs = new Map<string, ReedSolomon>();

/** A shared codec per profile (its decode matrices are cached). */
export function codecFor(k: number, m: number): ReedSolomon {
  const key = `${k}+${m}`;
  let c = codecs.get(key);
  if (!c) codecs.set(key, (c = new ReedSolomon(k, m)));
  return c;
}
