// Lost directories, flipped bytes, corruption beyond the code's reach, repair back to k+m,
// encryption at rest, and garbage collection.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRig, Pattern, prng, readAll, sha256Of, type Rig } from './helpers.ts';
import { HEADER_SIZE, parsePieceName } from '../../src/engine/shard/piece-file.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Stored {
  p: Pattern;
  locator: string;
}

async function writeSet(rig: Rig, sizes: number[], tag: string): Promise<Stored[]> {
  const out: Stored[] = [];
  for (const [i, size] of sizes.entries()) {
    const p = new Pattern(`${tag}-${i}`, size);
    const w = await rig.engine.write(p.stream());
    out.push({ p, locator: w.locator });
  }
  return out;
}

async function checkAll(rig: Rig, objects: Stored[], note: string): Promise<void> {
  for (const o of objects) {
    const got = await sha256Of(rig.engine.read(o.locator));
    assert.equal(got.size, o.p.size, `${note}: size`);
    assert.equal(got.hash, o.p.sha256(), `${note}: bytes of a ${o.p.size} B object`);
    if (o.p.size > 100) {
      const start = Math.floor(o.p.size / 3);
      const end = Math.min(o.p.size - 1, start + 100_000);
      assert.ok((await readAll(rig.engine.read(o.locator, { start, end }))).equals(o.p.range(start, end)), `${note}: range`);
    }
  }
}

/** Every segment of every stream object has k+m pieces, all 'ok', on distinct online domains, with files present. */
async function assertFullRedundancy(rig: Rig, objects: Stored[]): Promise<void> {
  const store = rig.meta.segmentStore();
  for (const o of objects) {
    if (!o.locator.startsWith('s:')) continue;
    for (const seg of await store.getSegments(o.locator.slice(2))) {
      assert.equal(seg.pieces.length, seg.k + seg.m);
      const domains = new Set<string>();
      for (const piece of seg.pieces) {
        assert.equal(piece.state, 'ok', `piece ${piece.piece} of ${seg.streamId}/${seg.segment}`);
        const domain = rig.engine.ctx.domains.usable(piece.domainId);
        assert.ok(domain, `piece ${piece.piece} on an online domain`);
        assert.ok(await domain.stat(`${seg.streamId}.${seg.segment}.${piece.piece}`), 'piece file exists');
        domains.add(piece.domainId);
      }
      assert.equal(domains.size, seg.k + seg.m, 'one piece per domain');
    }
  }
  assert.equal((await store.repairQueue()).segments, 0, 'repair queue empty');
}

async function pieceFiles(drives: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of drives) {
    const root = join(d, 'pieces');
    for (const shard of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, shard))) out.push(join(root, shard, name));
    }
  }
  return out;
}

async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0x5a;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

const SIZES = [5000, 64 * KiB + 1, 700 * KiB, 3 * MiB + 17, 70 * MiB];

