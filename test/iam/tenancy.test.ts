import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, type AgentOptions } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startTestServer, loopbackLookup, type TestServer } from '../helpers/server.ts';
import { expectS3Error, expectStatus } from '../helpers/errors.ts';
import { newAccount } from '../helpers/admin.ts';

let server: TestServer;
let alice: S3Client;
let bob: S3Client;
let bobVhost: S3Client;
let uploadId: string;

before(async () => {
  server = await startTestServer();
  alice = server.client();
  const b = await newAccount(server, 'bob');
  const creds = { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey };
  bob = server.client({ credentials: creds });
  bobVhost = new S3Client({
    endpoint: `http://localhost:${server.port}`,
    region: 'us-east-1',
    forcePathStyle: false,
    credentials: creds,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: loopbackLookup } as AgentOptions) }),
  });
  await alice.send(new CreateBucketCommand({ Bucket: 'alice-private' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt', Body: 'for alice only' }));
  uploadId = (await alice.send(new CreateMultipartUploadCommand({ Bucket: 'alice-private', Key: 'mpu' }))).UploadId!;
  await bob.send(new CreateBucketCommand({ Bucket: 'bob-bucket' }));
});
after(async () => {
  bobVhost.destroy();
  await server.stop();
});

test('buckets are listed per account and names are global', async () => {
  const a = await alice.send(new ListBucketsCommand({}));
  const b = await bob.send(new ListBucketsCommand({}));
  assert.deepEqual(a.Buckets?.map((x) => x.Name), ['alice-private']);
  assert.deepEqual(b.Buckets?.map((x) => x.Name), ['bob-bucket']);
  assert.notEqual(a.Owner?.ID, b.Owner?.ID);
  await expectS3Error(bob.send(new CreateBucketCommand({ Bucket: 'alice-private' })), 'BucketAlreadyExists', 409);
  await expectS3Error(alice.send(new CreateBucketCommand({ Bucket: 'alice-private' })), 'BucketAlreadyOwnedByYou', 409);
});

for (const [style, client] of [
  ['path style', () => bob],
  ['virtual-host style', () => bobVhost],
] as const) {
  test(`another account cannot touch the bucket (${style})`, async () => {
    const c = client();
    const Bucket = 'alice-private';
    await expectS3Error(c.send(new ListObjectsV2Command({ Bucket })), 'AccessDenied', 403);
    await expectS3Error(c.send(new GetObjectCommand({ Bucket, Key: 'secret.txt' })), 'AccessDenied', 403);
    await expectStatus(c.send(new HeadObjectCommand({ Bucket, Key: 'secret.txt' })), 403);
    await expectStatus(c.send(new HeadBucketCommand({ Bucket })), 403);
    await expectS3Error(c.send(new PutObjectCommand({ Bucket, Key: 'intruder', Body: 'x' })), 'AccessDenied', 403);
    await expectS3Error(c.send(new DeleteObjectCommand({ Bucket, Key: 'secret.txt' })), 'AccessDenied', 403);
    await expectS3Error(c.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'secret.txt' }] } })), 'AccessDenied', 403);
    await expectS3Error(c.send(new DeleteBucketCommand({ Bucket })), 'AccessDenied', 403);
    await expectS3Error(c.send(new CopyObjectCommand({ Bucket: 'bob-bucket', Key: 'stolen', CopySource: `${Bucket}/secret.txt` })), 'AccessDenied', 403);
    await expectS3Error(c.send(new CopyObjectCommand({ Bucket, Key: 'planted', CopySource: 'bob-bucket/none' })), 'AccessDenied', 403);
    await expectS3Error(c.send(new CreateMultipartUploadCommand({ Bucket, Key: 'm' })), 'AccessDenied', 403);
    await expectS3Error(c.send(new UploadPartCommand({ Bucket, Key: 'mpu', UploadId: uploadId, PartNumber: 1, Body: 'x' })), 'AccessDenied', 403);
    await expectS3Error(c.send(new ListPartsCommand({ Bucket, Key: 'mpu', UploadId: uploadId })), 'AccessDenied', 403);
    await expectS3Error(c.send(new ListMultipartUploadsCommand({ Bucket })), 'AccessDenied', 403);
    await expectS3Error(c.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mpu', UploadId: uploadId })), 'AccessDenied', 403);
  });
}

test('another account cannot use presigned URLs of its own on the bucket', async () => {
  const get = await getSignedUrl(bob, new GetObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt' }), { expiresIn: 60 });
  assert.equal((await fetch(get)).status, 403);
  const put = await getSignedUrl(bob, new PutObjectCommand({ Bucket: 'alice-private', Key: 'intruder' }), { expiresIn: 60 });
  assert.equal((await fetch(put, { method: 'PUT', body: 'x' })).status, 403);
  const del = await getSignedUrl(bob, new DeleteObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt' }), { expiresIn: 60 });
  assert.equal((await fetch(del, { method: 'DELETE' })).status, 403);
});

test('after all that, alice’s data is untouched and nothing was planted', async () => {
  const list = await alice.send(new ListObjectsV2Command({ Bucket: 'alice-private' }));
  assert.deepEqual(list.Contents?.map((c) => c.Key), ['secret.txt']);
  const got = await alice.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt' }));
  assert.equal(await got.Body!.transformToString(), 'for alice only');
  const uploads = await alice.send(new ListMultipartUploadsCommand({ Bucket: 'alice-private' }));
  assert.deepEqual(uploads.Uploads?.map((u) => u.UploadId), [uploadId]);
  const parts = await alice.send(new ListPartsCommand({ Bucket: 'alice-private', Key: 'mpu', UploadId: uploadId }));
  assert.equal(parts.Parts, undefined);
});
