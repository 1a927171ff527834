// Deletion with a grace period, drive replacement, and a restart in the middle of it all.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRig, Pattern, readAll, sha256Of } from './helpers.ts';

const MiB = 1024 * 1024;

async function liveFiles(drives: string[]): Promise<number> {
  let n = 0;
  for (const d of drives) {
    for (const shard of await readdir(join(d, 'pieces')).catch(() => [] as string[])) n += (await readdir(join(d, 'pieces', shard))).length;
  }
  return n;
}

describe('deletion', () => {
  it('a deleted stream leaves the live set at once, stays readable during the grace period, then is purged', async () => {
    const rig = await openRig(3);
    try {
      const p = new Pattern('deleted', 3 * MiB);
      const w = await rig.engine.write(p.stream());
      assert.equal(await liveFiles(rig.drives), 3);
      // A reader that is under way when the delete lands.
      const reader = rig.engine.read(w.locator);
      const first = await reader[Symbol.asyncIterator]().next();
      assert.ok(!first.done);
      await rig.engine.delete(w.locator);
      assert.equal(await liveFiles(rig.drives), 0, 'pieces moved out of the live set');
      // A read that starts after the delete (e.g. the next part of a multipart object) still works.
      assert.equal((await sha256Of(rig.engine.read(w.locator))).hash, p.sha256());
      reader.destroy();
      assert.equal(await rig.engine.purgeDeleted(), 0, 'still within the grace period');
      assert.equal(await rig.engine.purgeDeleted(new Date(Date.now() + 1)), 1);
      await assert.rejects(readAll(rig.engine.read(w.locator)));
      for (const d of rig.drives) assert.deepEqual(await readdir(join(d, 'trash')), []);
      // Deleting again, or an inline locator, is not an error.
      await rig.engine.delete(w.locator);
      await rig.engine.delete((await rig.engine.write(new Pattern('tiny', 10).stream())).locator);
    } finally {
      await rig.close();
    }
  });

  it('closing the engine purges deleted streams (nothing reads any more)', async () => {
    const rig = await openRig(1);
    try {
      const w = await rig.engine.write(new Pattern('closing', 200_000).stream());
      await rig.engine.delete(w.locator);
      await rig.reopen();
      assert.equal(await rig.engine.purgeDeleted(new Date(Date.now() + 1)), 0);
      assert.deepEqual(await readdir(join(rig.drives[0]!, 'trash')), []);
    } finally {
      await rig.close();
    }
  });
});

describe('drive replacement', () => {
  it('replaceDrive rebuilds the lost directory onto the new one, with progress', async () => {
    const rig = await openRig(6);
    const spare = await mkdtemp(join(tmpdir(), 'oort-spare-'));
    try {
      const objects = [new Pattern('r1', 5 * MiB), new Pattern('r2', 300_000), new Pattern('r3', 70 * 1024)];
      const locators = [];
      for (const p of objects) locators.push((await rig.engine.write(p.stream())).locator);
      const old = rig.drives[2]!;
      await rm(old, { recursive: true, force: true }); // the disk died
      const progress: number[] = [];
      const status = await rig.engine.replaceDrive(old, join(spare, 'new-drive'), (s) => progress.push(s.queuedSegments));
      assert.equal(status.queuedSegments, 0);
      assert.ok(status.repairedBytes > 0);
      assert.ok(progress.length > 0);
      assert.ok(rig.engine.dataDirectories().includes(join(spare, 'new-drive')));
      assert.ok(!rig.engine.dataDirectories().includes(old));
      assert.ok((await liveFiles([join(spare, 'new-drive')])) > 0, 'pieces rebuilt onto the new directory');
      for (const [i, p] of objects.entries()) assert.equal((await sha256Of(rig.engine.read(locators[i]!))).hash, p.sha256());
      // Every segment is whole again: two more directories may go.
      await rm(rig.drives[0]!, { recursive: true, force: true });
      await rm(rig.drives[4]!, { recursive: true, force: true });
      for (const [i, p] of objects.entries()) assert.equal((await sha256Of(rig.engine.read(locators[i]!))).hash, p.sha256());
      await assert.rejects(rig.engine.replaceDrive('/not/a/data/dir', join(spare, 'x')), /not one of the data directories/);
    } finally {
      await rig.close();
      await rm(spare, { recursive: true, force: true });
    }
  });
});