describe('durability on 6 directories (4+2)', () => {
  it('with 2 directories deleted every object reads correctly, and repair restores full redundancy', async () => {
    const rig = await openRig(6);
    try {
      const objects = await writeSet(rig, SIZES, 'lost');
      await assertFullRedundancy(rig, objects);
      await rm(rig.drives[1]!, { recursive: true, force: true });
      await rm(rig.drives[4]!, { recursive: true, force: true });
      await checkAll(rig, objects, 'two directories gone');
      await rig.engine.checkDomains();
      const queued = await rig.meta.segmentStore().repairQueue();
      assert.ok(queued.segments > 0, 'the lost directories queued repairs');
      // Every segment had a piece on each directory, so each now has 4 of 6 healthy.
      const degraded = await rig.engine.redundancy();
      assert.equal(degraded.full, 0);
      assert.deepEqual(degraded.degraded, [{ pieces: 6, healthy: 4, segments: degraded.segments }]);
      assert.equal(degraded.piecesOnUnusableDomains, 2 * degraded.segments);
      await rig.engine.repairAll();
      await assertFullRedundancy(rig, objects);
      assert.deepEqual(await rig.engine.redundancy(), { segments: degraded.segments, full: degraded.segments, degraded: [], piecesOnUnusableDomains: 0 });
      const status = await rig.engine.repairStatus();
      assert.ok(status.repairedBytes > 0);
      // Redundancy is really back: two other directories can go now.
      await rm(rig.drives[0]!, { recursive: true, force: true });
      await rm(rig.drives[5]!, { recursive: true, force: true });
      await checkAll(rig, objects, 'two more directories gone after repair');
      // And after a restart, the engine notices the wiped directories by itself.
      await rig.reopen();
      await checkAll(rig, objects, 'after restart');
      await rig.engine.repairAll();
      await assertFullRedundancy(rig, objects);
    } finally {
      await rig.close();
    }
  });

  it('random bytes flipped in up to m pieces per segment: reads stay correct; scrub and repair mend them', async () => {
    const rig = await openRig(6);
    try {
      const objects = await writeSet(rig, SIZES, 'flip');
      const rand = prng(7);
      const store = rig.meta.segmentStore();
      let flipped = 0;
      for (const o of objects) {
        const streamId = o.locator.slice(2);
        for (const seg of await store.getSegments(streamId)) {
          // Two random pieces of this segment, a few random bytes each (header, blocks or trailer).
          const chosen = [...seg.pieces].sort(() => rand() - 0.5).slice(0, 2);
          for (const piece of chosen) {
            const domain = rig.engine.ctx.domains.usable(piece.domainId)!;
            const path = join(domain.address, 'pieces', streamId.slice(0, 2), `${streamId}.${seg.segment}.${piece.piece}`);
            const size = (await stat(path)).size;
            for (let i = 0; i < 3; i++) await flipByte(path, Math.floor(rand() * size));
            flipped++;
          }
        }
      }
      assert.ok(flipped > 0);
      await checkAll(rig, objects, 'after flips');
      const results = await rig.engine.scrub();
      const corrupt = [...results.values()].reduce((n, r) => n + r.corrupt, 0);
      assert.equal(corrupt, flipped, 'scrub finds every flipped piece');
      await rig.engine.repairAll();
      await assertFullRedundancy(rig, objects);
      const again = await rig.engine.scrub();
      assert.equal([...again.values()].reduce((n, r) => n + r.corrupt + r.missing, 0), 0, 'clean after repair');
      await checkAll(rig, objects, 'after repair');
    } finally {
      await rig.close();
    }
  });

  it('corrupt ciphertext beyond m pieces of a segment is never returned as data', async () => {
    const rig = await openRig(6);
    try {
      const [o] = await writeSet(rig, [2 * MiB], 'beyond');
      const files = (await pieceFiles(rig.drives)).filter((f) => f.includes(o!.locator.slice(2)));
      assert.equal(files.length, 6);
      // Flip one byte of the first block in 3 pieces (data shards 0 and 1, and parity 4).
      for (const f of files) {
        const parsed = parsePieceName(f.split('/').pop()!)!;
        if ([0, 1, 4].includes(parsed.piece)) await flipByte(f, HEADER_SIZE + 1000);
      }
      await assert.rejects(readAll(rig.engine.read(o!.locator)), /intact|authentic/);
      // A range inside an untouched data shard still reads.
      const start = 2 * 256 * KiB + 10;
      assert.ok((await readAll(rig.engine.read(o!.locator, { start, end: start + 999 }))).equals(o!.p.range(start, start + 999)));
      // Range reads over the damaged shards fail rather than return wrong bytes.
      await assert.rejects(readAll(rig.engine.read(o!.locator, { start: 0, end: 99 })));
    } finally {
      await rig.close();
    }
  });

  it('a piece that cannot be written is recorded, queued and rebuilt (8 directories, 5+3)', async () => {
    const rig = await openRig(8);
    try {
      // Make one directory refuse new pieces: its tmp/ becomes a file.
      const broken = rig.drives[3]!;
      await rm(join(broken, 'tmp'), { recursive: true });
      await writeFile(join(broken, 'tmp'), 'not a directory');
      const objects = await writeSet(rig, [300 * KiB, 2 * MiB], 'failing');
      const store = rig.meta.segmentStore();
      const queue = await store.repairQueue();
      assert.ok(queue.segments > 0, 'missing pieces queued at write time');
      await checkAll(rig, objects, 'with a missing piece');
      await rm(join(broken, 'tmp'));
      await mkdir(join(broken, 'tmp'));
      await rig.engine.repairAll();
      await assertFullRedundancy(rig, objects);
    } finally {
      await rig.close();
    }
  });

  it('a write fails when fewer than min(k+m, k+2) pieces can be made durable, and leaves nothing behind', async () => {
    const rig = await openRig(6);
    try {
      await rm(join(rig.drives[2]!, 'tmp'), { recursive: true });
      await writeFile(join(rig.drives[2]!, 'tmp'), 'x');
      await assert.rejects(rig.engine.write(new Pattern('refused', 2 * MiB).stream()), /pieces/);
      assert.equal((await pieceFiles(rig.drives)).length, 0);
      assert.equal((await rig.meta.segmentStore().streamsCreatedBefore(new Date(Date.now() + 1000))).length, 0);
    } finally {
      await rig.close();
    }
  });
});

