import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { startCluster, type Cluster } from './helpers.ts';
import { startGateway, verifyCorpus, waitForRepair, writeCorpus } from './corpus.ts';
import { adminClient } from '../helpers/admin.ts';
import { seededBytes } from '../helpers/seeded.ts';
import type { TestServer } from '../helpers/server.ts';

// Misbehaving storage nodes: one that silently corrupts and deletes pieces is caught by audits and
// quarantined, and its pieces are rebuilt elsewhere, while reads stay correct; one that hangs
// (SIGSTOP) does not stall GETs beyond the hedging deadline; too few nodes make a PUT answer 503.

const MiB = 1024 * 1024;

async function withGateway(nodes: number, args: string[], body: (cluster: Cluster, server: TestServer) => Promise<void>): Promise<void> {
  const cluster = await startCluster(nodes);
  let server: TestServer | undefined;
  try {
    server = await startGateway(cluster, args);
    await body(cluster, server);
  } finally {
    await server?.stop();
    await cluster.close();
  }
}

async function pieceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const shard of await readdir(join(dir, 'pieces')).catch(() => [])) {
    for (const name of await readdir(join(dir, 'pieces', shard))) out.push(join(dir, 'pieces', shard, name));
  }
  return out;
}

test('a node that corrupts and deletes pieces is caught by audits, quarantined and repaired around', async () => {
  await withGateway(7, ['--audit-interval', '100ms'], async (cluster, server) => {
    const s3 = server.client();
    const stored = await writeCorpus(s3, 'audited', [4097, MiB, 5 * MiB + 3]);
    const bad = cluster.nodes[0]!;
    assert.ok((await pieceFiles(bad.dataDir)).length > 0);
    // The node keeps losing data: every 100 ms it flips a byte inside the first block of half its
    // pieces and deletes the others (pieces repaired back onto it are spoiled again).
    let spoiling = true;
    const spoiler = (async () => {
      while (spoiling) {
        for (const [i, f] of (await pieceFiles(bad.dataDir)).entries()) {
          try {
            if (i % 2 === 0) {
              const b = await readFile(f);
              b[300] = b[300]! ^ 0xff;
              await writeFile(f, b);
            } else await rm(f);
          } catch {}
        }
        await sleep(100);
      }
    })();
    const admin = adminClient(server);
    let state = '';
    try {
      await verifyCorpus(s3, 'audited', stored, 3);
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        const r = await admin.call('GET', `nodes/${bad.id}`);
        state = (r.body as { node: { state: string } }).node.state;
        if (state === 'quarantined') break;
        await sleep(200);
      }
    } finally {
      spoiling = false;
      await spoiler;
    }
    assert.equal(state, 'quarantined', server.stderr().slice(-2000));
    assert.match(server.stderr(), /quarantined \(audit score/);
    await waitForRepair(server);
    await verifyCorpus(s3, 'audited', stored, 4);
    const node = ((await admin.call('GET', `nodes/${bad.id}`)).body as { node: { pieces: number; auditsFailed: number } }).node;
    assert.equal(node.pieces, 0);
    assert.ok(node.auditsFailed >= 1);
  });
});

test('a hung (SIGSTOPped) node does not stall GETs; too few nodes make a PUT answer 503', async () => {
  // Heartbeats slow enough that the hung node is not skipped as suspect: the reads must hedge.
  await withGateway(6, ['--heartbeat', '30s'], async (cluster, server) => {
    const s3 = server.client();
    const stored = await writeCorpus(s3, 'hedged', [2 * MiB, 3 * MiB + 5]);
    const timeGet = async (key: string) => {
      const t = performance.now();
      const r = await s3.send(new GetObjectCommand({ Bucket: 'hedged', Key: key }));
      const body = Buffer.from(await r.Body!.transformToByteArray());
      return { ms: performance.now() - t, body };
    };
    for (const o of stored) await timeGet(o.key); // warm up (latency samples, connections)
    const hung = cluster.nodes[1]!;
    hung.process.kill('SIGSTOP');
    try {
      const times: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (const o of stored) {
          const { ms, body } = await timeGet(o.key);
          assert.ok(body.equals(o.body), `${o.key} differs`);
          times.push(ms);
        }
      }
      // The node request time limit is 10 s: a GET that waited for the hung node would take that long.
      assert.ok(Math.max(...times) < 3000, `GET times with a hung node: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    } finally {
      hung.process.kill('SIGCONT');
    }
    await cluster.nodes[2]!.kill();
    const err = await s3.send(new PutObjectCommand({ Bucket: 'hedged', Key: 'more', Body: seededBytes(5, MiB) })).catch((e: unknown) => e);
    assert.ok(err instanceof S3ServiceException, String(err));
    assert.equal(err.name, 'ServiceUnavailable');
    assert.equal(err.$metadata.httpStatusCode, 503);
  });
});
