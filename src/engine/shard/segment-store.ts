// Where the shard engine keeps its metadata: streams (with their wrapped data keys), segments,
// pieces, failure domains and the repair queue. It lives in the metadata database (SQLite:
// src/meta/sqlite/segment-store.ts, on the MetaStore's own connection), not in the locator.

export type StreamState = 'writing' | 'complete';

export interface StreamRecord {
  /** 32 hex digits. */
  streamId: string;
  kekId: string;
  /** The data key wrapped under master key `kekId` (nonce || ciphertext || tag). */
  wrappedKey: Buffer;
  createdAt: Date;
  /** 'writing' until every segment is durable; the S3 layer's object row then refers to it. */
  state: StreamState;
  /** Plaintext bytes (known when complete). */
  size: number;
  /** Set when the stream was deleted; it is purged after a grace period. */
  deletedAt?: Date;
}

export type PieceState = 'ok' | 'corrupt' | 'missing';

export interface PieceRecord {
  piece: number;
  domainId: string;
  /** Bytes of the piece file. */
  size: number;
  /** Merkle root of the piece's block hashes. */
  merkleRoot: Buffer;
  state: PieceState;
}

export interface SegmentRecord {
  streamId: string;
  segment: number;
  plainOffset: number;
  plainSize: number;
  cipherSize: number;
  k: number;
  m: number;
  blockSize: number;
  codec: string;
  /** Merkle root over the pieces' roots, in piece order. */
  merkleRoot: Buffer;
  createdAt: Date;
  pieces: PieceRecord[];
}

export interface RepairJob {
  streamId: string;
  segment: number;
  /** Healthy pieces minus k when queued: lower is more urgent. */
  priority: number;
  reason: string;
  insertedAt: Date;
  attempts: number;
  attemptedAt?: Date;
  lastError?: string;
}

/**
 * online, suspect (missed heartbeats: reads skip it), offline (long unreachable: critical segments
 * repaired), lost (its pieces are gone), draining (pieces moved away, none placed), quarantined
 * (failed audits: like draining).
 */
export type DomainState = 'online' | 'suspect' | 'offline' | 'lost' | 'draining' | 'quarantined';

export interface DomainRecord {
  id: string;
  kind: 'dir' | 'node';
  address: string;
  state: DomainState;
  createdAt: Date;
  lastScrubAt?: Date;
  zone?: string;
  /** Capacity set by the administrator (else what the domain announces). */
  capacityBytes?: number;
  freeBytes?: number;
  usedBytes?: number;
  lastSeenAt?: Date;
  /** Audit evidence with forgetting: passes (alpha) and failures (beta). */
  auditAlpha?: number;
  auditBeta?: number;
  auditsTotal?: number;
  auditsFailed?: number;
}

export type AuditResult = 'pass' | 'fail' | 'missing' | 'unreachable';

export interface AuditEntry {
  domainId: string;
  ref: PieceRef;
  leaf: number;
  result: AuditResult;
  latencyMs: number;
  at: Date;
}

export interface PieceRef {
  streamId: string;
  segment: number;
  piece: number;
}

export interface PieceChange {
  piece: number;
  /** The domain the row must still name (undefined: the row must not exist). */
  expectDomainId: string | undefined;
  domainId: string;
  size: number;
  merkleRoot: Buffer;
}

