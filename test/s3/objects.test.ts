import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error, expectStatus } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
const Bucket = 'objects';
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
after(() => server.stop());

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

async function getText(Key: string, extra: Record<string, unknown> = {}) {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { r, text: await r.Body!.transformToString() };
}

test('put, get and head keep bytes, ETag, content headers and user metadata', async () => {
  const body = 'hello oort';
  const expires = new Date('2030-01-01T00:00:00Z');
  const put = await s3.send(
    new PutObjectCommand({
      Bucket,
      Key: 'docs/hello.txt',
      Body: body,
      ContentType: 'text/plain; charset=utf-8',
      ContentEncoding: 'identity',
      ContentDisposition: 'attachment; filename="h.txt"',
      ContentLanguage: 'en',
      CacheControl: 'max-age=60',
      Expires: expires,
      Metadata: { colour: 'blue', 'Mixed-Case': 'Value' },
    }),
  );
  assert.equal(put.ETag, `"${md5(body)}"`);
  const { r, text } = await getText('docs/hello.txt');
  assert.equal(text, body);
  assert.equal(r.ETag, `"${md5(body)}"`);
  assert.equal(r.ContentType, 'text/plain; charset=utf-8');
  assert.equal(r.ContentEncoding, 'identity');
  assert.equal(r.ContentDisposition, 'attachment; filename="h.txt"');
  assert.equal(r.ContentLanguage, 'en');
  assert.equal(r.CacheControl, 'max-age=60');
  assert.equal(r.ExpiresString ?? r.Expires?.toUTCString(), expires.toUTCString());
  assert.deepEqual(r.Metadata, { colour: 'blue', 'mixed-case': 'Value' });
  assert.equal(r.ContentLength, body.length);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'docs/hello.txt' }));
  assert.equal(head.ContentLength, body.length);
  assert.equal(head.ETag, `"${md5(body)}"`);
  assert.ok(head.LastModified instanceof Date);
});

test('an empty object round-trips', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'empty', Body: '' }));
  assert.equal(put.ETag, `"${md5('')}"`);
  const { r, text } = await getText('empty');
  assert.equal(text, '');
  assert.equal(r.ContentLength, 0);
});

test('overwrite replaces the object', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'over', Body: 'first version' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'over', Body: 'second' }));
  assert.equal((await getText('over')).text, 'second');
});

test('keys are names, not paths', async () => {
  const keys = ['../escape', 'a//b', ' space key ', 'per%cent', 'plus+sign', 'ünïcödé/日本語.txt', 'q?x=1&y', 'hash#frag', "quote'\"", 'tab\tkey', '.', '..', 'trailing/', 'emoji 🎉'];
  for (const Key of keys) {
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: `v:${Key}` }));
    assert.equal((await getText(Key)).text, `v:${Key}`, Key);
  }
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'k'.repeat(1025), Body: 'x' })), 'KeyTooLongError', 400);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'é'.repeat(512), Body: 'ok' }));
});

test('missing objects and buckets', async () => {
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'nope' })), 'NoSuchKey', 404);
  await expectS3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'nope' })), 'NotFound', 404);
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' })), 'NoSuchBucket', 404);
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'x', Body: 'x' })), 'NoSuchBucket', 404);
});

test('delete is 204 also when the key is absent', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }));
  const d1 = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
  assert.equal(d1.$metadata.httpStatusCode, 204);
  const d2 = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
  assert.equal(d2.$metadata.httpStatusCode, 204);
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'gone' })), 'NoSuchKey', 404);
});

test('ranges: first-last, open, suffix, past the end', async () => {
  const body = '0123456789abcdefghij';
  await s3.send(new PutObjectCommand({ Bucket, Key: 'ranged', Body: body }));
  const cases: Array<[string, string, string]> = [
    ['bytes=0-4', '01234', 'bytes 0-4/20'],
    ['bytes=5-', '56789abcdefghij', 'bytes 5-19/20'],
    ['bytes=-3', 'hij', 'bytes 17-19/20'],
    ['bytes=15-100', 'fghij', 'bytes 15-19/20'],
    ['bytes=-100', body, 'bytes 0-19/20'],
  ];
  for (const [Range, text, cr] of cases) {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key: 'ranged', Range }));
    assert.equal(r.$metadata.httpStatusCode, 206, Range);
    assert.equal(await r.Body!.transformToString(), text, Range);
    assert.equal(r.ContentRange, cr, Range);
  }
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'ranged', Range: 'bytes=20-' })), 'InvalidRange', 416);
  // A malformed range is ignored: the whole object, 200.
  const whole = await s3.send(new GetObjectCommand({ Bucket, Key: 'ranged', Range: 'bytes=abc' }));
  assert.equal(whole.$metadata.httpStatusCode, 200);
  assert.equal(await whole.Body!.transformToString(), body);
});

