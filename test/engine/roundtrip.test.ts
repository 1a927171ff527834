// Objects of many sizes written through the ShardEngine read back byte-identical, whole and at
// many random ranges, on 1, 3, 6 and 12 data directories.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openRig, Pattern, prng, readAll, sha256Of, type Rig } from './helpers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, MiB, 64 * MiB - 1, 64 * MiB, 64 * MiB + 1];

for (const dirs of [1, 3, 6, 12]) {
  describe(`${dirs} data director${dirs === 1 ? 'y' : 'ies'}`, () => {
    let rig: Rig;
    before(async () => {
      rig = await openRig(dirs);
    });
    after(() => rig.close());

    it('uses the profile of its directory count', () => {
      const expected = { 1: '1+0', 3: '2+1', 6: '4+2', 12: '8+4' }[dirs];
      assert.equal(`${rig.engine.ctx.profile.k}+${rig.engine.ctx.profile.m}`, expected);
    });

    for (const size of SIZES) {
      it(`${size} B: whole and random ranges`, async () => {
        const p = new Pattern(`obj-${dirs}-${size}`, size);
        const w = await rig.engine.write(p.stream(size > MiB ? 1_000_003 : 65_000));
        assert.equal(w.size, size);
        assert.equal(w.locator.startsWith('i:'), size <= 4096, 'tiny objects are inline');
        const whole = await sha256Of(rig.engine.read(w.locator));
        assert.equal(whole.size, size);
        assert.equal(whole.hash, p.sha256());
        if (size === 0) return;
        const rand = prng(size + dirs);
        const ranges: Array<[number, number]> = [
          [0, 0],
          [size - 1, size - 1],
          [0, size - 1],
          [Math.floor(size / 2), size - 1],
        ];
        for (let i = 0; i < 40; i++) {
          const start = Math.floor(rand() * size);
          const maxLen = i % 3 === 0 ? 16 : i % 3 === 1 ? 70_000 : 3 * MiB;
          const end = Math.min(size - 1, start + Math.floor(rand() * maxLen));
          ranges.push([start, end]);
        }
        for (const [start, end] of ranges) {
          if (end - start > 8 * MiB) continue;
          const got = await readAll(rig.engine.read(w.locator, { start, end }));
          assert.ok(got.equals(p.range(start, end)), `range ${start}-${end} of ${size}`);
        }
      });
    }

    it('empty and one-byte objects also work without inlining', async () => {
      const engine = await rig.reopen({ inlineThreshold: -1 });
      for (const size of [0, 1]) {
        const p = new Pattern(`noinline-${size}`, size);
        const w = await engine.write(p.stream());
        assert.ok(w.locator.startsWith('s:'));
        assert.ok((await readAll(engine.read(w.locator))).equals(p.range(0, size - 1)));
      }
      await rig.reopen();
    });
  });
}

describe('range reads', () => {
  it('a small healthy range read needs only the one data piece that holds it', async () => {
    const rig = await openRig(6);
    try {
      const size = 8 * MiB;
      const p = new Pattern('one-piece', size);
      const w = await rig.engine.write(p.stream());
      const streamId = w.locator.slice(2);
      // Offset 300 KiB lies in chunk 4, which is the first chunk of data shard 1 of stripe 0.
      const start = 300 * KiB;
      const seg = (await rig.meta.segmentStore().getSegments(streamId))[0]!;
      const keep = seg.pieces.find((x) => x.piece === 1)!;
      for (const drive of rig.drives) {
        const pieceDir = join(drive, 'pieces', streamId.slice(0, 2));
        for (const name of await readdir(pieceDir).catch(() => [] as string[])) {
          if (name.startsWith(streamId) && !name.endsWith('.1')) await unlink(join(pieceDir, name));
        }
      }
      assert.ok(keep);
      const got = await readAll(rig.engine.read(w.locator, { start, end: start + 4095 }));
      assert.ok(got.equals(p.range(start, start + 4095)));
      // A range elsewhere needs the deleted pieces and more than m of them are gone: it must fail.
      await assert.rejects(readAll(rig.engine.read(w.locator, { start: 0, end: 10 })));
    } finally {
      await rig.close();
    }
  });
});
