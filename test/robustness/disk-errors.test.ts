// Disk errors: when the data directory refuses writes (its tmp/ replaced by a regular file or a
// dangling symlink, shard directories blocked by files) a write gets a 5xx S3 error with no stack
// trace or path in it, nothing becomes visible, objects stored before still read back, and the
// server keeps serving. A missing data file makes a read fail honestly, never hang or crash.
// We run as root, so permission bits would not stop writes: the file-type tricks below do.
// Written bodies are larger than any inline-object threshold, so they do reach the disk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, symlink, writeFile, unlink, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { md5Hex, multipartEtag, seededBytes } from '../helpers/seeded.ts';
import { dataFilesDir, filesUnder, orphanReport } from '../helpers/data-dir.ts';
import { assertS3Error, sendSigned, type Target } from '../helpers/raw-http.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const Bucket = 'disk';

let server: TestServer;
let s3: S3Client;
let t: Target;
let tmpDir: string;
let shardsDir: string;
const stored = new Map<string, { body: Buffer; etag: string }>();

function client(): S3Client {
  return new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
}

async function connect(): Promise<void> {
  s3 = client();
  t = { port: server.port, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  tmpDir = join(server.dataDir, 'data', 'tmp');
  shardsDir = await dataFilesDir(server.dataDir);
}

before(async () => {
  server = await startTestServer({ keepData: true });
  await connect();
  await s3.send(new CreateBucketCommand({ Bucket }));
  for (const [Key, size] of [['keep/small', 1000], ['keep/big', 600 * KiB]] as const) {
    const body = seededBytes(size, size);
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: body }));
    stored.set(Key, { body, etag: md5Hex(body) });
  }
  shardsDir = await dataFilesDir(server.dataDir);
  const parts = [seededBytes(71, 5 * MiB), seededBytes(72, 3 * KiB)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'keep/multipart' }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket, Key: 'keep/multipart', UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag! });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'keep/multipart', UploadId, MultipartUpload: { Parts: done } }));
  stored.set('keep/multipart', { body: Buffer.concat(parts), etag: multipartEtag(parts.map(md5Hex)) });
});
after(async () => {
  s3?.destroy();
  await server.stop();
  await rm(server.dataDir, { recursive: true, force: true });
});

/** Every stored object reads back whole, the listing shows exactly them, and the child is alive. */
async function assertStoredIntact(label: string): Promise<void> {
  assert.equal(server.process.exitCode, null, `${label}: the server exited\n${server.stderr().slice(-2000)}`);
  for (const [Key, v] of stored) {
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(got.ETag, `"${v.etag}"`, `${label}: ${Key} ETag`);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(v.body), `${label}: ${Key} bytes`);
  }
  const listed = (await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((o) => o.Key!).sort();
  assert.deepEqual(listed, [...stored.keys()].sort(), `${label}: listing`);
}

async function assertAbsent(Key: string, label: string): Promise<void> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
  } catch (err) {
    assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 404, `${label}: HEAD ${Key}`);
    return;
  }
  assert.fail(`${label}: ${Key} is visible after a failed write`);
}

/** A write that must fail with a 5xx S3 error which gives nothing away. */
async function assertWriteFails(method: string, path: string, body: Buffer, label: string, query?: Record<string, string>, headers?: Record<string, string>): Promise<void> {
  const res = await sendSigned(t, { method, path, query, body, headers });
  const r = res.responses[0];
  assert.ok(r, `${label}: no response (connection ${res.timedOut ? 'hung' : 'closed'})`);
  assertS3Error(r, { status: [500, 503], codes: ['InternalError', 'ServiceUnavailable', 'SlowDown'], note: label });
  const text = r.body.toString();
  assert.ok(!text.includes(server.dataDir), `${label}: the error names a server path: ${text}`);
  assert.doesNotMatch(text, /ENOTDIR|ENOENT|EEXIST|EACCES|errno|syscall/, `${label}: the error leaks a system error`);
}

/** Retries `fn` for up to 15 s; fails with its last error. */
async function eventually<T>(fn: () => Promise<T>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} still fails: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

async function withTmpReplaced(kind: 'file' | 'symlink', fn: () => Promise<void>): Promise<void> {
  await rm(tmpDir, { recursive: true, force: true });
  if (kind === 'file') await writeFile(tmpDir, 'not a directory');
  else await symlink(join(server.dataDir, 'no', 'such', 'dir'), tmpDir);
  try {
    await fn();
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir);
  }
}

