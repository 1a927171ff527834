import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteMetaStore } from '../../src/meta/index.ts';
import { ShardEngine } from '../../src/engine/shard/index.ts';
import { loadKeyRing } from '../../src/security/master-key.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { deriveClusterKey } from '../../src/node/auth.ts';
import { Pattern, sha256Of } from '../engine/helpers.ts';

// A node the cluster holds suspect (its circuit breaker tripped while it was hung, and no heartbeat
// has answered since) is not asked for reads while others suffice. When two other nodes die, its
// pieces are needed: reads and repair ask it as a last resort instead of failing.

test('reads and repair ask a suspect node as a last resort when the usable ones are too few', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'oort-lastresort-'));
  const secret = randomBytes(24);
  const nodes: RunningNode[] = [];
  const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
  const { keys } = await loadKeyRing(dir, {});
  let engine: ShardEngine | undefined;
  try {
    for (let i = 0; i < 6; i++) nodes.push(await startNode({ dataDir: join(dir, `n${i}`), secret, address: '127.0.0.1', port: 0, reserveBytes: 0, log: () => {} }));
    engine = await ShardEngine.open({ drives: [], segments: meta.segmentStore(), keys, background: false, nodes: { key: deriveClusterKey(secret) }, log: () => {} });
    for (const n of nodes) await engine.addNode(n.url);
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
    for (let i = 6; i < 8; i++) {
      nodes.push(await startNode({ dataDir: join(dir, `n${i}`), secret, address: '127.0.0.1', port: 0, reserveBytes: 0, log: () => {} }));
      await engine.addNode(nodes[i]!.url);
    }
    for (const n of [nodes[4]!, nodes[5]!]) await engine.removeNode(n.id);
    engine.ctx.domains.setOnline(nodes[1]!.id, false); // adding nodes ran a health check: suspect again
    await engine.repairAll();
    assert.ok((await engine.repairStatus()).repairedBytes > 0);
    const r = await engine.redundancy();
    assert.equal(r.full, r.segments, JSON.stringify(r));
    await nodes[3]!.close(); // and they serve: another loss is survived
    assert.equal((await sha256Of(engine.read(w.locator))).hash, data.sha256());
  } finally {
    await engine?.close();
    await meta.close();
    for (const n of nodes) await n.close();
    await rm(dir, { recursive: true, force: true });
  }
});
