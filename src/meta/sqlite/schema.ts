// Connection settings and schema migrations of the SQLite MetaStore.
//
// The schema version is `PRAGMA user_version`: MIGRATIONS[i] takes a database from version i to
// i + 1. Never edit a released migration; append a new one.

import type { DatabaseSync } from 'node:sqlite';

/**
 * Text columns use the default BINARY collation: memcmp of their UTF-8 bytes, which is the S3 key
 * order. Every bound a query compares them with is text too (a BLOB sorts after any TEXT).
 * Times are INTEGER milliseconds since the epoch; records (headers, metadata, part lists) are JSON.
 * `objects` and `parts` are WITHOUT ROWID: rows live in key order, so a listing reads consecutive
 * pages and a point lookup is one b-tree descent.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name        TEXT NOT NULL PRIMARY KEY,
    owner       TEXT NOT NULL,
    region      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX buckets_by_owner ON buckets (owner, name);

  CREATE TABLE objects (
    bucket              TEXT NOT NULL REFERENCES buckets (name),
    key                 TEXT NOT NULL,
    version_id          TEXT NOT NULL,
    size                INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    last_modified       INTEGER NOT NULL,
    storage_class       TEXT NOT NULL,
    owner               TEXT NOT NULL,
    content_headers     TEXT NOT NULL,
    user_metadata       TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_value      TEXT,
    checksum_type       TEXT,
    locator             TEXT NOT NULL,
    parts               TEXT,
    PRIMARY KEY (bucket, key)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE uploads (
    upload_id           TEXT NOT NULL PRIMARY KEY,
    bucket              TEXT NOT NULL REFERENCES buckets (name),
    key                 TEXT NOT NULL,
    initiated           INTEGER NOT NULL,
    owner               TEXT NOT NULL,
    storage_class       TEXT NOT NULL,
    content_headers     TEXT NOT NULL,
    user_metadata       TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_type       TEXT
  ) STRICT;
  CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated, upload_id);
  CREATE INDEX uploads_by_time ON uploads (initiated, upload_id);

  CREATE TABLE parts (
    upload_id           TEXT NOT NULL REFERENCES uploads (upload_id),
    number              INTEGER NOT NULL,
    size                INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_value      TEXT,
    checksum_type       TEXT,
    locator             TEXT NOT NULL,
    last_modified       INTEGER NOT NULL,
    PRIMARY KEY (upload_id, number)
  ) STRICT, WITHOUT ROWID;
  `,
  `
  CREATE TABLE accounts (
    id             TEXT NOT NULL PRIMARY KEY,
    display_name   TEXT NOT NULL,
    email          TEXT UNIQUE,
    status         TEXT NOT NULL,
    is_admin       INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    password_hash  TEXT,
    rate_limit     REAL
  ) STRICT;

  CREATE TABLE access_keys (
    access_key_id  TEXT NOT NULL PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    sealed_secret  TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used      INTEGER
  ) STRICT;
  CREATE INDEX access_keys_by_account ON access_keys (account_id, created_at);
  `,
  // The shard engine (src/engine/shard/segment-store.ts): streams, segments, pieces, failure
  // domains and the repair queue. Pieces are indexed by domain so "what was on directory X" is
  // one query.
  `
  CREATE TABLE domains (
    domain_id       TEXT NOT NULL PRIMARY KEY,
    kind            TEXT NOT NULL,
    address         TEXT NOT NULL,
    state           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_scrub_at   INTEGER
  ) STRICT;

  CREATE TABLE streams (
    stream_id       TEXT NOT NULL PRIMARY KEY,
    state           TEXT NOT NULL,
    kek_id          TEXT NOT NULL,
    wrapped_key     BLOB NOT NULL,
    size            INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER
  ) STRICT;
  CREATE INDEX streams_by_time ON streams (created_at);
  CREATE INDEX streams_deleted ON streams (deleted_at) WHERE deleted_at IS NOT NULL;
  CREATE INDEX streams_by_kek ON streams (kek_id);

  CREATE TABLE segments (
    stream_id       TEXT NOT NULL REFERENCES streams (stream_id),
    seg_index       INTEGER NOT NULL,
    plain_offset    INTEGER NOT NULL,
    plain_size      INTEGER NOT NULL,
    cipher_size     INTEGER NOT NULL,
    k               INTEGER NOT NULL,
    m               INTEGER NOT NULL,
    block_size      INTEGER NOT NULL,
    codec           TEXT NOT NULL,
    merkle_root     BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (stream_id, seg_index)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE pieces (
    stream_id       TEXT NOT NULL,
    seg_index       INTEGER NOT NULL,
    piece_index     INTEGER NOT NULL,
    domain_id       TEXT NOT NULL,
    piece_size      INTEGER NOT NULL,
    merkle_root     BLOB NOT NULL,
    state           TEXT NOT NULL,
    PRIMARY KEY (stream_id, seg_index, piece_index),
    FOREIGN KEY (stream_id, seg_index) REFERENCES segments (stream_id, seg_index)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX pieces_by_domain ON pieces (domain_id, state);

  CREATE TABLE repair_queue (
    stream_id       TEXT NOT NULL,
    seg_index       INTEGER NOT NULL,
    priority        INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    inserted_at     INTEGER NOT NULL,
    attempted_at    INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    PRIMARY KEY (stream_id, seg_index)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX repair_queue_by_priority ON repair_queue (priority, inserted_at);
  `,
  // Long locators (the engine's inline objects, ~5.6 KB) live in a rowid table of their own, the
  // object row keeps '#<id>': objects stay dense for listings, and a point read fetches one page.
  `
  CREATE TABLE long_locators (
    id       INTEGER PRIMARY KEY,
    locator  TEXT NOT NULL
  ) STRICT;
  `,
  // Access control: a bucket's sub-resource settings (ACL, policy, public access block, CORS, tags)
  // as one JSON document; objects' and uploads' ACLs and tags (JSON, NULL for the defaults); a
  // per-account bucket quota.
  `
  ALTER TABLE buckets ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE objects ADD COLUMN acl TEXT;
  ALTER TABLE objects ADD COLUMN tags TEXT;
  ALTER TABLE uploads ADD COLUMN acl TEXT;
  ALTER TABLE uploads ADD COLUMN tags TEXT;
  ALTER TABLE accounts ADD COLUMN max_buckets INTEGER;
  `,
  // Share links: only the token's SHA-256 is kept (a leaked database cannot mint links); a link goes
  // with its bucket.
  `
  CREATE TABLE shares (
    id          TEXT NOT NULL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    owner       TEXT NOT NULL,
    bucket      TEXT NOT NULL REFERENCES buckets (name) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX shares_by_owner ON shares (owner, created_at);
  CREATE INDEX shares_by_bucket ON shares (bucket);
  CREATE INDEX shares_by_expiry ON shares (expires_at);
  `,
  // Storage nodes: failure domains get a zone, capacity and usage, when they were last seen, and
  // an audit reputation (evidence alpha/beta with forgetting; the prior is the engine's); audits
  // are logged. States grow: suspect, draining, quarantined.
  `
  ALTER TABLE domains ADD COLUMN zone TEXT;
  ALTER TABLE domains ADD COLUMN capacity_bytes INTEGER;
  ALTER TABLE domains ADD COLUMN free_bytes INTEGER;
  ALTER TABLE domains ADD COLUMN used_bytes INTEGER;
  ALTER TABLE domains ADD COLUMN last_seen_at INTEGER;
  ALTER TABLE domains ADD COLUMN audit_alpha REAL NOT NULL DEFAULT 0;
  ALTER TABLE domains ADD COLUMN audit_beta REAL NOT NULL DEFAULT 0;
  ALTER TABLE domains ADD COLUMN audits_total INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE domains ADD COLUMN audits_failed INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    domain_id       TEXT NOT NULL,
    stream_id       TEXT NOT NULL,
    seg_index       INTEGER NOT NULL,
    piece_index     INTEGER NOT NULL,
    leaf            INTEGER NOT NULL,
    result          TEXT NOT NULL,
    latency_ms      REAL NOT NULL,
    at              INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX audit_log_by_domain ON audit_log (domain_id, at);
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Milliseconds a connection waits for another one's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Settings of every connection.
 * - WAL: readers never block the writer, and a commit appends to one file.
 * - synchronous=FULL: in WAL mode, NORMAL syncs the WAL only at checkpoints, so a power loss can
 *   drop commits that were acknowledged; FULL syncs the WAL at every commit. An S3 PUT is answered
 *   after its commit, so each acknowledged write must survive (architecture invariant 3).
 * - foreign_keys: objects and uploads cannot outlive their bucket, nor parts their upload.
 * - page_size 8 KiB (only takes effect on a new file): more keys per page for listings.
 * - locking_mode EXCLUSIVE, set before WAL is entered: one process owns the database (the server
 *   caches bucket records, and the offline commands must not run beside it), so no file lock is
 *   taken and dropped per read transaction and the WAL index lives in heap memory: a point read
 *   (one GET or HEAD) costs 35-45% less. Another process opening the file gets SQLITE_BUSY.
 */
export function configure(db: DatabaseSync): void {
  db.exec('PRAGMA page_size = 8192');
  db.exec('PRAGMA locking_mode = EXCLUSIVE');
  const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode;
  if (mode !== 'wal' && mode !== 'memory') throw new Error(`SQLite could not enter WAL mode (journal_mode=${String(mode)})`);
  db.exec(`
    PRAGMA synchronous = FULL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};
    PRAGMA cache_size = -32768;
    PRAGMA temp_store = MEMORY;
    PRAGMA journal_size_limit = 67108864;
  `);
}

/** Brings the schema to SCHEMA_VERSION; refuses a database written by a newer version. */
export function migrate(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new Error(`metadata schema version ${version} is newer than this program's (${SCHEMA_VERSION})`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version !== SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

export function userVersion(db: DatabaseSync): number {
  return Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
}
