import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { SqliteMetaStore } from '../../src/meta/index.ts';
import { SCHEMA_VERSION } from '../../src/meta/sqlite/schema.ts';
import { bucketRecord, metaStoreContract, objectRecord } from './contract.ts';

const dirs: string[] = [];
async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'oort-meta-'));
  dirs.push(dir);
  return join(dir, 'meta.db');
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

// Every commit of a file database is fsync'd, so the file run puts fewer keys under one prefix.
metaStoreContract('SqliteMetaStore (file)', async () => SqliteMetaStore.open(await tempPath()), { manyKeys: 3000 });
metaStoreContract('SqliteMetaStore (:memory:)', () => SqliteMetaStore.open(':memory:'));

describe('SqliteMetaStore', () => {
  it('persists across close and reopen', async () => {
    const path = await tempPath();
    const first = await SqliteMetaStore.open(path);
    await first.createBucket(bucketRecord('b'));
    const o = objectRecord('b', 'dir/ü', { parts: [{ number: 1, size: 3, etag: 'e'.repeat(32), locator: 'l1' }], locator: '' });
    await first.putObject(o);
    await first.createUpload({ uploadId: 'u1', bucket: 'b', key: 'k', initiated: new Date(1), owner: 'o', storageClass: 'STANDARD', contentHeaders: {}, userMetadata: {} });
    await first.putPart('u1', { number: 1, size: 1, etag: 'a'.repeat(32), locator: 'p1', lastModified: new Date(2) });
    await first.close();
    await first.close(); // idempotent

    const second = await SqliteMetaStore.open(path);
    assert.deepEqual(await second.getBucket('b'), bucketRecord('b'));
    assert.deepEqual(await second.getObject('b', 'dir/ü'), o);
    assert.equal((await second.getUpload('b', 'k', 'u1'))?.uploadId, 'u1');
    assert.deepEqual((await second.listParts('u1', 0, 10)).map((p) => p.locator), ['p1']);
    await second.close();
  });

  it('records its schema version and runs in WAL mode with synchronous=FULL and foreign keys', async () => {
    const path = await tempPath();
    const store = await SqliteMetaStore.open(path);
    const db = (store as unknown as { db: DatabaseSync }).db;
    const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
    assert.equal(pragma('user_version'), SCHEMA_VERSION);
    assert.equal(pragma('journal_mode'), 'wal');
    assert.equal(pragma('synchronous'), 2); // FULL
    assert.equal(pragma('foreign_keys'), 1);
    assert.ok(Number(pragma('busy_timeout')) > 0);
    await store.close();
    const again = await SqliteMetaStore.open(path); // an up-to-date schema opens as is
    await again.close();
  });

  it('refuses a database written by a newer schema', async () => {
    const path = await tempPath();
    await (await SqliteMetaStore.open(path)).close();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assert.rejects(SqliteMetaStore.open(path), /newer/);
  });

  it('stores keys as TEXT, so SQLite compares them as UTF-8 bytes', async () => {
    const path = await tempPath();
    const store = await SqliteMetaStore.open(path);
    await store.createBucket(bucketRecord('b'));
    await store.putObject(objectRecord('b', '\u{1F600}'));
    await store.putObject(objectRecord('b', '\uFF61'));
    await store.close();
    const db = new DatabaseSync(path);
    const rows = db.prepare('SELECT typeof(key) AS type, hex(key) AS hex FROM objects ORDER BY key').all();
    db.close();
    assert.deepEqual(rows.map((r) => [r.type, r.hex]), [['text', 'EFBDA1'], ['text', 'F09F9880']]);
  });

  it('one store owns its file: a second opener is refused with a clear error until the first closes', async () => {
    const path = await tempPath();
    const a = await SqliteMetaStore.open(path);
    await a.createBucket(bucketRecord('b'));
    await assert.rejects(SqliteMetaStore.open(path), /in use by another process/);
    await a.close();
    const b = await SqliteMetaStore.open(path);
    assert.equal((await b.getBucket('b'))?.name, 'b');
    await b.close();
  });

  it('cached object reads are frozen and follow every write: overwrite, ACL/tags, delete, multipart completion, locator rewrite', async () => {
    const store = await SqliteMetaStore.open(':memory:');
    await store.createBucket(bucketRecord('b'));
    const long = 'i:' + 'x'.repeat(3000); // moved out to the side table
    await store.putObject(objectRecord('b', 'k', { etag: '1'.repeat(32), locator: long }));
    // A HEAD-style read may leave a moved-out locator unloaded; a GET after it still gets it.
    assert.equal((await store.getObject('b', 'k', { locators: false }))?.locator, '');
    const first = (await store.getObject('b', 'k'))!;
    assert.equal(first.locator, long);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.contentHeaders));
    assert.throws(() => {
      (first as { etag: string }).etag = 'changed';
    }, TypeError);
    assert.equal(await store.getObject('b', 'k'), first, 'a second read is served from the cache');

    await store.putObject(objectRecord('b', 'k', { etag: '2'.repeat(32), locator: 's:short' }));
    assert.deepEqual([(await store.getObject('b', 'k'))?.etag, (await store.getObject('b', 'k'))?.locator], ['2'.repeat(32), 's:short']);
    await store.updateObjectAttributes('b', 'k', { tags: [{ key: 'a', value: 'b' }] });
    assert.deepEqual((await store.getObject('b', 'k', { locators: false }))?.tags, [{ key: 'a', value: 'b' }]);
    await store.replaceLocators((l) => (l === 's:short' ? 's:moved' : undefined));
    assert.equal((await store.getObject('b', 'k'))?.locator, 's:moved');
    await store.deleteObject('b', 'k');
    assert.equal(await store.getObject('b', 'k'), undefined);

    await store.createUpload({ uploadId: 'u1', bucket: 'b', key: 'k', initiated: new Date(1), owner: 'o', storageClass: 'STANDARD', contentHeaders: {}, userMetadata: {} });
    await store.putObject(objectRecord('b', 'k', { etag: '3'.repeat(32) }));
    assert.equal((await store.getObject('b', 'k'))?.etag, '3'.repeat(32));
    const done = await store.completeUpload('u1', objectRecord('b', 'k', { etag: '4'.repeat(32) + '-1', locator: 's:mpu' }));
    assert.equal(done.status, 'ok');
    assert.equal((await store.getObject('b', 'k'))?.etag, '4'.repeat(32) + '-1');
    await store.close();
  });

  it('rejects keys that are not well-formed Unicode', async () => {
    const store = await SqliteMetaStore.open(':memory:');
    await store.createBucket(bucketRecord('b'));
    await assert.rejects(store.putObject(objectRecord('b', 'a\uD800')), TypeError);
    await assert.rejects(store.getObject('b', '\uDC00'), TypeError);
    await assert.rejects(store.listObjects('b', { prefix: '\uD800', limit: 1 }), TypeError);
    await store.close();
  });
});