export interface SegmentStore {
  /**
   * One transaction: inserts the stream if new, the segment and its pieces; queues a repair when
   * given; marks the stream complete with its size when `complete` is set.
   */
  commitSegment(stream: StreamRecord, segment: SegmentRecord, options?: { repair?: { priority: number; reason: string }; complete?: number }): Promise<void>;
  /** Records a complete stream with no segments (an empty object that is not inline). */
  commitEmptyStream(stream: StreamRecord): Promise<void>;
  getStream(streamId: string): Promise<StreamRecord | undefined>;
  getSegments(streamId: string): Promise<SegmentRecord[]>;
  getSegment(streamId: string, segment: number): Promise<SegmentRecord | undefined>;
  /** Removes a stream, its segments, pieces and repair jobs; returns the pieces that were recorded. */
  deleteStream(streamId: string): Promise<Array<PieceRef & { domainId: string }>>;
  /** Ids of streams created before `time`. */
  streamsCreatedBefore(time: Date): Promise<string[]>;
  /**
   * Marks a stream deleted: it stays readable (a reader that started before may still be at an
   * earlier part) until it is purged after a grace period. False if unknown or already marked.
   */
  markDeleted(streamId: string, at: Date): Promise<boolean>;
  /** Ids of streams marked deleted before `time`. */
  deletedBefore(time: Date): Promise<string[]>;
  /** Every piece recorded on a domain (one indexed query). */
  piecesOnDomain(domainId: string): Promise<PieceRef[]>;
  setPieceState(ref: PieceRef, state: PieceState): Promise<void>;
  /**
   * One transaction, for repair: every change's row must still name its expected domain (and the
   * segment must exist), else nothing changes and false is returned. Removes the segment's repair job.
   */
  replacePieces(streamId: string, segment: number, changes: PieceChange[]): Promise<boolean>;

  // Repair queue
  /** Adds jobs; an already queued segment keeps the more urgent priority and its first insertion time. */
  enqueueRepairs(jobs: Array<{ streamId: string; segment: number; priority: number; reason: string }>): Promise<void>;
  /** Up to `limit` jobs by priority then age, skipping those attempted after `retryBefore`. */
  nextRepairs(limit: number, retryBefore: Date): Promise<RepairJob[]>;
  recordRepairFailure(streamId: string, segment: number, error: string, at: Date): Promise<void>;
  removeRepair(streamId: string, segment: number): Promise<void>;
  repairQueue(): Promise<{ segments: number; bytes: number }>;
  /** How redundant the stored segments are (a scan of every segment: for the admin, not hot paths). */
  redundancy(): Promise<Redundancy>;

  // Failure domains
  listDomains(): Promise<DomainRecord[]>;
  putDomain(domain: DomainRecord): Promise<void>;
  setDomainState(id: string, state: DomainState): Promise<void>;
  setDomainScrubbed(id: string, at: Date): Promise<void>;
  /** What a heartbeat learnt: free and used bytes, and when. */
  setDomainSeen(id: string, seen: { freeBytes: number; usedBytes: number; at: Date }): Promise<void>;
  /** Live pieces and their bytes per domain (recorded state 'ok'). */
  pieceCounts(): Promise<Map<string, { pieces: number; bytes: number }>>;
  /** Queued repair jobs per domain that holds (or held) a piece of the segment. */
  repairBacklogByDomain(): Promise<Map<string, number>>;
  /** Up to `limit` random live pieces of a domain, with their sizes (audit sampling). */
  samplePieces(domainId: string, limit: number): Promise<Array<PieceRef & { size: number }>>;
  /**
   * Logs an audit and updates the domain's evidence: every prior value decays by `forget`, then a
   * pass adds 1 to alpha, a fail or missing piece 1 to beta (unreachable changes nothing).
   */
  recordAudit(entry: AuditEntry, forget: number): Promise<DomainRecord | undefined>;

  // Master key rotation
  /** Up to `limit` streams whose data key is wrapped under another master key than `kekId`. */
  streamsNotUnderKek(kekId: string, limit: number): Promise<StreamRecord[]>;
  /** Replaces a stream's wrapped key if it is still wrapped under `expectKekId`. */
  rewrapStream(streamId: string, expectKekId: string, kekId: string, wrappedKey: Buffer): Promise<boolean>;
}

/** Segments by healthy pieces: a piece is healthy when recorded 'ok' on an online domain. */
export interface Redundancy {
  segments: number;
  /** Segments with all k+m pieces healthy. */
  full: number;
  /** The others, grouped: of `pieces` (k+m), `healthy` are. Fewest healthy first. */
  degraded: Array<{ pieces: number; healthy: number; segments: number }>;
  /** Pieces still recorded on domains that are not online (suspect, offline, lost, draining, quarantined). */
  piecesOnUnusableDomains: number;
}