test('conditional GET: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'cond', Body: 'conditional' }));
  const etag = put.ETag!;
  const past = new Date(Date.now() - 3600_000);
  const future = new Date(Date.now() + 3600_000);
  assert.equal((await getText('cond', { IfMatch: etag })).text, 'conditional');
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'cond', IfMatch: '"bogus"' })), 'PreconditionFailed', 412);
  await expectStatus(s3.send(new GetObjectCommand({ Bucket, Key: 'cond', IfNoneMatch: etag })), 304);
  assert.equal((await getText('cond', { IfNoneMatch: '"other"' })).text, 'conditional');
  await expectStatus(s3.send(new GetObjectCommand({ Bucket, Key: 'cond', IfModifiedSince: future })), 304);
  assert.equal((await getText('cond', { IfModifiedSince: past })).text, 'conditional');
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'cond', IfUnmodifiedSince: past })), 'PreconditionFailed', 412);
  assert.equal((await getText('cond', { IfUnmodifiedSince: future })).text, 'conditional');
  // If-Match true wins over a failing If-Unmodified-Since.
  assert.equal((await getText('cond', { IfMatch: etag, IfUnmodifiedSince: past })).text, 'conditional');
  await expectStatus(s3.send(new HeadObjectCommand({ Bucket, Key: 'cond', IfMatch: '"bogus"' })), 412);
  await expectStatus(s3.send(new HeadObjectCommand({ Bucket, Key: 'cond', IfNoneMatch: etag })), 304);
});

test('response-* overrides', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'override', Body: 'x', ContentType: 'text/plain' }));
  const { r } = await getText('override', {
    ResponseContentType: 'application/json',
    ResponseContentDisposition: 'inline',
    ResponseCacheControl: 'no-cache',
    ResponseContentLanguage: 'fr',
    ResponseContentEncoding: 'gzip',
    ResponseExpires: new Date('2031-01-01T00:00:00Z'),
  });
  assert.equal(r.ContentType, 'application/json');
  assert.equal(r.ContentDisposition, 'inline');
  assert.equal(r.CacheControl, 'no-cache');
  assert.equal(r.ContentLanguage, 'fr');
  assert.equal(r.ContentEncoding, 'gzip');
});

test('Content-MD5: a wrong digest is BadDigest and writes nothing; a malformed one InvalidDigest', async () => {
  const good = createHash('md5').update('payload').digest('base64');
  await s3.send(new PutObjectCommand({ Bucket, Key: 'md5', Body: 'payload', ContentMD5: good }));
  const wrong = createHash('md5').update('other').digest('base64');
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'md5', Body: 'changed', ContentMD5: wrong })), 'BadDigest', 400);
  assert.equal((await getText('md5')).text, 'payload');
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'md5-new', Body: 'x', ContentMD5: wrong })), 'BadDigest', 400);
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'md5-new' })), 'NoSuchKey', 404);
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'md5', Body: 'x', ContentMD5: 'not-base64!' })), 'InvalidDigest', 400);
});

test('conditional writes: If-None-Match: * and If-Match', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: 'one', IfNoneMatch: '*' }));
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: 'two', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
  assert.equal((await getText('cw')).text, 'one');
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: 'three', IfMatch: '"0123"' })), 'PreconditionFailed', 412);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'cw', Body: 'four', IfMatch: `"${md5('one')}"` }));
  assert.equal((await getText('cw')).text, 'four');
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'cw-missing', Body: 'x', IfMatch: `"${md5('one')}"` })), 'NoSuchKey', 404);
});

test('large metadata is refused', async () => {
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'meta', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })), 'MetadataTooLarge', 400);
});
