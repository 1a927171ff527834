import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from './helpers.ts';
import { addNode, redundancy, startGateway, verifyCorpus, waitForRepair, writeCorpus } from './corpus.ts';
import { adminClient } from '../helpers/admin.ts';

// Six storage nodes (oort node child processes) behind one gateway at 4+2: objects from 0 B to
// 64 MiB and a multipart upload survive two SIGKILLed nodes; after fresh nodes join and the dead
// ones are declared lost, repair restores every segment to six healthy pieces; then two other
// nodes die and everything still reads back byte-identical.

test('6 nodes at 4+2: node loss, repair onto fresh nodes, loss again', async () => {
  const cluster = await startCluster(6);
  const server = await startGateway(cluster).catch(async (err: unknown) => {
    await cluster.close();
    throw err;
  });
  try {
    const admin = adminClient(server);
    const list = await admin.call('GET', 'nodes');
    assert.deepEqual((list.body as { profile: unknown }).profile, { k: 4, m: 2 });
    const s3 = server.client();
    const stored = await writeCorpus(s3, 'cluster');
    const before = await redundancy(server);
    assert.equal(before.segments, 10); // 6 single-segment objects, 64 MiB + 1 in two, three parts
    assert.equal(before.full, 10, 'every segment starts with 6 healthy pieces');
    // Pieces are spread: every node holds some.
    const nodes = (await admin.call('GET', 'nodes')).body as { nodes: Array<{ id: string; pieces: number; state: string }> };
    assert.ok(nodes.nodes.every((n) => n.pieces > 0), JSON.stringify(nodes.nodes));

    const [dead1, dead2] = cluster.nodes;
    await dead1!.kill();
    await dead2!.kill();
    await verifyCorpus(s3, 'cluster', stored, 1);

    // Two fresh nodes (six distinct nodes are needed for 4+2), then the dead ones are declared lost.
    for (let i = 0; i < 2; i++) await addNode(server, (await cluster.add()).url);
    for (const d of [dead1!, dead2!]) {
      const r = await admin.call('DELETE', `nodes/${d.id}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await waitForRepair(server);
    const after = await redundancy(server);
    assert.deepEqual(after, { segments: 10, full: 10, degraded: [], piecesOnUnusableDomains: 0 });
    const listed = ((await admin.call('GET', 'nodes')).body as { nodes: Array<{ id: string; state: string; pieces: number }> }).nodes;
    for (const d of [dead1!, dead2!]) assert.deepEqual(listed.filter((n) => n.id === d.id).map((n) => [n.state, n.pieces]), [['lost', 0]]);

    await cluster.nodes[2]!.kill();
    await cluster.nodes[3]!.kill();
    await verifyCorpus(s3, 'cluster', stored, 2);
    await sleep(0);
  } finally {
    await server.stop();
    await cluster.close();
  }
});
