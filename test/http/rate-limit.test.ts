import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RateLimiter } from '../../src/http/rate-limit.ts';
import { startTestServer } from '../helpers/server.ts';
import { adminClient, newAccount } from '../helpers/admin.ts';

test('token bucket: burst, refill, Retry-After, per-client override, bounded memory', () => {
  const rl = new RateLimiter({ rate: 10, burst: 10, maxClients: 3 });
  const t = 1_000_000;
  for (let i = 0; i < 10; i++) assert.equal(rl.take('a', undefined, t), 0);
  assert.equal(rl.take('a', undefined, t), 1);
  assert.equal(rl.take('b', undefined, t), 0, 'clients are independent');
  assert.equal(rl.take('a', undefined, t + 100), 0, 'one token back after 100 ms at 10/s');
  assert.equal(rl.take('a', undefined, t + 100), 1);
  const slow = new RateLimiter({ rate: 0.25, burst: 1 });
  assert.equal(slow.take('x', undefined, t), 0);
  assert.equal(slow.take('x', undefined, t), 4, 'Retry-After rounds the wait up to whole seconds');
  assert.equal(rl.take('c', 1000, t), 0, 'an override rate applies');
  rl.take('d', undefined, t);
  assert.equal(rl.trackedClients, 3, 'the least recently seen client was forgotten');
  assert.equal(new RateLimiter({ rate: 0, burst: 1 }).take('z'), 0, 'rate 0 is off');
});

test('past the limit: 503 SlowDown with Retry-After before any work; SDK retries finish the job', async () => {
  const server = await startTestServer({ extraArgs: ['--rate-limit', '5', '--rate-burst', '5'] });
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'limited' }));
    // Made before the burst: the admin calls spend the same (root) key's tokens.
    const other = await retrying(() => newAccount(server, 'other'));
    // A raw burst (no retries): some requests are refused, with S3 XML and Retry-After.
    const raw = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      maxAttempts: 1,
    });
    // 40 at once against 5/s with a burst of 5: even on a slow, shared machine most are refused.
    const burst = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => raw.send(new PutObjectCommand({ Bucket: 'limited', Key: `raw-${i}`, Body: 'x' }))));
    raw.destroy();
    const refused = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { name: string; $metadata: { httpStatusCode: number }; $response?: { headers: Record<string, string> } });
    assert.ok(refused.length >= 20, `only ${refused.length} of 40 refused`);
    for (const e of refused) {
      assert.equal(e.name, 'SlowDown');
      assert.equal(e.$metadata.httpStatusCode, 503);
      assert.ok(Number(e.$response?.headers['retry-after']) >= 1);
    }
    const refusedKeys = burst.map((r, i) => (r.status === 'rejected' ? `raw-${i}` : '')).filter(Boolean);
    // Another account's key has a bucket of its own: it is not slowed by this one.
    const otherClient = server.client({ credentials: other });
    for (let i = 0; i < 4; i++) await otherClient.send(new ListBucketsCommand({}));
    // A client with retries completes all its work.
    const patient = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      maxAttempts: 12,
    });
    const done = await Promise.all(Array.from({ length: 15 }, (_, i) => patient.send(new PutObjectCommand({ Bucket: 'limited', Key: `patient-${i}`, Body: 'y' }))));
    patient.destroy();
    assert.equal(done.length, 15);
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const all = await retrying(() => s3.send(new ListObjectsV2Command({ Bucket: 'limited' })));
    const keys = new Set(all.Contents?.map((c) => c.Key));
    for (let i = 0; i < 15; i++) assert.ok(keys.has(`patient-${i}`));
    // Refused PUTs stored nothing.
    for (const k of refusedKeys) assert.ok(!keys.has(k), `${k} was refused but stored`);
  } finally {
    await server.stop();
  }
});

async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!/SlowDown|503/.test(String((err as Error).name ?? err) + String((err as Error).message)) || i > 20) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

test('an account can have its own rate (set through the admin API), and go back to the default', async () => {
  const server = await startTestServer();
  try {
    const slow = await newAccount(server, 'slowpoke');
    const admin = adminClient(server);
    const set = await admin.call('POST', `accounts/${slow.id}/rate-limit`, { rateLimit: 2 });
    assert.equal(set.status, 200);
    assert.equal((set.body as { account: { rateLimit: number } }).account.rateLimit, 2);
    const burst = async (creds: { accessKeyId: string; secretAccessKey: string }) => {
      const c = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: creds, maxAttempts: 1 });
      try {
        const r = await Promise.allSettled(Array.from({ length: 10 }, () => c.send(new ListBucketsCommand({}))));
        return r.filter((x) => x.status === 'rejected' && (x.reason as { name: string }).name === 'SlowDown').length;
      } finally {
        c.destroy();
      }
    };
    assert.ok((await burst(slow)) >= 6, 'the account is held to 2 requests/s');
    assert.equal(await burst({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }), 0, 'others are not');
    assert.equal((await admin.call('POST', `accounts/${slow.id}/rate-limit`, { rateLimit: null })).status, 200);
    assert.equal(await burst(slow), 0, 'back to the server default (unlimited here)');
    assert.equal((await admin.call('POST', `accounts/${slow.id}/rate-limit`, { rateLimit: -1 })).status, 400);
  } finally {
    await server.stop();
  }
});
