// ShardEngine: the ObjectEngine that encrypts, erasure-codes and spreads objects over failure
// domains (data directories), with inline tiny objects, degraded reads, background repair, scrub
// and garbage collection. One directory is the 1+0 profile of the same code.

import { Readable } from 'node:stream';
import type { ObjectEngine, WriteOptions, WriteResult } from '../types.ts';
import { LatencyTracker, type EngineContext } from './context.ts';
import { DirectoryDomain, readDomainId } from './domain.ts';
import { INLINE_PREFIX, isInline, openInline } from './inline.ts';
import { InlineCache } from './inline-cache.ts';
import { DEFAULT_BLOCK_SIZE, archiveProfileFor, nodeProfileFor, profileFor, type Profile } from './layout.ts';
import { fetchNodeInfo, RemoteDomain, type NodeClientOptions } from './remote-domain.ts';
import { DEFAULT_CLUSTER, NodeMonitor, type ClusterOptions } from './cluster.ts';
import { auditScore, Auditor, DEFAULT_AUDIT, type AuditOptions } from './audit.ts';
import type { KeyRing } from '../../security/master-key.ts';
import { pieceName } from './piece-file.ts';
import { DomainSet } from './placement.ts';
import { readStream } from './reader.ts';
import { DEFAULT_REPAIR, Repairer, type RepairOptions, type RepairStatus } from './repair.ts';
import { scrubDomain, type ScrubResult } from './scrub.ts';
import type { DomainRecord, Redundancy, SegmentStore } from './segment-store.ts';
import { STREAM_PREFIX, writeObject } from './writer.ts';
import { resolve } from 'node:path';

/** Objects up to this size are stored inline (measured: see docs/architecture.md). */
export const DEFAULT_INLINE_THRESHOLD = 4096;
export const DEFAULT_SCRUB_PERIOD_MS = 30 * 24 * 3600 * 1000;
export const DEFAULT_DELETE_GRACE_MS = 15 * 60 * 1000;

/** One storage node as `node list` shows it. */
export interface NodeStatus {
  id: string;
  kind: 'dir' | 'node';
  address: string;
  zone: string | undefined;
  /** Lifecycle state (online, draining, quarantined, lost) or, when unreachable, suspect/offline. */
  state: string;
  capacityBytes: number | undefined;
  freeBytes: number | undefined;
  usedBytes: number | undefined;
  /** Pieces recorded there (state ok) and their bytes. */
  pieces: number;
  pieceBytes: number;
  lastSeenAt: string | undefined;
  auditScore: number;
  audits: number;
  auditsFailed: number;
  /** Queued repair jobs of segments with a piece there. */
  repairBacklog: number;
  warning: string | undefined;
}

