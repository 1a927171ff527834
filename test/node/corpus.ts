import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient } from '../helpers/admin.ts';
import { Prng, seededBytes, sha256Hex } from '../helpers/seeded.ts';
import type { Cluster } from './helpers.ts';
import type { Redundancy } from '../../src/engine/shard/segment-store.ts';

// A gateway in front of test storage nodes, and a set of objects written through it that can be
// read back and compared, whole and at random ranges.

const MiB = 1024 * 1024;

export async function startGateway(cluster: Cluster, extraArgs: string[] = []): Promise<TestServer> {
  const server = await startTestServer({
    extraArgs: ['--cluster-secret-file', cluster.secretFile, '--heartbeat', '200ms', '--node-offline-after', '2s', '--node-grace', '10m', '--audit-interval', '0', ...extraArgs],
  });
  for (const n of cluster.nodes) await addNode(server, n.url);
  return server;
}

export async function addNode(server: TestServer, url: string, zone?: string): Promise<string> {
  const res = await adminClient(server).call('POST', 'nodes', { url, zone });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return (res.body as { node: { id: string } }).node.id;
}

export interface Stored {
  key: string;
  body: Buffer;
}

/** Objects of 0 B .. 64 MiB + 1 (two segments), and a three-part multipart upload. */
export async function writeCorpus(s3: S3Client, bucket: string, sizes = [0, 1, 4096, 4097, 65_519, 65_521, MiB, 5 * MiB + 3, 64 * MiB + 1]): Promise<Stored[]> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const stored: Stored[] = [];
  for (const [i, size] of sizes.entries()) {
    const body = seededBytes(1000 + i, size);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `obj-${size}`, Body: body }));
    stored.push({ key: `obj-${size}`, body });
  }
  const parts = [seededBytes(2001, 5 * MiB), seededBytes(2002, 5 * MiB + 17), seededBytes(2003, 123_457)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multipart' }));
  const done = [];
  for (const [i, p] of parts.entries()) {
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multipart', UploadId, PartNumber: i + 1, Body: p }));
    done.push({ ETag: r.ETag!, PartNumber: i + 1 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multipart', UploadId, MultipartUpload: { Parts: done } }));
  stored.push({ key: 'multipart', body: Buffer.concat(parts) });
  return stored;
}

async function get(s3: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Every object whole (by hash) and at a few random ranges. */
export async function verifyCorpus(s3: S3Client, bucket: string, stored: Stored[], seed: number): Promise<void> {
  const prng = new Prng(seed);
  for (const o of stored) {
    const whole = await get(s3, bucket, o.key);
    assert.equal(whole.length, o.body.length, o.key);
    assert.equal(sha256Hex(whole), sha256Hex(o.body), `${o.key}: whole object differs`);
    if (o.body.length < 2) continue;
    for (let i = 0; i < 3; i++) {
      const start = prng.int(0, o.body.length - 1);
      const end = Math.min(o.body.length - 1, start + prng.int(0, 3 * MiB));
      const part = await get(s3, bucket, o.key, `bytes=${start}-${end}`);
      assert.ok(part.equals(o.body.subarray(start, end + 1)), `${o.key} bytes=${start}-${end} differ`);
    }
  }
}

/** The gateway's redundancy report (segments by healthy pieces), through the admin API. */
export async function redundancy(server: TestServer): Promise<Redundancy> {
  const r = await adminClient(server).call('GET', 'redundancy');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body as { redundancy: Redundancy }).redundancy;
}

/** Every segment has all its pieces healthy, and no piece is left on a node that is not online. */
export function fullyRedundant(r: Redundancy): boolean {
  return r.degraded.length === 0 && r.piecesOnUnusableDomains === 0;
}

/** Waits until the gateway's repair queue is empty and `ok` holds (polling the admin API). */
/** Waits until the repair queue is empty and every segment is fully redundant again. */
export async function waitForRepair(server: TestServer, timeoutMs = 90_000): Promise<void> {
  const admin = adminClient(server);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await admin.call('GET', 'repair');
    const q = (r.body as { repair: { queuedSegments: number } }).repair.queuedSegments;
    if (q === 0 && fullyRedundant(await redundancy(server))) return;
    if (Date.now() > until) throw new Error(`repair did not finish: ${JSON.stringify(r.body)}\n${server.stderr().slice(-3000)}`);
    await sleep(250);
  }
}
