import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'src' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'dst' }));
  await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'dir/ünï code+plus %.txt', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' } }));
});
after(() => server.stop());

const source = `src/${encodeURIComponent('dir/ünï code+plus %.txt')}`;

test('copy to another bucket keeps bytes and metadata (COPY directive)', async () => {
  const r = await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'copied', CopySource: source }));
  assert.equal(r.CopyObjectResult?.ETag, `"${createHash('md5').update('copy me').digest('hex')}"`);
  assert.ok(r.CopyObjectResult?.LastModified instanceof Date);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'dst', Key: 'copied' }));
  assert.equal(await got.Body!.transformToString(), 'copy me');
  assert.equal(got.ContentType, 'text/plain');
  assert.deepEqual(got.Metadata, { a: '1' });
});

test('REPLACE takes the request headers instead', async () => {
  await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'replaced', CopySource: source, MetadataDirective: 'REPLACE', ContentType: 'application/x-new', Metadata: { b: '2' } }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'dst', Key: 'replaced' }));
  assert.equal(head.ContentType, 'application/x-new');
  assert.deepEqual(head.Metadata, { b: '2' });
});

test('copy onto itself only with REPLACE', async () => {
  await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: 'src', Key: 'dir/ünï code+plus %.txt', CopySource: source })), 'InvalidRequest', 400);
  await s3.send(new CopyObjectCommand({ Bucket: 'src', Key: 'dir/ünï code+plus %.txt', CopySource: source, MetadataDirective: 'REPLACE', Metadata: { c: '3' } }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'src', Key: 'dir/ünï code+plus %.txt' }));
  assert.deepEqual(head.Metadata, { c: '3' });
  const got = await s3.send(new GetObjectCommand({ Bucket: 'src', Key: 'dir/ünï code+plus %.txt' }));
  assert.equal(await got.Body!.transformToString(), 'copy me');
});

test('copy-source conditions', async () => {
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'src', Key: 'dir/ünï code+plus %.txt' }));
  await s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'c1', CopySource: source, CopySourceIfMatch: head.ETag }));
  await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'c2', CopySource: source, CopySourceIfMatch: '"nope"' })), 'PreconditionFailed', 412);
  await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'c2', CopySource: source, CopySourceIfNoneMatch: head.ETag })), 'PreconditionFailed', 412);
  await expectS3Error(
    s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'c2', CopySource: source, CopySourceIfModifiedSince: new Date(Date.now() + 3600_000) })),
    'PreconditionFailed',
    412,
  );
  await expectS3Error(
    s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'c2', CopySource: source, CopySourceIfUnmodifiedSince: new Date(Date.now() - 3600_000) })),
    'PreconditionFailed',
    412,
  );
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket: 'dst', Key: 'c2' })), 'NoSuchKey', 404);
});

test('missing source key and bucket', async () => {
  await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'src/missing' })), 'NoSuchKey', 404);
  await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'nobucket/missing' })), 'NoSuchBucket', 404);
  await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: 'dst', Key: 'x', CopySource: 'justbucket' })), 'InvalidArgument', 400);
});