export class NodeAdminError extends Error {
  readonly code: 'NotFound' | 'Conflict' | 'Invalid' | 'Unavailable';
  constructor(code: NodeAdminError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface ShardEngineOptions {
  /** Data directories: one failure domain each (may be empty when storage nodes are used). */
  drives: string[];
  /** Storage nodes: how to reach them (the cluster key, trusted CA, time limits). Unset: directories only. */
  nodes?: NodeClientOptions;
  cluster?: Partial<ClusterOptions>;
  audit?: Partial<AuditOptions>;
  /** A shard read not answered within max(this, its domain's p95 latency) is hedged with a parity read (ms, default 50). */
  hedgeMinMs?: number;
  /** Domains with less free space than this get no new pieces (default 256 MiB). */
  placementReserveBytes?: number;
  segments: SegmentStore;
  keys: KeyRing;
  /** Overrides the profile chosen from the directory count. */
  profile?: Profile;
  /** Overrides the ARCHIVE profile (default: archiveProfileFor the directory count). */
  archiveProfile?: Profile;
  blockSize?: number;
  /** Objects up to this many bytes live in their locator; -1 turns inlining off. */
  inlineThreshold?: number;
  repair?: Partial<RepairOptions>;
  /** Every domain is scrubbed about this often (+-17%); 0 turns scheduled scrubs off. */
  scrubPeriodMs?: number;
  /** Scrub sleeps this many times the time each piece took. */
  scrubTranquility?: number;
  /** Run repair, scrub and domain checks in the background (default true; tests drive them by hand). */
  background?: boolean;
  /** Milliseconds between domain health checks. */
  checkIntervalMs?: number;
  /**
   * A deleted stream stays readable this long (ms) before its pieces go, so a reader that started
   * on the old version of an object (or of one of its parts) finishes it. Default 15 minutes.
   */
  deleteGraceMs?: number;
  log?: (message: string) => void;
}

export class ShardEngine implements ObjectEngine {
  readonly ctx: EngineContext;
  private readonly drives: string[];
  private readonly repairer: Repairer;
  private readonly options: ShardEngineOptions;
  private readonly timers: NodeJS.Timeout[] = [];
  private checking: Promise<void> | undefined;
  private scrubbing: Promise<void> | undefined;
  private readonly scrubAbort = new AbortController();
  private closed = false;
  /** Hot inline objects' plaintext (a 4 KiB GET's decryption costs more than its lookup). */
  private readonly inline = new InlineCache();
  private readonly openInline = (locator: string) => openInline(this.ctx.keys, locator);
  readonly monitor: NodeMonitor;
  readonly auditor: Auditor;
  private readonly auditOptions: AuditOptions;

  private constructor(options: ShardEngineOptions, domains: DomainSet) {
    this.options = options;
    this.drives = options.drives.map((d) => resolve(d));
    const log = options.log ?? ((m: string) => console.error(m));
    const ctx: EngineContext = {
      segments: options.segments,
      keys: options.keys,
      domains,
      profile: options.profile ?? profileFor(Math.max(1, options.drives.length)),
      archiveProfile: options.archiveProfile ?? options.profile ?? archiveProfileFor(Math.max(1, options.drives.length)),
      blockSize: options.blockSize ?? DEFAULT_BLOCK_SIZE,
      inlineThreshold: options.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD,
      queueRepair: (jobs) => {
        const done = jobs.length > 0 ? options.segments.enqueueRepairs(jobs) : Promise.resolve();
        done.then(() => this.repairer.wake()).catch((err: unknown) => log(`could not queue repairs: ${String(err)}`));
      },
      log,
      latency: new LatencyTracker(),
      hedgeMinMs: options.hedgeMinMs ?? 50,
    };
    this.ctx = ctx;
    domains.reserveBytes = options.placementReserveBytes ?? 256 * 1024 * 1024;
    this.repairer = new Repairer(ctx, { ...DEFAULT_REPAIR, ...options.repair });
    this.monitor = new NodeMonitor(ctx, { ...DEFAULT_CLUSTER, ...options.cluster }, { markLost: (id, why) => this.markLost(id, why).then(() => {}) });
    this.auditOptions = { ...DEFAULT_AUDIT, ...options.audit };
    this.auditor = new Auditor(ctx, this.auditOptions, { quarantine: (id, score) => this.quarantine(id, score) });
  }

  static async open(options: ShardEngineOptions): Promise<ShardEngine> {
    if (options.drives.length === 0 && !options.nodes) throw new Error('no data directory given');
    const paths = options.drives.map((d) => resolve(d));
    if (new Set(paths).size !== paths.length) throw new Error('a data directory is listed twice');
    const engine = new ShardEngine(options, new DomainSet());
    const { k, m } = engine.ctx.profile;
    if (!options.nodes && k + m > paths.length) throw new Error(`profile ${k}+${m} needs ${k + m} data directories, ${paths.length} given`);
    await engine.attachDomains();
    if (options.nodes) {
      await engine.attachNodes();
      await engine.monitor.tick();
    }
    await engine.refreshSpace();
    engine.refreshProfile();
    if (m === 0 && !options.nodes) {
      engine.ctx.log(
        `warning: ${paths.length} data director${paths.length === 1 ? 'y' : 'ies'} gives profile ${k}+0: rot is detected but nothing protects against a lost disk`,
      );
    }
    if (options.background !== false) {
      engine.repairer.start();
      const check = setInterval(
        () => void engine.checkDomains().then(() => engine.refreshSpace()).catch((err: unknown) => engine.ctx.log(`domain check failed: ${String(err)}`)),
        options.checkIntervalMs ?? 5000,
      );
      check.unref();
      engine.timers.push(check);
      if (options.nodes) {
        const beat = setInterval(() => void engine.monitor.tick(), engine.options.cluster?.heartbeatMs ?? DEFAULT_CLUSTER.heartbeatMs);
        beat.unref();
        engine.timers.push(beat);
      }
      if (engine.auditOptions.intervalMs > 0) {
        const audit = setInterval(() => void engine.auditor.tick(), engine.auditOptions.intervalMs);
        audit.unref();
        engine.timers.push(audit);
      }
      const purge = setInterval(() => void engine.purgeDeleted().catch((err: unknown) => engine.ctx.log(`purge failed: ${String(err)}`)), 30_000);
      purge.unref();
      engine.timers.push(purge);
      if ((options.scrubPeriodMs ?? DEFAULT_SCRUB_PERIOD_MS) > 0) {
        const scrub = setInterval(() => void engine.scrubDue().catch((err: unknown) => engine.ctx.log(`scrub failed: ${String(err)}`)), 3_600_000);
        scrub.unref();
        engine.timers.push(scrub);
      }
    }
    return engine;
  }

  /** Opens every configured directory, records it, and marks what changed since the last start. */
  private async attachDomains(): Promise<void> {
    const known = await this.ctx.segments.listDomains();
    const attached = new Set<string>();
    for (const path of this.drives) {
      const { domain, created } = await DirectoryDomain.open(path);
      if (created) {
        // An empty directory where a known one was: that drive was replaced; its pieces are lost.
        for (const old of known) if (old.address === path && old.state !== 'lost') await this.markLost(old.id);
      }
      const previous = known.find((d) => d.id === domain.id);
      const record: DomainRecord = { id: domain.id, kind: 'dir', address: path, state: 'online', createdAt: previous?.createdAt ?? new Date() };
      if (previous?.lastScrubAt) record.lastScrubAt = previous.lastScrubAt;
      await this.ctx.segments.putDomain(record);
      this.ctx.domains.add(domain);
      attached.add(domain.id);
    }
    // Known directories no longer configured: offline (their pieces count as unavailable).
    for (const d of known) {
      if (!attached.has(d.id) && d.state === 'online') await this.ctx.segments.setDomainState(d.id, 'offline');
    }
  }

  /** Storage nodes recorded in the database (not lost) become failure domains. */
  private async attachNodes(): Promise<void> {
    const records = await this.ctx.segments.listDomains();
    this.monitor.seed(records);
    for (const r of records) {
      if (r.kind !== 'node' || r.state === 'lost') continue;
      const lifecycle = r.state === 'draining' || r.state === 'quarantined' ? r.state : 'online';
      const domain = new RemoteDomain(r.id, r.address, this.options.nodes!);
      domain.capacityOverride = r.capacityBytes;
      domain.onTrouble = (id) => this.suspect(id);
      // Unreachable until its first heartbeat answers (in open(), before anything is served).
      this.ctx.domains.add(domain, false, lifecycle, r.zone);
      if (r.freeBytes !== undefined) this.ctx.domains.setFree(r.id, r.freeBytes);
    }
  }

  /** A run of failed requests: the node is skipped (suspect) until its heartbeat answers again. */
  private suspect(id: string): void {
    if (!this.ctx.domains.isOnline(id)) return;
    this.ctx.domains.setOnline(id, false);
    if (this.ctx.domains.stateOf(id) === 'online') void this.ctx.segments.setDomainState(id, 'suspect').catch(() => {});
    this.ctx.log(`storage node ${this.ctx.domains.get(id)?.address ?? id} failed several requests in a row: suspect until it answers a heartbeat`);
  }

  /** Free space of the local directories (placement weight and the reserve). */
  private async refreshSpace(): Promise<void> {
    for (const d of this.ctx.domains.all()) {
      if (d.kind !== 'dir') continue;
      const s = await d.space().catch(() => undefined);
      if (s) this.ctx.domains.setFree(d.id, s.free);
    }
  }

  /**
   * The profile of new segments follows the number of failure domains that stay (not lost,
   * draining or quarantined): directories by profileFor, storage nodes by nodeProfileFor.
   */
  refreshProfile(): void {
    if (this.options.profile) return;
    const staying = this.ctx.domains.all().filter((d) => !this.ctx.domains.leaving(d.id));
    const count = Math.max(1, staying.length);
    const nodes = staying.some((d) => d.kind === 'node');
    this.ctx.profile = nodes ? nodeProfileFor(count) : profileFor(count);
    this.ctx.archiveProfile = this.options.archiveProfile ?? archiveProfileFor(count, this.ctx.profile);
  }

  /** A domain's pieces are gone for good: record it and queue every segment that had one there. */
  private async markLost(domainId: string, why?: string): Promise<number> {
    if (why) this.ctx.log(why);
    await this.ctx.segments.setDomainState(domainId, 'lost');
    const gone = this.ctx.domains.get(domainId);
    this.ctx.domains.remove(domainId);
    if (gone instanceof RemoteDomain) gone.destroy();
    this.refreshProfile();
    const refs = await this.ctx.segments.piecesOnDomain(domainId);
    const segments = new Map<string, { streamId: string; segment: number; priority: number; reason: string }>();
    for (const r of refs) segments.set(`${r.streamId}/${r.segment}`, { streamId: r.streamId, segment: r.segment, priority: 0, reason: `lost ${domainId}` });
    await this.ctx.segments.enqueueRepairs([...segments.values()]);
    this.repairer.wake();
    if (segments.size > 0) this.ctx.log(`data directory ${domainId} lost: ${segments.size} segment(s) queued for repair`);
    return segments.size;
  }

  /**
   * Health check of every configured directory: one that is unreachable goes offline (reads
   * treat its pieces as missing, writes avoid it); one that came back goes online; one whose
   * identity marker is gone (wiped or replaced by an empty directory) is lost, its segments
   * queued for repair, and the directory becomes a new, empty domain.
   */
  async checkDomains(): Promise<void> {
    if (this.checking) return this.checking;
    this.checking = (async () => {
      for (const path of this.drives) {
        const current = this.ctx.domains.all().find((d) => d.address === path);
        let id: string | undefined;
        let reachable = true;
        try {
          id = await readDomainId(path);
        } catch {
          reachable = false;
        }
        if (current && reachable && id === current.id) {
          this.ctx.domains.setOnline(current.id, true);
          continue;
        }
        if (!reachable) {
          if (current) {
            this.ctx.domains.setOnline(current.id, false);
            await this.ctx.segments.setDomainState(current.id, 'offline');
          }
          continue;
        }
        // Reachable, but not the domain we had: wiped, or an empty replacement.
        if (current) await this.markLost(current.id);
        const { domain } = await DirectoryDomain.open(path);
        await this.ctx.segments.putDomain({ id: domain.id, kind: 'dir', address: path, state: 'online', createdAt: new Date() });
        this.ctx.domains.add(domain);
      }
    })();
    try {
      await this.checking;
    } finally {
      this.checking = undefined;
    }
  }

  async write(source: AsyncIterable<Buffer>, options?: WriteOptions): Promise<WriteResult> {
    return writeObject(this.ctx, source, options?.storageClass === 'ARCHIVE' ? this.ctx.archiveProfile : this.ctx.profile);
  }

  readonly heldPrefix = INLINE_PREFIX;

  readHeld(locator: string): Buffer | undefined {
    return isInline(locator) ? this.inline.get(locator, this.openInline) : undefined;
  }

  read(locator: string, range?: { start: number; end: number }): Readable {
    if (isInline(locator)) {
      let plain: Buffer;
      try {
        plain = this.inline.get(locator, this.openInline);
      } catch (err) {
        return Readable.from((async function* () {
          throw err;
        })());
      }
      const start = range?.start ?? 0;
      const end = range ? Math.min(range.end, plain.length - 1) : plain.length - 1;
      return Readable.from(end >= start ? [plain.subarray(start, end + 1)] : [], { objectMode: false });
    }
    return readStream(this.ctx, streamIdOf(locator), range);
  }

  async delete(locator: string): Promise<void> {
    if (isInline(locator)) return;
    const streamId = streamIdOf(locator);
    if ((this.options.deleteGraceMs ?? DEFAULT_DELETE_GRACE_MS) <= 0) return this.deleteStream(streamId);
    if (!(await this.ctx.segments.markDeleted(streamId, new Date()))) return;
    // Out of the live set now (scrub, listings of pieces), still readable until the purge.
    const segments = await this.ctx.segments.getSegments(streamId);
    await Promise.all(
      segments.flatMap((seg) =>
        seg.pieces.map((p) => this.ctx.domains.usable(p.domainId)?.trash(pieceName(streamId, seg.segment, p.piece)).catch(() => {})),
      ),
    );
  }

  /** Removes the streams deleted before `before` (the grace period's end); returns how many. */
  async purgeDeleted(before = new Date(Date.now() - (this.options.deleteGraceMs ?? DEFAULT_DELETE_GRACE_MS))): Promise<number> {
    const ids = await this.ctx.segments.deletedBefore(before);
    for (const id of ids) await this.deleteStream(id);
    return ids.length;
  }

  private async deleteStream(streamId: string): Promise<void> {
    const pieces = await this.ctx.segments.deleteStream(streamId);
    // Rows go first: a piece file left behind by a failure here is an orphan the sweep removes.
    await Promise.all(
      pieces.map((p) => this.ctx.domains.usable(p.domainId)?.delete(pieceName(p.streamId, p.segment, p.piece)).catch(() => {})),
    );
  }

  async sweep(keep: ReadonlySet<string>, olderThan: Date): Promise<number> {
    let removed = 0;
    for (const streamId of await this.ctx.segments.streamsCreatedBefore(olderThan)) {
      if (keep.has(STREAM_PREFIX + streamId)) continue;
      await this.deleteStream(streamId);
      removed++;
    }
    // Piece files that no piece row names (a crash between a piece write and its segment commit,
    // a repair that lost its race, a failed delete), and unfinished writes.
    for (const domain of this.ctx.domains.online()) {
      try {
        const recorded = new Set((await this.ctx.segments.piecesOnDomain(domain.id)).map((r) => pieceName(r.streamId, r.segment, r.piece)));
        for (const listing of [domain.list(), domain.listTrash()]) {
          for await (const info of listing) {
            if (recorded.has(info.name) || info.mtime >= olderThan) continue;
            await domain.delete(info.name).catch(() => {});
            removed++;
          }
        }
        removed += await domain.sweepTemporary(olderThan);
      } catch (err) {
        // An unreachable node is swept another time; it does not stop the others (or the start).
        this.ctx.log(`garbage collection skipped ${domain.address}: ${String(err)}`);
      }
    }
    return removed;
  }

  /** Runs every queued repair now (tests, and `drive replace` with progress). */
  async repairAll(): Promise<void> {
    await this.repairer.drain();
  }

  repairStatus(): Promise<RepairStatus> {
    return this.repairer.status();
  }

  /** Every segment's healthy pieces, summed up (scans all segments). */
  redundancy(): Promise<Redundancy> {
    return this.ctx.segments.redundancy();
  }

  /** Scrubs one domain (by id or path), or all; records the time; returns per-domain results. */
  async scrub(which?: string): Promise<Map<string, ScrubResult>> {
    const results = new Map<string, ScrubResult>();
    for (const domain of this.ctx.domains.online()) {
      if (which && domain.id !== which && domain.address !== resolve(which)) continue;
      const r = await scrubDomain(this.ctx, domain, { tranquility: this.options.scrubTranquility ?? 0, signal: this.scrubAbort.signal });
      await this.ctx.segments.setDomainScrubbed(domain.id, new Date());
      results.set(domain.id, r);
    }
    return results;
  }

  /** Scrubs, one at a time, the domains whose last scrub is older than the period (+-17% jitter). */
  private async scrubDue(): Promise<void> {
    if (this.scrubbing || this.closed) return;
    const period = this.options.scrubPeriodMs ?? DEFAULT_SCRUB_PERIOD_MS;
    this.scrubbing = (async () => {
      const records = await this.ctx.segments.listDomains();
      for (const domain of this.ctx.domains.online()) {
        const rec = records.find((r) => r.id === domain.id);
        const last = rec?.lastScrubAt?.getTime() ?? rec?.createdAt.getTime() ?? Date.now();
        const due = last + period * (5 / 6 + Math.random() / 3);
        if (Date.now() < due || this.closed) continue;
        const r = await scrubDomain(this.ctx, domain, { tranquility: this.options.scrubTranquility ?? 4, signal: this.scrubAbort.signal });
        if (this.scrubAbort.signal.aborted) return;
        await this.ctx.segments.setDomainScrubbed(domain.id, new Date());
        if (r.corrupt + r.missing > 0) this.ctx.log(`scrub of ${domain.address}: ${r.corrupt} corrupt, ${r.missing} missing piece(s) queued for repair`);
      }
    })();
    try {
      await this.scrubbing;
    } finally {
      this.scrubbing = undefined;
    }
  }

  /**
   * Replaces a failed data directory: OLD's pieces count as lost, NEW becomes a failure domain,
   * and every affected segment is rebuilt (onto NEW or any domain without a piece of it), with
   * progress reports. The caller then changes --drives / OORT_DRIVES to name NEW instead of OLD.
   */
  async replaceDrive(oldPath: string, newPath: string, onProgress?: (status: RepairStatus) => void): Promise<RepairStatus> {
    const from = resolve(oldPath);
    const to = resolve(newPath);
    const index = this.drives.indexOf(from);
    if (index < 0) throw new Error(`${oldPath} is not one of the data directories`);
    if (this.drives.includes(to)) throw new Error(`${newPath} is already a data directory`);
    const existing = await readDomainId(to).catch(() => undefined);
    if (existing) throw new Error(`${newPath} already belongs to a data directory (${existing}); give an empty one`);
    const old = this.ctx.domains.all().find((d) => d.address === from);
    const known = (await this.ctx.segments.listDomains()).filter((d) => d.address === from && d.state !== 'lost');
    const { domain } = await DirectoryDomain.open(to);
    await this.ctx.segments.putDomain({ id: domain.id, kind: 'dir', address: to, state: 'online', createdAt: new Date() });
    this.ctx.domains.add(domain);
    this.drives[index] = to;
    for (const id of new Set([...(old ? [old.id] : []), ...known.map((d) => d.id)])) await this.markLost(id);
    const timer = onProgress ? setInterval(() => void this.repairer.status().then(onProgress), 1000) : undefined;
    try {
      await this.repairer.drain();
    } finally {
      if (timer) clearInterval(timer);
    }
    const status = await this.repairer.status();
    onProgress?.(status);
    return status;
  }

  /** Adds a storage node (its id is what it answers); it takes pieces from now on. */
  async addNode(url: string, options: { zone?: string; capacityBytes?: number } = {}): Promise<NodeStatus> {
    if (!this.options.nodes) throw new NodeAdminError('Invalid', 'this gateway has no cluster secret (--cluster-secret-file): it cannot use storage nodes');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new NodeAdminError('Invalid', `not a URL: ${url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new NodeAdminError('Invalid', 'a node URL is http:// or https://');
    const address = parsed.origin;
    let info;
    try {
      info = await fetchNodeInfo(address, this.options.nodes);
    } catch (err) {
      throw new NodeAdminError('Unavailable', `cannot reach the node at ${address}: ${(err as Error).message}`);
    }
    const known = (await this.ctx.segments.listDomains()).find((d) => d.id === info.id);
    if (known && known.state !== 'lost') throw new NodeAdminError('Conflict', `node ${info.id} is already a member (${known.address})`);
    if (known) throw new NodeAdminError('Conflict', `node ${info.id} was declared lost; wipe its data directory to add it as a new node`);
    const record: DomainRecord = { id: info.id, kind: 'node', address, state: 'online', createdAt: new Date(), zone: options.zone, capacityBytes: options.capacityBytes };
    await this.ctx.segments.putDomain(record);
    await this.ctx.segments.setDomainSeen(info.id, { freeBytes: info.free, usedBytes: info.used, at: new Date() });
    const domain = new RemoteDomain(info.id, address, this.options.nodes);
    domain.capacityOverride = options.capacityBytes;
    domain.onTrouble = (id) => this.suspect(id);
    this.ctx.domains.add(domain, true, 'online', options.zone);
    this.ctx.domains.setFree(info.id, domain.available(info));
    this.refreshProfile();
    this.ctx.log(`storage node ${info.id} added (${address}); new segments use ${this.ctx.profile.k}+${this.ctx.profile.m}`);
    // Repairs that waited for a place to put pieces can go now.
    this.repairer.kick();
    return (await this.nodeStatus(info.id))!;
  }

  /** Every failure domain (nodes and directories), with usage, health and audit score. */
  async listNodes(): Promise<NodeStatus[]> {
    const [records, counts, backlog] = await Promise.all([
      this.ctx.segments.listDomains(),
      this.ctx.segments.pieceCounts(),
      this.ctx.segments.repairBacklogByDomain(),
    ]);
    const announced = new Map<string, number>();
    for (const d of this.ctx.domains.all()) {
      if (d instanceof RemoteDomain && d.lastInfo) announced.set(d.id, d.lastInfo.capacity);
      else if (d.kind === 'dir') {
        const s = await d.space().catch(() => undefined);
        if (s) announced.set(d.id, s.total);
      }
    }
    return records.map((r) => {
      const score = auditScore(r, this.auditOptions.priorAlpha);
      const lifecycle = r.state;
      let state: string = lifecycle;
      if (r.kind === 'node' && this.ctx.domains.get(r.id) && lifecycle !== 'lost') {
        const health = this.monitor.health(r.id);
        if (health !== 'online') state = lifecycle === 'online' || lifecycle === 'suspect' || lifecycle === 'offline' ? health : `${lifecycle} (${health})`;
        else if (lifecycle === 'suspect' || lifecycle === 'offline') state = 'online';
      }
      const c = counts.get(r.id);
      return {
        id: r.id,
        kind: r.kind,
        address: r.address,
        zone: r.zone,
        state,
        capacityBytes: r.capacityBytes ?? announced.get(r.id),
        freeBytes: r.freeBytes,
        usedBytes: r.usedBytes,
        pieces: c?.pieces ?? 0,
        pieceBytes: c?.bytes ?? 0,
        lastSeenAt: (this.monitor.lastSeenAt(r.id) ?? r.lastSeenAt)?.toISOString(),
        auditScore: Number(score.toFixed(6)),
        audits: r.auditsTotal ?? 0,
        auditsFailed: r.auditsFailed ?? 0,
        repairBacklog: backlog.get(r.id) ?? 0,
        warning:
          lifecycle === 'quarantined'
            ? 'quarantined: failed audits; its pieces are being moved'
            : score < this.auditOptions.warnBelow && lifecycle !== 'lost'
              ? `audit score ${score.toFixed(4)} is near the quarantine level ${this.auditOptions.quarantineBelow}`
              : undefined,
      };
    });
  }

  async nodeStatus(id: string): Promise<NodeStatus | undefined> {
    return (await this.listNodes()).find((n) => n.id === id);
  }

  private async requireMember(id: string): Promise<DomainRecord> {
    const r = (await this.ctx.segments.listDomains()).find((d) => d.id === id);
    if (!r) throw new NodeAdminError('NotFound', `no storage node or directory ${id}`);
    return r;
  }

  /** Moves every piece off a node (it takes no new ones); `node list` shows the pieces left. */
  async drainNode(id: string): Promise<NodeStatus> {
    const r = await this.requireMember(id);
    if (r.state === 'lost') throw new NodeAdminError('Conflict', `${id} is lost: its pieces are being repaired already`);
    if (r.kind !== 'node') throw new NodeAdminError('Invalid', `${id} is a data directory: use drive replace`);
    await this.ctx.segments.setDomainState(id, 'draining');
    this.ctx.domains.setState(id, 'draining');
    this.refreshProfile();
    await this.queueAll(id, 'drain', 1);
    return (await this.nodeStatus(id))!;
  }

  /** Declares a node lost now (its pieces are rebuilt elsewhere); it is never used again. */
  async removeNode(id: string): Promise<NodeStatus> {
    const r = await this.requireMember(id);
    if (r.kind !== 'node') throw new NodeAdminError('Invalid', `${id} is a data directory: use drive replace`);
    if (r.state !== 'lost') await this.markLost(id, `storage node ${id} (${r.address}) removed by the administrator: declared lost`);
    return (await this.nodeStatus(id))!;
  }

  private async quarantine(id: string, score: number): Promise<void> {
    await this.ctx.segments.setDomainState(id, 'quarantined');
    this.ctx.domains.setState(id, 'quarantined');
    this.refreshProfile();
    const n = await this.queueAll(id, 'quarantine', 0);
    this.ctx.log(`WARNING: storage node ${this.ctx.domains.get(id)?.address ?? id} quarantined (audit score ${score.toFixed(4)}): no new pieces; ${n} segment(s) queued to move away`);
  }

  private async queueAll(id: string, reason: string, priority: number): Promise<number> {
    const refs = await this.ctx.segments.piecesOnDomain(id);
    const jobs = new Map<string, { streamId: string; segment: number; priority: number; reason: string }>();
    for (const r of refs) jobs.set(`${r.streamId}/${r.segment}`, { streamId: r.streamId, segment: r.segment, priority, reason });
    await this.ctx.segments.enqueueRepairs([...jobs.values()]);
    this.repairer.kick();
    return jobs.size;
  }

  /** The data directories in use now (after any replacement). */
  dataDirectories(): string[] {
    return [...this.drives];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.scrubAbort.abort();
    await this.repairer.stop();
    await this.checking?.catch(() => {});
    await this.scrubbing?.catch(() => {});
    // Nothing reads any more: deleted streams need no grace.
    await this.purgeDeleted(new Date(Date.now() + 1)).catch((err: unknown) => this.ctx.log(`purge failed: ${String(err)}`));
    await this.monitor.tick().catch(() => {});
    for (const d of this.ctx.domains.all()) if (d instanceof RemoteDomain) d.destroy();
  }
}

function streamIdOf(locator: string): string {
  if (!locator.startsWith(STREAM_PREFIX) || !/^[0-9a-f]{32}$/.test(locator.slice(STREAM_PREFIX.length))) {
    throw new Error(`bad locator ${locator.slice(0, 40)}`);
  }
  return locator.slice(STREAM_PREFIX.length);
}
