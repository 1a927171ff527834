// Master key file and environment, data key wrapping, chunk authentication, inline blobs,
// piece headers and trailers, and master key rotation.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamCipher, newDataKey, unwrapKey, wrapKey } from '../../src/engine/shard/crypto.ts';
import { KeyRing, loadKeyRing, newMasterKey } from '../../src/security/master-key.ts';
import { openInline, rewrapInline, sealInline } from '../../src/engine/shard/inline.ts';
import { ENTRY_OVERHEAD, InlineCache } from '../../src/engine/shard/inline-cache.ts';
import { decodeHeader, decodeTrailer, encodeHeader, encodeTrailer, merkleRoot, sha256 } from '../../src/engine/shard/piece-file.ts';
import { rotateMasterKey } from '../../src/engine/shard/rotate.ts';
import { objectRecord } from '../meta/contract.ts';
import { openRig, Pattern, readAll } from './helpers.ts';

describe('master key', () => {
  it('is generated once into a 0600 file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oort-key-'));
    try {
      const first = await loadKeyRing(dir, {});
      assert.equal(first.created, true);
      assert.equal((await stat(join(dir, 'master.key'))).mode & 0o777, 0o600);
      const again = await loadKeyRing(dir, {});
      assert.equal(again.created, false);
      assert.equal(again.keys.current.id, first.keys.current.id);
      assert.ok(again.keys.current.key.equals(first.keys.current.key));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('comes from OORT_MASTER_KEY and OORT_MASTER_KEY_ID when set', async () => {
    const key = randomBytes(32);
    const old = randomBytes(32);
    const { keys } = await loadKeyRing('/nonexistent', {
      OORT_MASTER_KEY: key.toString('base64'),
      OORT_MASTER_KEY_ID: 'k2',
      OORT_PREVIOUS_MASTER_KEYS: `k1:${old.toString('base64')}`,
    });
    assert.equal(keys.current.id, 'k2');
    assert.ok(keys.get('k1').key.equals(old));
    await assert.rejects(loadKeyRing('/nonexistent', { OORT_MASTER_KEY: 'c2hvcnQ=', OORT_MASTER_KEY_ID: 'x' }), /32 bytes/);
  });
});

