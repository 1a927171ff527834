import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, GetBucketAclCommand, GetObjectAclCommand, GetObjectTaggingCommand, PutBucketLifecycleConfigurationCommand, GetBucketWebsiteCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
const Bucket = 'proto';
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'obj', Body: 'presigned body' }));
});
after(() => server.stop());

test('a wrong secret is SignatureDoesNotMatch; an unknown key InvalidAccessKeyId', async () => {
  const wrong = server.client({ credentials: { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong-secret' } });
  await expectS3Error(wrong.send(new ListBucketsCommand({})), 'SignatureDoesNotMatch', 403);
  await expectS3Error(wrong.send(new PutObjectCommand({ Bucket, Key: 'w', Body: 'x' })), 'SignatureDoesNotMatch', 403);
  const unknown = server.client({ credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' } });
  await expectS3Error(unknown.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'w' })), 'NoSuchKey', 404);
});

test('anonymous requests are denied with S3 XML and a request id', async () => {
  const r = await fetch(`${server.url}/${Bucket}/obj`);
  assert.equal(r.status, 403);
  const text = await r.text();
  assert.match(text, /<Code>AccessDenied<\/Code>/);
  const id = r.headers.get('x-amz-request-id');
  assert.ok(id);
  assert.ok(text.includes(`<RequestId>${id}</RequestId>`));
  assert.ok(!/at \w+ \(/.test(text), 'no stack trace');
});

test('presigned GET and PUT work; expired and tampered ones are refused', async () => {
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'obj' }), { expiresIn: 60 });
  const got = await fetch(getUrl);
  assert.equal(got.status, 200);
  assert.equal(await got.text(), 'presigned body');
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: 'via-presign' }), { expiresIn: 60 });
  const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded by url' });
  assert.equal(put.status, 200, await put.clone().text());
  const back = await s3.send(new GetObjectCommand({ Bucket, Key: 'via-presign' }));
  assert.equal(await back.Body!.transformToString(), 'uploaded by url');
  const tampered = getUrl.replace('/obj?', '/via-presign?');
  assert.equal((await fetch(tampered)).status, 403);
  const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'obj' }), { expiresIn: 1, signingDate: new Date(Date.now() - 10_000) });
  const r = await fetch(expired);
  assert.equal(r.status, 403);
  assert.match(await r.text(), /<Code>AccessDenied<\/Code>/);
});

test('unimplemented operations answer 501 NotImplemented, never a silent 200', async () => {
  await expectS3Error(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [] } })), 'NotImplemented', 501);
  await expectS3Error(s3.send(new GetBucketWebsiteCommand({ Bucket })), 'NotImplemented', 501);
});

test('ACLs read as the owner’s FULL_CONTROL; tag sets are empty', async () => {
  const acl = await s3.send(new GetBucketAclCommand({ Bucket }));
  assert.equal(acl.Grants?.length, 1);
  assert.equal(acl.Grants?.[0]?.Permission, 'FULL_CONTROL');
  assert.equal(acl.Grants?.[0]?.Grantee?.ID, acl.Owner?.ID);
  const oacl = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'obj' }));
  assert.equal(oacl.Grants?.[0]?.Permission, 'FULL_CONTROL');
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'obj' }));
  assert.deepEqual(tags.TagSet ?? [], []);
  await expectS3Error(s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'missing' })), 'NoSuchKey', 404);
});

test('a malformed path is a clear 400, and the server keeps serving', async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'obj' }), { expiresIn: 60 });
  const bad = url.replace('/obj?', '/%zz?');
  const r = await fetch(bad);
  assert.equal(r.status, 400);
  assert.match(await r.text(), /<Code>InvalidURI<\/Code>/);
  const ok = await s3.send(new GetObjectCommand({ Bucket, Key: 'obj' }));
  assert.equal(await ok.Body!.transformToString(), 'presigned body');
});
