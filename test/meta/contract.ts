// What every MetaStore must do. Each implementation's test file calls metaStoreContract() with a
// factory that opens a new, empty store.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type {
  AccessKey,
  Account,
  Bucket,
  ListOptions,
  ListPage,
  MetaStore,
  MultipartUpload,
  ObjectPart,
  ObjectVersion,
  UploadListOptions,
  UploadListPage,
  UploadPart,
  ShareLink,
} from '../../src/meta/index.ts';
import { byteOrder, referenceList, referenceUploads, type RefEntry, type RefUpload } from './reference.ts';
import { Prng } from '../helpers/seeded.ts';

export interface ContractOptions {
  /** Keys put under one common prefix by the skip-over-prefix test (default 20,000). */
  manyKeys?: number;
}

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const ETAG = '9e107d9d372bb6826bd81d3542a419d6';

export function bucketRecord(name: string, owner = 'acct-1', createdAt = new Date(T0)): Bucket {
  return { name, owner, region: 'us-east-1', createdAt, settings: {} };
}

export function objectRecord(bucket: string, key: string, more: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket,
    key,
    versionId: 'null',
    size: 11,
    etag: ETAG,
    lastModified: new Date(T0),
    storageClass: 'STANDARD',
    owner: 'acct-1',
    contentHeaders: { 'content-type': 'text/plain' },
    userMetadata: {},
    locator: `loc:${bucket}/${key}`,
    ...more,
  };
}

function uploadRecord(bucket: string, key: string, uploadId: string, initiated = T0, more: Partial<MultipartUpload> = {}): MultipartUpload {
  return {
    uploadId,
    bucket,
    key,
    initiated: new Date(initiated),
    owner: 'acct-1',
    storageClass: 'STANDARD',
    contentHeaders: {},
    userMetadata: {},
    ...more,
  };
}

function partRecord(uploadId: string, number: number, more: Partial<UploadPart> = {}): UploadPart {
  return {
    number,
    size: 5 * 1024 * 1024,
    etag: `${number.toString(16).padStart(32, '0')}`,
    locator: `part:${uploadId}:${number}`,
    lastModified: new Date(T0 + number),
    ...more,
  };
}

/** The object a completion produces from some of an upload's parts. */
function assembled(bucket: string, key: string, parts: UploadPart[]): ObjectVersion {
  const objectParts: ObjectPart[] = parts.map(({ number, size, etag, locator }) => ({ number, size, etag, locator }));
  return objectRecord(bucket, key, {
    size: parts.reduce((n, p) => n + p.size, 0),
    etag: `${'ab'.repeat(16)}-${parts.length}`,
    locator: '',
    parts: objectParts,
  });
}

