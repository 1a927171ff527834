// Tenancy under attack: no path, host header, encoding, sub-resource, copy or presign trick lets an
// anonymous caller or another account read (or learn) a private object. Raw requests go over a
// socket, so dot segments and odd encodings reach the server exactly as written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newAccount } from '../helpers/admin.ts';
import { expectS3Error } from '../helpers/errors.ts';
import { exchange, head } from '../helpers/raw-http.ts';

const SECRET = 'the combination is 12-34-56';

let server: TestServer;
let alice: S3Client;
let bob: S3Client;

before(async () => {
  server = await startTestServer();
  alice = server.client();
  const b = await newAccount(server, 'bob');
  bob = server.client({ credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey } });
  await alice.send(new CreateBucketCommand({ Bucket: 'vault' }));
  await alice.send(new PutObjectCommand({ Bucket: 'vault', Key: 'secret.txt', Body: SECRET }));
  await alice.send(new CreateBucketCommand({ Bucket: 'showcase', ACL: 'public-read-write' }));
  await alice.send(new PutObjectCommand({ Bucket: 'showcase', Key: 'public.txt', Body: 'hello', ACL: 'public-read' }));
  await bob.send(new CreateBucketCommand({ Bucket: 'bob-loot' }));
});
after(async () => {
  await server.stop();
});

/** An unsigned request line sent as written, with the given Host header. */
async function raw(method: string, target: string, host = `127.0.0.1:${server.port}`): Promise<{ status: number; body: string }> {
  const res = await exchange(server.port, [head(`${method} ${target} HTTP/1.1`, { host, connection: 'close' })], { end: true, head: method === 'HEAD' });
  const r = res.responses[0];
  assert.ok(r, `${method} ${target}: no response`);
  return { status: r.status, body: r.body.toString('utf8') };
}

test('path, encoding and host-header tricks never reach the private object', async () => {
  // Sanity: the public object is served to anyone.
  assert.deepEqual(await raw('GET', '/showcase/public.txt'), { status: 200, body: 'hello' });
  const tricks: Array<[string, string?]> = [
    ['/vault/secret.txt'],
    ['/showcase/../vault/secret.txt'],
    ['/showcase/%2e%2e/vault/secret.txt'],
    ['/showcase/..%2fvault%2fsecret.txt'],
    ['/showcase/%2E%2E%2Fvault%2Fsecret.txt'],
    ['/showcase/./../vault/secret.txt'],
    ['//vault/secret.txt'],
    ['/vault//secret.txt'],
    ['/vault/secret.txt%00'],
    ['/vault%2fsecret.txt'],
    ['/VAULT/secret.txt'],
    ['/showcase\\..\\vault\\secret.txt'],
    ['/vault/secret.txt?response-content-type=text/plain'],
    ['/vault/secret.txt?acl'],
    ['/vault/secret.txt?tagging'],
    ['/vault/secret.txt?partNumber=1'],
    ['/vault?list-type=2'],
    ['/vault?uploads'],
    ['/vault?versions'],
    ['/vault?acl'],
    ['/vault?policy'],
    ['http://127.0.0.1/vault/secret.txt'],
    // Virtual-host style: the bucket is in the Host header.
    ['/secret.txt', 'vault.localhost'],
    ['/../vault/secret.txt', 'showcase.localhost'],
    ['/vault/secret.txt', 'showcase.localhost'],
    ['/showcase/public.txt', 'vault.localhost'],
    ['/secret.txt', 'vault.showcase.localhost'],
    ['/secret.txt', 'VAULT.localhost'],
    ['/secret.txt', 'vault.localhost:1'],
  ];
  for (const [target, host] of tricks) {
    for (const method of ['GET', 'HEAD']) {
      const r = await raw(method, target, host);
      assert.notEqual(r.status, 200, `${method} ${target} (Host ${host ?? 'default'}) answered 200`);
      // 4xx, or 501 for a sub-resource HEAD does not support: refused before any data is read.
      assert.ok(r.status >= 400 && r.status <= 501, `${method} ${target}: ${r.status}`);
      assert.ok(!r.body.includes(SECRET), `${method} ${target} leaked the secret`);
    }
  }
});

test('presigned URLs: another account’s signature is denied, and a signature cannot be moved to another object', async () => {
  const bobsUrl = await getSignedUrl(bob, new GetObjectCommand({ Bucket: 'vault', Key: 'secret.txt' }), { expiresIn: 300 });
  const r1 = await fetch(bobsUrl);
  assert.equal(r1.status, 403);
  assert.match(await r1.text(), /<Code>AccessDenied<\/Code>/);

  const alicesUrl = await getSignedUrl(alice, new GetObjectCommand({ Bucket: 'showcase', Key: 'public.txt' }), { expiresIn: 300 });
  assert.equal(await (await fetch(alicesUrl)).text(), 'hello');
  const moved = alicesUrl.replace('/showcase/public.txt', '/vault/secret.txt');
  const r2 = await fetch(moved);
  assert.equal(r2.status, 403);
  assert.match(await r2.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  // Nor onto another host (virtual-host style names the bucket there).
  const u = new URL(alicesUrl);
  const r3 = await raw('GET', `/secret.txt${u.search}`, `vault.localhost:${server.port}`);
  assert.equal(r3.status, 403);
  assert.ok(!r3.body.includes(SECRET));
});

test('copies need read access to the source: CopyObject and UploadPartCopy from a private bucket are denied', async () => {
  await expectS3Error(bob.send(new CopyObjectCommand({ Bucket: 'bob-loot', Key: 'stolen', CopySource: 'vault/secret.txt' })), 'AccessDenied', 403);
  // Dot segments are part of the key: this names the key `../vault/secret.txt` in the listable showcase.
  await expectS3Error(bob.send(new CopyObjectCommand({ Bucket: 'bob-loot', Key: 'stolen', CopySource: 'showcase/../vault/secret.txt' })), 'NoSuchKey', 404);
  await expectS3Error(bob.send(new CopyObjectCommand({ Bucket: 'bob-loot', Key: 'stolen', CopySource: 'vault%2Fsecret.txt' })), 'AccessDenied', 403);
  const { UploadId } = await bob.send(new CreateMultipartUploadCommand({ Bucket: 'bob-loot', Key: 'stolen' }));
  await expectS3Error(
    bob.send(new UploadPartCopyCommand({ Bucket: 'bob-loot', Key: 'stolen', UploadId, PartNumber: 1, CopySource: 'vault/secret.txt' })),
    'AccessDenied',
    403,
  );
  // Into a public-read-write bucket, anonymously or not: still denied.
  await expectS3Error(bob.send(new CopyObjectCommand({ Bucket: 'showcase', Key: 'stolen', CopySource: 'vault/secret.txt' })), 'AccessDenied', 403);
  const anon = await exchange(server.port, [
    head('PUT /showcase/stolen HTTP/1.1', { host: `127.0.0.1:${server.port}`, 'x-amz-copy-source': '/vault/secret.txt', 'content-length': '0', connection: 'close' }),
  ], { end: true });
  assert.equal(anon.responses[0]?.status, 403);
  await expectS3Error(alice.send(new GetObjectCommand({ Bucket: 'showcase', Key: 'stolen' })), 'NoSuchKey', 404);
  await expectS3Error(bob.send(new GetObjectCommand({ Bucket: 'bob-loot', Key: 'stolen' })), 'NoSuchKey', 404);
});