describe('data keys and chunks', () => {
  it('a wrapped data key opens only under its master key and stream', () => {
    const kek = newMasterKey();
    const dek = newDataKey();
    const wrapped = wrapKey(kek, 'a'.repeat(32), dek);
    assert.ok(unwrapKey(kek, 'a'.repeat(32), wrapped).equals(dek));
    assert.throws(() => unwrapKey(kek, 'b'.repeat(32), wrapped));
    assert.throws(() => unwrapKey({ ...newMasterKey(), id: kek.id }, 'a'.repeat(32), wrapped));
    assert.throws(() => unwrapKey({ ...kek, id: 'other' }, 'a'.repeat(32), wrapped));
  });

  it('a chunk authenticates only at its stream, segment, index, last flag and segment size', () => {
    const dek = newDataKey();
    const stream = 'c'.repeat(32);
    const c = new StreamCipher(dek, stream);
    const pos = { segment: 3, chunk: 7, last: true, segmentPlainSize: 1000 };
    const plain = randomBytes(1000);
    const ct = c.encrypt(plain, pos);
    assert.equal(ct.length, 1016);
    assert.ok(c.decrypt(ct, pos).equals(plain));
    for (const wrong of [
      { ...pos, segment: 4 },
      { ...pos, chunk: 6 },
      { ...pos, last: false, segmentPlainSize: 0 },
      { ...pos, segmentPlainSize: 999 },
    ]) {
      assert.throws(() => c.decrypt(ct, wrong));
    }
    assert.throws(() => new StreamCipher(dek, 'd'.repeat(32)).decrypt(ct, pos));
    const flipped = Buffer.from(ct);
    flipped[10]! ^= 1;
    assert.throws(() => c.decrypt(flipped, pos));
  });

  it('inline blobs round-trip, refuse tampering, and re-wrap without changing the ciphertext', () => {
    const old = newMasterKey();
    const keys = new KeyRing(old);
    const plain = randomBytes(4096);
    const locator = sealInline(keys, plain);
    assert.ok(locator.startsWith('i:'));
    assert.ok(openInline(keys, locator).equals(plain));
    const bytes = Buffer.from(locator.slice(2), 'base64url');
    bytes[bytes.length - 20]! ^= 1;
    assert.throws(() => openInline(keys, 'i:' + bytes.toString('base64url')));
    const next = new KeyRing(newMasterKey(), [old]);
    const rewrapped = rewrapInline(next, locator);
    assert.notEqual(rewrapped, locator);
    assert.ok(openInline(new KeyRing(next.current), rewrapped).equals(plain));
    assert.throws(() => openInline(new KeyRing(next.current), locator), /not available/);
  });

  it('the inline plaintext cache returns what opening the exact locator would, within its byte budget', () => {
    const keys = new KeyRing(newMasterKey());
    const plains = [0, 1, 2, 3].map((i) => Buffer.alloc(1000, 0x61 + i));
    const locators = plains.map((p) => sealInline(keys, p));
    // Room for about three entries (locator plus plaintext bytes each).
    const cache = new InlineCache(3 * (locators[0]!.length + 1000 + ENTRY_OVERHEAD) + 10);
    let opened = 0;
    const open = (l: string) => (opened++, openInline(keys, l));
    assert.ok(cache.get(locators[0]!, open).equals(plains[0]!));
    assert.ok(cache.get(locators[0]!, open).equals(plains[0]!));
    assert.equal(opened, 1, 'a hit opens nothing');
    cache.get(locators[1]!, open);
    cache.get(locators[2]!, open);
    cache.get(locators[0]!, open); // now the most recently used
    cache.get(locators[3]!, open); // over budget: the least recently used (1) goes
    assert.equal(opened, 4);
    assert.ok(cache.size.bytes <= 3 * (locators[0]!.length + 1000 + ENTRY_OVERHEAD) + 10);
    assert.equal(cache.size.entries, 3);
    cache.get(locators[0]!, open);
    assert.equal(opened, 4, 'the recently used entry stayed');
    cache.get(locators[1]!, open);
    assert.equal(opened, 5, 'the evicted one is opened again');
    // Any other locator, even one byte off, is opened (and here fails to authenticate).
    const l = locators[2]!;
    const altered = l.slice(0, -3) + (l.at(-3) === 'A' ? 'B' : 'A') + l.slice(-2);
    assert.throws(() => cache.get(altered, open));
    // One that differs only far from its end (entries are found by the tail, then compared whole).
    const mid = Math.floor(l.length / 2);
    const alteredMid = l.slice(0, mid) + (l[mid] === 'A' ? 'B' : 'A') + l.slice(mid + 1);
    cache.get(l, open);
    const before = opened;
    assert.throws(() => cache.get(alteredMid, open));
    assert.equal(opened, before + 1, 'the look-alike was opened, not served from the entry');
    assert.ok(cache.get(l, open).equals(plains[2]!));
    // Re-wrapped under a new master key: a new locator, opened afresh, same plaintext.
    const next = new KeyRing(newMasterKey(), [keys.current]);
    const rewrapped = rewrapInline(next, locators[3]!);
    assert.ok(cache.get(rewrapped, (x) => openInline(next, x)).equals(plains[3]!));
    // An entry bigger than the whole budget is returned but not kept.
    const tiny = new InlineCache(100);
    tiny.get(locators[0]!, open);
    assert.equal(tiny.size.entries, 0);
  });

  it('the inline plaintext cache of tiny objects stays within its budget in memory, not only in bytes counted', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const keys = new KeyRing(newMasterKey());
    const budget = 1024 * 1024;
    // Enough 1-byte objects to fill the budget counting their bytes alone (about 8,500).
    const locators = Array.from({ length: 10_000 }, (_, i) => sealInline(keys, Buffer.of(i & 0xff)));
    gc();
    gc();
    const before = process.memoryUsage();
    const cache = new InlineCache(budget);
    for (const l of locators) cache.get(l, (x) => openInline(keys, x));
    gc();
    gc();
    const after = process.memoryUsage();
    // The locators were made before: what grew is the entries' own cost.
    const grown = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
    assert.ok(grown <= budget, `${cache.size.entries} entries grew the heap by ${grown} bytes, over the ${budget} budget`);
  });
});

