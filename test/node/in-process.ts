import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteMetaStore } from '../../src/meta/index.ts';
import { ShardEngine } from '../../src/engine/shard/index.ts';
import { loadKeyRing } from '../../src/security/master-key.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { deriveClusterKey } from '../../src/node/auth.ts';

// Storage nodes and a shard engine in this process (no gateway), for tests that drive the engine
// and its node states directly.

export interface InProcessCluster {
  engine: ShardEngine;
  nodes: RunningNode[];
  /** Starts one more node and adds it to the engine. */
  addNode(zone?: string): Promise<RunningNode>;
}

export async function withInProcessCluster(count: number, fn: (c: InProcessCluster) => Promise<void>, zoneOf?: (i: number) => string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oort-nodes-'));
  const secret = randomBytes(24);
  const nodes: RunningNode[] = [];
  const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
  const { keys } = await loadKeyRing(dir, {});
  const start = () => startNode({ dataDir: join(dir, `n${nodes.length}`), secret, address: '127.0.0.1', port: 0, reserveBytes: 0, log: () => {} });
  let engine: ShardEngine | undefined;
  try {
    for (let i = 0; i < count; i++) nodes.push(await start());
    engine = await ShardEngine.open({ drives: [], segments: meta.segmentStore(), keys, background: false, nodes: { key: deriveClusterKey(secret) }, log: () => {} });
    for (const [i, n] of nodes.entries()) await engine.addNode(n.url, { zone: zoneOf?.(i) });
    const e = engine;
    await fn({
      engine: e,
      nodes,
      async addNode(zone) {
        const n = await start();
        nodes.push(n);
        await e.addNode(n.url, { zone });
        return n;
      },
    });
  } finally {
    await engine?.close();
    await meta.close();
    for (const n of nodes) await n.close();
    await rm(dir, { recursive: true, force: true });
  }
}
