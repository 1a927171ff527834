// Crash safety (ARCHITECTURE.md invariants 2 and 3): a server taking concurrent PUTs, multipart
// uploads, overwrites and deletes is killed with SIGKILL at a random moment. After a restart on the
// same data directory, every acknowledged write reads back whole (unless superseded), a write in
// flight at the kill is either wholly there or wholly absent, listing agrees with HEAD, and after
// the start-up garbage collection the data files are exactly the ones the metadata refers to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { Prng, md5Hex, multipartEtag, seededBytes, sha256Hex } from '../helpers/seeded.ts';
import { filesUnder, orphanReport } from '../helpers/data-dir.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const Bucket = 'crash';
const KEYS = Array.from({ length: 28 }, (_, i) => (i % 4 === 0 ? `nested/dir-${i % 3}/obj-${i}` : `obj-${i}`));
const WORKERS = 10;
const SEEDS = [0x5eed0001, 0x5eed0002, 0x5eed0003, 0x5eed0004];
/** Crash/restart cycles per seed, on the same data directory. */
const CYCLES = 2;

/** One written version of a key: what a read must return if this version is the visible one. */
interface Version {
  id: string;
  size: number;
  sha256: string;
  /** Without quotes. */
  etag: string;
  kind: 'put' | 'multipart';
}

/** Per key: the last acknowledged state (null = absent) and the state an in-flight operation would leave. */
interface KeyState {
  acked: Version | null;
  /** Set while an operation that changes the visible object is in flight (or was, at the kill). */
  pending?: Version | null;
  busy: boolean;
}

function client(server: TestServer): S3Client {
  return new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    // A retry after the kill must not blur what was acknowledged.
    maxAttempts: 1,
  });
}

const describe = (v: Version | null | undefined) => (v === undefined ? 'none' : v === null ? 'absent' : `${v.id} (${v.kind}, ${v.size} B, ${v.etag})`);

/** Runs the workload until `kill` fires; returns the unexpected failures seen before the kill. */
async function runWorkload(s3: S3Client, model: Map<string, KeyState>, rng: Prng, cycle: number, killAfterMs: number, kill: () => Promise<void>) {
  let killed = false;
  let versionCounter = 0;
  const failures: string[] = [];
  let acknowledged = 0;

  async function mutate(key: string, st: KeyState, wrng: Prng): Promise<void> {
    const roll = wrng.next();
    const id = `c${cycle}-v${versionCounter++}`;
    const Metadata = { ver: id };
    if (roll < 0.7) {
      // Single PUT: mostly small, some medium, a few up to 3 MiB.
      const r = wrng.next();
      const size = r < 0.6 ? wrng.int(0, 64 * KiB) : r < 0.9 ? wrng.int(64 * KiB, 1 * MiB) : wrng.int(1 * MiB, 3 * MiB);
      const body = seededBytes(wrng.int(0, 2 ** 31), size);
      const v: Version = { id, size, sha256: sha256Hex(body), etag: md5Hex(body), kind: 'put' };
      st.pending = v;
      const res = await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, Metadata }));
      assert.equal(res.ETag, `"${v.etag}"`, `PUT ${key} ETag`);
      st.acked = v;
    } else if (roll < 0.85) {
      st.pending = null;
      await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
      st.acked = null;
    } else {
      // Multipart: first part >= 5 MiB, last part small. Only Complete changes the visible object.
      const parts = [seededBytes(wrng.int(0, 2 ** 31), 5 * MiB + wrng.int(0, 64 * KiB)), seededBytes(wrng.int(0, 2 ** 31), wrng.int(1, 256 * KiB))];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key, Metadata }));
      const done: { PartNumber: number; ETag: string }[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (killed) return;
        const r = await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
        assert.equal(r.ETag, `"${md5Hex(parts[i]!)}"`, 'part ETag');
        done.push({ PartNumber: i + 1, ETag: r.ETag! });
      }
      if (killed) return;
      const whole = Buffer.concat(parts);
      const v: Version = { id, size: whole.length, sha256: sha256Hex(whole), etag: multipartEtag(parts.map((p) => md5Hex(p))), kind: 'multipart' };
      st.pending = v;
      const res = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
      assert.equal(res.ETag, `"${v.etag}"`, 'multipart ETag');
      st.acked = v;
    }
    st.pending = undefined;
    acknowledged++;
  }

  async function worker(w: number): Promise<void> {
    const wrng = new Prng(rng.int(0, 2 ** 31) + w);
    while (!killed) {
      let key: string | undefined;
      for (let tries = 0; tries < 8 && key === undefined; tries++) {
        const k = wrng.pick(KEYS);
        if (!model.get(k)!.busy) key = k;
      }
      if (key === undefined) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      const st = model.get(key)!;
      st.busy = true;
      try {
        await mutate(key, st, wrng);
      } catch (err) {
        // After the kill, a failure just means "in flight": pending keeps both outcomes possible.
        if (!killed || err instanceof assert.AssertionError) failures.push(`${key}: ${(err as Error).name}: ${(err as Error).message}`);
        return;
      } finally {
        st.busy = false;
      }
    }
  }

  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  // The kill lands a random time after the workload got going (a slow start-up must not turn
  // the round into a kill of an idle server).
  const warmUp = Date.now() + 10_000;
  while (acknowledged < 3 && failures.length === 0 && Date.now() < warmUp) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, killAfterMs));
  killed = true;
  await kill();
  await Promise.allSettled(workers);
  return { failures, acknowledged };
}

