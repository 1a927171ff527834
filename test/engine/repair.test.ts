// Repair checks every block it reads: a block gone bad in a piece the database still calls healthy
// is found mid-repair (with the earlier batches' rebuilt blocks already written), that piece joins
// the rebuilt ones, and the segment ends with all its pieces intact.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openRig, Pattern, sha256Of } from './helpers.ts';
import { HEADER_SIZE } from '../../src/engine/shard/piece-file.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

it('a bad block met during repair (unknown to the database) is rebuilt too', async () => {
  const rig = await openRig(6);
  try {
    // 4+2 at 256 KiB blocks: 9 MiB is 9 stripes of 1 MiB, three batches of the repair.
    const p = new Pattern('mid-repair', 9 * MiB - 5000);
    const { locator } = await rig.engine.write(p.stream());
    const streamId = locator.slice(2);
    await rm(rig.drives[0]!, { recursive: true, force: true });
    // One byte of stripe 6's block in the piece on drive 2 (the third batch).
    const dir = join(rig.drives[2]!, 'pieces', streamId.slice(0, 2));
    const [name] = (await readdir(dir)).filter((n) => n.startsWith(streamId));
    const fh = await open(join(dir, name!), 'r+');
    await fh.write(Buffer.from([0x5a ^ 0xff]), 0, 1, HEADER_SIZE + 6 * 256 * KiB + 1234);
    await fh.close();
    await rig.engine.checkDomains();
    await rig.engine.repairAll();

    const [seg] = await rig.meta.segmentStore().getSegments(streamId);
    assert.equal(seg!.pieces.filter((piece) => piece.state === 'ok').length, 6);
    assert.equal(new Set(seg!.pieces.map((piece) => piece.domainId)).size, 6);
    assert.equal((await rig.meta.segmentStore().repairQueue()).segments, 0);
    const scrubbed = [...(await rig.engine.scrub()).values()];
    assert.equal(scrubbed.reduce((n, r) => n + r.corrupt + r.missing, 0), 0, 'every piece checks out after repair');
    // Redundancy is whole again: two other directories can go.
    await rm(rig.drives[3]!, { recursive: true, force: true });
    await rm(rig.drives[4]!, { recursive: true, force: true });
    const got = await sha256Of(rig.engine.read(locator));
    assert.equal(got.hash, p.sha256());
  } finally {
    await rig.close();
  }
});
