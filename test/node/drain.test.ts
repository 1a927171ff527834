import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pattern, sha256Of } from '../engine/helpers.ts';
import { withInProcessCluster } from './in-process.ts';

// Draining a node moves every piece it holds to other nodes (it takes no new ones), and the
// profile of new segments follows the nodes that stay. Nodes run in this process here.

test('drain moves a node\'s pieces away; node list reports it; reads stay correct', async () => {
  await withInProcessCluster(7, async ({ engine, nodes }) => {
    assert.deepEqual(engine.ctx.profile, { k: 4, m: 2 });
    const data = new Pattern('drain', 9 * 1024 * 1024 + 77);
    const w = await engine.write(data.stream());
    const target = (await engine.listNodes()).find((n) => n.pieces > 0)!;
    const drained = await engine.drainNode(target.id);
    assert.equal(drained.state, 'draining');
    await engine.repairAll();
    const after = (await engine.listNodes()).find((n) => n.id === target.id)!;
    assert.equal(after.pieces, 0);
    assert.equal((await sha256Of(engine.read(w.locator))).hash, data.sha256());
    // New writes avoid it.
    const w2 = await engine.write(new Pattern('more', 2 * 1024 * 1024).stream());
    assert.equal((await engine.listNodes()).find((n) => n.id === target.id)!.pieces, 0);
    assert.equal((await sha256Of(engine.read(w2.locator))).size, 2 * 1024 * 1024);
    // Removing it afterwards loses nothing; an unknown id is refused.
    await engine.removeNode(target.id);
    assert.equal((await sha256Of(engine.read(w.locator))).hash, data.sha256());
    await assert.rejects(engine.drainNode('nope'), /no storage node/);
    const member = nodes.find((n) => n.id !== target.id)!;
    await assert.rejects(engine.addNode(member.url), /already a member/);
    await assert.rejects(engine.addNode(nodes.find((n) => n.id === target.id)!.url), /declared lost/);
  }, (i) => `z${i % 3}`);
});