for (const kind of ['file', 'symlink'] as const) {
  test(`data/tmp replaced by a ${kind === 'file' ? 'regular file' : 'dangling symlink'}: writes get a 5xx S3 error, stored objects still read, service resumes`, async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: `fail/${kind}/mpu` }));
    await withTmpReplaced(kind, async () => {
      await assertWriteFails('PUT', `/${Bucket}/fail/${kind}/put`, seededBytes(81, 200 * KiB), `PUT with tmp as ${kind}`);
      await assertWriteFails('PUT', `/${Bucket}/fail/${kind}/mpu`, seededBytes(82, 64 * KiB), `UploadPart with tmp as ${kind}`, { partNumber: '1', uploadId: UploadId! });
      await assertWriteFails('PUT', `/${Bucket}/fail/${kind}/copy`, Buffer.alloc(0), `CopyObject with tmp as ${kind}`, undefined, { 'x-amz-copy-source': `/${Bucket}/keep/big` });
      for (const k of ['put', 'copy', 'mpu']) await assertAbsent(`fail/${kind}/${k}`, `tmp as ${kind}`);
      await assertStoredIntact(`tmp as ${kind}`);
    });
    // The disk is back: the same server writes again without a restart (within a few seconds, in
    // case the engine took the directory offline and checks it again periodically).
    const body = seededBytes(83, 64 * KiB);
    await eventually(() => s3.send(new PutObjectCommand({ Bucket, Key: `after/${kind}`, Body: body })), 'a PUT after the disk came back');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: `after/${kind}` }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    stored.set(`after/${kind}`, { body, etag: md5Hex(body) });
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: `fail/${kind}/mpu`, UploadId, PartNumber: 1, Body: body }));
    assert.equal(part.ETag, `"${md5Hex(body)}"`, 'the upload survived the failed part');
    await assertStoredIntact(`tmp as ${kind}, restored`);
  });
}

test('shard directories blocked by regular files: each PUT succeeds whole or fails with a 5xx, and leaves no temporary file', async () => {
  const existing = new Set(await readdir(shardsDir));
  const blocked: string[] = [];
  for (let i = 0; i < 256; i++) {
    const shard = i.toString(16).padStart(2, '0');
    if (existing.has(shard)) continue;
    await writeFile(join(shardsDir, shard), 'blocked');
    blocked.push(shard);
  }
  assert.ok(blocked.length > 200, 'most shards are blocked');
  let failed = 0;
  try {
    for (let i = 0; i < 16; i++) {
      const Key = `shard/${i}`;
      const body = seededBytes(90 + i, 64 * KiB + i);
      const res = await sendSigned(t, { method: 'PUT', path: `/${Bucket}/${Key}`, body });
      const r = res.responses[0];
      assert.ok(r, `PUT ${Key}: no response`);
      if (r.status === 200) {
        stored.set(Key, { body, etag: md5Hex(body) });
      } else {
        assertS3Error(r, { status: [500, 503], codes: ['InternalError', 'ServiceUnavailable', 'SlowDown'], note: `PUT ${Key}` });
        await assertAbsent(Key, 'blocked shard');
        failed++;
      }
    }
    assert.ok(failed > 0, 'with almost every shard blocked, some PUT must have failed');
    await assertStoredIntact('blocked shards');
    // A failed write must not leave its bytes behind in tmp/ until the next restart.
    assert.deepEqual(await filesUnder(tmpDir), [], 'data/tmp keeps the files of failed writes');
  } finally {
    for (const shard of blocked) await unlink(join(shardsDir, shard));
  }
});

test('a stored object whose data files are missing: GET fails honestly (5xx S3 error, or a cut after the headers), the rest keeps serving', async () => {
  // Its own object, found by the files its PUT adds, so the layout of the data directory does not matter.
  const Key = 'lose/big';
  const body = seededBytes(61, 600 * KiB);
  const dataRoot = join(server.dataDir, 'data');
  const had = new Set(await filesUnder(dataRoot));
  await s3.send(new PutObjectCommand({ Bucket, Key, Body: body }));
  const files = (await filesUnder(dataRoot)).filter((f) => !had.has(f) && !f.startsWith('tmp/'));
  assert.ok(files.length > 0, 'the PUT added data files');
  for (const f of files) await rename(join(dataRoot, f), join(dataRoot, `${f}.aside`));
  try {
    const res = await sendSigned(t, { method: 'GET', path: `/${Bucket}/${Key}` });
    const r = res.responses[0];
    assert.ok(r, `GET of an object without data: no response at all (connection ${res.timedOut ? 'hung' : 'closed'})`);
    if (r.status === 200) {
      // Headers went out before the loss was found: the body must then be cut short, not wrong.
      assert.ok(r.body.length < body.length || r.body.equals(body), 'a complete 200 with other bytes');
      assert.ok(!res.timedOut, 'the connection hung');
    } else {
      assertS3Error(r, { status: [500, 503], note: 'GET of an object without data' });
    }
  } finally {
    for (const f of files) await rename(join(dataRoot, `${f}.aside`), join(dataRoot, f));
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
  }
  await assertStoredIntact('another object lost its data');
});

test('after a restart on the same data directory, everything stored reads back and no stray data remains', async () => {
  s3.destroy();
  await server.stop();
  const dataDir = server.dataDir;
  server = await startTestServer({ dataDir, keepData: true });
  await connect();
  await assertStoredIntact('after restart');
  s3.destroy();
  await server.stop();
  const report = await orphanReport(dataDir);
  assert.deepEqual(report, { unreferenced: [], missing: [], tmp: [] });
  server = await startTestServer({ dataDir, keepData: true });
  await connect();
});