describe('piece file', () => {
  it('header and trailer round-trip, and any flipped byte is detected', () => {
    const hashes = Array.from({ length: 5 }, () => sha256(randomBytes(10)));
    const header = {
      streamId: 'e'.repeat(32),
      segment: 2,
      piece: 5,
      k: 4,
      m: 2,
      codec: 'rs-cauchy-gf256-v1',
      blockSize: 262144,
      stripeCount: 5,
      tailBlockSize: 4096,
      segmentPlainSize: 4_000_000,
      segmentCipherSize: 4_000_992,
      pieceDataSize: 4 * 262144 + 4096,
      createdAt: Date.now(),
      merkleRoot: merkleRoot(hashes),
      kekId: 'mk-1234',
      wrappedKey: randomBytes(60),
    };
    const h = encodeHeader(header);
    assert.deepEqual(decodeHeader(h), header);
    for (let i = 0; i < h.length; i += 7) {
      const bad = Buffer.from(h);
      bad[i]! ^= 0x10;
      assert.throws(() => decodeHeader(bad), `byte ${i}`);
    }
    const t = encodeTrailer(hashes);
    assert.deepEqual(decodeTrailer(t, 5), hashes);
    const bad = Buffer.from(t);
    bad[40]! ^= 1;
    assert.throws(() => decodeTrailer(bad, 5));
    assert.ok(!merkleRoot(hashes.slice().reverse()).equals(header.merkleRoot), 'the root binds block order');
  });
});

describe('master key rotation', () => {
  it('re-wraps every stream data key and inline blob; data reads back under the new key alone', async () => {
    const rig = await openRig(3);
    try {
      const big = new Pattern('rotate-big', 300_000);
      const small = new Pattern('rotate-small', 1000);
      const a = await rig.engine.write(big.stream());
      const b = await rig.engine.write(small.stream());
      assert.ok(b.locator.startsWith('i:'));
      await rig.meta.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', createdAt: new Date(), settings: {} });
      await rig.meta.putObject(objectRecord('b', 'big', { locator: a.locator, size: big.size }));
      await rig.meta.putObject(objectRecord('b', 'small', { locator: b.locator, size: small.size }));
      const oldId = rig.engine.ctx.keys.current.id;
      let resealed = false;
      const result = await rotateMasterKey({
        dataDir: rig.dir,
        meta: rig.meta,
        segments: rig.meta.segmentStore(),
        env: {},
        rewrapOthers: async (keys) => {
          resealed = keys.current.id !== oldId && keys.get(oldId) !== undefined;
        },
      });
      assert.ok(resealed);
      assert.notEqual(result.kekId, oldId);
      assert.deepEqual(result.previousKekIds, [oldId]);
      assert.equal(result.streams, 1);
      assert.equal(result.inline, 1);
      const file = JSON.parse(await readFile(join(rig.dir, 'master.key'), 'utf8')) as { id: string; previous?: unknown };
      assert.equal(file.id, result.kekId);
      assert.equal(file.previous, undefined, 'the old key is gone from the file');
      // A new engine with only the new key reads both objects.
      const { keys } = await loadKeyRing(rig.dir, {});
      assert.deepEqual(keys.ids(), [result.kekId]);
      rig.engine.ctx.keys = keys;
      const newSmall = (await rig.meta.getObject('b', 'small'))!.locator;
      assert.notEqual(newSmall, b.locator);
      assert.ok((await readAll(rig.engine.read(a.locator))).equals(big.range(0, big.size - 1)));
      assert.ok((await readAll(rig.engine.read(newSmall))).equals(small.range(0, small.size - 1)));
      // Running it again finds nothing left to re-wrap under an old key.
      const again = await rotateMasterKey({ dataDir: rig.dir, meta: rig.meta, segments: rig.meta.segmentStore(), env: {} });
      assert.equal(again.streams, 1);
      assert.equal(again.inline, 1);
    } finally {
      await rig.close();
    }
  });
});
