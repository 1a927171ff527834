// The embedded MetaStore: one SQLite file (node:sqlite, WAL), see schema.ts for its settings.
//
// node:sqlite is synchronous, and no method awaits between its statements, so each method runs
// whole before any other call on this store starts. Multi-statement writes still run inside
// BEGIN IMMEDIATE ... COMMIT so that they are atomic on disk and against other connections to the
// same file; multi-query listings read one snapshot inside a read transaction.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';
import { checkText, NoSuchBucketError } from '../errors.ts';
import { ListingCursor, type Bound } from '../listing.ts';
import { AccountRows } from './accounts.ts';
import { ShareRows } from './shares.ts';
import type {
  AccessKey,
  Account,
  AccountChange,
  Bucket,
  BucketSettings,
  ListOptions,
  ListPage,
  MetaStore,
  MultipartUpload,
  ObjectAttributesChange,
  ObjectVersion,
  PutCondition,
  PutOutcome,
  ShareLink,
  UploadListOptions,
  UploadListPage,
  UploadPart,
} from '../types.ts';
import {
  bucketFrom,
  bucketParams,
  objectFromArray,
  OBJECT_COLUMN_COUNT,
  OBJECT_LOCATOR,
  summaryFrom,
  objectParams,
  partFrom,
  partParams,
  uploadFrom,
  uploadParams,
  decodeParts,
  encodeParts,
} from './rows.ts';
import { configure, migrate } from './schema.ts';
import { SqliteSegmentStore } from './segment-store.ts';
import { prepareStatements, scanIndex, type RangeScans, type Statements } from './statements.ts';

type Row = Record<string, SQLOutputValue>;

/** Locators longer than this live in `long_locators` (see schema.ts). */
const SPILL_AT = 512;

/** Bucket records kept in memory (the oldest dropped first past this). */
const BUCKET_CACHE_MAX = 10_000;
/** Object rows kept for GET/HEAD: with inline locators (up to ~6 KB each) at most ~12 MB. */
const OBJECT_CACHE_MAX = 2048;

/** SQLITE_CONSTRAINT_FOREIGNKEY: a write named a bucket (or upload) that does not exist. */
const FOREIGN_KEY_FAILED = 787;

/** SQLite's primary result code for a lock another connection holds. */
const SQLITE_BUSY = 5;

