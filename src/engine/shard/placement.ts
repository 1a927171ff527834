// The failure domains the engine writes to, their health, and where a segment's pieces go.
//
// Placement is weighted rendezvous hashing of (stream id, segment index, domain id): each domain
// scores -free / ln(u) with u uniform from the hash, so a domain is chosen in proportion to its
// free space, deterministically, evenly spread, and adding a domain moves nothing. Distinct zones
// are preferred (a second piece in a zone only when zones run out). Domains that are unreachable,
// suspect, draining, quarantined or full (free space below the reserve) get no new pieces. The
// database records where each piece went, so placement never has to be recomputed to find data.

import { createHash } from 'node:crypto';
import type { FailureDomain } from './domain.ts';
import type { DomainState } from './segment-store.ts';

interface Entry {
  domain: FailureDomain;
  /** Answers (health checks / heartbeats). */
  online: boolean;
  state: DomainState;
  zone: string | undefined;
  /** Bytes it may still take (undefined: not known yet). */
  free: number | undefined;
}

export class DomainSet {
  private readonly entries = new Map<string, Entry>();
  /** Domains with less free space than this take no new pieces. */
  reserveBytes = 0;

  add(domain: FailureDomain, online = true, state: DomainState = 'online', zone?: string): void {
    const prev = this.entries.get(domain.id);
    this.entries.set(domain.id, { domain, online, state, zone, free: prev?.free });
  }

  remove(id: string): void {
    this.entries.delete(id);
  }

  get(id: string): FailureDomain | undefined {
    return this.entries.get(id)?.domain;
  }

  /** The domain if it can serve reads now (answers, not suspect or lost); draining ones still serve. */
  usable(id: string): FailureDomain | undefined {
    const e = this.entries.get(id);
    return e && readable(e) ? e.domain : undefined;
  }

  /** The domain unless it is lost or gone: suspect or offline ones may answer again (last-resort reads). */
  notLost(id: string): FailureDomain | undefined {
    const e = this.entries.get(id);
    return e && e.state !== 'lost' ? e.domain : undefined;
  }

  /** True for a domain whose pieces are to move elsewhere (draining, quarantined). */
  leaving(id: string): boolean {
    const s = this.entries.get(id)?.state;
    return s === 'draining' || s === 'quarantined';
  }

  setOnline(id: string, online: boolean): void {
    const e = this.entries.get(id);
    if (e) e.online = online;
  }

  setState(id: string, state: DomainState): void {
    const e = this.entries.get(id);
    if (e) e.state = state;
  }

  stateOf(id: string): DomainState | undefined {
    return this.entries.get(id)?.state;
  }

  isOnline(id: string): boolean {
    return this.entries.get(id)?.online === true;
  }

  setFree(id: string, free: number): void {
    const e = this.entries.get(id);
    if (e) e.free = free;
  }

  setZone(id: string, zone: string | undefined): void {
    const e = this.entries.get(id);
    if (e) e.zone = zone;
  }

  all(): FailureDomain[] {
    return [...this.entries.values()].map((e) => e.domain);
  }

  /** Domains that can serve reads. */
  online(): FailureDomain[] {
    return [...this.entries.values()].filter(readable).map((e) => e.domain);
  }

  /** Domains that may take new pieces. */
  placeable(): FailureDomain[] {
    return [...this.entries.values()].filter((e) => this.takesPieces(e)).map((e) => e.domain);
  }

  private takesPieces(e: Entry): boolean {
    return e.online && e.state === 'online' && (e.free === undefined || (e.free > 0 && e.free >= this.reserveBytes));
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Up to `count` domains that take pieces and are not in `exclude`, by weighted rendezvous score,
   * distinct zones first. `avoidZones` are zones already holding a piece of the segment.
   */
  choose(streamId: string, segment: number, count: number, exclude: ReadonlySet<string> = new Set(), avoidZones: ReadonlySet<string> = new Set()): FailureDomain[] {
    const candidates = [...this.entries.values()].filter((e) => this.takesPieces(e) && !exclude.has(e.domain.id));
    const known = candidates.map((e) => e.free).filter((f): f is number => f !== undefined);
    const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
    const ranked = candidates
      .map((e) => {
        const h = createHash('sha256').update(`${streamId}/${segment}/${e.domain.id}`).digest();
        // 52 bits of the hash as u in (0, 1).
        const u = (Number(h.readBigUInt64BE(0) >> 12n) + 0.5) / 2 ** 52;
        const weight = Math.max(1, e.free ?? fallback);
        return { e, score: -weight / Math.log(u) };
      })
      .sort((a, b) => b.score - a.score || (a.e.domain.id < b.e.domain.id ? -1 : 1));
    const chosen: Entry[] = [];
    const zones = new Set(avoidZones);
    for (const { e } of ranked) {
      if (chosen.length === count) break;
      if (e.zone !== undefined && zones.has(e.zone)) continue;
      chosen.push(e);
      if (e.zone !== undefined) zones.add(e.zone);
    }
    // Fewer zones than pieces: fill up with the best remaining domains.
    for (const { e } of ranked) {
      if (chosen.length === count) break;
      if (!chosen.includes(e)) chosen.push(e);
    }
    return chosen.map((e) => e.domain);
  }

  zoneOf(id: string): string | undefined {
    return this.entries.get(id)?.zone;
  }
}

function readable(e: Entry): boolean {
  return e.online && e.state !== 'lost' && e.state !== 'suspect' && e.state !== 'offline';
}
