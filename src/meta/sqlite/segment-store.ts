// The shard engine's SegmentStore on the MetaStore's own SQLite connection (tables: schema.ts).
// Like store.ts, every method runs its statements without awaiting in between, so it is atomic
// against other calls on this connection; multi-statement writes run in BEGIN IMMEDIATE.

import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import type {
  AuditEntry,
  DomainRecord,
  DomainState,
  PieceChange,
  PieceRecord,
  PieceRef,
  PieceState,
  RepairJob,
  SegmentRecord,
  SegmentStore,
  StreamRecord,
  Redundancy,
} from '../../engine/shard/segment-store.ts';

type Row = Record<string, SQLOutputValue>;

const STREAM_COLUMNS = 'stream_id, state, kek_id, wrapped_key, size, created_at';
const STREAM_SELECT = `${STREAM_COLUMNS}, deleted_at`;
const SEGMENT_COLUMNS = 'stream_id, seg_index, plain_offset, plain_size, cipher_size, k, m, block_size, codec, merkle_root, created_at';
const PIECE_COLUMNS = 'stream_id, seg_index, piece_index, domain_id, piece_size, merkle_root, state';
const DOMAIN_COLUMNS =
  'domain_id, kind, address, state, created_at, last_scrub_at, zone, capacity_bytes, free_bytes, used_bytes, last_seen_at, audit_alpha, audit_beta, audits_total, audits_failed';
const REPAIR_COLUMNS = 'stream_id, seg_index, priority, reason, inserted_at, attempted_at, attempts, last_error';

function buf(v: SQLOutputValue): Buffer {
  return Buffer.from(v as Uint8Array);
}

function streamFrom(r: Row): StreamRecord {
  const s: StreamRecord = {
    streamId: r.stream_id as string,
    state: r.state as StreamRecord['state'],
    kekId: r.kek_id as string,
    wrappedKey: buf(r.wrapped_key!),
    size: Number(r.size),
    createdAt: new Date(Number(r.created_at)),
  };
  if (r.deleted_at !== null && r.deleted_at !== undefined) s.deletedAt = new Date(Number(r.deleted_at));
  return s;
}

function pieceFrom(r: Row): PieceRecord {
  return {
    piece: Number(r.piece_index),
    domainId: r.domain_id as string,
    size: Number(r.piece_size),
    merkleRoot: buf(r.merkle_root!),
    state: r.state as PieceState,
  };
}

function segmentFrom(r: Row, pieces: PieceRecord[]): SegmentRecord {
  return {
    streamId: r.stream_id as string,
    segment: Number(r.seg_index),
    plainOffset: Number(r.plain_offset),
    plainSize: Number(r.plain_size),
    cipherSize: Number(r.cipher_size),
    k: Number(r.k),
    m: Number(r.m),
    blockSize: Number(r.block_size),
    codec: r.codec as string,
    merkleRoot: buf(r.merkle_root!),
    createdAt: new Date(Number(r.created_at)),
    pieces,
  };
}

function domainFrom(r: Row): DomainRecord {
  const d: DomainRecord = {
    id: r.domain_id as string,
    kind: r.kind as DomainRecord['kind'],
    address: r.address as string,
    state: r.state as DomainState,
    createdAt: new Date(Number(r.created_at)),
    auditAlpha: Number(r.audit_alpha),
    auditBeta: Number(r.audit_beta),
    auditsTotal: Number(r.audits_total),
    auditsFailed: Number(r.audits_failed),
  };
  if (r.last_scrub_at !== null) d.lastScrubAt = new Date(Number(r.last_scrub_at));
  if (r.zone !== null) d.zone = r.zone as string;
  if (r.capacity_bytes !== null) d.capacityBytes = Number(r.capacity_bytes);
  if (r.free_bytes !== null) d.freeBytes = Number(r.free_bytes);
  if (r.used_bytes !== null) d.usedBytes = Number(r.used_bytes);
  if (r.last_seen_at !== null) d.lastSeenAt = new Date(Number(r.last_seen_at));
  return d;
}

