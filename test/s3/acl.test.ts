// ACLs through the AWS SDK: canned ACLs and grant headers on writes, the AccessControlPolicy XML,
// their errors, object-writer ownership, public access blocks, x-amz-expected-bucket-owner, and the
// per-account bucket quota. Anonymous reads of public objects go through curl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  AbortMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type Grant,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, newAccount } from '../helpers/admin.ts';
import { expectS3Error } from '../helpers/errors.ts';

const run = promisify(execFile);
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

let server: TestServer;
let alice: S3Client;
let bob: S3Client;
let aliceId: string;
let bobId: string;

before(async () => {
  server = await startTestServer();
  alice = server.client();
  const b = await newAccount(server, 'bob');
  bobId = b.id;
  bob = server.client({ credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey } });
  await alice.send(new CreateBucketCommand({ Bucket: 'acl-home' }));
  aliceId = (await alice.send(new GetBucketAclCommand({ Bucket: 'acl-home' }))).Owner!.ID!;
});
after(async () => {
  await server.stop();
});

/** Grants as comparable strings: `<who> <permission>`. */
function grants(list: Grant[] | undefined): string[] {
  return (list ?? []).map((g) => `${g.Grantee?.Type === 'Group' ? g.Grantee.URI : g.Grantee?.ID} ${g.Permission}`).sort();
}

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

test('canned ACLs on CreateBucket, PutObject, CopyObject and CreateMultipartUpload show in the ACL documents', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'acl-canned', ACL: 'public-read' }));
  const bucketAcl = await alice.send(new GetBucketAclCommand({ Bucket: 'acl-canned' }));
  assert.equal(bucketAcl.Owner?.ID, aliceId);
  assert.equal(bucketAcl.Owner?.DisplayName, 'root');
  assert.deepEqual(grants(bucketAcl.Grants), [`${aliceId} FULL_CONTROL`, `${ALL_USERS} READ`].sort());

  await alice.send(new PutObjectCommand({ Bucket: 'acl-canned', Key: 'auth', Body: 'x', ACL: 'authenticated-read' }));
  assert.deepEqual(grants((await alice.send(new GetObjectAclCommand({ Bucket: 'acl-canned', Key: 'auth' }))).Grants), [
    `${AUTH_USERS} READ`,
    `${aliceId} FULL_CONTROL`,
  ].sort());
  // A copy gets the ACL its request names, not the source's: private here.
  await alice.send(new CopyObjectCommand({ Bucket: 'acl-canned', Key: 'copy', CopySource: 'acl-canned/auth' }));
  assert.deepEqual(grants((await alice.send(new GetObjectAclCommand({ Bucket: 'acl-canned', Key: 'copy' }))).Grants), [`${aliceId} FULL_CONTROL`]);
  await alice.send(new CopyObjectCommand({ Bucket: 'acl-canned', Key: 'copy2', CopySource: 'acl-canned/auth', ACL: 'public-read' }));
  assert.deepEqual(grants((await alice.send(new GetObjectAclCommand({ Bucket: 'acl-canned', Key: 'copy2' }))).Grants), [
    `${ALL_USERS} READ`,
    `${aliceId} FULL_CONTROL`,
  ].sort());

  const { UploadId } = await alice.send(new CreateMultipartUploadCommand({ Bucket: 'acl-canned', Key: 'mpu', ACL: 'public-read' }));
  await alice.send(new AbortMultipartUploadCommand({ Bucket: 'acl-canned', Key: 'mpu', UploadId }));
});

