import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pattern, sha256Of } from '../engine/helpers.ts';
import { withInProcessCluster } from './in-process.ts';

// A node the cluster holds suspect (its circuit breaker tripped while it was hung, and no heartbeat
// has answered since) is not asked for reads while others suffice. When two other nodes die, its
// pieces are needed: reads and repair ask it as a last resort instead of failing.

test('reads and repair ask a suspect node as a last resort when the usable ones are too few', async () => {
  await withInProcessCluster(6, async ({ engine, nodes, addNode }) => {
    const data = new Pattern('last-resort', 5 * 1024 * 1024 + 3);
    const w = await engine.write(data.stream());
    // What the circuit breaker does to a node that stops answering.
    engine.ctx.domains.setOnline(nodes[1]!.id, false);
    assert.equal(engine.ctx.domains.usable(nodes[1]!.id), undefined);
    assert.equal((await sha256Of(engine.read(w.locator))).hash, data.sha256(), 'five usable nodes: read as usual');
    await nodes[4]!.close();
    await nodes[5]!.close();
    assert.equal((await sha256Of(engine.read(w.locator))).hash, data.sha256(), 'three usable nodes and the suspect one');
    // Repair onto two fresh nodes reads from the suspect node too (3 usable sources are too few).
    await addNode();
    await addNode();
    for (const n of [nodes[4]!, nodes[5]!]) await engine.removeNode(n.id);
    engine.ctx.domains.setOnline(nodes[1]!.id, false); // adding nodes ran a health check: suspect again
    await engine.repairAll();
    assert.ok((await engine.repairStatus()).repairedBytes > 0);
    const r = await engine.redundancy();
    assert.equal(r.full, r.segments, JSON.stringify(r));
    await nodes[3]!.close(); // and the rebuilt pieces serve: another loss is survived
    assert.equal((await sha256Of(engine.read(w.locator))).hash, data.sha256());
  });
});