export class SqliteMetaStore implements MetaStore {
  private readonly db: DatabaseSync;
  private readonly q: Statements;
  private readonly counters = { rowsRead: 0, queries: 0 };
  private readonly accounts: AccountRows;
  private readonly shares: ShareRows;
  /** Writes waiting for the next group commit. */
  private pending: Array<{ fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  /**
   * Bucket records by name, read on every request. Coherent because this connection is the only
   * writer of the file (one server process), and every bucket write here drops the entry inside
   * its own statement or transaction. Records are frozen: callers share them.
   */
  private readonly buckets = new Map<string, Bucket>();
  /**
   * Object rows as GET and HEAD last read them, by `bucket/key` (a bucket name has no '/'); frozen,
   * since callers share them. `full`: the locator was loaded (a HEAD may leave it ''). Every write
   * to an object row drops its entry in the same synchronous step as the SQL (`forgetObject`), and
   * one process owns the file, so an entry is never older than the committed row.
   */
  private readonly objects = new Map<string, { object: ObjectVersion; full: boolean }>();

  private constructor(db: DatabaseSync) {
    this.db = db;
    this.q = prepareStatements(db);
    this.accounts = new AccountRows(db);
    this.shares = new ShareRows(db);
  }

  /** Opens (creating or migrating) the database at `path`; ':memory:' gives a private in-memory one. */
  static async open(path: string): Promise<SqliteMetaStore> {
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    try {
      configure(db);
      migrate(db);
      return new SqliteMetaStore(db);
    } catch (err) {
      db.close();
      // The database is held exclusively (schema.ts `configure`): another process has it open.
      if ((err as { errcode?: number }).errcode === SQLITE_BUSY) {
        throw new Error(`${path} is in use by another process (is an oort server running on this data directory? stop it first)`);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.flush();
    if (this.db.isOpen) this.db.close();
  }

  private segments: SqliteSegmentStore | undefined;

  /** The shard engine's metadata (streams, segments, pieces, repair queue) on this same connection. */
  segmentStore(): SqliteSegmentStore {
    this.segments ??= new SqliteSegmentStore(this.db);
    return this.segments;
  }

  /** Rows and queries read by listObjects/listUploads scans since open (see MetaStore). */
  debugCounters(): { rowsRead: number; queries: number } {
    return { ...this.counters };
  }

  // Accounts and access keys

  async createAccount(account: Account): Promise<'created' | 'exists'> {
    return this.write(() => this.accounts.createAccount(account));
  }

  async getAccount(id: string): Promise<Account | undefined> {
    return this.accounts.getAccount(id);
  }

  async getAccountByEmail(email: string): Promise<Account | undefined> {
    return this.accounts.getAccountByEmail(email);
  }

  async listAccounts(): Promise<Account[]> {
    return this.accounts.listAccounts();
  }

  async updateAccount(id: string, change: AccountChange): Promise<boolean> {
    return this.write(() => this.accounts.updateAccount(id, change));
  }

  async createAccessKey(key: AccessKey): Promise<'created' | 'exists' | 'limit' | 'missing'> {
    return this.write(() => this.accounts.createAccessKey(key));
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    return this.accounts.getAccessKey(accessKeyId);
  }

  async listAccessKeys(accountId: string): Promise<AccessKey[]> {
    return this.accounts.listAccessKeys(accountId);
  }

  async updateAccessKey(accessKeyId: string, change: Partial<Pick<AccessKey, 'status' | 'sealedSecret' | 'lastUsed'>>): Promise<boolean> {
    // Through the group commit: a key's last-used time is written while requests are served.
    return this.write(() => this.accounts.updateAccessKey(accessKeyId, change));
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.write(() => this.accounts.deleteAccessKey(accessKeyId));
  }

  // Buckets

  async createBucket(bucket: Bucket): Promise<'created' | 'exists'> {
    this.buckets.delete(bucket.name);
    const { changes } = this.q.insertBucket.run(bucketParams(bucket));
    return changes === 1 ? 'created' : 'exists';
  }

  async getBucket(name: string): Promise<Bucket | undefined> {
    const hit = this.buckets.get(name);
    if (hit) return hit;
    const row = this.q.getBucket.get(name);
    if (!row) return undefined; // not cached: a name that does not exist costs a read, not memory
    const bucket = frozenBucket(bucketFrom(row));
    if (this.buckets.size >= BUCKET_CACHE_MAX) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(name, bucket);
    return bucket;
  }

  async listBuckets(owner?: string): Promise<Bucket[]> {
    const rows = owner === undefined ? this.q.listAllBuckets.all() : this.q.listOwnerBuckets.all(owner);
    return rows.map(bucketFrom);
  }

  async updateBucketSettings(name: string, change: (current: BucketSettings) => BucketSettings): Promise<boolean> {
    return this.write(() => {
      const row = this.q.getBucket.get(name);
      if (!row) return false;
      const next = change(bucketFrom(row).settings);
      this.buckets.delete(name);
      this.q.updateBucketSettings.run(JSON.stringify(next), name);
      return true;
    });
  }

  async deleteBucket(
    name: string,
  ): Promise<{ status: 'deleted'; orphanLocators: string[] } | { status: 'not-empty' } | { status: 'missing' }> {
    return this.write(() => {
      if (!this.q.getBucket.get(name)) return { status: 'missing' as const };
      if (this.q.anyObject.get(name)) return { status: 'not-empty' as const };
      const orphanLocators = this.q.bucketPartLocators.all(name).map((r) => r.locator as string);
      this.q.deleteBucketParts.run(name);
      this.q.deleteBucketUploads.run(name);
      this.buckets.delete(name);
      this.q.deleteBucket.run(name);
      return { status: 'deleted' as const, orphanLocators };
    });
  }

  // Objects

  async getObject(bucket: string, key: string, options?: { locators?: boolean }): Promise<ObjectVersion | undefined> {
    checkText('key', key);
    const withLocator = options?.locators !== false;
    const id = `${bucket}/${key}`;
    const hit = this.objects.get(id);
    if (hit && (hit.full || !withLocator)) {
      // Most recently used last: the oldest entry is the one dropped when full.
      this.objects.delete(id);
      this.objects.set(id, hit);
      return hit.object;
    }
    // One read: with the locator, the row joined with its moved-out locator if it has one.
    const row = (withLocator ? this.q.readObjectWithLocator : this.q.readObject).get(bucket, key) as unknown as SQLOutputValue[] | undefined;
    if (!row) return undefined;
    const o = objectFromArray(row);
    const spilled = o.locator.startsWith('#');
    if (spilled) o.locator = withLocator ? (row[OBJECT_COLUMN_COUNT] as string) : '';
    if (this.objects.size >= OBJECT_CACHE_MAX) this.objects.delete(this.objects.keys().next().value!);
    deepFreeze(o);
    this.objects.set(id, { object: o, full: withLocator || !spilled });
    return o;
  }

  async putObject(object: ObjectVersion, condition?: PutCondition): Promise<PutOutcome> {
    checkText('key', object.key);
    const params = objectParams(object);
    return this.write((): PutOutcome => {
      const previous = this.currentObject(object.bucket, object.key);
      const refused = refusal(previous, condition);
      if (refused) return { status: refused };
      this.insertObject(object.bucket, params);
      return previous ? { status: 'ok', previous } : { status: 'ok' };
    });
  }

  async updateObjectAttributes(bucket: string, key: string, change: ObjectAttributesChange, etag?: string): Promise<ObjectVersion | undefined> {
    checkText('key', key);
    return this.write(() => {
      const current = this.currentObject(bucket, key);
      if (!current || (etag !== undefined && current.etag !== etag)) return undefined;
      if (change.acl !== undefined) {
        if (change.acl === null) delete current.acl;
        else current.acl = change.acl;
      }
      if (change.tags !== undefined) {
        if (change.tags === null) delete current.tags;
        else current.tags = change.tags;
      }
      const params = objectParams(current);
      this.forgetObject(bucket, key);
      this.q.updateObjectAccess.run({ bucket, key, acl: params.acl!, tags: params.tags! });
      return current;
    });
  }

  async deleteObject(bucket: string, key: string): Promise<ObjectVersion | undefined> {
    checkText('key', key);
    return this.write(() => {
      this.forgetObject(bucket, key);
      const row = this.q.deleteObject.get(bucket, key) as unknown as SQLOutputValue[] | undefined;
      if (!row) return undefined;
      const removed = this.objectOf(row);
      this.dropSpilled(row[OBJECT_LOCATOR] as string);
      return removed;
    });
  }

  async listObjects(bucket: string, options: ListOptions): Promise<ListPage> {
    checkListing(options.prefix, options.delimiter, options.after);
    const cursor = new ListingCursor<SQLOutputValue[]>(options);
    this.read(() => {
      const upper = cursor.upper;
      const limit = Math.max(0, Math.floor(options.limit)) + 1;
      for (let b = cursor.start(); b; b = cursor.resume()) {
        this.counters.queries++;
        const statement = this.q.scanObjects[scanIndex(b.inclusive, upper !== undefined)];
        const rows = (upper === undefined ? statement.all(bucket, b.key, limit) : statement.all(bucket, b.key, upper, limit)) as unknown as SQLOutputValue[][];
        for (const row of rows) {
          this.counters.rowsRead++;
          if (!cursor.add(row[0] as string, row)) break;
        }
      }
    });
    const { entries, isTruncated } = cursor.page();
    const page: ListPage = {
      entries: entries.map((e) => ('prefix' in e ? { prefix: e.prefix } : { object: summaryFrom(e.row) })),
      isTruncated,
    };
    if (isTruncated) {
      const last = entries[entries.length - 1]!;
      page.next = 'prefix' in last ? last.prefix : last.key;
    }
    return page;
  }

  // Share links

  async createShare(link: ShareLink): Promise<void> {
    checkText('key', link.key);
    return this.write(() => this.insertOrNoBucket(link.bucket, () => this.shares.insert(link)));
  }

  async getShareByTokenHash(tokenHash: string): Promise<ShareLink | undefined> {
    return this.shares.byTokenHash(tokenHash);
  }

  async listShares(owner: string): Promise<ShareLink[]> {
    return this.shares.byOwner(owner);
  }

  async deleteShare(owner: string, id: string): Promise<boolean> {
    return this.write(() => this.shares.delete(owner, id));
  }

  async deleteExpiredShares(now: Date): Promise<number> {
    return this.write(() => this.shares.deleteExpired(now));
  }

  // Multipart uploads

  async createUpload(upload: MultipartUpload): Promise<void> {
    checkText('key', upload.key);
    this.insertOrNoBucket(upload.bucket, () => this.q.insertUpload.run(uploadParams(upload)));
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUpload | undefined> {
    const row = this.q.getUpload.get(uploadId);
    if (!row || row.bucket !== bucket || row.key !== key) return undefined;
    return uploadFrom(row);
  }

  async putPart(uploadId: string, part: UploadPart): Promise<{ status: 'ok'; previous?: UploadPart } | { status: 'missing' }> {
    const params = partParams(uploadId, part);
    return this.write(() => {
      if (!this.q.getUpload.get(uploadId)) return { status: 'missing' as const };
      const row = this.q.getPart.get(uploadId, part.number);
      this.q.putPart.run(params);
      return row ? { status: 'ok' as const, previous: partFrom(row) } : { status: 'ok' as const };
    });
  }

  async listParts(uploadId: string, afterNumber: number, limit: number): Promise<UploadPart[]> {
    return this.q.listParts.all(uploadId, afterNumber, Math.max(0, limit)).map(partFrom);
  }

  async listUploads(bucket: string, options: UploadListOptions): Promise<UploadListPage> {
    const keyMarker = options.keyMarker === '' ? undefined : options.keyMarker;
    checkListing(options.prefix, options.delimiter, keyMarker);
    const cursor = new ListingCursor<Row>({ prefix: options.prefix, delimiter: options.delimiter, after: keyMarker, limit: options.limit });
    this.read(() => {
      let bound = cursor.start();
      // S3: with a key-marker, an upload-id-marker also lists the key-marker's own uploads after it
      // (unless that key rolls up into a common prefix, which start() then skips as a whole).
      const idMarker = options.uploadIdMarker;
      if (bound && keyMarker !== undefined && idMarker !== undefined && idMarker !== '' && !bound.inclusive && bound.key === keyMarker) {
        this.counters.queries++;
        const marker = this.q.getUpload.get(idMarker);
        const rows =
          marker && marker.bucket === bucket && marker.key === keyMarker
            ? this.q.scanKeyUploadsAfter.iterate(bucket, keyMarker, marker.initiated, idMarker)
            : this.q.scanKeyUploadsAfterId.iterate(bucket, keyMarker, idMarker);
        if (!this.feed(rows, cursor)) bound = cursor.resume();
      }
      this.scan(this.q.scanUploads, bucket, cursor, bound);
    });
    const { entries, isTruncated } = cursor.page();
    const page: UploadListPage = {
      entries: entries.map((e) => ('prefix' in e ? { prefix: e.prefix } : { upload: uploadFrom(e.row) })),
      isTruncated,
    };
    if (isTruncated) {
      const last = entries[entries.length - 1]!;
      if ('prefix' in last) {
        page.nextKeyMarker = last.prefix;
      } else {
        page.nextKeyMarker = last.key;
        page.nextUploadIdMarker = last.row.upload_id as string;
      }
    }
    return page;
  }

  async completeUpload(
    uploadId: string,
    object: ObjectVersion,
    condition?: PutCondition,
  ): Promise<
    | { status: 'ok'; previous?: ObjectVersion; unusedParts: UploadPart[] }
    | { status: 'missing' }
    | { status: 'precondition-failed' }
  > {
    checkText('key', object.key);
    const params = objectParams(object);
    return this.write(() => {
      const upload = this.q.getUpload.get(uploadId);
      if (!upload || upload.bucket !== object.bucket || upload.key !== object.key) return { status: 'missing' as const };
      const previous = this.currentObject(object.bucket, object.key);
      // If-Match on a key that does not exist fails the completion like any other precondition.
      if (refusal(previous, condition)) return { status: 'precondition-failed' as const };
      const used = new Set(object.parts ? object.parts.map((p) => p.locator) : [object.locator]);
      const unusedParts = this.q.allParts.all(uploadId).map(partFrom).filter((p) => !used.has(p.locator));
      this.q.deleteParts.run(uploadId);
      this.q.deleteUpload.run(uploadId);
      this.insertObject(object.bucket, params);
      return previous ? { status: 'ok' as const, previous, unusedParts } : { status: 'ok' as const, unusedParts };
    });
  }

  async abortUpload(uploadId: string): Promise<UploadPart[] | undefined> {
    return this.write(() => {
      if (!this.q.getUpload.get(uploadId)) return undefined;
      const parts = this.q.allParts.all(uploadId).map(partFrom);
      this.q.deleteParts.run(uploadId);
      this.q.deleteUpload.run(uploadId);
      return parts;
    });
  }

  async listUploadsInitiatedBefore(time: Date, limit: number): Promise<MultipartUpload[]> {
    return this.q.uploadsBefore.all(time.getTime(), Math.max(0, limit)).map(uploadFrom);
  }

  async *referencedLocators(options?: { skipPrefix?: string }): AsyncIterable<string> {
    // Read in one snapshot, then hand out: a concurrent write cannot tear the set.
    const skip = options?.skipPrefix ?? '';
    const wanted = (l: string) => l !== '' && (skip === '' || !l.startsWith(skip));
    const found: string[] = [];
    this.read(() => {
      for (const row of this.q.objectLocators.iterate(skip)) {
        if (row.locator && wanted(row.locator as string)) found.push(row.locator as string);
        if (row.parts) for (const part of decodeParts(row.parts as string)) if (wanted(part.locator)) found.push(part.locator);
      }
      for (const row of this.q.partLocators.iterate()) if (wanted(row.locator as string)) found.push(row.locator as string);
    });
    yield* found;
  }

  async replaceLocators(replace: (locator: string) => string | undefined): Promise<number> {
    return this.write(() => {
      this.objects.clear();
      let changed = 0;
      const swap = (locator: string): string | undefined => {
        const next = locator ? replace(locator) : undefined;
        if (next !== undefined && next !== locator) {
          changed++;
          return next;
        }
        return undefined;
      };
      const updateObject = this.db.prepare('UPDATE objects SET locator = ?, parts = ? WHERE bucket = ? AND key = ?');
      const updateLong = this.db.prepare('UPDATE long_locators SET locator = ? WHERE id = ?');
      for (const row of this.db.prepare('SELECT bucket, key, locator, parts FROM objects').all()) {
        const stored = row.locator as string;
        const spilled = stored.startsWith('#') ? Number(stored.slice(1)) : undefined;
        const current = spilled !== undefined ? (this.q.getLongLocator.get(spilled)?.locator as string) : stored;
        let locator = swap(current);
        if (locator !== undefined && spilled !== undefined) {
          // Keep it moved out: rewrite the long row, the object row keeps its '#id'.
          updateLong.run(locator, spilled);
          locator = stored;
        }
        let parts = row.parts as string | null;
        if (parts !== null) {
          const list = decodeParts(parts);
          let touched = false;
          for (const part of list) {
            const next = swap(part.locator);
            if (next !== undefined) {
              part.locator = next;
              touched = true;
            }
          }
          if (touched) parts = encodeParts(list);
          else if (locator === undefined) continue;
        } else if (locator === undefined) continue;
        updateObject.run(locator ?? (row.locator as string), parts, row.bucket as string, row.key as string);
      }
      const updatePart = this.db.prepare('UPDATE parts SET locator = ? WHERE upload_id = ? AND number = ?');
      for (const row of this.db.prepare('SELECT upload_id, number, locator FROM parts').all()) {
        const next = swap(row.locator as string);
        if (next !== undefined) updatePart.run(next, row.upload_id as string, row.number as number);
      }
      return changed;
    });
  }

  // Helpers

  private currentObject(bucket: string, key: string): ObjectVersion | undefined {
    const row = this.q.readObject.get(bucket, key) as unknown as SQLOutputValue[] | undefined;
    return row ? this.objectOf(row) : undefined;
  }

  /** Inserts or replaces an object row (inside a write), moving a long locator to its own table. */
  private insertObject(bucket: string, params: ReturnType<typeof objectParams>): void {
    this.forgetObject(bucket, params.key as string);
    const old = this.q.readObject.get(bucket, params.key as string) as unknown as SQLOutputValue[] | undefined;
    if (old) this.dropSpilled(old[OBJECT_LOCATOR] as string);
    const locator = params.locator as string;
    const stored = locator.length > SPILL_AT ? `#${this.q.insertLongLocator.run(locator).lastInsertRowid}` : locator;
    this.insertOrNoBucket(bucket, () => this.q.putObject.run({ ...params, locator: stored }));
  }

  /** Drops the cached row of an object about to be written (inside the write). */
  private forgetObject(bucket: string, key: string): void {
    this.objects.delete(`${bucket}/${key}`);
  }

  /** A row as a record, its locator fetched back if it was moved out. */
  private objectOf(row: SQLOutputValue[]): ObjectVersion {
    const o = objectFromArray(row);
    if (o.locator.startsWith('#')) o.locator = this.q.getLongLocator.get(Number(o.locator.slice(1)))?.locator as string;
    return o;
  }

  private dropSpilled(stored: string): void {
    if (stored.startsWith('#')) this.q.deleteLongLocator.run(Number(stored.slice(1)));
  }

  private insertOrNoBucket(bucket: string, insert: () => unknown): void {
    try {
      insert();
    } catch (err) {
      if ((err as { errcode?: number }).errcode === FOREIGN_KEY_FAILED) throw new NoSuchBucketError(bucket);
      throw err;
    }
  }

  /** Runs the range scans a cursor asks for, from `bound` on, feeding it rows until it is done. */
  private scan(scans: RangeScans, bucket: string, cursor: ListingCursor<Row>, bound: Bound | undefined): void {
    const upper = cursor.upper;
    for (let b = bound; b; b = cursor.resume()) {
      this.counters.queries++;
      const statement = scans[scanIndex(b.inclusive, upper !== undefined)];
      const rows = upper === undefined ? statement.iterate(bucket, b.key) : statement.iterate(bucket, b.key, upper);
      this.feed(rows, cursor);
    }
  }

  /** Feeds rows until the cursor stops them (false) or they run out (true). Rows are read lazily. */
  private feed(rows: Iterable<Row>, cursor: ListingCursor<Row>): boolean {
    for (const row of rows) {
      this.counters.rowsRead++;
      if (!cursor.add(row.key as string, row)) return false;
    }
    return true;
  }

  /**
   * One write: all of `fn`'s statements commit together, or none if it throws. Writes that arrive
   * while others are waiting are group-committed: one transaction, one WAL fsync, each write in a
   * savepoint of its own so one that throws rolls back alone. `fn` runs in submission order, inside
   * the transaction, so its checks see every earlier write; its promise settles after the commit is
   * durable, never before.
   */
  private write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.q.begin.run();
      for (const item of batch) {
        this.q.savepoint.run();
        try {
          results.push({ ok: true, value: item.fn() });
          this.q.release.run();
        } catch (error) {
          this.q.rollbackToSavepoint.run();
          this.q.release.run();
          results.push({ ok: false, error });
        }
      }
      this.q.commit.run();
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of the batch is durable.
      if (this.db.isOpen && this.db.isTransaction) this.q.rollback.run();
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i]!;
      if (r.ok) item.resolve(r.value);
      else item.reject(r.error);
    });
  }

