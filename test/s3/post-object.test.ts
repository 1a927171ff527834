import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';
import { newAccount } from '../helpers/admin.ts';
import { exchange } from '../helpers/raw-http.ts';

// Browser form uploads (POST Object), sent as a browser sends them: fetch with a FormData body.
// The policy and its signature are built here, which also documents the format:
//   policy    = base64(JSON {"expiration": ISO date, "conditions": [...]})
//   SigV4     = hex(HMAC-SHA256(signingKey(secret, yyyymmdd, region, 's3'), policy))
//   SigV2     = base64(HMAC-SHA1(secret, policy))

let server: TestServer;
let s3: S3Client;
const BUCKET = 'form-bucket';
const REGION = 'us-east-1';

type Condition = Record<string, string> | [string, string, string] | ['content-length-range', number, number];

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function encodePolicy(conditions: Condition[], expiresInMs = 60_000): string {
  return Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + expiresInMs).toISOString(), conditions })).toString('base64');
}

/**
 * The fields of a SigV4-signed form: the x-amz-* signing fields are added to the policy's
 * conditions (S3 wants every field covered), the policy is signed with the derived key.
 */
function signV4(creds: Creds, fields: Record<string, string>, conditions: Condition[], opts: { expiresInMs?: number; date?: Date; rawPolicy?: string } = {}): Record<string, string> {
  const now = opts.date ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const signing = {
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${creds.accessKeyId}/${day}/${REGION}/s3/aws4_request`,
    'x-amz-date': amzDate,
  };
  const policy = opts.rawPolicy ?? encodePolicy([...conditions, ...Object.entries(signing).map(([k, v]) => ({ [k]: v }))], opts.expiresInMs);
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), REGION), 's3'), 'aws4_request');
  return { ...fields, ...signing, policy, 'x-amz-signature': hmac(key, policy).toString('hex') };
}

function signV2(creds: Creds, fields: Record<string, string>, conditions: Condition[]): Record<string, string> {
  const policy = encodePolicy(conditions);
  const signature = createHmac('sha1', creds.secretAccessKey).update(policy).digest('base64');
  return { ...fields, AWSAccessKeyId: creds.accessKeyId, policy, signature };
}

/** POSTs a form: the fields in order, then the file, then `after` (fields S3 ignores). */
function post(fields: Record<string, string>, file: string | Buffer | undefined, opts: { filename?: string; after?: Record<string, string>; headers?: Record<string, string>; bucket?: string } = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file !== undefined) form.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)]), opts.filename ?? 'upload.bin');
  for (const [k, v] of Object.entries(opts.after ?? {})) form.append(k, v);
  return fetch(`${server.url}/${opts.bucket ?? BUCKET}`, { method: 'POST', body: form, headers: opts.headers, redirect: 'manual' });
}

async function expectFormError(res: Response, status: number, code: string, message?: string | RegExp): Promise<string> {
  const body = await res.text();
  assert.equal(res.status, status, body);
  assert.equal(/<Code>(.*?)<\/Code>/.exec(body)?.[1], code, body);
  const m = /<Message>(.*?)<\/Message>/.exec(body)?.[1]?.replace(/&quot;/g, '"').replace(/&apos;/g, "'");
  if (typeof message === 'string') assert.equal(m, message);
  else if (message) assert.match(m ?? '', message);
  return body;
}

async function exists(key: string, bucket = BUCKET): Promise<boolean> {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
  return (list.Contents ?? []).some((o) => o.Key === key);
}

let root: Creds;
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  root = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(() => server.stop());

const TAGGING = '<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>';

test('a SigV4-signed form uploads a file with its metadata, ${filename} and the default 204', async () => {
  const fields = signV4(
    root,
    { key: 'user/eric/${filename}', 'Content-Type': 'image/png', 'x-amz-meta-uuid': '14365123651274', 'x-amz-storage-class': 'ARCHIVE', tagging: TAGGING },
    [{ bucket: BUCKET }, ['starts-with', '$key', 'user/eric/'], ['starts-with', '$Content-Type', 'image/'], { 'x-amz-meta-uuid': '14365123651274' }, ['eq', '$x-amz-storage-class', 'ARCHIVE'], { tagging: TAGGING }, ['content-length-range', 1, 1024]],
  );
  const res = await post(fields, 'png bytes', { filename: 'photo.png', after: { 'x-amz-meta-late': 'ignored' } });
  assert.equal(res.status, 204, await res.clone().text());
  const etag = `"${createHash('md5').update('png bytes').digest('hex')}"`;
  assert.equal(res.headers.get('etag'), etag);
  assert.match(res.headers.get('location') ?? '', /\/form-bucket\/user\/eric\/photo\.png$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'user/eric/photo.png' }));
  assert.equal(await got.Body!.transformToString(), 'png bytes');
  assert.equal(got.ContentType, 'image/png');
  assert.deepEqual(got.Metadata, { uuid: '14365123651274' });
  assert.equal(got.StorageClass, 'ARCHIVE');
  assert.equal(got.ETag, etag);
  assert.equal(got.TagCount, 1);
});

test('success_action_status 201 answers PostResponse XML; 200 an empty body; a redirect 303 with bucket, key and etag', async () => {
  const created = await post(signV4(root, { key: 'status/201', success_action_status: '201' }, [['starts-with', '$key', 'status/'], { success_action_status: '201' }]), 'a');
  assert.equal(created.status, 201);
  const xml = await created.text();
  assert.match(xml, /<PostResponse xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Location>http:\/\/[^<]+\/form-bucket\/status\/201<\/Location><Bucket>form-bucket<\/Bucket><Key>status\/201<\/Key><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;<\/ETag><\/PostResponse>/);
  const ok = await post(signV4(root, { key: 'status/200', success_action_status: '200' }, [['starts-with', '$key', 'status/'], ['eq', '$success_action_status', '200']]), 'b');
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), '');
  const target = 'https://app.example.com/done?from=form';
  const redirected = await post(signV4(root, { key: 'status/redirect', success_action_redirect: target }, [['starts-with', '$key', 'status/'], { success_action_redirect: target }]), 'c');
  assert.equal(redirected.status, 303);
  const location = new URL(redirected.headers.get('location')!);
  assert.equal(location.origin + location.pathname, 'https://app.example.com/done');
  assert.equal(location.searchParams.get('from'), 'form');
  assert.equal(location.searchParams.get('bucket'), BUCKET);
  assert.equal(location.searchParams.get('key'), 'status/redirect');
  assert.equal(location.searchParams.get('etag'), `"${createHash('md5').update('c').digest('hex')}"`);
});

test('a SigV2-signed form and a canned ACL', async () => {
  const res = await post(signV2(root, { key: 'v2/object.txt', acl: 'public-read' }, [{ bucket: BUCKET }, { key: 'v2/object.txt' }, { acl: 'public-read' }]), 'legacy');
  assert.equal(res.status, 204, await res.clone().text());
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'v2/object.txt' }));
  assert.ok(acl.Grants?.some((g) => g.Grantee?.URI === 'http://acs.amazonaws.com/groups/global/AllUsers' && g.Permission === 'READ'));
  // Public now: anyone reads it.
  const anon = await fetch(`${server.url}/${BUCKET}/v2/object.txt`);
  assert.equal(await anon.text(), 'legacy');
  const wrong = await post({ ...signV2(root, { key: 'v2/bad.txt' }, [{ key: 'v2/bad.txt' }]), signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, 'x');
  await expectFormError(wrong, 403, 'SignatureDoesNotMatch');
  assert.equal(await exists('v2/bad.txt'), false);
});

test('policy violations are AccessDenied with S3 messages, and store nothing', async () => {
  const expired = await post(signV4(root, { key: 'deny/expired' }, [{ key: 'deny/expired' }], { expiresInMs: -1000 }), 'x');
  await expectFormError(expired, 403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  const badKey = await post(signV4(root, { key: 'other/place' }, [['starts-with', '$key', 'deny/']]), 'x');
  await expectFormError(badKey, 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "deny/"]');
  const exact = await post(signV4(root, { key: 'deny/acl', acl: 'public-read' }, [{ key: 'deny/acl' }, { acl: 'private' }]), 'x');
  await expectFormError(exact, 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]');
  const wrongBucket = await post(signV4(root, { key: 'deny/bucket' }, [{ bucket: 'another-bucket' }, { key: 'deny/bucket' }]), 'x');
  await expectFormError(wrongBucket, 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "another-bucket"]');
  const extra = await post(signV4(root, { key: 'deny/extra', 'Content-Type': 'text/plain', 'x-ignore-me': 'fine' }, [{ key: 'deny/extra' }]), 'x');
  await expectFormError(extra, 403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: content-type');
  const missing = await post(signV4(root, { key: 'deny/missing' }, [{ key: 'deny/missing' }, ['starts-with', '$x-amz-meta-tag', '']]), 'x');
  await expectFormError(missing, 403, 'AccessDenied', /Policy Condition failed: \["starts-with", "\$x-amz-meta-tag", ""\]/);
  // A field after the file is ignored, so it cannot satisfy a condition either.
  const late = await post(signV4(root, { key: 'deny/late' }, [{ key: 'deny/late' }, { 'x-amz-meta-a': '1' }]), 'x', { after: { 'x-amz-meta-a': '1' } });
  await expectFormError(late, 403, 'AccessDenied');
  // Tampering with a signed policy breaks the signature.
  const signed = signV4(root, { key: 'deny/tamper' }, [{ key: 'deny/tamper' }]);
  const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(signed.policy!, 'base64').toString()), conditions: [] })).toString('base64');
  await expectFormError(await post({ ...signed, policy: tampered }, 'x'), 403, 'SignatureDoesNotMatch');
  for (const key of ['deny/expired', 'other/place', 'deny/acl', 'deny/bucket', 'deny/extra', 'deny/missing', 'deny/late', 'deny/tamper']) {
    assert.equal(await exists(key), false, key);
  }
});

test('content-length-range: too large is EntityTooLarge, too small EntityTooSmall; nothing is stored', async () => {
  const conditions: Condition[] = [['starts-with', '$key', 'size/'], ['content-length-range', 10, 100]];
  const big = await post(signV4(root, { key: 'size/big' }, conditions), Buffer.alloc(5000, 1));
  await expectFormError(big, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
  const small = await post(signV4(root, { key: 'size/small' }, conditions), 'tiny');
  const xml = await expectFormError(small, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
  assert.match(xml, /<ProposedSize>4<\/ProposedSize><MinSizeAllowed>10<\/MinSizeAllowed>/);
  const fits = await post(signV4(root, { key: 'size/fits' }, conditions), Buffer.alloc(100, 2));
  assert.equal(fits.status, 204);
  assert.equal(await exists('size/big'), false);
  assert.equal(await exists('size/small'), false);
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'size/fits' }));
  assert.equal(head.ContentLength, 100);
});

test('malformed forms and credentials get clear errors', async () => {
  await expectFormError(await post(signV4(root, {}, []), 'x'), 400, 'InvalidArgument', /Bucket POST must contain a field named 'key'/);
  await expectFormError(await post(signV4(root, { key: 'bad/nofile' }, [{ key: 'bad/nofile' }]), undefined), 400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  const noSig = signV4(root, { key: 'bad/nosig' }, [{ key: 'bad/nosig' }]);
  delete noSig['x-amz-signature'];
  await expectFormError(await post(noSig, 'x'), 400, 'InvalidArgument', /field named 'x-amz-signature'/);
  const policyOnly = { key: 'bad/policy', policy: encodePolicy([{ key: 'bad/policy' }]) };
  await expectFormError(await post(policyOnly, 'x'), 400, 'InvalidArgument', /field named 'AWSAccessKeyId'/);
  const unknown = signV4({ accessKeyId: 'NOSUCHKEY000000000', secretAccessKey: 'x' }, { key: 'bad/key' }, [{ key: 'bad/key' }]);
  await expectFormError(await post(unknown, 'x'), 403, 'InvalidAccessKeyId');
  for (const [doc, message] of [
    ['{nope', 'Invalid Policy: Invalid JSON.'],
    ['{"conditions": []}', 'Invalid Policy: Policy missing expiration.'],
    ['{"expiration": "2099-01-01T00:00:00Z"}', 'Invalid Policy: Policy missing conditions.'],
    ['{"expiration": "tomorrow", "conditions": []}', "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"],
    ['{"expiration": "2099-01-01T00:00:00Z", "conditions": [["matches", "$key", ".*"]]}', /Invalid Policy: Invalid condition/],
  ] as const) {
    const fields = signV4(root, { key: 'bad/json' }, [], { rawPolicy: Buffer.from(doc).toString('base64') });
    await expectFormError(await post(fields, 'x'), 400, 'InvalidPolicyDocument', message);
  }
  const wrongRegion = signV4(root, { key: 'bad/region' }, [{ key: 'bad/region' }]);
  wrongRegion['x-amz-credential'] = wrongRegion['x-amz-credential']!.replace(REGION, 'eu-west-1');
  await expectFormError(await post(wrongRegion, 'x'), 400, 'AuthorizationHeaderMalformed');
  const huge = await post({ key: 'bad/huge', 'x-ignore-pad': 'p'.repeat(25 * 1024) }, 'x');
  await expectFormError(huge, 400, 'MaxPostPreDataLengthExceededError');
  const garbage = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: 'not a form at all' });
  await expectFormError(garbage, 400, 'MalformedPOSTRequest');
  assert.equal(await exists('bad/'), false);
});

test('who may upload: anonymous forms only into a public-write bucket, signed forms by the access decision', async () => {
  const anonymous = await post({ key: 'anon/one.txt' }, 'hi');
  await expectFormError(anonymous, 403, 'AccessDenied');
  await s3.send(new CreateBucketCommand({ Bucket: 'form-public', ACL: 'public-read-write' }));
  const open = await post({ key: 'anon/one.txt', 'Content-Type': 'text/plain' }, 'hi', { bucket: 'form-public' });
  assert.equal(open.status, 204, await open.clone().text());
  const got = await s3.send(new GetObjectCommand({ Bucket: 'form-public', Key: 'anon/one.txt' }));
  assert.equal(got.ContentType, 'text/plain');
  await got.Body!.transformToString();

  // Another account's valid signature does not open the owner's private bucket.
  const other = await newAccount(server, 'formother');
  const res = await post(signV4(other, { key: 'intruder.txt' }, [{ key: 'intruder.txt' }]), 'x');
  await expectFormError(res, 403, 'AccessDenied');
  assert.equal(await exists('intruder.txt'), false);
  await expectFormError(await post({ key: 'k' }, 'x', { bucket: 'no-such-form-bucket' }), 404, 'NoSuchBucket');
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'anon/one.txt' })), 'NoSuchKey', 404);
});

test('a form upload from an allowed origin carries the CORS headers, on success and on error', async () => {
  await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['POST'], ExposeHeaders: ['ETag', 'Location'] }] } }));
  const preflight = await fetch(`${server.url}/${BUCKET}`, { method: 'OPTIONS', headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(preflight.status, 200);
  const headers = { Origin: 'https://app.example.com' };
  const ok = await post(signV4(root, { key: 'cors/ok' }, [{ key: 'cors/ok' }]), 'x', { headers });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(ok.headers.get('access-control-expose-headers'), 'ETag, Location');
  const denied = await post(signV4(root, { key: 'cors/denied' }, [{ key: 'cors/other' }]), 'x', { headers });
  assert.equal(denied.status, 403);
  assert.equal(denied.headers.get('access-control-allow-origin'), 'https://app.example.com');
  await denied.arrayBuffer();
  const foreign = await post(signV4(root, { key: 'cors/foreign' }, [{ key: 'cors/foreign' }]), 'x', { headers: { Origin: 'https://evil.test' } });
  assert.equal(foreign.status, 204);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
});

test('a form cut short, or without its closing boundary, stores nothing', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'form-raw', ACL: 'public-read-write' }));
  const part = (name: string, extra = '') => `--XyZ\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n`;
  const request = (body: Buffer, length: number) =>
    `POST /form-raw HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
  // The whole body arrives, but the form never closes: MalformedPOSTRequest.
  const open = Buffer.concat([Buffer.from(`${part('key')}raw/open\r\n${part('file', '; filename="a.bin"')}`), Buffer.alloc(200_000, 7)]);
  const r1 = await exchange(server.port, [request(open, open.length), open], { timeoutMs: 5000 });
  assert.equal(r1.responses[0]?.status, 400);
  assert.match(r1.responses[0]!.body.toString(), /<Code>MalformedPOSTRequest<\/Code>/);
  // The connection drops mid-file (a half-close aborts the request in Node's server).
  const cut = Buffer.concat([Buffer.from(`${part('key')}raw/cut\r\n${part('file', '; filename="b.bin"')}`), Buffer.alloc(200_000, 8)]);
  await exchange(server.port, [request(cut, cut.length + 100_000), cut, 200], { end: true, timeoutMs: 5000 });
  // A complete form of the same shape goes through.
  const whole = Buffer.concat([Buffer.from(`${part('key')}raw/whole\r\n${part('file', '; filename="c.bin"')}`), Buffer.alloc(200_000, 9), Buffer.from('\r\n--XyZ--\r\n')]);
  const r3 = await exchange(server.port, [request(whole, whole.length), whole], { timeoutMs: 5000 });
  assert.equal(r3.responses[0]?.status, 204, r3.raw.toString());
  assert.equal(await exists('raw/open', 'form-raw'), false);
  assert.equal(await exists('raw/cut', 'form-raw'), false);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'form-raw', Key: 'raw/whole' }));
  assert.equal(head.ContentLength, 200_000);
});


