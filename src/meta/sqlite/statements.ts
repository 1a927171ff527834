// Every statement of the SQLite MetaStore, prepared once per connection and reused.

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import {
  BUCKET_COLUMNS,
  OBJECT_COLUMNS,
  OBJECT_VALUES,
  PART_COLUMNS,
  PART_VALUES,
  SUMMARY_COLUMNS,
  UPLOAD_COLUMNS,
  UPLOAD_VALUES,
} from './rows.ts';

/**
 * Range scans in key order, indexed by scanIndex(): the lower bound is `key > ?` or `key >= ?`,
 * and the upper bound `key < ?` is present unless the listing has no prefix.
 */
export type RangeScans = readonly [StatementSync, StatementSync, StatementSync, StatementSync];

export function scanIndex(inclusive: boolean, bounded: boolean): 0 | 1 | 2 | 3 {
  return ((inclusive ? 1 : 0) + (bounded ? 2 : 0)) as 0 | 1 | 2 | 3;
}

function rangeScans(db: DatabaseSync, select: string, order: string): RangeScans {
  const make = (lower: string, upper: string) => db.prepare(`${select} AND key ${lower} ?${upper} ORDER BY ${order}`);
  return [make('>', ''), make('>=', ''), make('>', ' AND key < ?'), make('>=', ' AND key < ?')];
}

/**
 * The object listing's scans: the same bounds with a LIMIT (the last parameter), rows as arrays in
 * SUMMARY_COLUMNS order, read all at once. A page of n entries never needs more than n + 1 rows
 * from one scan (each row is an entry, or a common prefix that ends the scan with a seek).
 */
function limitedScans(db: DatabaseSync, select: string): RangeScans {
  const make = (lower: string, upper: string) => {
    const s = db.prepare(`${select} AND key ${lower} ?${upper} ORDER BY key LIMIT ?`);
    s.setReturnArrays(true);
    return s;
  };
  return [make('>', ''), make('>=', ''), make('>', ' AND key < ?'), make('>=', ' AND key < ?')];
}

function arrays(s: StatementSync): StatementSync {
  s.setReturnArrays(true);
  return s;
}

export function prepareStatements(db: DatabaseSync) {
  const p = (sql: string) => db.prepare(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    beginRead: p('BEGIN DEFERRED'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),
    savepoint: p('SAVEPOINT one_write'),
    release: p('RELEASE one_write'),
    rollbackToSavepoint: p('ROLLBACK TO one_write'),

    insertBucket: p(`INSERT INTO buckets (${BUCKET_COLUMNS}) VALUES ($name, $owner, $region, $created_at, $settings) ON CONFLICT (name) DO NOTHING`),
    getBucket: p(`SELECT ${BUCKET_COLUMNS} FROM buckets WHERE name = ?`),
    listAllBuckets: p(`SELECT ${BUCKET_COLUMNS} FROM buckets ORDER BY name`),
    listOwnerBuckets: p(`SELECT ${BUCKET_COLUMNS} FROM buckets WHERE owner = ? ORDER BY name`),
    anyObject: p('SELECT 1 AS found FROM objects WHERE bucket = ? LIMIT 1'),
    bucketPartLocators: p(
      'SELECT p.locator FROM uploads u JOIN parts p ON p.upload_id = u.upload_id WHERE u.bucket = ?',
    ),
    deleteBucketParts: p('DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket = ?)'),
    deleteBucketUploads: p('DELETE FROM uploads WHERE bucket = ?'),
    deleteBucket: p('DELETE FROM buckets WHERE name = ?'),
    updateBucketSettings: p('UPDATE buckets SET settings = ? WHERE name = ?'),

    /** GET and HEAD: the row as an array (objectFromArray), without a moved-out locator. */
    readObject: arrays(p(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?`)),
    /** GET: the row as an array plus, when its locator was moved out ('#id'), that locator; one read. */
    readObjectWithLocator: arrays(
      p(
        `SELECT ${OBJECT_COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}, l.locator FROM objects o ` +
          "LEFT JOIN long_locators l ON o.locator LIKE '#%' AND l.id = CAST(substr(o.locator, 2) AS INTEGER) " +
          'WHERE o.bucket = ? AND o.key = ?',
      ),
    ),
    putObject: p(`INSERT OR REPLACE INTO objects (${OBJECT_COLUMNS}) VALUES (${OBJECT_VALUES})`),
    updateObjectAccess: p('UPDATE objects SET acl = $acl, tags = $tags WHERE bucket = $bucket AND key = $key'),
    deleteObject: arrays(p(`DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING ${OBJECT_COLUMNS}`)),
    scanObjects: limitedScans(db, `SELECT ${SUMMARY_COLUMNS} FROM objects WHERE bucket = ?`),

    insertUpload: p(`INSERT INTO uploads (${UPLOAD_COLUMNS}) VALUES (${UPLOAD_VALUES})`),
    getUpload: p(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?`),
    deleteUpload: p('DELETE FROM uploads WHERE upload_id = ?'),
    scanUploads: rangeScans(db, `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ?`, 'key, initiated, upload_id'),
    /** Uploads of one key after a known upload (by initiation time, then id). */
    scanKeyUploadsAfter: p(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key = ? AND (initiated, upload_id) > (?, ?) ORDER BY initiated, upload_id`,
    ),
    /** Uploads of one key whose id sorts after an upload-id-marker that no longer exists. */
    scanKeyUploadsAfterId: p(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND key = ? AND upload_id > ? ORDER BY initiated, upload_id`,
    ),
    uploadsBefore: p(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE initiated < ? ORDER BY initiated, upload_id LIMIT ?`),

    getPart: p(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND number = ?`),
    putPart: p(`INSERT OR REPLACE INTO parts (upload_id, ${PART_COLUMNS}) VALUES (${PART_VALUES})`),
    listParts: p(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND number > ? ORDER BY number LIMIT ?`),
    allParts: p(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? ORDER BY number`),
    deleteParts: p('DELETE FROM parts WHERE upload_id = ?'),

    // ?1: a prefix to leave out ('' for none). A row is left out only when its own locator surely
    // starts with it and it has no parts: whatever is unsure is kept (the sweep deletes the rest).
    objectLocators: p(
      'SELECT locator, parts FROM (' +
        "SELECT CASE WHEN o.locator LIKE '#%' THEN l.locator ELSE o.locator END AS locator, o.parts AS parts " +
        "FROM objects o LEFT JOIN long_locators l ON o.locator LIKE '#%' AND l.id = CAST(substr(o.locator, 2) AS INTEGER)" +
        ") WHERE NOT (?1 <> '' AND parts IS NULL AND locator IS NOT NULL AND substr(locator, 1, length(?1)) = ?1)",
    ),
    insertLongLocator: p('INSERT INTO long_locators (locator) VALUES (?)'),
    getLongLocator: p('SELECT locator FROM long_locators WHERE id = ?'),
    deleteLongLocator: p('DELETE FROM long_locators WHERE id = ?'),
    partLocators: p('SELECT locator FROM parts'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
