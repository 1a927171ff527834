// Storage nodes' health (design/engine.md 8.9): a heartbeat (GET /v1/info) every interval moves a
// node through online -> suspect (missed heartbeats: reads and writes skip it) -> offline (long
// unreachable: segments left with k+1 or fewer healthy pieces are repaired now) -> lost (after the
// grace period: every segment with a piece there is repaired). A node that answers with another
// identity (wiped, replaced) is lost at once. Heartbeats also bring free space (placement weight)
// and used bytes.

import type { EngineContext } from './context.ts';
import { criticalThreshold } from './layout.ts';
import { RemoteDomain } from './remote-domain.ts';
import type { DomainRecord } from './segment-store.ts';

export interface ClusterOptions {
  heartbeatMs: number;
  /** Missed heartbeats before a node is suspect. */
  suspectAfterMisses: number;
  /** Unreachable this long: offline (critical segments repaired). */
  offlineAfterMs: number;
  /** Unreachable this long: lost (everything on it repaired). */
  lostAfterMs: number;
}

export const DEFAULT_CLUSTER: ClusterOptions = {
  heartbeatMs: 10_000,
  suspectAfterMisses: 3,
  offlineAfterMs: 5 * 60_000,
  lostAfterMs: 15 * 60_000,
};

export interface ClusterHooks {
  markLost(id: string, why: string): Promise<void>;
}

export class NodeMonitor {
  private readonly ctx: EngineContext;
  private readonly options: ClusterOptions;
  private readonly hooks: ClusterHooks;
  private readonly misses = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  private readonly offline = new Set<string>();
  private ticking: Promise<void> | undefined;

  constructor(ctx: EngineContext, options: ClusterOptions, hooks: ClusterHooks) {
    this.ctx = ctx;
    this.options = options;
    this.hooks = hooks;
  }

  /** Reachability as the monitor sees it: online, suspect or offline. */
  health(id: string): 'online' | 'suspect' | 'offline' {
    if (this.offline.has(id)) return 'offline';
    return this.ctx.domains.isOnline(id) ? 'online' : 'suspect';
  }

  lastSeenAt(id: string): Date | undefined {
    const t = this.lastSeen.get(id);
    return t === undefined ? undefined : new Date(t);
  }

  /** Seeds last-seen times from the database (a restart does not reset the grace period). */
  seed(records: DomainRecord[]): void {
    for (const r of records) if (r.lastSeenAt && !this.lastSeen.has(r.id)) this.lastSeen.set(r.id, r.lastSeenAt.getTime());
  }

  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = Promise.all(
      this.ctx.domains.all().filter((d): d is RemoteDomain => d instanceof RemoteDomain).map((d) => this.check(d).catch((err: unknown) => this.ctx.log(`heartbeat of ${d.address} failed: ${String(err)}`))),
    )
      .then(() => {})
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async check(d: RemoteDomain): Promise<void> {
    const now = Date.now();
    const lifecycle = this.ctx.domains.stateOf(d.id) ?? 'online';
    try {
      const info = await d.info(Math.max(1000, Math.min(10_000, this.options.heartbeatMs * 2)));
      if (info.id !== d.id) {
        await this.hooks.markLost(d.id, `${d.address} now answers as another node (${info.id}): its pieces are gone`);
        return;
      }
      const first = !this.misses.has(d.id);
      const wasDown = !this.ctx.domains.isOnline(d.id) || this.offline.has(d.id);
      this.misses.set(d.id, 0);
      this.lastSeen.set(d.id, now);
      this.offline.delete(d.id);
      this.ctx.domains.setOnline(d.id, true);
      this.ctx.domains.setFree(d.id, d.available(info));
      await this.ctx.segments.setDomainSeen(d.id, { freeBytes: info.free, usedBytes: info.used, at: new Date(now) });
      if (wasDown) {
        await this.ctx.segments.setDomainState(d.id, lifecycle);
        if (!first) this.ctx.log(`storage node ${d.address} is back online`);
      }
    } catch {
      const misses = (this.misses.get(d.id) ?? 0) + 1;
      this.misses.set(d.id, misses);
      if (!this.lastSeen.has(d.id)) this.lastSeen.set(d.id, now);
      const since = now - this.lastSeen.get(d.id)!;
      if (since >= this.options.lostAfterMs) {
        await this.hooks.markLost(d.id, `storage node ${d.address} unreachable for ${Math.round(since / 1000)} s: declared lost`);
        return;
      }
      if (misses >= this.options.suspectAfterMisses && this.ctx.domains.isOnline(d.id)) {
        this.ctx.domains.setOnline(d.id, false);
        if (lifecycle === 'online') await this.ctx.segments.setDomainState(d.id, 'suspect');
        this.ctx.log(`storage node ${d.address} missed ${misses} heartbeats: suspect`);
      }
      if (since >= this.options.offlineAfterMs && !this.offline.has(d.id)) {
        this.offline.add(d.id);
        this.ctx.domains.setOnline(d.id, false);
        if (lifecycle === 'online') await this.ctx.segments.setDomainState(d.id, 'offline');
        const n = await queueCritical(this.ctx, d.id, 'offline');
        this.ctx.log(`storage node ${d.address} offline${n > 0 ? `: ${n} segment(s) at k+1 or fewer healthy pieces queued for repair` : ''}`);
      }
    }
  }
}

/** Queues the segments with a piece on `domainId` that have k+1 or fewer healthy pieces left. */
export async function queueCritical(ctx: EngineContext, domainId: string, reason: string): Promise<number> {
  const refs = await ctx.segments.piecesOnDomain(domainId);
  const seen = new Set<string>();
  const jobs: Array<{ streamId: string; segment: number; priority: number; reason: string }> = [];
  for (const r of refs) {
    const key = `${r.streamId}/${r.segment}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const seg = await ctx.segments.getSegment(r.streamId, r.segment);
    if (!seg) continue;
    const healthy = seg.pieces.filter((p) => p.state === 'ok' && ctx.domains.usable(p.domainId) && !ctx.domains.leaving(p.domainId)).length;
    if (healthy <= criticalThreshold(seg)) jobs.push({ streamId: r.streamId, segment: r.segment, priority: healthy - seg.k, reason });
  }
  if (jobs.length > 0) ctx.queueRepair(jobs);
  return jobs.length;
}