describe('encryption at rest', () => {
  it('no data directory (nor the metadata file) holds any of a known plaintext pattern', async () => {
    const rig = await openRig(3);
    try {
      const marker = Buffer.from('OORT-PLAINTEXT-MARKER-0123456789');
      const body = Buffer.alloc(3 * MiB + 5);
      for (let at = 0; at < body.length; at += marker.length) marker.copy(body, at);
      for (const size of [100, 4096, 70_000, body.length]) {
        await rig.engine.write((async function* () {
          yield body.subarray(0, size);
        })());
      }
      const needle = marker.subarray(0, 16);
      const files = [...(await pieceFiles(rig.drives)), join(rig.dir, 'meta.sqlite'), join(rig.dir, 'meta.sqlite-wal')];
      let scanned = 0;
      for (const f of files) {
        const data = await readFile(f).catch(() => undefined);
        if (!data) continue;
        scanned += data.length;
        assert.equal(data.indexOf(needle), -1, `${f} holds plaintext`);
      }
      assert.ok(scanned > 3 * MiB);
    } finally {
      await rig.close();
    }
  });
});

describe('garbage collection', () => {
  it('removes unreferenced streams, orphan piece files and unfinished writes; keeps referenced data', async () => {
    const rig = await openRig(3);
    try {
      const kept = await writeSet(rig, [200 * KiB, 2 * MiB], 'kept');
      const dropped = await writeSet(rig, [300 * KiB], 'dropped');
      // An orphan piece (as if the process died between the piece write and the segment commit),
      // and an unfinished write.
      const orphanName = `${'ab'.repeat(16)}.0.1`;
      const orphanDir = join(rig.drives[0]!, 'pieces', 'ab');
      await mkdir(orphanDir, { recursive: true });
      await writeFile(join(orphanDir, orphanName), 'orphan');
      await writeFile(join(rig.drives[1]!, 'tmp', `${orphanName}.1234`), 'unfinished');
      const past = new Date(Date.now() - 3600_000);
      await utimes(join(orphanDir, orphanName), past, past);
      await utimes(join(rig.drives[1]!, 'tmp', `${orphanName}.1234`), past, past);
      const before = (await pieceFiles(rig.drives)).length;
      const keep = new Set(kept.map((o) => o.locator));
      // A grace period in the past protects everything written since.
      assert.equal(await rig.engine.sweep(keep, past), 0 + 0);
      const removed = await rig.engine.sweep(keep, new Date(Date.now() + 1000));
      assert.equal(removed, 1 + 1 + 1, 'one stream, one orphan piece, one unfinished write');
      const after = (await pieceFiles(rig.drives)).length;
      assert.equal(after, before - 3 - 1, "the dropped stream's three pieces and the orphan");
      await checkAll(rig, kept, 'after sweep');
      await assert.rejects(readAll(rig.engine.read(dropped[0]!.locator)));
    } finally {
      await rig.close();
    }
  });
});
