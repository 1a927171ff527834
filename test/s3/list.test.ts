import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
const Bucket = 'listing';
const keys = ['a.txt', 'b/1', 'b/2', 'b/c/3', 'c+d', 'd e/x', 'é/1', 'z', 'Zed', '~tilde'];
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
  await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))));
});
after(() => server.stop());

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test('V2 lists every key in UTF-8 byte order with sizes and ETags', async () => {
  const r = await s3.send(new ListObjectsV2Command({ Bucket }));
  assert.deepEqual(r.Contents?.map((c) => c.Key), [...keys].sort(byteOrder));
  assert.equal(r.KeyCount, keys.length);
  assert.equal(r.IsTruncated, false);
  assert.equal(r.Contents?.[0]?.Size, Buffer.byteLength(r.Contents![0]!.Key!));
  assert.match(r.Contents?.[0]?.ETag ?? '', /^"[0-9a-f]{32}"$/);
  assert.equal(r.Contents?.[0]?.StorageClass, 'STANDARD');
  assert.equal(r.Contents?.[0]?.Owner, undefined);
  const owned = await s3.send(new ListObjectsV2Command({ Bucket, FetchOwner: true, MaxKeys: 1 }));
  assert.ok(owned.Contents?.[0]?.Owner?.ID);
});

test('V2 delimiter and prefix give folders', async () => {
  const top = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
  assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['b/', 'd e/', 'é/']);
  assert.deepEqual(top.Contents?.map((c) => c.Key), ['Zed', 'a.txt', 'c+d', 'z', '~tilde']);
  assert.equal(top.KeyCount, 8);
  const b = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/', Prefix: 'b/' }));
  assert.deepEqual(b.Contents?.map((c) => c.Key), ['b/1', 'b/2']);
  assert.deepEqual(b.CommonPrefixes?.map((p) => p.Prefix), ['b/c/']);
});

test('V2 pages of one through every boundary, with start-after', async () => {
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: 3, ContinuationToken: token, Delimiter: '/' }));
    seen.push(...(r.Contents ?? []).map((c) => c.Key!), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix!));
    assert.equal(r.KeyCount, (r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
    if (r.IsTruncated) assert.ok(token);
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(seen.sort(byteOrder), ['Zed', 'a.txt', 'b/', 'c+d', 'd e/', 'z', '~tilde', 'é/'].sort(byteOrder));
  const after = await s3.send(new ListObjectsV2Command({ Bucket, StartAfter: 'b/2' }));
  assert.deepEqual(after.Contents?.map((c) => c.Key), ['b/c/3', 'c+d', 'd e/x', 'z', '~tilde', 'é/1']);
  assert.equal(after.StartAfter, 'b/2');
  const exact = await s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: keys.length }));
  assert.equal(exact.IsTruncated, false);
  const zero = await s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: 0 }));
  assert.equal(zero.KeyCount, 0);
});

test('V1 marker and NextMarker', async () => {
  const first = await s3.send(new ListObjectsCommand({ Bucket, MaxKeys: 2 }));
  assert.deepEqual(first.Contents?.map((c) => c.Key), ['Zed', 'a.txt']);
  assert.equal(first.IsTruncated, true);
  assert.equal(first.NextMarker, undefined);
  const second = await s3.send(new ListObjectsCommand({ Bucket, MaxKeys: 2, Marker: 'a.txt' }));
  assert.deepEqual(second.Contents?.map((c) => c.Key), ['b/1', 'b/2']);
  const folders = await s3.send(new ListObjectsCommand({ Bucket, MaxKeys: 3, Delimiter: '/' }));
  assert.equal(folders.IsTruncated, true);
  assert.equal(folders.NextMarker, 'b/');
  const next = await s3.send(new ListObjectsCommand({ Bucket, Delimiter: '/', Marker: folders.NextMarker }));
  assert.deepEqual(next.Contents?.map((c) => c.Key), ['c+d', 'z', '~tilde']);
  assert.deepEqual(next.CommonPrefixes?.map((p) => p.Prefix), ['d e/', 'é/']);
  assert.ok(first.Contents?.[0]?.Owner?.ID);
});

test('encoding-type=url encodes keys and prefixes', async () => {
  const r = await s3.send(new ListObjectsV2Command({ Bucket, EncodingType: 'url', Delimiter: '/' }));
  // The SDK hands the encoded values over as they came: spaces as +, + as %2B, UTF-8 as %XX.
  assert.deepEqual(r.CommonPrefixes?.map((p) => p.Prefix), ['b/', 'd+e/', '%C3%A9/']);
  assert.ok(r.Contents?.some((c) => c.Key === 'c%2Bd'));
  assert.equal(r.EncodingType, 'url');
  const decoded = r.CommonPrefixes?.map((p) => decodeURIComponent(p.Prefix!.replace(/\+/g, ' ')));
  assert.deepEqual(decoded, ['b/', 'd e/', 'é/']);
});

test('bad listing arguments', async () => {
  await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken: '!!!' })), 'InvalidArgument', 400);
  await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket, EncodingType: 'base64' as 'url' })), 'InvalidArgument', 400);
  await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket: 'missing-bucket' })), 'NoSuchBucket', 404);
});

test('ListObjectVersions shows every object as its single null version', async () => {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: 4 }));
  assert.equal(r.Versions?.length, 4);
  assert.ok(r.Versions?.every((v) => v.VersionId === 'null' && v.IsLatest === true));
  assert.equal(r.IsTruncated, true);
  assert.equal(r.NextKeyMarker, r.Versions?.[3]?.Key);
  const rest = await s3.send(new ListObjectVersionsCommand({ Bucket, KeyMarker: r.NextKeyMarker, VersionIdMarker: r.NextVersionIdMarker }));
  assert.equal((rest.Versions?.length ?? 0) + 4, keys.length);
  assert.equal(rest.IsTruncated, false);
});

test('DeleteObjects: verbose and quiet, absent keys count as deleted', async () => {
  for (const Key of ['del/1', 'del/2', 'del/3']) await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
  const r = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'del/1' }, { Key: 'del/2' }, { Key: 'del/absent' }] } }));
  assert.deepEqual(r.Deleted?.map((d) => d.Key).sort(), ['del/1', 'del/2', 'del/absent']);
  assert.equal(r.Errors, undefined);
  const q = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'del/3' }], Quiet: true } }));
  assert.equal(q.Deleted, undefined);
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'del/3' })), 'NoSuchKey', 404);
  // A key S3 refuses gets its own <Error> entry; the others are still deleted.
  await s3.send(new PutObjectCommand({ Bucket, Key: 'del/4', Body: 'x' }));
  const mixed = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'del/4' }, { Key: 'k'.repeat(1025) }] } }));
  assert.deepEqual(mixed.Deleted?.map((d) => d.Key), ['del/4']);
  assert.equal(mixed.Errors?.length, 1);
  assert.equal(mixed.Errors?.[0]?.Code, 'KeyTooLongError');
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'del/4' })), 'NoSuchKey', 404);
  const tooMany = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
  await expectS3Error(s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: tooMany } })), 'MalformedXML', 400);
});
