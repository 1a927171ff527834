import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestServer } from '../helpers/server.ts';
import { newAccount } from '../helpers/admin.ts';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

test('rotate-master-key re-wraps data keys and secrets; everything reads back under the new key', async () => {
  const first = await startTestServer({ keepData: true });
  const dataDir = first.dataDir;
  const big = Buffer.alloc(300 * 1024, 7);
  let user: Awaited<ReturnType<typeof newAccount>>;
  try {
    user = await newAccount(first, 'rotator');
    const s3 = first.client({ credentials: user });
    await s3.send(new CreateBucketCommand({ Bucket: 'rot' }));
    await s3.send(new PutObjectCommand({ Bucket: 'rot', Key: 'tiny', Body: 'inline bytes' }));
    await s3.send(new PutObjectCommand({ Bucket: 'rot', Key: 'big', Body: big }));
    // An offline command beside the running server is refused, and changes nothing.
    const keyFile = await readFile(join(dataDir, 'master.key'), 'utf8');
    await assert.rejects(
      run(process.execPath, [CLI, 'admin', 'rotate-master-key', '--data-dir', dataDir], { env: { ...process.env, OORT_MASTER_KEY: '' } }),
      (err: { code?: number; stderr?: string }) => err.code === 1 && /in use by another process/.test(err.stderr ?? ''),
    );
    assert.equal(await readFile(join(dataDir, 'master.key'), 'utf8'), keyFile);
  } finally {
    await first.stop();
  }
  const before = JSON.parse(await readFile(join(dataDir, 'master.key'), 'utf8')) as { id: string };
  const { stdout } = await run(process.execPath, [CLI, 'admin', 'rotate-master-key', '--data-dir', dataDir], { env: { ...process.env, OORT_MASTER_KEY: '' } });
  const result = JSON.parse(stdout) as { kekId: string; streams: number; inline: number };
  const after = JSON.parse(await readFile(join(dataDir, 'master.key'), 'utf8')) as { id: string; previous?: unknown };
  assert.notEqual(after.id, before.id);
  assert.equal(result.kekId, after.id);
  assert.equal(after.previous, undefined, 'the old key is dropped once everything is re-wrapped');
  assert.ok(result.streams >= 1 && result.inline >= 1, JSON.stringify(result));

  const second = await startTestServer({ dataDir });
  try {
    const s3 = second.client({ credentials: user! });
    const tiny = await s3.send(new GetObjectCommand({ Bucket: 'rot', Key: 'tiny' }));
    assert.equal(await tiny.Body!.transformToString(), 'inline bytes');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'rot', Key: 'big' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(big));
  } finally {
    await second.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