function repairFrom(r: Row): RepairJob {
  const job: RepairJob = {
    streamId: r.stream_id as string,
    segment: Number(r.seg_index),
    priority: Number(r.priority),
    reason: r.reason as string,
    insertedAt: new Date(Number(r.inserted_at)),
    attempts: Number(r.attempts),
  };
  if (r.attempted_at !== null) job.attemptedAt = new Date(Number(r.attempted_at));
  if (r.last_error !== null) job.lastError = r.last_error as string;
  return job;
}

function prepare(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),

    insertStream: p(`INSERT INTO streams (${STREAM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id) DO NOTHING`),
    completeStream: p(`UPDATE streams SET state = 'complete', size = ? WHERE stream_id = ?`),
    getStream: p(`SELECT ${STREAM_SELECT} FROM streams WHERE stream_id = ?`),
    deleteStream: p('DELETE FROM streams WHERE stream_id = ?'),
    streamsBefore: p('SELECT stream_id FROM streams WHERE created_at < ?'),
    markDeleted: p('UPDATE streams SET deleted_at = ? WHERE stream_id = ? AND deleted_at IS NULL'),
    deletedBefore: p('SELECT stream_id FROM streams WHERE deleted_at IS NOT NULL AND deleted_at < ?'),
    streamsNotUnderKek: p(`SELECT ${STREAM_SELECT} FROM streams WHERE kek_id <> ? LIMIT ?`),
    rewrap: p('UPDATE streams SET kek_id = ?, wrapped_key = ? WHERE stream_id = ? AND kek_id = ?'),

    insertSegment: p(`INSERT INTO segments (${SEGMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    getSegments: p(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE stream_id = ? ORDER BY seg_index`),
    getSegment: p(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE stream_id = ? AND seg_index = ?`),
    deleteSegments: p('DELETE FROM segments WHERE stream_id = ?'),

    insertPiece: p(`INSERT INTO pieces (${PIECE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    upsertPiece: p(`INSERT OR REPLACE INTO pieces (${PIECE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    streamPieces: p(`SELECT ${PIECE_COLUMNS} FROM pieces WHERE stream_id = ? ORDER BY seg_index, piece_index`),
    segmentPieces: p(`SELECT ${PIECE_COLUMNS} FROM pieces WHERE stream_id = ? AND seg_index = ? ORDER BY piece_index`),
    getPiece: p(`SELECT ${PIECE_COLUMNS} FROM pieces WHERE stream_id = ? AND seg_index = ? AND piece_index = ?`),
    deletePieces: p('DELETE FROM pieces WHERE stream_id = ?'),
    piecesOnDomain: p('SELECT stream_id, seg_index, piece_index FROM pieces WHERE domain_id = ?'),
    setPieceState: p('UPDATE pieces SET state = ? WHERE stream_id = ? AND seg_index = ? AND piece_index = ?'),

    enqueue: p(
      `INSERT INTO repair_queue (stream_id, seg_index, priority, reason, inserted_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (stream_id, seg_index) DO UPDATE SET priority = min(priority, excluded.priority)`,
    ),
    nextRepairs: p(
      `SELECT ${REPAIR_COLUMNS} FROM repair_queue WHERE attempted_at IS NULL OR attempted_at < ? ORDER BY priority, inserted_at LIMIT ?`,
    ),
    repairFailed: p('UPDATE repair_queue SET attempts = attempts + 1, attempted_at = ?, last_error = ? WHERE stream_id = ? AND seg_index = ?'),
    removeRepair: p('DELETE FROM repair_queue WHERE stream_id = ? AND seg_index = ?'),
    removeStreamRepairs: p('DELETE FROM repair_queue WHERE stream_id = ?'),
    repairBacklog: p(
      `SELECT count(*) AS segments, coalesce(sum(s.cipher_size), 0) AS bytes
       FROM repair_queue q JOIN segments s ON s.stream_id = q.stream_id AND s.seg_index = q.seg_index`,
    ),

    redundancy: p(
      `SELECT n, healthy, count(*) AS segments FROM (
         SELECT s.k + s.m AS n,
           (SELECT count(*) FROM pieces p JOIN domains d ON d.domain_id = p.domain_id
             WHERE p.stream_id = s.stream_id AND p.seg_index = s.seg_index AND p.state = 'ok' AND d.state = 'online') AS healthy
         FROM segments s)
       GROUP BY n, healthy ORDER BY healthy, n`,
    ),
    piecesOnUnusableDomains: p(`SELECT count(*) AS n FROM pieces p JOIN domains d ON d.domain_id = p.domain_id WHERE d.state <> 'online'`),
    listDomains: p(`SELECT ${DOMAIN_COLUMNS} FROM domains ORDER BY created_at, domain_id`),
    getDomain: p(`SELECT ${DOMAIN_COLUMNS} FROM domains WHERE domain_id = ?`),
    putDomain: p(
      `INSERT INTO domains (domain_id, kind, address, state, created_at, last_scrub_at, zone, capacity_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (domain_id) DO UPDATE SET kind = excluded.kind, address = excluded.address, state = excluded.state,
         zone = coalesce(excluded.zone, zone), capacity_bytes = coalesce(excluded.capacity_bytes, capacity_bytes)`,
    ),
    setDomainState: p('UPDATE domains SET state = ? WHERE domain_id = ?'),
    setDomainSeen: p('UPDATE domains SET free_bytes = ?, used_bytes = ?, last_seen_at = ? WHERE domain_id = ?'),
    pieceCounts: p(`SELECT domain_id, count(*) AS n, coalesce(sum(piece_size), 0) AS bytes FROM pieces WHERE state = 'ok' GROUP BY domain_id`),
    backlogByDomain: p(
      `SELECT p.domain_id AS domain_id, count(*) AS n FROM repair_queue q
       JOIN pieces p ON p.stream_id = q.stream_id AND p.seg_index = q.seg_index GROUP BY p.domain_id`,
    ),
    samplePieces: p(`SELECT stream_id, seg_index, piece_index, piece_size FROM pieces WHERE domain_id = ? AND state = 'ok' ORDER BY random() LIMIT ?`),
    auditLog: p('INSERT INTO audit_log (domain_id, stream_id, seg_index, piece_index, leaf, result, latency_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    auditUpdate: p(
      `UPDATE domains SET audit_alpha = audit_alpha * ? + ?, audit_beta = audit_beta * ? + ?,
         audits_total = audits_total + ?, audits_failed = audits_failed + ? WHERE domain_id = ?`,
    ),
    setDomainScrubbed: p('UPDATE domains SET last_scrub_at = ? WHERE domain_id = ?'),
  };
}

export class SqliteSegmentStore implements SegmentStore {
  private readonly db: DatabaseSync;
  private readonly q: ReturnType<typeof prepare>;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.q = prepare(db);
  }

  private write<T>(fn: () => T): T {
    this.q.begin.run();
    try {
      const result = fn();
      this.q.commit.run();
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.q.rollback.run();
      throw err;
    }
  }

  private insertStream(s: StreamRecord): void {
    this.q.insertStream.run(s.streamId, s.state, s.kekId, s.wrappedKey, s.size, s.createdAt.getTime());
  }

  async commitSegment(
    stream: StreamRecord,
    seg: SegmentRecord,
    options: { repair?: { priority: number; reason: string }; complete?: number } = {},
  ): Promise<void> {
    this.write(() => {
      this.insertStream(stream);
      this.q.insertSegment.run(
        seg.streamId, seg.segment, seg.plainOffset, seg.plainSize, seg.cipherSize, seg.k, seg.m, seg.blockSize, seg.codec,
        seg.merkleRoot, seg.createdAt.getTime(),
      );
      for (const p of seg.pieces) this.q.insertPiece.run(seg.streamId, seg.segment, p.piece, p.domainId, p.size, p.merkleRoot, p.state);
      if (options.repair) this.q.enqueue.run(seg.streamId, seg.segment, options.repair.priority, options.repair.reason, Date.now());
      if (options.complete !== undefined) this.q.completeStream.run(options.complete, seg.streamId);
    });
  }

  async commitEmptyStream(stream: StreamRecord): Promise<void> {
    this.write(() => {
      this.insertStream(stream);
      this.q.completeStream.run(0, stream.streamId);
    });
  }

  async getStream(streamId: string): Promise<StreamRecord | undefined> {
    const row = this.q.getStream.get(streamId);
    return row ? streamFrom(row) : undefined;
  }

  async getSegments(streamId: string): Promise<SegmentRecord[]> {
    const pieces = new Map<number, PieceRecord[]>();
    for (const r of this.q.streamPieces.all(streamId)) {
      const seg = Number(r.seg_index);
      let list = pieces.get(seg);
      if (!list) pieces.set(seg, (list = []));
      list.push(pieceFrom(r));
    }
    return this.q.getSegments.all(streamId).map((r) => segmentFrom(r, pieces.get(Number(r.seg_index)) ?? []));
  }

  async getSegment(streamId: string, segment: number): Promise<SegmentRecord | undefined> {
    const row = this.q.getSegment.get(streamId, segment);
    if (!row) return undefined;
    return segmentFrom(row, this.q.segmentPieces.all(streamId, segment).map(pieceFrom));
  }

  async deleteStream(streamId: string): Promise<Array<PieceRef & { domainId: string }>> {
    return this.write(() => {
      const pieces = this.q.streamPieces.all(streamId).map((r) => ({
        streamId,
        segment: Number(r.seg_index),
        piece: Number(r.piece_index),
        domainId: r.domain_id as string,
      }));
      this.q.removeStreamRepairs.run(streamId);
      this.q.deletePieces.run(streamId);
      this.q.deleteSegments.run(streamId);
      this.q.deleteStream.run(streamId);
      return pieces;
    });
  }

  async streamsCreatedBefore(time: Date): Promise<string[]> {
    return this.q.streamsBefore.all(time.getTime()).map((r) => r.stream_id as string);
  }

  async markDeleted(streamId: string, at: Date): Promise<boolean> {
    return this.q.markDeleted.run(at.getTime(), streamId).changes === 1;
  }

  async deletedBefore(time: Date): Promise<string[]> {
    return this.q.deletedBefore.all(time.getTime()).map((r) => r.stream_id as string);
  }

  async piecesOnDomain(domainId: string): Promise<PieceRef[]> {
    return this.q.piecesOnDomain.all(domainId).map((r) => ({
      streamId: r.stream_id as string,
      segment: Number(r.seg_index),
      piece: Number(r.piece_index),
    }));
  }

  async setPieceState(ref: PieceRef, state: PieceState): Promise<void> {
    this.q.setPieceState.run(state, ref.streamId, ref.segment, ref.piece);
  }

  async replacePieces(streamId: string, segment: number, changes: PieceChange[]): Promise<boolean> {
    return this.write(() => {
      if (!this.q.getSegment.get(streamId, segment)) {
        this.q.removeRepair.run(streamId, segment);
        return false;
      }
      for (const c of changes) {
        const row = this.q.getPiece.get(streamId, segment, c.piece);
        const current = row ? (row.domain_id as string) : undefined;
        if (current !== c.expectDomainId) return false;
      }
      for (const c of changes) this.q.upsertPiece.run(streamId, segment, c.piece, c.domainId, c.size, c.merkleRoot, 'ok');
      this.q.removeRepair.run(streamId, segment);
      return true;
    });
  }

  async enqueueRepairs(jobs: Array<{ streamId: string; segment: number; priority: number; reason: string }>): Promise<void> {
    if (jobs.length === 0) return;
    const now = Date.now();
    this.write(() => {
      for (const j of jobs) this.q.enqueue.run(j.streamId, j.segment, j.priority, j.reason, now);
    });
  }

  async nextRepairs(limit: number, retryBefore: Date): Promise<RepairJob[]> {
    return this.q.nextRepairs.all(retryBefore.getTime(), limit).map(repairFrom);
  }

  async recordRepairFailure(streamId: string, segment: number, error: string, at: Date): Promise<void> {
    this.q.repairFailed.run(at.getTime(), error.slice(0, 1000), streamId, segment);
  }

  async removeRepair(streamId: string, segment: number): Promise<void> {
    this.q.removeRepair.run(streamId, segment);
  }

  async repairQueue(): Promise<{ segments: number; bytes: number }> {
    const row = this.q.repairBacklog.get()!;
    return { segments: Number(row.segments), bytes: Number(row.bytes) };
  }

  async redundancy(): Promise<Redundancy> {
    const out: Redundancy = { segments: 0, full: 0, degraded: [], piecesOnUnusableDomains: Number(this.q.piecesOnUnusableDomains.get()!.n) };
    for (const r of this.q.redundancy.all()) {
      const [pieces, healthy, segments] = [Number(r.n), Number(r.healthy), Number(r.segments)];
      out.segments += segments;
      if (healthy >= pieces) out.full += segments;
      else out.degraded.push({ pieces, healthy, segments });
    }
    return out;
  }

  async listDomains(): Promise<DomainRecord[]> {
    return this.q.listDomains.all().map(domainFrom);
  }

  async putDomain(d: DomainRecord): Promise<void> {
    this.q.putDomain.run(
      d.id, d.kind, d.address, d.state, d.createdAt.getTime(), d.lastScrubAt ? d.lastScrubAt.getTime() : null, d.zone ?? null, d.capacityBytes ?? null,
    );
  }

  async setDomainSeen(id: string, seen: { freeBytes: number; usedBytes: number; at: Date }): Promise<void> {
    this.q.setDomainSeen.run(seen.freeBytes, seen.usedBytes, seen.at.getTime(), id);
  }

  async pieceCounts(): Promise<Map<string, { pieces: number; bytes: number }>> {
    return new Map(this.q.pieceCounts.all().map((r) => [r.domain_id as string, { pieces: Number(r.n), bytes: Number(r.bytes) }]));
  }

  async repairBacklogByDomain(): Promise<Map<string, number>> {
    return new Map(this.q.backlogByDomain.all().map((r) => [r.domain_id as string, Number(r.n)]));
  }

  async samplePieces(domainId: string, limit: number): Promise<Array<PieceRef & { size: number }>> {
    return this.q.samplePieces.all(domainId, limit).map((r) => ({
      streamId: r.stream_id as string,
      segment: Number(r.seg_index),
      piece: Number(r.piece_index),
      size: Number(r.piece_size),
    }));
  }

  async recordAudit(e: AuditEntry, forget: number): Promise<DomainRecord | undefined> {
    const pass = e.result === 'pass' ? 1 : 0;
    const fail = e.result === 'fail' || e.result === 'missing' ? 1 : 0;
    return this.write(() => {
      this.q.auditLog.run(e.domainId, e.ref.streamId, e.ref.segment, e.ref.piece, e.leaf, e.result, e.latencyMs, e.at.getTime());
      if (pass + fail > 0) this.q.auditUpdate.run(forget, pass, forget, fail, 1, fail, e.domainId);
      const row = this.q.getDomain.get(e.domainId);
      return row ? domainFrom(row) : undefined;
    });
  }

  async setDomainState(id: string, state: DomainState): Promise<void> {
    this.q.setDomainState.run(state, id);
  }

  async setDomainScrubbed(id: string, at: Date): Promise<void> {
    this.q.setDomainScrubbed.run(at.getTime(), id);
  }

  async streamsNotUnderKek(kekId: string, limit: number): Promise<StreamRecord[]> {
    return this.q.streamsNotUnderKek.all(kekId, limit).map(streamFrom);
  }

  async rewrapStream(streamId: string, expectKekId: string, kekId: string, wrappedKey: Buffer): Promise<boolean> {
    return this.q.rewrap.run(kekId, wrappedKey, streamId, expectKekId).changes === 1;
  }
}