test('anonymous users read public objects with curl, and nothing private', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'acl-public', ACL: 'public-read' }));
  await alice.send(new PutObjectCommand({ Bucket: 'acl-public', Key: 'hello.txt', Body: 'hello, world', ACL: 'public-read' }));
  await alice.send(new PutObjectCommand({ Bucket: 'acl-public', Key: 'private.txt', Body: 'not for you' }));

  const got = await curl([`${server.url}/acl-public/hello.txt`]);
  assert.equal(got.status, 200);
  assert.equal(got.body, 'hello, world');
  const ranged = await curl(['-H', 'Range: bytes=0-4', `${server.url}/acl-public/hello.txt`]);
  assert.deepEqual([ranged.status, ranged.body], [206, 'hello']);
  const listing = await curl([`${server.url}/acl-public?list-type=2`]);
  assert.equal(listing.status, 200);
  assert.match(listing.body, /<Key>hello\.txt<\/Key>/);

  const denied = await curl([`${server.url}/acl-public/private.txt`]);
  assert.equal(denied.status, 403);
  assert.match(denied.body, /<Code>AccessDenied<\/Code>/);
  assert.doesNotMatch(denied.body, /not for you/);
  // A public READ grant does not reveal the ACL itself, nor let anyone write.
  assert.equal((await curl([`${server.url}/acl-public/hello.txt?acl`])).status, 403);
  assert.equal((await curl(['-X', 'PUT', '--data', 'graffiti', `${server.url}/acl-public/hello.txt`])).status, 403);
  // A missing key in a listable bucket is 404; in a private bucket, 403 (no existence oracle).
  assert.equal((await curl([`${server.url}/acl-public/nope`])).status, 404);
  assert.equal((await curl([`${server.url}/acl-home/nope`])).status, 403);
});

test('grant headers by id, e-mail and group; an AccessControlPolicy body; their errors change nothing', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'acl-home', Key: 'shared', Body: 'shared bytes' }));
  await expectS3Error(bob.send(new GetObjectCommand({ Bucket: 'acl-home', Key: 'shared' })), 'AccessDenied', 403);

  await alice.send(new PutObjectAclCommand({ Bucket: 'acl-home', Key: 'shared', GrantRead: 'emailAddress="bob@example.com"' }));
  const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'acl-home', Key: 'shared' }));
  // The e-mail was resolved to bob's id.
  assert.deepEqual(grants(acl.Grants), [`${bobId} READ`]);
  assert.equal(acl.Grants?.[0]?.Grantee?.DisplayName, 'bob');
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'acl-home', Key: 'shared' }))).Body!.transformToString(), 'shared bytes');
  // READ is not READ_ACP.
  await expectS3Error(bob.send(new GetObjectAclCommand({ Bucket: 'acl-home', Key: 'shared' })), 'AccessDenied', 403);

  // The XML form: READ_ACP for bob and READ for every signed-in account.
  await alice.send(
    new PutObjectAclCommand({
      Bucket: 'acl-home',
      Key: 'shared',
      AccessControlPolicy: {
        Owner: { ID: aliceId },
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: aliceId }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'CanonicalUser', ID: bobId }, Permission: 'READ_ACP' },
          { Grantee: { Type: 'Group', URI: AUTH_USERS }, Permission: 'READ' },
        ],
      },
    }),
  );
  assert.deepEqual(grants((await bob.send(new GetObjectAclCommand({ Bucket: 'acl-home', Key: 'shared' }))).Grants), [
    `${AUTH_USERS} READ`,
    `${aliceId} FULL_CONTROL`,
    `${bobId} READ_ACP`,
  ].sort());

  const before = grants((await alice.send(new GetObjectAclCommand({ Bucket: 'acl-home', Key: 'shared' }))).Grants);
  await expectS3Error(
    alice.send(new PutObjectAclCommand({ Bucket: 'acl-home', Key: 'shared', GrantRead: 'emailAddress="nobody@example.com"' })),
    'UnresolvableGrantByEmailAddress',
    400,
  );
  await expectS3Error(alice.send(new PutObjectAclCommand({ Bucket: 'acl-home', Key: 'shared', GrantRead: 'id="0123456789abcdef"' })), 'InvalidArgument', 400);
  await expectS3Error(alice.send(new PutObjectAclCommand({ Bucket: 'acl-home', Key: 'shared', GrantRead: 'uri="http://example.com/group"' })), 'InvalidArgument', 400);
  await expectS3Error(
    alice.send(new PutObjectAclCommand({ Bucket: 'acl-home', Key: 'shared', ACL: 'public-read', GrantRead: `id="${bobId}"` })),
    'InvalidRequest',
    400,
  );
  await expectS3Error(alice.send(new PutObjectAclCommand({ Bucket: 'acl-home', Key: 'shared', ACL: 'world-readable' as never })), 'InvalidArgument', 400);
  const malformed = await fetchSigned('PUT', '/acl-home/shared?acl', '<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID></Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>');
  assert.equal(malformed.status, 400);
  assert.match(malformed.body, /<Code>MalformedACLError<\/Code>/);
  const broken = await fetchSigned('PUT', '/acl-home/shared?acl', '<AccessControlPolicy><Owner>');
  assert.match(broken.body, /<Code>MalformedACLError<\/Code>/);
  assert.deepEqual(grants((await alice.send(new GetObjectAclCommand({ Bucket: 'acl-home', Key: 'shared' }))).Grants), before);
});

