import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Agent, type AgentOptions } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startTestServer, loopbackLookup, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
before(async () => {
  server = await startTestServer();
  s3 = server.client();
});
after(() => server.stop());

test('create, head, list, locate and delete a bucket', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'alpha-bucket' }));
  const head = await s3.send(new HeadBucketCommand({ Bucket: 'alpha-bucket' }));
  assert.equal(head.BucketRegion, 'us-east-1');
  const list = await s3.send(new ListBucketsCommand({}));
  assert.ok(list.Buckets?.some((b) => b.Name === 'alpha-bucket' && b.CreationDate instanceof Date));
  assert.ok(list.Owner?.ID);
  const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'alpha-bucket' }));
  assert.equal(loc.LocationConstraint ?? '', '');
  const ver = await s3.send(new GetBucketVersioningCommand({ Bucket: 'alpha-bucket' }));
  assert.equal(ver.Status, undefined);
  await s3.send(new DeleteBucketCommand({ Bucket: 'alpha-bucket' }));
  await expectS3Error(s3.send(new HeadBucketCommand({ Bucket: 'alpha-bucket' })), 'NotFound', 404);
});

test('creating an existing bucket of your own is BucketAlreadyOwnedByYou', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'dup-bucket' }));
  await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: 'dup-bucket' })), 'BucketAlreadyOwnedByYou', 409);
});

test('bucket names are checked', async () => {
  for (const name of ['ab', 'UPPER', 'has_underscore', '-start', 'end-', 'a..b', '192.168.1.1', 'xn--abc', 'a'.repeat(64), 'a.-b']) {
    await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: name })), 'InvalidBucketName', 400, name);
  }
});

test('a location constraint for another region is refused; our own is accepted', async () => {
  await expectS3Error(
    s3.send(new CreateBucketCommand({ Bucket: 'far-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
    'IllegalLocationConstraintException',
    400,
  );
  const other = server.client();
  await other.send(new CreateBucketCommand({ Bucket: 'near-bucket', CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never } }));
  await other.send(new HeadBucketCommand({ Bucket: 'near-bucket' }));
});

test('deleting a non-empty bucket is BucketNotEmpty; a missing one NoSuchBucket', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'full-bucket' }));
  await s3.send(new PutObjectCommand({ Bucket: 'full-bucket', Key: 'x', Body: 'x' }));
  await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: 'full-bucket' })), 'BucketNotEmpty', 409);
  await s3.send(new DeleteObjectCommand({ Bucket: 'full-bucket', Key: 'x' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'full-bucket' }));
  await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: 'full-bucket' })), 'NoSuchBucket', 404);
  await expectS3Error(s3.send(new GetBucketLocationCommand({ Bucket: 'never-made' })), 'NoSuchBucket', 404);
});

test('virtual-hosted style addressing reaches the same bucket', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'vhost-bucket' }));
  // The SDK puts the bucket in the host: vhost-bucket.localhost resolves to loopback.
  const vclient = new S3Client({
    endpoint: `http://localhost:${server.port}`,
    region: 'us-east-1',
    forcePathStyle: false,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: loopbackLookup } as AgentOptions) }),
  });
  try {
    await vclient.send(new PutObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/v.txt', Body: 'virtual' }));
    const list = await vclient.send(new ListObjectsV2Command({ Bucket: 'vhost-bucket' }));
    assert.deepEqual(list.Contents?.map((c) => c.Key), ['dir/v.txt']);
  } finally {
    vclient.destroy();
  }
  const list = await s3.send(new ListObjectsV2Command({ Bucket: 'vhost-bucket' }));
  assert.deepEqual(list.Contents?.map((c) => c.Key), ['dir/v.txt']);
});
