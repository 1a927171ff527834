// The failure domains the engine writes to, their health, and where a segment's pieces go.
//
// Placement is rendezvous hashing of (stream id, segment index, domain id): deterministic, spread
// evenly, and it moves nothing when a domain is added. The database records where each piece
// went, so placement never has to be recomputed to find data.

import { createHash } from 'node:crypto';
import type { FailureDomain } from './domain.ts';

interface Entry {
  domain: FailureDomain;
  online: boolean;
}

export class DomainSet {
  private readonly entries = new Map<string, Entry>();

  add(domain: FailureDomain, online = true): void {
    this.entries.set(domain.id, { domain, online });
  }

  remove(id: string): void {
    this.entries.delete(id);
  }

  get(id: string): FailureDomain | undefined {
    return this.entries.get(id)?.domain;
  }

  /** The domain if it is configured and online. */
  usable(id: string): FailureDomain | undefined {
    const e = this.entries.get(id);
    return e?.online ? e.domain : undefined;
  }

  setOnline(id: string, online: boolean): void {
    const e = this.entries.get(id);
    if (e) e.online = online;
  }

  all(): FailureDomain[] {
    return [...this.entries.values()].map((e) => e.domain);
  }

  online(): FailureDomain[] {
    return [...this.entries.values()].filter((e) => e.online).map((e) => e.domain);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Up to `count` online domains not in `exclude`, best rendezvous score first. */
  choose(streamId: string, segment: number, count: number, exclude: ReadonlySet<string> = new Set()): FailureDomain[] {
    return this.online()
      .filter((d) => !exclude.has(d.id))
      .map((d) => ({ d, score: createHash('sha256').update(`${streamId}/${segment}/${d.id}`).digest().readUInt32BE(0) }))
      .sort((a, b) => b.score - a.score || (a.d.id < b.d.id ? -1 : 1))
      .slice(0, count)
      .map((x) => x.d);
  }
}