// A bucket policy judges a form on its fields (acl, tagging), as it judges a PUT on its headers; the
// POST request's own x-amz-acl or x-amz-tagging header says nothing about the object and counts for nothing.

/** A SigV4 form for `key` whose policy allows exactly the given extra fields. */
const formFor = (creds: Creds, key: string, extra: Record<string, string> = {}) =>
  signV4(creds, { key, ...extra }, [{ key }, ...Object.entries(extra).map(([k, v]) => ({ [k]: v }))]);
const tagXml = (k: string, v: string) => `<Tagging><TagSet><Tag><Key>${k}</Key><Value>${v}</Value></Tag></TagSet></Tagging>`;

async function bucketWithPolicy(name: string, statements: object[]): Promise<{ bob: Creds; bobS3: S3Client }> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  const bob = await newAccount(server, `${name}-bob`);
  const Statement = statements.map((st) => JSON.parse(JSON.stringify(st).replaceAll('BOB', bob.id).replaceAll('ARN', `arn:aws:s3:::${name}/*`)));
  await s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify({ Version: '2012-10-17', Statement }) }));
  return { bob, bobS3: server.client({ credentials: { accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey } }) };
}

test("a bucket policy sees a form's acl field as s3:x-amz-acl, and not the request's header", async () => {
  const b = 'form-pol-acl';
  const { bob, bobS3 } = await bucketWithPolicy(b, [
    { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'ARN', Condition: { StringEquals: { 's3:x-amz-acl': 'public-read' } } },
    { Effect: 'Allow', Principal: { AWS: 'BOB' }, Action: 's3:PutObject', Resource: 'ARN', Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
  ]);
  await expectFormError(await post(formFor(root, 'public', { acl: 'public-read' }), 'x', { bucket: b }), 403, 'AccessDenied');
  assert.equal((await post(formFor(root, 'private', { acl: 'private' }), 'x', { bucket: b })).status, 204);
  const headerOnly = { bucket: b, headers: { 'x-amz-acl': 'public-read' } };
  assert.equal((await post(formFor(root, 'header-public', { acl: 'private' }), 'x', headerOnly)).status, 204);
  // The Allow holds for a form that hands the object over, not for one whose header only claims to.
  assert.equal((await post(formFor(bob, 'bob-hands-over', { acl: 'bucket-owner-full-control' }), 'x', { bucket: b })).status, 204);
  const claimed = { bucket: b, headers: { 'x-amz-acl': 'bucket-owner-full-control' } };
  await expectFormError(await post(formFor(bob, 'bob-claims'), 'x', claimed), 403, 'AccessDenied');
  assert.equal(await exists('public', b), false);
  assert.equal(await exists('bob-claims', b), false);
  assert.equal(await exists('bob-hands-over', b), true);

  // PutObject is judged on its header, as before.
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'put-public', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'put-private', Body: 'x', ACL: 'private' }));
  await bobS3.send(new PutObjectCommand({ Bucket: b, Key: 'bob-put', Body: 'x', ACL: 'bucket-owner-full-control' }));
  await expectS3Error(bobS3.send(new PutObjectCommand({ Bucket: b, Key: 'bob-put-bare', Body: 'x' })), 'AccessDenied', 403);
});

