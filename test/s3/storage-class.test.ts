import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentOptions } from 'node:http';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startTestServer, loopbackLookup, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

// Six data directories: STANDARD is 4+2 (1.5x on disk), ARCHIVE the wider 5+1 (1.2x).
let server: TestServer;
let s3: S3Client;
let drivesRoot: string;
let drives: string[];
const Bucket = 'classes';
const MiB = 1024 * 1024;
const body = Buffer.alloc(4 * MiB, 0x5a);

async function bytesOnDisk(): Promise<number> {
  let total = 0;
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'trash' && e.name !== 'tmp') await walk(p);
      } else if (e.name.endsWith('.piece') || /piece/.test(dir)) total += (await stat(p)).size;
    }
  }
  for (const d of drives) await walk(d);
  return total;
}

async function footprint(put: () => Promise<unknown>): Promise<number> {
  const before = await bytesOnDisk();
  await put();
  return (await bytesOnDisk()) - before;
}

before(async () => {
  drivesRoot = await mkdtemp(join(tmpdir(), 'oort-drives-'));
  drives = Array.from({ length: 6 }, (_, i) => join(drivesRoot, `d${i}`));
  server = await startTestServer({ extraArgs: ['--drives', drives.join(',')] });
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
after(async () => {
  await server.stop();
  await rm(drivesRoot, { recursive: true, force: true });
});

test('ARCHIVE (and the AWS archive names) is stored with the wider code and shown everywhere', async () => {
  const standard = await footprint(() => s3.send(new PutObjectCommand({ Bucket, Key: 'std', Body: body })));
  const archive = await footprint(() => s3.send(new PutObjectCommand({ Bucket, Key: 'arch', Body: body, StorageClass: 'GLACIER' })));
  assert.ok(Math.abs(standard / body.length - 1.5) < 0.05, `STANDARD at ${(standard / body.length).toFixed(3)}x`);
  assert.ok(Math.abs(archive / body.length - 1.2) < 0.05, `ARCHIVE at ${(archive / body.length).toFixed(3)}x`);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'arch' }));
  assert.equal(head.StorageClass, 'ARCHIVE');
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'std' }))).StorageClass, undefined);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'arch' }));
  assert.equal(got.StorageClass, 'ARCHIVE');
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), 'archive objects read directly, no restore');
  const list = await s3.send(new ListObjectsV2Command({ Bucket }));
  assert.deepEqual(Object.fromEntries(list.Contents!.map((c) => [c.Key, c.StorageClass])), { arch: 'ARCHIVE', std: 'STANDARD' });
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'bad', Body: 'x', StorageClass: 'SUPER_COLD' as 'GLACIER' })), 'InvalidStorageClass', 400);
});

test('CopyObject onto itself changes the class (and the layout)', async () => {
  const moved = await footprint(() => s3.send(new CopyObjectCommand({ Bucket, Key: 'std', CopySource: `${Bucket}/std`, StorageClass: 'ARCHIVE' as 'GLACIER' })));
  // The old STANDARD pieces go to the trash; the new ARCHIVE ones are 1.2x.
  assert.ok(moved < 0, 'the copy shrank the footprint');
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'std' }))).StorageClass, 'ARCHIVE');
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'std' }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
});

test('the s3-archive endpoint writes ARCHIVE by default', async () => {
  const archiveHost = new S3Client({
    endpoint: `http://s3-archive.localhost:${server.port}`,
    region: 'us-east-1',
    forcePathStyle: false,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: loopbackLookup } as AgentOptions) }),
  });
  try {
    await archiveHost.send(new PutObjectCommand({ Bucket, Key: 'via-archive-endpoint', Body: 'cold' }));
    await archiveHost.send(new PutObjectCommand({ Bucket, Key: 'explicit-standard', Body: 'warm', StorageClass: 'STANDARD' }));
  } finally {
    archiveHost.destroy();
  }
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'via-archive-endpoint' }))).StorageClass, 'ARCHIVE');
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'explicit-standard' }))).StorageClass, undefined);
});