/** A SigV4-signed request with an arbitrary body, through the SDK's signer (root's key). */
async function fetchSigned(method: string, pathAndQuery: string, body: string): Promise<{ status: number; body: string }> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@smithy/hash-node').then((m) => ({ Sha256: m.Hash.bind(null, 'sha256') }));
  const url = new URL(server.url + pathAndQuery);
  const signer = new SignatureV4({
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256 as never,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    body,
  });
  const res = await fetch(url, { method, headers: signed.headers as Record<string, string>, body });
  return { status: res.status, body: await res.text() };
}

test('an object written by another account belongs to its writer; the bucket owner still reaches it', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'acl-dropbox' }));
  await alice.send(new PutBucketAclCommand({ Bucket: 'acl-dropbox', GrantWrite: `id="${bobId}"`, GrantFullControl: `id="${aliceId}"` }));
  await bob.send(new PutObjectCommand({ Bucket: 'acl-dropbox', Key: 'from-bob', Body: 'bob wrote this' }));
  await bob.send(new PutObjectCommand({ Bucket: 'acl-dropbox', Key: 'for-alice', Body: 'and this', ACL: 'bucket-owner-full-control' }));

  const list = await alice.send(new ListObjectsV2Command({ Bucket: 'acl-dropbox', FetchOwner: true }));
  assert.deepEqual(list.Contents?.map((o) => [o.Key, o.Owner?.ID]), [
    ['for-alice', bobId],
    ['from-bob', bobId],
  ]);
  assert.equal((await bob.send(new GetObjectAclCommand({ Bucket: 'acl-dropbox', Key: 'from-bob' }))).Owner?.ID, bobId);
  assert.deepEqual(grants((await bob.send(new GetObjectAclCommand({ Bucket: 'acl-dropbox', Key: 'for-alice' }))).Grants), [
    `${aliceId} FULL_CONTROL`,
    `${bobId} FULL_CONTROL`,
  ].sort());
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'acl-dropbox', Key: 'from-bob' }))).Body!.transformToString(), 'bob wrote this');
  assert.equal(await (await alice.send(new GetObjectCommand({ Bucket: 'acl-dropbox', Key: 'from-bob' }))).Body!.transformToString(), 'bob wrote this');
  // WRITE on the bucket is not READ: bob cannot list it.
  await expectS3Error(bob.send(new ListObjectsV2Command({ Bucket: 'acl-dropbox' })), 'AccessDenied', 403);
});