async function listAll(s3: S3Client): Promise<Map<string, { size: number; etag: string }>> {
  const out = new Map<string, { size: number; etag: string }>();
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken, MaxKeys: 7 }));
    for (const o of page.Contents ?? []) out.set(o.Key!, { size: o.Size!, etag: o.ETag!.replace(/"/g, '') });
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return out;
}

/** Checks the restarted server against the model and settles each key to what it found. */
async function verify(s3: S3Client, model: Map<string, KeyState>, label: string): Promise<void> {
  const listed = await listAll(s3);
  for (const name of listed.keys()) assert.ok(model.has(name), `${label}: listing shows ${name}, which was never written`);
  for (const [key, st] of model) {
    const allowed: (Version | null)[] = [st.acked];
    if (st.pending !== undefined) allowed.push(st.pending);
    const what = `${label}: ${key} (acknowledged ${describe(st.acked)}, in flight ${describe(st.pending)})`;
    let head;
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      assert.equal(status, 404, `${what}: HEAD failed: ${(err as Error).message}`);
      assert.ok(allowed.includes(null), `${what}: object is missing`);
      assert.ok(!listed.has(key), `${what}: HEAD says absent but listing shows it`);
      st.acked = null;
      st.pending = undefined;
      continue;
    }
    const seen = allowed.find((v) => v !== null && v.id === head.Metadata?.['ver']);
    assert.ok(seen, `${what}: HEAD shows version ${head.Metadata?.['ver']} (${head.ContentLength} B, ${head.ETag})`);
    assert.equal(head.ContentLength, seen.size, `${what}: HEAD size`);
    assert.equal(head.ETag, `"${seen.etag}"`, `${what}: HEAD ETag`);
    const entry = listed.get(key);
    assert.ok(entry, `${what}: HEAD finds it but listing does not`);
    assert.deepEqual(entry, { size: seen.size, etag: seen.etag }, `${what}: listing disagrees with HEAD`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(got.Metadata?.['ver'], seen.id, `${what}: GET version`);
    assert.equal(got.ETag, `"${seen.etag}"`, `${what}: GET ETag`);
    assert.equal(bytes.length, seen.size, `${what}: GET length`);
    assert.equal(sha256Hex(bytes), seen.sha256, `${what}: GET bytes`);
    st.acked = seen;
    st.pending = undefined;
  }
}

async function assertNoOrphans(dataDir: string, label: string): Promise<void> {
  const report = await orphanReport(dataDir);
  assert.deepEqual(report.missing, [], `${label}: metadata refers to data files that do not exist`);
  assert.deepEqual(report.unreferenced, [], `${label}: data files nothing refers to survived the start-up garbage collection`);
  assert.deepEqual(report.tmp, [], `${label}: data/tmp is not empty`);
}

for (const seed of SEEDS) {
  test(`SIGKILL under load loses no acknowledged write and leaves no partial object or orphan (seed ${seed.toString(16)})`, async () => {
    const rng = new Prng(seed);
    const dataDir = await mkdtemp(join(tmpdir(), 'oort-crash-'));
    const model = new Map<string, KeyState>(KEYS.map((k) => [k, { acked: null, busy: false }]));
    let server: TestServer | undefined;
    try {
      server = await startTestServer({ dataDir, keepData: true });
      {
        const s3 = client(server);
        await s3.send(new CreateBucketCommand({ Bucket }));
        s3.destroy();
      }
      let totalAcked = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const label = `seed ${seed.toString(16)} cycle ${cycle}`;
        const s3 = client(server);
        const running = server;
        const killAfterMs = rng.int(50, 1500);
        const { failures, acknowledged } = await runWorkload(s3, model, rng, cycle, killAfterMs, async () => {
          const exited = new Promise((r) => running.process.once('exit', r));
          running.process.kill('SIGKILL');
          await exited;
        });
        s3.destroy();
        totalAcked += acknowledged;
        assert.deepEqual(failures, [], `${label}: operations failed before the kill`);

        server = await startTestServer({ dataDir, keepData: true });
        assert.deepEqual(await filesUnder(join(dataDir, 'data', 'tmp')), [], `${label}: data/tmp after restart`);
        const reader = client(server);
        await verify(reader, model, label);
        reader.destroy();
        await server.stop();
        server = undefined;
        await assertNoOrphans(dataDir, label);
        server = await startTestServer({ dataDir, keepData: true });
      }
      // The workload must have done something, or the checks above prove nothing.
      assert.ok(totalAcked >= 10, `only ${totalAcked} operations were acknowledged before the kills`);
    } finally {
      if (server && server.process.exitCode === null && server.process.signalCode === null) await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}