test("a bucket policy sees a form's tagging field as s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys", async () => {
  const b = 'form-pol-tags';
  const { bob, bobS3 } = await bucketWithPolicy(b, [
    { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'ARN', Condition: { StringEquals: { 's3:RequestObjectTag/class': 'secret' } } },
    { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'ARN', Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': 'forbidden' } } },
    { Effect: 'Allow', Principal: { AWS: 'BOB' }, Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: 'ARN', Condition: { StringEquals: { 's3:RequestObjectTag/team': 'web' } } },
  ]);
  await expectFormError(await post(formFor(root, 'secret', { tagging: tagXml('class', 'secret') }), 'x', { bucket: b }), 403, 'AccessDenied');
  await expectFormError(await post(formFor(root, 'forbidden', { tagging: tagXml('forbidden', 'any') }), 'x', { bucket: b }), 403, 'AccessDenied');
  const headerOnly = { bucket: b, headers: { 'x-amz-tagging': 'class=secret' } };
  assert.equal((await post(formFor(root, 'open', { tagging: tagXml('class', 'open') }), 'x', headerOnly)).status, 204);
  assert.equal((await post(formFor(bob, 'bob-web', { tagging: tagXml('team', 'web') }), 'x', { bucket: b })).status, 204);
  await expectFormError(await post(formFor(bob, 'bob-ops', { tagging: tagXml('team', 'ops') }), 'x', { bucket: b }), 403, 'AccessDenied');
  const claimed = { bucket: b, headers: { 'x-amz-tagging': 'team=web' } };
  await expectFormError(await post(formFor(bob, 'bob-claims'), 'x', claimed), 403, 'AccessDenied');
  for (const key of ['secret', 'forbidden', 'bob-ops', 'bob-claims']) assert.equal(await exists(key, b), false, key);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'bob-web' }))).ContentLength, 1);

  // PutObject is judged on its x-amz-tagging header, as before.
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: 'put-secret', Body: 'x', Tagging: 'class=secret' })), 'AccessDenied', 403);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'put-open', Body: 'x', Tagging: 'class=open' }));
  await bobS3.send(new PutObjectCommand({ Bucket: b, Key: 'bob-put', Body: 'x', Tagging: 'team=web' }));
  await expectS3Error(bobS3.send(new PutObjectCommand({ Bucket: b, Key: 'bob-put-ops', Body: 'x', Tagging: 'team=ops' })), 'AccessDenied', 403);
});

test('a form with tags needs s3:PutObjectTagging as well, as PutObject does', async () => {
  const b = 'form-pol-tagperm';
  const { bob, bobS3 } = await bucketWithPolicy(b, [{ Effect: 'Allow', Principal: { AWS: 'BOB' }, Action: 's3:PutObject', Resource: 'ARN' }]);
  await expectFormError(await post(formFor(bob, 'tagged', { tagging: tagXml('team', 'web') }), 'x', { bucket: b }), 403, 'AccessDenied');
  assert.equal(await exists('tagged', b), false);
  assert.equal((await post(formFor(bob, 'untagged'), 'x', { bucket: b })).status, 204);
  await expectS3Error(bobS3.send(new PutObjectCommand({ Bucket: b, Key: 'put-tagged', Body: 'x', Tagging: 'team=web' })), 'AccessDenied', 403);
});