  /** One read transaction: every query of `fn` sees the same snapshot. */
  private read(fn: () => void): void {
    this.q.beginRead.run();
    try {
      fn();
    } finally {
      if (this.db.isTransaction) this.q.commit.run();
    }
  }
}

/** A bucket record that cannot be changed by whoever it is handed to (the cache shares it). */
function frozenBucket(b: Bucket): Bucket {
  deepFreeze(b.settings);
  return Object.freeze(b);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  for (const v of Object.values(value)) deepFreeze(v);
  Object.freeze(value);
}

/** Why a write's condition refuses it against the current version, if it does. */
function refusal(current: ObjectVersion | undefined, condition: PutCondition | undefined): 'precondition-failed' | 'missing' | undefined {
  if (!condition) return undefined;
  if (condition.ifMatch !== undefined) {
    if (!current) return 'missing';
    if (condition.ifMatch !== '*' && condition.ifMatch !== current.etag) return 'precondition-failed';
  }
  if (condition.ifNoneMatch && current) return 'precondition-failed';
  return undefined;
}

function checkListing(prefix: string, delimiter: string | undefined, after: string | undefined): void {
  checkText('prefix', prefix);
  if (delimiter !== undefined) checkText('delimiter', delimiter);
  if (after !== undefined) checkText('marker', after);
}
