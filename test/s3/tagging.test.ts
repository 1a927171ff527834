import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';
import { newAccount } from '../helpers/admin.ts';
import { assertS3Error, sendSigned } from '../helpers/raw-http.ts';

let server: TestServer;
let s3: S3Client;
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'tags' }));
});
after(() => server.stop());

const tagSet = (n: number, more: Partial<Tag> = {}): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: `v${i}`, ...more }));

test('put, get and delete object tags; ETag and Last-Modified stay', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'a.txt', Body: 'hello' }));
  const before = await s3.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'a.txt' }));
  assert.equal(before.TagCount, undefined);
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt' }))).TagSet, []);

  await new Promise((r) => setTimeout(r, 1100)); // a changed Last-Modified would show at 1 s precision
  const tags = [{ Key: 'project', Value: 'oort' }, { Key: 'empty', Value: '' }, { Key: 'ünï cödé +-=._:/@', Value: 'värde 1' }];
  const put = await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt', Tagging: { TagSet: tags } }));
  assert.equal(put.VersionId, 'null');
  const got = await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt' }));
  assert.deepEqual(got.TagSet, tags);
  assert.equal(got.VersionId, 'null');

  const after = await s3.send(new GetObjectCommand({ Bucket: 'tags', Key: 'a.txt' }));
  assert.equal(after.TagCount, 3);
  assert.equal(after.ETag, before.ETag);
  assert.equal(after.LastModified?.getTime(), before.LastModified?.getTime());
  assert.equal(await after.Body!.transformToString(), 'hello');
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'a.txt' }))).TagCount, 3);

  // Replacing the set replaces it whole.
  await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt' }))).TagSet, [{ Key: 'only', Value: 'one' }]);

  const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'a.txt' }))).TagSet, []);
  const last = await s3.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'a.txt' }));
  assert.equal(last.TagCount, undefined);
  assert.equal(last.ETag, before.ETag);
});

test('object tag limits and rules are S3 errors and change nothing', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'limits', Body: 'x', Tagging: 'keep=me' }));
  const cases: Array<[Tag[], string, RegExp]> = [
    [tagSet(11), 'BadRequest', /Object tags cannot be greater than 10/],
    [[{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }], 'InvalidTag', /multiple Tags with the same key/],
    [[{ Key: 'aws:owner', Value: 'x' }], 'InvalidTag', /prefixed with aws:/],
    [[{ Key: 'k'.repeat(129), Value: 'x' }], 'InvalidTag', /TagKey .* too long/],
    [[{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidTag', /TagValue .* too long/],
    [[{ Key: '', Value: 'x' }], 'InvalidTag', /TagKey you have provided is invalid/],
    [[{ Key: 'bad*key', Value: 'x' }], 'InvalidTag', /TagKey you have provided is invalid/],
    [[{ Key: 'k', Value: 'semi;colon' }], 'InvalidTag', /TagValue you have provided is invalid/],
  ];
  for (const [set, code, message] of cases) {
    const err = await expectS3Error(s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'limits', Tagging: { TagSet: set } })), code, 400, JSON.stringify(set).slice(0, 60));
    assert.match(err.message, message);
  }
  // Exactly at the limits is fine: 10 tags, 128-character keys, 256-character values (counted in characters).
  await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'limits', Tagging: { TagSet: [...tagSet(9), { Key: 'ü'.repeat(128), Value: 'é'.repeat(256) }] } }));
  assert.equal((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'limits' }))).TagSet?.length, 10);

  await expectS3Error(s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'missing', Tagging: { TagSet: tagSet(1) } })), 'NoSuchKey', 404);
  await expectS3Error(s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'missing' })), 'NoSuchKey', 404);
});

test('malformed Tagging XML is MalformedXML', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'xml', Body: 'x', Tagging: 'a=1' }));
  const target = { port: server.port, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  for (const body of ['', '<Tagging><TagSet><Tag><Key>a</Key>', '<Tagging></Tagging>', '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>', '<Other/>']) {
    const res = await sendSigned(target, { method: 'PUT', path: '/tags/xml', query: { tagging: '' }, body });
    assert.equal(assertS3Error(res.responses[0]!, { status: 400, note: body }), 'MalformedXML', body);
  }
  // An empty TagSet clears the tags.
  const ok = await sendSigned(target, { method: 'PUT', path: '/tags/xml', query: { tagging: '' }, body: '<Tagging><TagSet></TagSet></Tagging>' });
  assert.equal(ok.responses[0]!.status, 200);
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'xml' }))).TagSet, []);
});

test('x-amz-tagging on PutObject and CreateMultipartUpload', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'put', Body: 'x', Tagging: 'a=1&b%20c=d%2Fe+f&empty=' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'put' }))).TagSet, [
    { Key: 'a', Value: '1' },
    { Key: 'b c', Value: 'd/e f' },
    { Key: 'empty', Value: '' },
  ]);
  const tooMany = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'refused', Body: 'x', Tagging: tooMany })), 'BadRequest', 400);
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'refused', Body: 'x', Tagging: 'a=1&a=2' })), 'InvalidArgument', 400);
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'refused', Body: 'x', Tagging: 'aws:x=1' })), 'InvalidTag', 400);
  await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'refused' })), 'NotFound', 404);

  const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'tags', Key: 'mpu', Tagging: 'stage=upload' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: 'tags', Key: 'mpu', UploadId: mpu.UploadId, PartNumber: 1, Body: 'part' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'tags', Key: 'mpu', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'mpu' }))).TagSet, [{ Key: 'stage', Value: 'upload' }]);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'mpu' }))).TagCount, 1);
  await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: 'tags', Key: 'mpu2', Tagging: 'bad*=x' })), 'InvalidTag', 400);
});