test('public access block: BlockPublicAcls refuses public ACLs (writing nothing), IgnorePublicAcls hides them', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'acl-blocked' }));
  await expectS3Error(alice.send(new GetPublicAccessBlockCommand({ Bucket: 'acl-blocked' })), 'NoSuchPublicAccessBlockConfiguration', 404);
  await alice.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'acl-blocked',
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    }),
  );
  assert.deepEqual((await alice.send(new GetPublicAccessBlockCommand({ Bucket: 'acl-blocked' }))).PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    IgnorePublicAcls: false,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  });
  await expectS3Error(alice.send(new PutBucketAclCommand({ Bucket: 'acl-blocked', ACL: 'public-read' })), 'AccessDenied', 403);
  await expectS3Error(alice.send(new PutObjectCommand({ Bucket: 'acl-blocked', Key: 'k', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
  assert.equal((await alice.send(new ListObjectsV2Command({ Bucket: 'acl-blocked' }))).KeyCount, 0);
  // Private ACLs and named grants are still fine.
  await alice.send(new PutObjectCommand({ Bucket: 'acl-blocked', Key: 'k', Body: 'x', GrantRead: `id="${bobId}"` }));
  await bob.send(new GetObjectCommand({ Bucket: 'acl-blocked', Key: 'k' }));

  await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'acl-blocked' }));
  await alice.send(new PutObjectAclCommand({ Bucket: 'acl-blocked', Key: 'k', ACL: 'public-read' }));
  assert.equal((await curl([`${server.url}/acl-blocked/k`])).status, 200);
  await alice.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'acl-blocked',
      PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    }),
  );
  assert.equal((await curl([`${server.url}/acl-blocked/k`])).status, 403);
  // Non-public grants still count.
  await alice.send(new PutObjectAclCommand({ Bucket: 'acl-blocked', Key: 'k', GrantRead: `id="${bobId}"` }));
  await bob.send(new GetObjectCommand({ Bucket: 'acl-blocked', Key: 'k' }));
  const bad = await fetchSigned('PUT', '/acl-blocked?publicAccessBlock', '<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>');
  assert.match(bad.body, /<Code>MalformedXML<\/Code>/);
});

test('x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner are checked before anything happens', async () => {
  await alice.send(new PutObjectCommand({ Bucket: 'acl-home', Key: 'owned', Body: 'x' }));
  await alice.send(new HeadBucketCommand({ Bucket: 'acl-home', ExpectedBucketOwner: aliceId }));
  await expectS3Error(alice.send(new ListObjectsV2Command({ Bucket: 'acl-home', ExpectedBucketOwner: bobId })), 'AccessDenied', 403);
  await expectS3Error(alice.send(new PutObjectCommand({ Bucket: 'acl-home', Key: 'planted', Body: 'x', ExpectedBucketOwner: bobId })), 'AccessDenied', 403);
  await expectS3Error(alice.send(new GetObjectCommand({ Bucket: 'acl-home', Key: 'planted' })), 'NoSuchKey', 404);
  await expectS3Error(
    alice.send(new CopyObjectCommand({ Bucket: 'acl-home', Key: 'copied', CopySource: 'acl-home/owned', ExpectedSourceBucketOwner: bobId })),
    'AccessDenied',
    403,
  );
  await alice.send(new CopyObjectCommand({ Bucket: 'acl-home', Key: 'copied', CopySource: 'acl-home/owned', ExpectedSourceBucketOwner: aliceId, ExpectedBucketOwner: aliceId }));
});

test('an account owns at most its bucket quota: TooManyBuckets past it', async () => {
  const carol = await newAccount(server, 'carol');
  const c = server.client({ credentials: { accessKeyId: carol.accessKeyId, secretAccessKey: carol.secretAccessKey } });
  const set = await adminClient(server).call('POST', `accounts/${carol.id}/max-buckets`, { maxBuckets: 2 });
  assert.equal(set.status, 200);
  await c.send(new CreateBucketCommand({ Bucket: 'carol-1' }));
  await c.send(new CreateBucketCommand({ Bucket: 'carol-2' }));
  await expectS3Error(c.send(new CreateBucketCommand({ Bucket: 'carol-3' })), 'TooManyBuckets', 400);
  await adminClient(server).call('POST', `accounts/${carol.id}/max-buckets`, { maxBuckets: null });
  await c.send(new CreateBucketCommand({ Bucket: 'carol-3' }));
});
