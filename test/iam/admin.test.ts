import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';
import { adminClient, newAccount } from '../helpers/admin.ts';
import { AdminClient } from '../../src/cli/admin-client.ts';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

let server: TestServer;
before(async () => {
  server = await startTestServer({ extraArgs: ['--allow-signup'] });
});
after(() => server.stop());

async function oort(...args: string[]): Promise<{ code: number; out: unknown }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'admin', ...args, '--endpoint', server.url], {
      env: { ...process.env, OORT_ACCESS_KEY: server.accessKeyId, OORT_SECRET_KEY: server.secretAccessKey },
    });
    return { code: 0, out: stdout.trim() ? JSON.parse(stdout) : undefined };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout.trim() ? JSON.parse(e.stdout) : undefined };
  }
}

test('the CLI creates, lists, suspends accounts and creates, disables, deletes keys', async () => {
  const created = await oort('account', 'create', '--name', 'carol', '--email', 'carol@example.com');
  assert.equal(created.code, 0);
  const id = (created.out as { account: { id: string; status: string } }).account.id;
  const listed = await oort('account', 'list');
  assert.ok((listed.out as { accounts: Array<{ id: string }> }).accounts.some((a) => a.id === id));

  const key = await oort('key', 'create', id);
  const { key: info, secretAccessKey } = key.out as { key: { accessKeyId: string }; secretAccessKey: string };
  assert.match(secretAccessKey, /^[A-Za-z0-9]{40}$/);
  const carol = server.client({ credentials: { accessKeyId: info.accessKeyId, secretAccessKey } });
  await carol.send(new CreateBucketCommand({ Bucket: 'carol-bucket' }));

  const keys = await oort('key', 'list', id);
  const shown = (keys.out as { keys: Array<Record<string, unknown>> }).keys;
  assert.equal(shown.length, 1);
  assert.equal(shown[0]!.status, 'Active');
  assert.equal(shown[0]!.secretAccessKey, undefined, 'secrets are shown only at creation');

  // Disabled keys are refused at once, and come back when enabled.
  assert.equal((await oort('key', 'disable', info.accessKeyId)).code, 0);
  await expectS3Error(carol.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  assert.equal((await oort('key', 'enable', info.accessKeyId)).code, 0);
  await carol.send(new ListBucketsCommand({}));

  // A suspended account's keys are refused.
  assert.equal((await oort('account', 'suspend', id)).code, 0);
  await expectS3Error(carol.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  assert.equal((await oort('account', 'activate', id)).code, 0);
  await carol.send(new ListBucketsCommand({}));

  // Deleted keys are gone for good.
  assert.equal((await oort('key', 'delete', info.accessKeyId)).code, 0);
  await expectS3Error(carol.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  assert.notEqual((await oort('key', 'delete', info.accessKeyId)).code, 0);
});

test('an account holds at most ten keys', async () => {
  const acct = await newAccount(server, 'dave');
  const admin = adminClient(server);
  for (let i = 1; i < 10; i++) assert.equal((await admin.call('POST', `accounts/${acct.id}/keys`)).status, 201);
  const eleventh = await admin.call('POST', `accounts/${acct.id}/keys`);
  assert.equal(eleventh.status, 409);
  assert.equal((eleventh.body as { error: { code: string } }).error.code, 'LimitExceeded');
});

test('the admin API refuses non-administrators and anonymous callers', async () => {
  const erin = await newAccount(server, 'erin');
  const asErin = new AdminClient({ endpoint: server.url, accessKeyId: erin.accessKeyId, secretAccessKey: erin.secretAccessKey, region: 'us-east-1' });
  const r = await asErin.call('GET', 'accounts');
  assert.equal(r.status, 403);
  assert.match(String(r.body), /<Code>AccessDenied<\/Code>/);
  assert.equal((await fetch(`${server.url}/_oort/admin/v1/accounts`)).status, 403);
  const wrongSecret = new AdminClient({ endpoint: server.url, accessKeyId: server.accessKeyId, secretAccessKey: 'nope', region: 'us-east-1' });
  assert.equal((await wrongSecret.call('GET', 'accounts')).status, 403);
});

test('self-service sign-up makes an account with a working key and a hashed password', async () => {
  const res = await fetch(`${server.url}/_oort/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: 'Frank', email: 'frank@example.com', password: 'correct horse battery' }),
  });
  assert.equal(res.status, 201);
  const body = (await res.json()) as { accessKeyId: string; secretAccessKey: string };
  const frank = server.client({ credentials: body });
  await frank.send(new CreateBucketCommand({ Bucket: 'frank-bucket' }));
  const again = await fetch(`${server.url}/_oort/signup`, {
    method: 'POST',
    body: JSON.stringify({ displayName: 'Frank 2', email: 'FRANK@example.com', password: 'another password' }),
  });
  assert.equal(again.status, 409);
  const bad = await fetch(`${server.url}/_oort/signup`, { method: 'POST', body: '{"displayName":"x","email":"nope","password":"short"}' });
  assert.equal(bad.status, 400);
  // Neither secrets nor passwords are stored in clear text.
  await new Promise((r) => setTimeout(r, 100));
  const db = Buffer.concat(await Promise.all(['meta.sqlite', 'meta.sqlite-wal'].map((f) => readFile(join(server.dataDir, f)).catch(() => Buffer.alloc(0)))));
  assert.equal(db.includes(body.secretAccessKey), false, 'secret in clear');
  assert.equal(db.includes(server.secretAccessKey), false, 'root secret in clear');
  assert.equal(db.includes('correct horse battery'), false, 'password in clear');
  assert.equal(db.includes(body.accessKeyId), true, 'the scan does see the database');
});

test('sign-up is off by default', async () => {
  const plain = await startTestServer();
  try {
    const res = await fetch(`${plain.url}/_oort/signup`, { method: 'POST', body: '{"displayName":"x","email":"x@example.com","password":"12345678"}' });
    assert.equal(res.status, 404);
  } finally {
    await plain.stop();
  }
});