/** Deterministic pseudo-random numbers in [0, 1) (the shared seeded PRNG). */
function random(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

/** Page entries as plain names, comparable with the reference's. */
function names(page: ListPage): RefEntry[] {
  return page.entries.map((e) => ('prefix' in e ? { prefix: e.prefix } : { key: e.object.key }));
}

function uploadNames(page: UploadListPage) {
  return page.entries.map((e) => ('prefix' in e ? { prefix: e.prefix } : { upload: e.upload.uploadId }));
}

// Characters that trip naive implementations: LIKE wildcards, the delimiter, code points whose
// UTF-16 order differs from their UTF-8 order, the last code point, a multi-char delimiter's parts.
const ALPHABET = ['a', 'b', '/', '%', '_', 'é', '\uFF61', '\u{1F600}', '\u{10FFFF}', '\uD7FF', '\uE000', '-'];
const PREFIXES = ['', 'a', 'a/', '%', '_', 'é', '\u{1F600}', '\u{10FFFF}', 'a\u{10FFFF}', 'b/%'];
const DELIMITERS = [undefined, '/', 'a/', '\u{1F600}', '_'];

function randomKeys(next: () => number, count: number): string[] {
  const keys = new Set<string>();
  while (keys.size < count) {
    const length = 1 + Math.floor(next() * 6);
    let key = '';
    for (let i = 0; i < length; i++) key += ALPHABET[Math.floor(next() * ALPHABET.length)];
    keys.add(key);
  }
  return [...keys];
}

export function metaStoreContract(name: string, open: () => Promise<MetaStore>, options: ContractOptions = {}): void {
  const manyKeys = options.manyKeys ?? 20_000;

  describe(`MetaStore contract: ${name}`, () => {
    let store: MetaStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function putKeys(bucket: string, keys: Iterable<string>): Promise<void> {
      for (const key of keys) assert.equal((await store.putObject(objectRecord(bucket, key))).status, 'ok');
    }

    /** Every page of a listing, each checked against the reference; returns them all. */
    async function walk(bucket: string, keys: string[], o: Omit<ListOptions, 'after'>, after?: string): Promise<RefEntry[]> {
      const all: RefEntry[] = [];
      for (let pages = 0; ; pages++) {
        assert.ok(pages <= keys.length + 1, 'listing does not end');
        const page = await store.listObjects(bucket, { ...o, after });
        const want = referenceList(keys, { ...o, after });
        const where = `prefix=${JSON.stringify(o.prefix)} delimiter=${JSON.stringify(o.delimiter)} after=${JSON.stringify(after)} limit=${o.limit}`;
        assert.deepEqual(names(page), want.entries, where);
        assert.equal(page.isTruncated, want.isTruncated, where);
        assert.equal(page.next, want.next, where);
        all.push(...want.entries);
        if (!page.isTruncated) return all;
        after = page.next;
      }
    }

    describe('buckets', () => {
      it('creates, gets and lists buckets', async () => {
        assert.equal(await store.createBucket(bucketRecord('beta', 'acct-1')), 'created');
        assert.equal(await store.createBucket(bucketRecord('alpha', 'acct-2', new Date(T0 + 1))), 'created');
        assert.equal(await store.createBucket(bucketRecord('alpha-2', 'acct-1')), 'created');
        assert.deepEqual(await store.getBucket('alpha'), bucketRecord('alpha', 'acct-2', new Date(T0 + 1)));
        assert.equal(await store.getBucket('gamma'), undefined);
        assert.deepEqual(
          (await store.listBuckets()).map((b) => b.name),
          ['alpha', 'alpha-2', 'beta'],
        );
        assert.deepEqual(await store.listBuckets('acct-1'), [bucketRecord('alpha-2', 'acct-1'), bucketRecord('beta', 'acct-1')]);
        assert.deepEqual(await store.listBuckets('nobody'), []);
      });

      it("answers 'exists' for an existing name whoever asks, and keeps the first owner", async () => {
        assert.equal(await store.createBucket(bucketRecord('shared', 'acct-1')), 'created');
        assert.equal(await store.createBucket(bucketRecord('shared', 'acct-1')), 'exists');
        assert.equal(await store.createBucket(bucketRecord('shared', 'acct-2')), 'exists');
        assert.equal((await store.getBucket('shared'))?.owner, 'acct-1');
      });

      // Stores may cache bucket records (read on every request): each write must show at once.
      it('getBucket sees each settings change, a delete and a new bucket of the same name', async () => {
        await store.createBucket(bucketRecord('c', 'acct-1'));
        assert.deepEqual((await store.getBucket('c'))?.settings, {});
        assert.equal(await store.updateBucketSettings('c', (s) => ({ ...s, policy: '{"v":1}' })), true);
        assert.equal((await store.getBucket('c'))?.settings.policy, '{"v":1}');
        assert.equal(await store.updateBucketSettings('c', ({ policy: _, ...rest }) => ({ ...rest, acl: [] })), true);
        assert.deepEqual((await store.getBucket('c'))?.settings, { acl: [] });
        assert.equal(await store.updateBucketSettings('nope', (s) => s), false);
        assert.equal(await store.getBucket('nope'), undefined);
        assert.equal((await store.deleteBucket('c')).status, 'deleted');
        assert.equal(await store.getBucket('c'), undefined);
        assert.equal(await store.createBucket(bucketRecord('c', 'acct-2')), 'created');
        assert.deepEqual(await store.getBucket('c'), bucketRecord('c', 'acct-2'));
      });

      it('a record handed out cannot change what later reads return', async () => {
        await store.createBucket(bucketRecord('d', 'acct-1'));
        const first = (await store.getBucket('d'))!;
        try {
          (first as { owner: string }).owner = 'intruder';
          (first.settings as { policy?: string }).policy = 'tampered';
        } catch {
          // a frozen record refuses the change: as good
        }
        assert.deepEqual(await store.getBucket('d'), bucketRecord('d', 'acct-1'));
        // A failed settings change (the function throws) leaves the record as it was.
        await assert.rejects(store.updateBucketSettings('d', () => { throw new Error('no'); }), /no/);
        assert.deepEqual(await store.getBucket('d'), bucketRecord('d', 'acct-1'));
      });
    });

    describe('objects', () => {
      beforeEach(async () => {
        await store.createBucket(bucketRecord('b'));
      });

      it('round-trips every field exactly', async () => {
        const full = objectRecord('b', 'dir/ünï©ødé 😀 %_.txt', {
          size: 5 * 1024 ** 4,
          lastModified: new Date(T0 + 999),
          storageClass: 'STANDARD_IA',
          owner: 'acct-9',
          contentHeaders: {
            'content-type': 'text/plain; charset=utf-8',
            'content-encoding': 'gzip',
            'content-disposition': 'attachment; filename="ä.txt"',
            'content-language': 'fr',
            'cache-control': 'no-cache',
            expires: 'Thu, 01 Dec 1994 16:00:00 GMT',
          },
          userMetadata: { empty: '', 'x-y': 'ünïcode 😀', quote: '"\'\\\n' },
          checksum: { algorithm: 'CRC64NVME', value: 'AAAAAAAAAAA=', type: 'FULL_OBJECT' },
        });
        await store.putObject(full);
        assert.deepEqual(await store.getObject('b', full.key), full);
        const bare = objectRecord('b', 'bare', { contentHeaders: {}, userMetadata: {}, size: 0 });
        await store.putObject(bare);
        const got = await store.getObject('b', 'bare');
        assert.deepEqual(got, bare);
        assert.ok(got && !('checksum' in got) && !('parts' in got), 'absent optional fields stay absent');
      });

      it('round-trips a 10,000-part object', async () => {
        const parts: ObjectPart[] = [];
        for (let n = 1; n <= 10_000; n++) {
          const part: ObjectPart = { number: n, size: 5 * 1024 * 1024 + n, etag: n.toString(16).padStart(32, '0'), locator: `seg/${n}` };
          if (n % 2 === 0) part.checksum = { algorithm: 'CRC32C', value: 'yZRlqg==', type: 'FULL_OBJECT' };
          parts.push(part);
        }
        const big = objectRecord('b', 'big', {
          etag: `${'cd'.repeat(16)}-10000`,
          locator: '',
          parts,
          checksum: { algorithm: 'SHA256', value: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=-10000', type: 'COMPOSITE' },
        });
        await store.putObject(big);
        assert.deepEqual(await store.getObject('b', 'big'), big);
      });

      it('keeps 1024-byte keys, unicode keys and near-identical keys apart', async () => {
        const keys = [
          'k'.repeat(1024),
          'é'.repeat(512), // 1024 bytes of UTF-8
          '😀'.repeat(256), // 1024 bytes of UTF-8
          'e\u0301', // NFD of é: a different key
          'é',
          'a ',
          'a',
          'A',
          'a%',
          'a_',
        ];
        for (const [i, key] of keys.entries()) await store.putObject(objectRecord('b', key, { size: i }));
        for (const [i, key] of keys.entries()) assert.equal((await store.getObject('b', key))?.size, i, key.slice(0, 8));
        assert.equal(await store.getObject('b', 'a/'), undefined);
      });

      it('replaces the current version and returns the one replaced', async () => {
        const first = objectRecord('b', 'k', { etag: '1'.repeat(32), locator: 'one' });
        const second = objectRecord('b', 'k', { etag: '2'.repeat(32), locator: 'two', lastModified: new Date(T0 + 1) });
        assert.deepEqual(await store.putObject(first), { status: 'ok' });
        assert.deepEqual(await store.putObject(second), { status: 'ok', previous: first });
        assert.deepEqual(await store.getObject('b', 'k'), second);
      });

      it('deletes the current version and returns it', async () => {
        const o = objectRecord('b', 'k');
        await store.putObject(o);
        assert.deepEqual(await store.deleteObject('b', 'k'), o);
        assert.equal(await store.getObject('b', 'k'), undefined);
        assert.equal(await store.deleteObject('b', 'k'), undefined);
        assert.equal(await store.deleteObject('b', 'never'), undefined);
      });

      it('keeps buckets apart', async () => {
        await store.createBucket(bucketRecord('b2'));
        await store.putObject(objectRecord('b', 'k', { size: 1 }));
        await store.putObject(objectRecord('b2', 'k', { size: 2 }));
        assert.equal((await store.getObject('b', 'k'))?.size, 1);
        assert.equal((await store.getObject('b2', 'k'))?.size, 2);
        assert.equal(await store.getObject('nope', 'k'), undefined);
        const page = await store.listObjects('b', { prefix: '', limit: 10 });
        assert.deepEqual(names(page), [{ key: 'k' }]);
      });

      it('refuses a put into a bucket that does not exist', async () => {
        await assert.rejects(store.putObject(objectRecord('missing', 'k')), { name: 'NoSuchBucketError' });
        assert.equal(await store.getObject('missing', 'k'), undefined);
      });

      describe('conditional puts', () => {
        const v1 = objectRecord('b', 'k', { etag: '1'.repeat(32), locator: 'v1' });
        const v2 = objectRecord('b', 'k', { etag: '2'.repeat(32), locator: 'v2' });

        it('If-None-Match: * writes only a new key', async () => {
          assert.deepEqual(await store.putObject(v1, { ifNoneMatch: true }), { status: 'ok' });
          assert.deepEqual(await store.putObject(v2, { ifNoneMatch: true }), { status: 'precondition-failed' });
          assert.deepEqual(await store.getObject('b', 'k'), v1);
          await store.deleteObject('b', 'k');
          assert.deepEqual(await store.putObject(v2, { ifNoneMatch: true }), { status: 'ok' });
        });

        it('If-Match needs the current ETag', async () => {
          assert.deepEqual(await store.putObject(v1, { ifMatch: v1.etag }), { status: 'missing' });
          assert.equal(await store.getObject('b', 'k'), undefined);
          await store.putObject(v1);
          assert.deepEqual(await store.putObject(v2, { ifMatch: '3'.repeat(32) }), { status: 'precondition-failed' });
          assert.deepEqual(await store.getObject('b', 'k'), v1);
          assert.deepEqual(await store.putObject(v2, { ifMatch: v1.etag }), { status: 'ok', previous: v1 });
          assert.deepEqual(await store.getObject('b', 'k'), v2);
        });

        it("If-Match: '*' needs any current version", async () => {
          assert.deepEqual(await store.putObject(v1, { ifMatch: '*' }), { status: 'missing' });
          await store.putObject(v1);
          assert.deepEqual(await store.putObject(v2, { ifMatch: '*' }), { status: 'ok', previous: v1 });
        });

        it('an empty condition is no condition', async () => {
          assert.deepEqual(await store.putObject(v1, {}), { status: 'ok' });
          assert.deepEqual(await store.putObject(v2, { ifNoneMatch: false }), { status: 'ok', previous: v1 });
        });

        it('exactly one of many concurrent If-None-Match puts wins', async () => {
          const outcomes = await Promise.all(
            Array.from({ length: 20 }, (_, i) => store.putObject(objectRecord('b', 'race', { locator: `r${i}` }), { ifNoneMatch: true })),
          );
          const winners = outcomes.flatMap((o, i) => (o.status === 'ok' ? [i] : []));
          assert.equal(winners.length, 1);
          assert.ok(outcomes.every((o) => o.status === 'ok' || o.status === 'precondition-failed'));
          assert.equal((await store.getObject('b', 'race'))?.locator, `r${winners[0]}`);
        });

        it('concurrent If-Match puts on one ETag: exactly one wins', async () => {
          await store.putObject(v1);
          const outcomes = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.putObject(objectRecord('b', 'k', { etag: `${i}`.padStart(32, 'f'), locator: `m${i}` }), { ifMatch: v1.etag }),
            ),
          );
          assert.equal(outcomes.filter((o) => o.status === 'ok').length, 1);
        });
      });
    });

    describe('listObjects', () => {
      beforeEach(async () => {
        await store.createBucket(bucketRecord('b'));
      });

      it('lists in UTF-8 byte order, not UTF-16 order', async () => {
        const keys = ['\uFF61', '\u{1F600}', '\u{10FFFF}', '\uE000', '\uD7FF', 'é', 'Z', 'a', 'a/b', 'a%', 'a_', '~', ' '];
        await putKeys('b', keys);
        const page = await store.listObjects('b', { prefix: '', limit: 1000 });
        assert.deepEqual(
          page.entries.map((e) => ('object' in e ? e.object.key : e.prefix)),
          [...keys].sort(byteOrder),
        );
        assert.equal(page.isTruncated, false);
        assert.equal(page.next, undefined);
      });

      it('returns each object’s summary: key, size, ETag, time, class, owner, checksum', async () => {
        const o = objectRecord('b', 'x', { checksum: { algorithm: 'CRC32', value: 'AAAAAA==', type: 'FULL_OBJECT' }, userMetadata: { m: '1' } });
        await store.putObject(o);
        const { key, size, etag, lastModified, storageClass, owner, checksum } = o;
        assert.deepEqual((await store.listObjects('b', { prefix: '', limit: 1 })).entries, [
          { object: { key, size, etag, lastModified, storageClass, owner, checksum } },
        ]);
      });

      it('matches prefixes literally: % and _ are not wildcards', async () => {
        const keys = ['a%b', 'a_b', 'axb', 'a%', 'a%%', 'ab', 'a\\b', 'a\\%'];
        await putKeys('b', keys);
        for (const prefix of ['a%', 'a_', 'a\\', 'a\\%', 'a']) await walk('b', keys, { prefix, limit: 1000 });
        assert.deepEqual(names(await store.listObjects('b', { prefix: 'a%', limit: 10 })), [{ key: 'a%' }, { key: 'a%%' }, { key: 'a%b' }]);
      });

      it('rolls keys up into common prefixes (the S3 documentation example)', async () => {
        const keys = ['sample.jpg', 'photos/2006/January/sample.jpg', 'photos/2006/February/sample2.jpg', 'photos/2006/February/sample3.jpg', 'photos/2006/February/sample4.jpg'];
        await putKeys('b', keys);
        assert.deepEqual(names(await store.listObjects('b', { prefix: '', delimiter: '/', limit: 1000 })), [{ prefix: 'photos/' }, { key: 'sample.jpg' }]);
        assert.deepEqual(names(await store.listObjects('b', { prefix: 'photos/2006/', delimiter: '/', limit: 1000 })), [
          { prefix: 'photos/2006/February/' },
          { prefix: 'photos/2006/January/' },
        ]);
        assert.deepEqual(names(await store.listObjects('b', { prefix: 'photos/2006/February/sample', delimiter: '/', limit: 2 })), [
          { key: 'photos/2006/February/sample2.jpg' },
          { key: 'photos/2006/February/sample3.jpg' },
        ]);
      });

      it('supports multi-character and unicode delimiters', async () => {
        const keys = ['a--b--c', 'a--d', 'a-b', 'x😀y😀z', 'x😀w', 'xy', 'a---', '--'];
        await putKeys('b', keys);
        assert.deepEqual(names(await store.listObjects('b', { prefix: '', delimiter: '--', limit: 100 })), [
          { prefix: '--' },
          { prefix: 'a--' },
          { key: 'a-b' },
          { key: 'xy' }, // 'y' (0x79) sorts before the first byte of U+1F600 (0xF0)
          { key: 'x😀w' },
          { key: 'x😀y😀z' },
        ]);
        assert.deepEqual(names(await store.listObjects('b', { prefix: 'x😀', delimiter: '😀', limit: 100 })), [{ key: 'x😀w' }, { prefix: 'x😀y😀' }]);
        // The delimiter is looked for after the prefix only.
        assert.deepEqual(names(await store.listObjects('b', { prefix: 'a-', delimiter: '--', limit: 100 })), [
          { prefix: 'a---' },
          { prefix: 'a--b--' },
          { key: 'a--d' },
          { key: 'a-b' },
        ]);
      });

      it('starts after `after`, skipping a common prefix it names or lies in', async () => {
        const keys = ['a', 'a/1', 'a/2', 'a/b/c', 'a0', 'b/x', 'c'];
        await putKeys('b', keys);
        const list = async (o: Partial<ListOptions>) => names(await store.listObjects('b', { prefix: '', limit: 100, ...o }));
        assert.deepEqual(await list({ delimiter: '/', after: 'a/' }), [{ key: 'a0' }, { prefix: 'b/' }, { key: 'c' }]);
        assert.deepEqual(await list({ delimiter: '/', after: 'a/1' }), [{ key: 'a0' }, { prefix: 'b/' }, { key: 'c' }]);
        assert.deepEqual(await list({ delimiter: '/', after: 'a' }), [{ prefix: 'a/' }, { key: 'a0' }, { prefix: 'b/' }, { key: 'c' }]);
        assert.deepEqual(await list({ after: 'a/1' }), [{ key: 'a/2' }, { key: 'a/b/c' }, { key: 'a0' }, { key: 'b/x' }, { key: 'c' }]);
        assert.deepEqual(await list({ prefix: 'a/', delimiter: '/', after: 'a/1' }), [{ key: 'a/2' }, { prefix: 'a/b/' }]);
        assert.deepEqual(await list({ prefix: 'a/', delimiter: '/', after: 'a/b/' }), []);
        assert.deepEqual(await list({ prefix: 'a/', after: '' }), [{ key: 'a/1' }, { key: 'a/2' }, { key: 'a/b/c' }]);
        assert.deepEqual(await list({ prefix: 'a/', after: '0' }), [{ key: 'a/1' }, { key: 'a/2' }, { key: 'a/b/c' }]);
        assert.deepEqual(await list({ prefix: 'a/', after: 'a0' }), []);
        assert.deepEqual(await list({ after: 'zzz' }), []);
      });

      it('answers an empty, untruncated page for limit 0', async () => {
        await putKeys('b', ['a', 'b']);
        assert.deepEqual(await store.listObjects('b', { prefix: '', limit: 0 }), { entries: [], isTruncated: false });
      });

      it('is truncated only when another entry exists', async () => {
        await putKeys('b', ['a', 'b/1', 'b/2', 'c']);
        const exact = await store.listObjects('b', { prefix: '', delimiter: '/', limit: 3 });
        assert.deepEqual(exact, { entries: exact.entries, isTruncated: false });
        const cut = await store.listObjects('b', { prefix: '', delimiter: '/', limit: 2 });
        assert.equal(cut.isTruncated, true);
        assert.equal(cut.next, 'b/');
        const rest = await store.listObjects('b', { prefix: '', delimiter: '/', limit: 2, after: cut.next });
        assert.deepEqual(names(rest), [{ key: 'c' }]);
        assert.equal(rest.isTruncated, false);
        const empty = await store.listObjects('b', { prefix: 'zz', limit: 5 });
        assert.deepEqual(empty, { entries: [], isTruncated: false });
      });

      it('handles prefixes with no successor (U+10FFFF)', async () => {
        const keys = ['\u{10FFFF}', '\u{10FFFF}\u{10FFFF}/x', '\u{10FFFF}a', '\u{10FFFE}', 'z'];
        await putKeys('b', keys);
        for (const delimiter of [undefined, '/']) {
          for (const prefix of ['\u{10FFFF}', '\u{10FFFF}\u{10FFFF}', '']) await walk('b', keys, { prefix, delimiter, limit: 1 });
        }
      });

      it('agrees with a brute-force reference at every page boundary (randomized, fixed seed)', async () => {
        const next = random(20240607);
        const keys = randomKeys(next, 160);
        await putKeys('b', keys);
        for (const prefix of PREFIXES) {
          for (const delimiter of DELIMITERS) {
            for (const limit of [1, 3, 1000]) {
              const paged = await walk('b', keys, { prefix, delimiter, limit });
              // Concatenated pages are the whole listing.
              assert.deepEqual(paged, referenceList(keys, { prefix, delimiter, limit: 1e9 }).entries);
            }
          }
        }
        // Arbitrary start points, including ones that are not keys.
        const starts = [...randomKeys(next, 40), ...keys.slice(0, 20)];
        for (const after of starts) {
          for (const delimiter of DELIMITERS) {
            const prefix = PREFIXES[Math.floor(next() * PREFIXES.length)]!;
            await walk('b', keys, { prefix, delimiter, limit: 2 }, after);
          }
        }
      });

      it(`seeks past common prefixes instead of reading their keys (${manyKeys} keys under one prefix)`, async () => {
        const many = Array.from({ length: manyKeys }, (_, i) => `big/${String(i).padStart(6, '0')}`);
        const others = ['a', 'big', 'big0', 'big/sub/x', 'c/1', 'c/2', 'zz'];
        await putKeys('b', [...many, ...others]);
        const keys = [...many, ...others];
        const counted = async <T>(f: () => Promise<T>, maxRows: number): Promise<T> => {
          const before = store.debugCounters?.();
          const result = await f();
          const after = store.debugCounters?.();
          if (before && after) {
            assert.ok(after.rowsRead - before.rowsRead <= maxRows, `read ${after.rowsRead - before.rowsRead} rows, at most ${maxRows} expected`);
            assert.ok(after.queries - before.queries <= maxRows, `ran ${after.queries - before.queries} queries`);
          }
          return result;
        };
        const all = await counted(() => store.listObjects('b', { prefix: '', delimiter: '/', limit: 1000 }), 8);
        assert.deepEqual(names(all), referenceList(keys, { prefix: '', delimiter: '/', limit: 1000 }).entries);
        assert.deepEqual(names(all), [{ key: 'a' }, { key: 'big' }, { prefix: 'big/' }, { key: 'big0' }, { prefix: 'c/' }, { key: 'zz' }]);
        // Every page boundary, one entry per page.
        let after: string | undefined;
        for (let i = 0; i < 6; i++) {
          const page = await counted(() => store.listObjects('b', { prefix: '', delimiter: '/', limit: 1, after }), 3);
          assert.deepEqual(names(page), [names(all)[i]]);
          assert.equal(page.isTruncated, i < 5);
          after = page.next;
        }
        for (const start of ['big/', 'big/000500', 'big/sub/']) {
          const page = await counted(() => store.listObjects('b', { prefix: '', delimiter: '/', limit: 1000, after: start }), 4);
          assert.deepEqual(names(page), [{ key: 'big0' }, { prefix: 'c/' }, { key: 'zz' }]);
        }
        const folder = await counted(() => store.listObjects('b', { prefix: 'big/', delimiter: '/', limit: 5 }), 6);
        assert.deepEqual(names(folder), many.slice(0, 5).map((key) => ({ key })));
        assert.equal(folder.isTruncated, true);
        const tail = await counted(() => store.listObjects('b', { prefix: 'big/', delimiter: '/', limit: 5, after: many.at(-2) }), 4);
        assert.deepEqual(names(tail), [{ key: many.at(-1)! }, { prefix: 'big/sub/' }]);
        assert.equal(tail.isTruncated, false);
      });
    });

    describe('multipart uploads', () => {
      beforeEach(async () => {
        await store.createBucket(bucketRecord('b'));
      });

      it('creates and gets uploads', async () => {
        const u = uploadRecord('b', 'dir/ü😀', 'u1', T0, {
          contentHeaders: { 'content-type': 'video/mp4' },
          userMetadata: { a: 'b' },
          checksumAlgorithm: 'CRC32C',
          checksumType: 'COMPOSITE',
          storageClass: 'GLACIER_IR',
        });
        await store.createUpload(u);
        await store.createUpload(uploadRecord('b', 'plain', 'u2'));
        assert.deepEqual(await store.getUpload('b', 'dir/ü😀', 'u1'), u);
        const plain = await store.getUpload('b', 'plain', 'u2');
        assert.deepEqual(plain, uploadRecord('b', 'plain', 'u2'));
        assert.ok(plain && !('checksumAlgorithm' in plain) && !('checksumType' in plain));
        assert.equal(await store.getUpload('b', 'other', 'u1'), undefined, 'another key');
        assert.equal(await store.getUpload('b2', 'dir/ü😀', 'u1'), undefined, 'another bucket');
        assert.equal(await store.getUpload('b', 'plain', 'nope'), undefined);
      });

      it('refuses an upload into a bucket that does not exist', async () => {
        await assert.rejects(store.createUpload(uploadRecord('missing', 'k', 'u1')), { name: 'NoSuchBucketError' });
      });

      it('adds, replaces and lists parts', async () => {
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        for (const n of [3, 1, 10_000, 2]) assert.deepEqual(await store.putPart('u1', partRecord('u1', n)), { status: 'ok' });
        const replaced = partRecord('u1', 2);
        const again = partRecord('u1', 2, { locator: 'part:u1:2:again', etag: 'f'.repeat(32), checksum: { algorithm: 'SHA1', value: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', type: 'COMPOSITE' } });
        assert.deepEqual(await store.putPart('u1', again), { status: 'ok', previous: replaced });
        const all = await store.listParts('u1', 0, 1000);
        assert.deepEqual(all, [partRecord('u1', 1), again, partRecord('u1', 3), partRecord('u1', 10_000)]);
        assert.deepEqual(await store.listParts('u1', 1, 2), [again, partRecord('u1', 3)]);
        assert.deepEqual(await store.listParts('u1', 3, 2), [partRecord('u1', 10_000)]);
        assert.deepEqual(await store.listParts('u1', 10_000, 2), []);
        assert.deepEqual(await store.listParts('u1', 0, 0), []);
        assert.deepEqual(await store.listParts('nope', 0, 10), []);
        assert.deepEqual(await store.putPart('nope', partRecord('nope', 1)), { status: 'missing' });
      });

      it('completes: the object appears, the upload and its parts go, unused parts come back', async () => {
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        const parts = [1, 2, 3, 4].map((n) => partRecord('u1', n));
        for (const p of parts) await store.putPart('u1', p);
        const object = assembled('b', 'k', [parts[0]!, parts[2]!]);
        const outcome = await store.completeUpload('u1', object);
        assert.deepEqual(outcome, { status: 'ok', unusedParts: [parts[1], parts[3]] });
        assert.deepEqual(await store.getObject('b', 'k'), object);
        assert.equal(await store.getUpload('b', 'k', 'u1'), undefined);
        assert.deepEqual(await store.listParts('u1', 0, 100), []);
        assert.deepEqual(await store.completeUpload('u1', object), { status: 'missing' });
        assert.equal(await store.abortUpload('u1'), undefined);
        assert.deepEqual(await store.putPart('u1', partRecord('u1', 5)), { status: 'missing' });
      });

      it('completes over an existing object and returns it', async () => {
        const old = objectRecord('b', 'k');
        await store.putObject(old);
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        const p = partRecord('u1', 1);
        await store.putPart('u1', p);
        const object = assembled('b', 'k', [p]);
        assert.deepEqual(await store.completeUpload('u1', object), { status: 'ok', previous: old, unusedParts: [] });
        assert.deepEqual(await store.getObject('b', 'k'), object);
      });

      it('checks conditions on completion and keeps the upload when refused', async () => {
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        const p = partRecord('u1', 1);
        await store.putPart('u1', p);
        const object = assembled('b', 'k', [p]);
        assert.deepEqual(await store.completeUpload('u1', object, { ifMatch: ETAG }), { status: 'precondition-failed' });
        const existing = objectRecord('b', 'k');
        await store.putObject(existing);
        assert.deepEqual(await store.completeUpload('u1', object, { ifNoneMatch: true }), { status: 'precondition-failed' });
        assert.deepEqual(await store.completeUpload('u1', object, { ifMatch: 'f'.repeat(32) }), { status: 'precondition-failed' });
        assert.deepEqual(await store.getObject('b', 'k'), existing);
        assert.ok(await store.getUpload('b', 'k', 'u1'));
        assert.deepEqual(await store.listParts('u1', 0, 10), [p]);
        assert.deepEqual(await store.completeUpload('u1', object, { ifMatch: ETAG }), { status: 'ok', previous: existing, unusedParts: [] });
      });

      it('does not complete an upload into another key', async () => {
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        assert.deepEqual(await store.completeUpload('u1', assembled('b', 'other', [])), { status: 'missing' });
        assert.equal(await store.getObject('b', 'other'), undefined);
        assert.ok(await store.getUpload('b', 'k', 'u1'));
      });

      it('aborts: returns the parts once', async () => {
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        await store.createUpload(uploadRecord('b', 'k', 'u2'));
        const parts = [2, 1].map((n) => partRecord('u1', n));
        for (const p of parts) await store.putPart('u1', p);
        await store.putPart('u2', partRecord('u2', 1));
        assert.deepEqual(await store.abortUpload('u1'), [parts[1], parts[0]]);
        assert.equal(await store.abortUpload('u1'), undefined);
        assert.equal(await store.getUpload('b', 'k', 'u1'), undefined);
        assert.deepEqual(await store.completeUpload('u1', assembled('b', 'k', parts)), { status: 'missing' });
        assert.deepEqual(await store.abortUpload('u2'), [partRecord('u2', 1)], 'the other upload of the key is intact');
        assert.deepEqual(await store.abortUpload('empty-never-existed'), undefined);
      });

      it('completeUpload racing abortUpload: exactly one wins', async () => {
        for (let i = 0; i < 20; i++) {
          const id = `race-${i}`;
          await store.createUpload(uploadRecord('b', `k${i}`, id));
          const p = partRecord(id, 1);
          await store.putPart(id, p);
          const object = assembled('b', `k${i}`, [p]);
          const [completed, aborted] =
            i % 2 === 0
              ? await Promise.all([store.completeUpload(id, object), store.abortUpload(id)])
              : await Promise.all([store.abortUpload(id), store.completeUpload(id, object)]).then(([a, c]) => [c, a] as const);
          if (completed.status === 'ok') {
            assert.equal(aborted, undefined);
            assert.deepEqual(await store.getObject('b', `k${i}`), object);
          } else {
            assert.equal(completed.status, 'missing');
            assert.deepEqual(aborted, [p]);
            assert.equal(await store.getObject('b', `k${i}`), undefined);
          }
          assert.equal(await store.getUpload('b', `k${i}`, id), undefined);
        }
      });

      it('lists uploads initiated before a time, oldest first, across buckets', async () => {
        await store.createBucket(bucketRecord('a'));
        await store.createUpload(uploadRecord('b', 'k', 'u-late', T0 + 5000));
        await store.createUpload(uploadRecord('a', 'k', 'u-mid', T0 + 1000));
        await store.createUpload(uploadRecord('b', 'z', 'u-old', T0));
        await store.createUpload(uploadRecord('a', 'y', 'u-old2', T0));
        const ids = async (t: number, limit: number) => (await store.listUploadsInitiatedBefore(new Date(t), limit)).map((u) => u.uploadId);
        assert.deepEqual(await ids(T0 + 5000, 10), ['u-old', 'u-old2', 'u-mid']);
        assert.deepEqual(await ids(T0 + 5001, 2), ['u-old', 'u-old2']);
        assert.deepEqual(await ids(T0, 10), []);
        assert.deepEqual(await store.listUploadsInitiatedBefore(new Date(T0 + 1), 1), [uploadRecord('b', 'z', 'u-old', T0)]);
      });
    });

    describe('listUploads', () => {
      beforeEach(async () => {
        await store.createBucket(bucketRecord('b'));
        await store.createBucket(bucketRecord('other'));
        await store.createUpload(uploadRecord('other', 'a', 'elsewhere'));
      });

      async function create(uploads: RefUpload[]): Promise<void> {
        for (const u of uploads) await store.createUpload(uploadRecord('b', u.key, u.uploadId, u.initiated));
      }

      async function walkUploads(uploads: RefUpload[], o: Omit<UploadListOptions, 'keyMarker' | 'uploadIdMarker'>, keyMarker?: string, uploadIdMarker?: string) {
        for (let pages = 0; ; pages++) {
          assert.ok(pages <= uploads.length + 1, 'listing does not end');
          const page = await store.listUploads('b', { ...o, keyMarker, uploadIdMarker });
          const want = referenceUploads(uploads, { ...o, keyMarker, uploadIdMarker });
          const where = `prefix=${JSON.stringify(o.prefix)} delimiter=${JSON.stringify(o.delimiter)} markers=${JSON.stringify([keyMarker, uploadIdMarker])} limit=${o.limit}`;
          assert.deepEqual(uploadNames(page), want.entries.map((e) => ('prefix' in e ? e : { upload: e.upload.uploadId })), where);
          assert.equal(page.isTruncated, want.isTruncated, where);
          assert.equal(page.nextKeyMarker, want.nextKeyMarker, where);
          assert.equal(page.nextUploadIdMarker, want.nextUploadIdMarker, where);
          if (!page.isTruncated) return;
          keyMarker = page.nextKeyMarker;
          uploadIdMarker = page.nextUploadIdMarker;
        }
      }

      it('orders by key, then initiation time, and returns whole records', async () => {
        await create([
          { key: 'k', uploadId: 'zz-first', initiated: T0 },
          { key: 'k', uploadId: 'aa-second', initiated: T0 + 10 },
          { key: 'j', uploadId: 'mm', initiated: T0 + 20 },
        ]);
        const page = await store.listUploads('b', { prefix: '', limit: 10 });
        assert.deepEqual(uploadNames(page), [{ upload: 'mm' }, { upload: 'zz-first' }, { upload: 'aa-second' }]);
        assert.deepEqual(page.entries[0], { upload: uploadRecord('b', 'j', 'mm', T0 + 20) });
        assert.equal(page.isTruncated, false);
      });

      it('follows key-marker and upload-id-marker as S3 does', async () => {
        const uploads = [
          { key: 'k', uploadId: 'u3', initiated: T0 },
          { key: 'k', uploadId: 'u1', initiated: T0 + 1 },
          { key: 'k', uploadId: 'u2', initiated: T0 + 2 },
          { key: 'l', uploadId: 'u0', initiated: T0 },
        ];
        await create(uploads);
        const ids = async (o: Partial<UploadListOptions>) => uploadNames(await store.listUploads('b', { prefix: '', limit: 10, ...o })).map((e) => ('upload' in e ? e.upload : e.prefix));
        assert.deepEqual(await ids({ keyMarker: 'k' }), ['u0'], 'key-marker alone skips the key');
        assert.deepEqual(await ids({ keyMarker: 'k', uploadIdMarker: 'u3' }), ['u1', 'u2', 'u0']);
        assert.deepEqual(await ids({ keyMarker: 'k', uploadIdMarker: 'u1' }), ['u2', 'u0']);
        assert.deepEqual(await ids({ keyMarker: 'k', uploadIdMarker: 'u2' }), ['u0']);
        assert.deepEqual(await ids({ uploadIdMarker: 'u1' }), ['u3', 'u1', 'u2', 'u0'], 'upload-id-marker alone is ignored');
        assert.deepEqual(await ids({ keyMarker: 'k', uploadIdMarker: 'u15' }), ['u3', 'u2', 'u0'], 'a vanished marker: ids after it');
        assert.deepEqual(await ids({ keyMarker: 'j', uploadIdMarker: 'u1' }), ['u3', 'u1', 'u2', 'u0'], 'a marker of another key');
        await walkUploads(uploads, { prefix: '', limit: 1 });
      });

      it('rolls keys up into common prefixes and skips a marker’s common prefix', async () => {
        const uploads = [
          { key: 'a/1', uploadId: 'p1', initiated: T0 },
          { key: 'a/1', uploadId: 'p2', initiated: T0 + 1 },
          { key: 'a/2', uploadId: 'p3', initiated: T0 },
          { key: 'b', uploadId: 'p4', initiated: T0 },
          { key: 'b', uploadId: 'p5', initiated: T0 + 1 },
          { key: 'c%/x', uploadId: 'p6', initiated: T0 },
        ];
        await create(uploads);
        const ids = async (o: Partial<UploadListOptions>) => uploadNames(await store.listUploads('b', { prefix: '', delimiter: '/', limit: 10, ...o })).map((e) => ('upload' in e ? e.upload : e.prefix));
        assert.deepEqual(await ids({}), ['a/', 'p4', 'p5', 'c%/']);
        assert.deepEqual(await ids({ keyMarker: 'a/1', uploadIdMarker: 'p1' }), ['p4', 'p5', 'c%/']);
        assert.deepEqual(await ids({ keyMarker: 'a/' }), ['p4', 'p5', 'c%/']);
        assert.deepEqual(await ids({ keyMarker: 'b', uploadIdMarker: 'p4' }), ['p5', 'c%/']);
        assert.deepEqual(await ids({ prefix: 'c%' }), ['c%/']);
        assert.deepEqual(await ids({ prefix: 'c_' }), []);
        const page = await store.listUploads('b', { prefix: '', delimiter: '/', limit: 1 });
        assert.deepEqual({ ...page, entries: undefined }, { entries: undefined, isTruncated: true, nextKeyMarker: 'a/' });
        await walkUploads(uploads, { prefix: '', delimiter: '/', limit: 1 });
      });

      it('answers an empty, untruncated page for limit 0', async () => {
        await create([{ key: 'k', uploadId: 'u', initiated: T0 }]);
        assert.deepEqual(await store.listUploads('b', { prefix: '', limit: 0 }), { entries: [], isTruncated: false });
      });

      it('agrees with a brute-force reference at every page boundary (randomized, fixed seed)', async () => {
        const next = random(7);
        const keys = randomKeys(next, 50);
        const uploads: RefUpload[] = [];
        for (let i = 0; i < 90; i++) {
          // Some keys get several uploads, some at the same instant (then ordered by id).
          uploads.push({ key: keys[Math.floor(next() * keys.length)]!, uploadId: `id-${Math.floor(next() * 1e6)}-${i}`, initiated: T0 + Math.floor(next() * 4) });
        }
        await create(uploads);
        for (const prefix of PREFIXES) {
          for (const delimiter of DELIMITERS) {
            for (const limit of [1, 4]) await walkUploads(uploads, { prefix, delimiter, limit });
          }
        }
        for (const u of uploads.slice(0, 30)) {
          const delimiter = DELIMITERS[Math.floor(next() * DELIMITERS.length)];
          await walkUploads(uploads, { prefix: '', delimiter, limit: 3 }, u.key, next() < 0.5 ? u.uploadId : undefined);
        }
      });

      it('seeks past common prefixes of uploads', async () => {
        const uploads = Array.from({ length: 300 }, (_, i) => ({ key: `big/${i}`, uploadId: `u${i}`, initiated: T0 }));
        uploads.push({ key: 'small', uploadId: 's', initiated: T0 });
        await create(uploads);
        const before = store.debugCounters?.();
        const page = await store.listUploads('b', { prefix: '', delimiter: '/', limit: 1000 });
        const after = store.debugCounters?.();
        assert.deepEqual(uploadNames(page), [{ prefix: 'big/' }, { upload: 's' }]);
        if (before && after) assert.ok(after.rowsRead - before.rowsRead <= 4, `read ${after.rowsRead - before.rowsRead} rows`);
      });
    });

    describe('deleteBucket', () => {
      it("answers 'missing' for a bucket that does not exist", async () => {
        assert.deepEqual(await store.deleteBucket('nope'), { status: 'missing' });
      });

      it('refuses while an object exists, and changes nothing', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.putObject(objectRecord('b', 'k'));
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        assert.deepEqual(await store.deleteBucket('b'), { status: 'not-empty' });
        assert.ok(await store.getBucket('b'));
        assert.ok(await store.getUpload('b', 'k', 'u1'));
        await store.deleteObject('b', 'k');
        assert.equal((await store.deleteBucket('b')).status, 'deleted');
      });

      it('drops pending uploads and returns their parts’ locators', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.createBucket(bucketRecord('b2'));
        await store.createUpload(uploadRecord('b', 'k', 'u1'));
        await store.createUpload(uploadRecord('b', 'l', 'u2'));
        await store.createUpload(uploadRecord('b', 'm', 'u3'));
        await store.createUpload(uploadRecord('b2', 'k', 'keep'));
        for (const p of [partRecord('u1', 1), partRecord('u1', 2), partRecord('u2', 7), partRecord('keep', 1)]) {
          await store.putPart(p.locator.split(':')[1]!, p);
        }
        const result = await store.deleteBucket('b');
        assert.equal(result.status, 'deleted');
        assert.ok(result.status === 'deleted');
        assert.deepEqual([...result.orphanLocators].sort(), ['part:u1:1', 'part:u1:2', 'part:u2:7']);
        assert.equal(await store.getBucket('b'), undefined);
        assert.equal(await store.getUpload('b', 'k', 'u1'), undefined);
        assert.deepEqual(await store.listParts('u1', 0, 10), []);
        assert.deepEqual(await store.listUploadsInitiatedBefore(new Date(T0 + 1), 10), [uploadRecord('b2', 'k', 'keep')]);
        // A new bucket of the same name starts empty.
        assert.equal(await store.createBucket(bucketRecord('b', 'acct-2')), 'created');
        assert.deepEqual(await store.listUploads('b', { prefix: '', limit: 10 }), { entries: [], isTruncated: false });
        assert.deepEqual(await store.listObjects('b', { prefix: '', limit: 10 }), { entries: [], isTruncated: false });
        assert.deepEqual(await store.deleteBucket('b'), { status: 'deleted', orphanLocators: [] });
      });

    describe('referencedLocators', () => {
      it('names objects’ data, completed objects’ parts and pending uploads’ parts, and nothing else', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.putObject(objectRecord('b', 'single', { locator: 'loc-single' }));
        await store.putObject(objectRecord('b', 'replaced', { locator: 'loc-old' }));
        await store.putObject(objectRecord('b', 'replaced', { locator: 'loc-new' }));
        await store.putObject(objectRecord('b', 'deleted', { locator: 'loc-deleted' }));
        await store.deleteObject('b', 'deleted');
        await store.createUpload(uploadRecord('b', 'done', 'u-done'));
        const parts = [partRecord('u-done', 1), partRecord('u-done', 2)];
        for (const p of parts) await store.putPart('u-done', p);
        await store.completeUpload('u-done', assembled('b', 'done', parts));
        await store.createUpload(uploadRecord('b', 'pending', 'u-pending'));
        await store.putPart('u-pending', partRecord('u-pending', 3));
        const found: string[] = [];
        for await (const l of store.referencedLocators()) found.push(l);
        assert.deepEqual(found.sort(), ['loc-new', 'loc-single', 'part:u-done:1', 'part:u-done:2', 'part:u-pending:3'].sort());
      });

      it('leaves out locators with the prefix asked (long ones and parts’ too), and still names the rest of a multipart object’s parts', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.putObject(objectRecord('b', 'short-inline', { locator: 'i:short' }));
        // Long enough to live outside the object row in stores that move long locators out.
        await store.putObject(objectRecord('b', 'long-inline', { locator: 'i:' + 'x'.repeat(6000) }));
        await store.putObject(objectRecord('b', 'stored', { locator: 's:kept' }));
        await store.createUpload(uploadRecord('b', 'done', 'u-done'));
        const parts = [partRecord('u-done', 1, { locator: 'i:part1' }), partRecord('u-done', 2)];
        for (const p of parts) await store.putPart('u-done', p);
        await store.completeUpload('u-done', assembled('b', 'done', parts));
        const all: string[] = [];
        for await (const l of store.referencedLocators()) all.push(l);
        assert.equal(all.length, 5, 'without the option every locator is named');
        const found: string[] = [];
        for await (const l of store.referencedLocators({ skipPrefix: 'i:' })) found.push(l);
        assert.deepEqual(found.sort(), ['part:u-done:2', 's:kept']);
      });
    });

    describe('replaceLocators', () => {
      it('rewrites the locators the function maps, in objects, their parts and pending uploads’ parts', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.putObject(objectRecord('b', 'single', { locator: 'i:old' }));
        await store.putObject(objectRecord('b', 'other', { locator: 's:keep' }));
        await store.createUpload(uploadRecord('b', 'done', 'u-done'));
        const parts = [partRecord('u-done', 1), partRecord('u-done', 2)];
        for (const p of parts) await store.putPart('u-done', p);
        await store.completeUpload('u-done', assembled('b', 'done', parts));
        await store.createUpload(uploadRecord('b', 'pending', 'u-pending'));
        await store.putPart('u-pending', partRecord('u-pending', 3));
        const wanted = new Set(['i:old', 'part:u-done:2', 'part:u-pending:3']);
        const changed = await store.replaceLocators((l) => (wanted.has(l) ? `new:${l}` : undefined));
        assert.equal(changed, 3);
        assert.equal((await store.getObject('b', 'single'))?.locator, 'new:i:old');
        assert.equal((await store.getObject('b', 'other'))?.locator, 's:keep');
        assert.deepEqual((await store.getObject('b', 'done'))?.parts?.map((p) => p.locator), ['part:u-done:1', 'new:part:u-done:2']);
        assert.deepEqual((await store.listParts('u-pending', 0, 10)).map((p) => p.locator), ['new:part:u-pending:3']);
        assert.equal(await store.replaceLocators(() => undefined), 0);
      });
    });

    describe('accounts and access keys', () => {
      const account = (id: string, email?: string): Account => ({
        id,
        displayName: `name ${id}`,
        email,
        status: 'active',
        isAdmin: false,
        createdAt: new Date(T0),
      });
      const key = (accessKeyId: string, accountId: string): AccessKey => ({
        accessKeyId,
        accountId,
        sealedSecret: `sealed:${accessKeyId}`,
        status: 'Active',
        createdAt: new Date(T0),
      });

      it('creates, finds, lists and updates accounts; ids and emails are unique', async () => {
        assert.equal(await store.createAccount({ ...account('a1', 'One@Example.com'), isAdmin: true, rateLimit: 5 }), 'created');
        assert.equal(await store.createAccount(account('a1')), 'exists');
        assert.equal(await store.createAccount(account('a2', 'one@example.com')), 'exists');
        assert.equal(await store.createAccount(account('a3')), 'created');
        assert.deepEqual(await store.getAccount('a1'), { ...account('a1', 'one@example.com'), isAdmin: true, rateLimit: 5 });
        assert.equal((await store.getAccountByEmail('ONE@example.com'))?.id, 'a1');
        assert.deepEqual((await store.listAccounts()).map((a) => a.id), ['a1', 'a3']);
        assert.equal(await store.updateAccount('a3', { status: 'suspended', passwordHash: 'scrypt$x' }), true);
        assert.equal((await store.getAccount('a3'))?.status, 'suspended');
        assert.equal((await store.getAccount('a3'))?.passwordHash, 'scrypt$x');
        assert.equal(await store.updateAccount('nobody', { status: 'active' }), false);
      });

      it('holds at most ten keys per account; keys change status, record use, and go', async () => {
        await store.createAccount(account('a1'));
        for (let i = 0; i < 10; i++) assert.equal(await store.createAccessKey(key(`K${i}`, 'a1')), 'created');
        assert.equal(await store.createAccessKey(key('K10', 'a1')), 'limit');
        assert.equal(await store.createAccessKey(key('K0', 'a1')), 'limit');
        assert.equal(await store.createAccessKey(key('Kx', 'nobody')), 'missing');
        assert.equal((await store.listAccessKeys('a1')).length, 10);
        assert.deepEqual(await store.getAccessKey('K3'), key('K3', 'a1'));
        assert.equal(await store.updateAccessKey('K3', { status: 'Inactive', lastUsed: new Date(T0 + 5) }), true);
        assert.equal((await store.getAccessKey('K3'))?.status, 'Inactive');
        assert.equal((await store.getAccessKey('K3'))?.lastUsed?.getTime(), T0 + 5);
        assert.equal(await store.deleteAccessKey('K3'), true);
        assert.equal(await store.deleteAccessKey('K3'), false);
        assert.equal(await store.getAccessKey('K3'), undefined);
        assert.equal(await store.createAccessKey(key('K10', 'a1')), 'created');
      });
    });

    describe('long locators', () => {
      it('round-trip through put, get, replace, delete, referencedLocators and replaceLocators', async () => {
        await store.createBucket(bucketRecord('b'));
        const long = (c: string) => `i:${c.repeat(6000)}`;
        await store.putObject(objectRecord('b', 'k', { locator: long('a') }));
        assert.equal((await store.getObject('b', 'k'))?.locator, long('a'));
        // Without locators (HEAD) the record is the same but for a locator it need not load.
        const head = await store.getObject('b', 'k', { locators: false });
        assert.deepEqual({ ...head, locator: '' }, { ...(await store.getObject('b', 'k')), locator: '' });
        assert.ok(head?.locator === '' || head?.locator === long('a'));
        const replaced = await store.putObject(objectRecord('b', 'k', { locator: long('b') }));
        assert.ok(replaced.status === 'ok' && replaced.previous?.locator === long('a'));
        await store.putObject(objectRecord('b', 'short', { locator: 's:1' }));
        const refs = async () => {
          const out: string[] = [];
          for await (const l of store.referencedLocators()) out.push(l);
          return out.sort();
        };
        assert.deepEqual(await refs(), [long('b'), 's:1'].sort());
        assert.equal(await store.replaceLocators((l) => (l === long('b') ? long('c') : undefined)), 1);
        assert.equal((await store.getObject('b', 'k'))?.locator, long('c'));
        assert.equal((await store.deleteObject('b', 'k'))?.locator, long('c'));
        assert.deepEqual(await refs(), ['s:1']);
      });
    });
    });

    describe('share links', () => {
      const link = (id: string, more: Partial<ShareLink> = {}): ShareLink => ({
        id,
        tokenHash: `hash-${id}`,
        owner: 'acct-1',
        bucket: 'b',
        kind: 'object',
        key: 'dir/ü.txt',
        createdAt: new Date(T0),
        expiresAt: new Date(T0 + 3_600_000),
        ...more,
      });

      it('create, find by token hash, list by owner, delete only by the owner', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.createShare(link('s1'));
        await store.createShare(link('s2', { kind: 'prefix', key: '', createdAt: new Date(T0 + 1) }));
        await store.createShare(link('s3', { owner: 'acct-2' }));
        assert.deepEqual(await store.getShareByTokenHash('hash-s1'), link('s1'));
        assert.equal(await store.getShareByTokenHash('s1'), undefined);
        assert.deepEqual((await store.listShares('acct-1')).map((s) => s.id), ['s1', 's2']);
        assert.deepEqual((await store.listShares('acct-2')).map((s) => s.id), ['s3']);
        assert.equal(await store.deleteShare('acct-2', 's1'), false);
        assert.equal(await store.deleteShare('acct-1', 's1'), true);
        assert.equal(await store.deleteShare('acct-1', 's1'), false);
        assert.equal(await store.getShareByTokenHash('hash-s1'), undefined);
      });

      it('refuses a link to a missing bucket; a deleted bucket takes its links along', async () => {
        await assert.rejects(store.createShare(link('s1', { bucket: 'nope' })), { name: 'NoSuchBucketError' });
        await store.createBucket(bucketRecord('b'));
        await store.createShare(link('s1'));
        assert.equal((await store.deleteBucket('b')).status, 'deleted');
        assert.equal(await store.getShareByTokenHash('hash-s1'), undefined);
        assert.deepEqual(await store.listShares('acct-1'), []);
      });

      it('purges expired links', async () => {
        await store.createBucket(bucketRecord('b'));
        await store.createShare(link('old', { expiresAt: new Date(T0 + 10) }));
        await store.createShare(link('new', { expiresAt: new Date(T0 + 20) }));
        assert.equal(await store.deleteExpiredShares(new Date(T0 + 10)), 1);
        assert.deepEqual((await store.listShares('acct-1')).map((s) => s.id), ['new']);
      });
    });
  });
}