test('CopyObject copies tags by default, replaces them with REPLACE', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'src', Body: 'copy', Tagging: 'from=source' }));
  await s3.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'copy-default', CopySource: 'tags/src' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'copy-default' }))).TagSet, [{ Key: 'from', Value: 'source' }]);
  // COPY ignores x-amz-tagging.
  await s3.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'copy-copy', CopySource: 'tags/src', TaggingDirective: 'COPY', Tagging: 'x=y' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'copy-copy' }))).TagSet, [{ Key: 'from', Value: 'source' }]);
  await s3.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'copy-replace', CopySource: 'tags/src', TaggingDirective: 'REPLACE', Tagging: 'new=tag&n2=v2' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'copy-replace' }))).TagSet, [{ Key: 'new', Value: 'tag' }, { Key: 'n2', Value: 'v2' }]);
  await s3.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'copy-none', CopySource: 'tags/src', TaggingDirective: 'REPLACE' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'copy-none' }))).TagSet, []);
  // Replacing only the tags of an object in place (with REPLACE metadata) keeps its bytes.
  await s3.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'src', CopySource: 'tags/src', MetadataDirective: 'REPLACE', TaggingDirective: 'REPLACE', Tagging: 'self=1' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'src' }))).TagSet, [{ Key: 'self', Value: '1' }]);
  const target = { port: server.port, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  const bad = await sendSigned(target, { method: 'PUT', path: '/tags/copy-bad', headers: { 'x-amz-copy-source': '/tags/src', 'x-amz-tagging-directive': 'MERGE' } });
  assert.equal(assertS3Error(bad.responses[0]!, { status: 400 }), 'InvalidArgument');
});

test('bucket tagging: NoSuchTagSet, put, get, limits, delete', async () => {
  await expectS3Error(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' })), 'NoSuchTagSet', 404);
  const put = await s3.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: tagSet(50) } }));
  assert.equal(put.$metadata.httpStatusCode, 204);
  assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' }))).TagSet, tagSet(50));
  await expectS3Error(s3.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: tagSet(51) } })), 'BadRequest', 400);
  const sys = await expectS3Error(s3.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: [{ Key: 'aws:x', Value: '1' }] } })), 'InvalidTag', 400);
  assert.match(sys.message, /System tags/);
  await expectS3Error(s3.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '1' }] } })), 'InvalidTag', 400);
  // Refused writes changed nothing.
  assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' }))).TagSet?.length, 50);
  const del = await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'tags' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  await expectS3Error(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' })), 'NoSuchTagSet', 404);
  await expectS3Error(s3.send(new GetBucketTaggingCommand({ Bucket: 'no-such-bucket-here' })), 'NoSuchBucket', 404);
});

test('another account may neither read nor change tags it was not granted', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'private', Body: 'x', Tagging: 'secret=1' }));
  const other = await newAccount(server, 'tag-other');
  const them = server.client({ credentials: { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey } });
  await expectS3Error(them.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'private' })), 'AccessDenied', 403);
  await expectS3Error(them.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'private', Tagging: { TagSet: [] } })), 'AccessDenied', 403);
  await expectS3Error(them.send(new DeleteObjectTaggingCommand({ Bucket: 'tags', Key: 'private' })), 'AccessDenied', 403);
  await expectS3Error(them.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: [] } })), 'AccessDenied', 403);
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'private' }))).TagSet, [{ Key: 'secret', Value: '1' }]);
  // A READ grant lets them download it, but the tag count is shown only to who may read the tags.
  await s3.send(new PutObjectAclCommand({ Bucket: 'tags', Key: 'private', GrantRead: `id=${other.id}` }));
  const theirs = await them.send(new GetObjectCommand({ Bucket: 'tags', Key: 'private' }));
  assert.equal(await theirs.Body!.transformToString(), 'x');
  assert.equal(theirs.TagCount, undefined);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'private' }))).TagCount, 1);
});

test('tags on a write need s3:PutObjectTagging as well as the write', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'tags-shared' }));
  const writer = await newAccount(server, 'tag-writer');
  const them = server.client({ credentials: { accessKeyId: writer.accessKeyId, secretAccessKey: writer.secretAccessKey } });
  await s3.send(new PutBucketAclCommand({ Bucket: 'tags-shared', GrantWrite: `id=${writer.id}` }));
  await them.send(new PutObjectCommand({ Bucket: 'tags-shared', Key: 'plain', Body: 'x' }));
  await expectS3Error(them.send(new PutObjectCommand({ Bucket: 'tags-shared', Key: 'tagged', Body: 'x', Tagging: 'a=1' })), 'AccessDenied', 403);
  await expectS3Error(them.send(new CreateMultipartUploadCommand({ Bucket: 'tags-shared', Key: 'tagged', Tagging: 'a=1' })), 'AccessDenied', 403);
  await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: 'tags-shared', Key: 'tagged' })), 'NotFound', 404);
  // A policy that allows tagging lets the same write through.
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: writer.id }, Action: 's3:PutObjectTagging', Resource: 'arn:aws:s3:::tags-shared/*' }],
  };
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'tags-shared', Policy: JSON.stringify(policy) }));
  await them.send(new PutObjectCommand({ Bucket: 'tags-shared', Key: 'tagged', Body: 'x', Tagging: 'a=1' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags-shared', Key: 'tagged' }))).TagSet, [{ Key: 'a', Value: '1' }]);
});
