// Bucket policies through the AWS SDK: storing, validating (MalformedPolicy with the reason),
// PolicyStatus, the public access block's policy switches, and conditions evaluated against what
// real requests carry (source address, transport, prefix, user agent, existing object tags).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newAccount } from '../helpers/admin.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let alice: S3Client;
let bob: S3Client;
let bobId: string;

before(async () => {
  server = await startTestServer();
  alice = server.client();
  const b = await newAccount(server, 'bob');
  bobId = b.id;
  bob = server.client({ credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey } });
});
after(async () => {
  await server.stop();
});

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const anonymousGet = async (path: string) => (await fetch(`${server.url}${path}`)).status;

test('a policy is stored as sent, read back, reported public or not, and deleted', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'pol-basic' }));
  await expectS3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'pol-basic' })), 'NoSuchBucketPolicy', 404);
  await expectS3Error(alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-basic' })), 'NoSuchBucketPolicy', 404);

  const text = doc([{ Sid: 'bob-reads', Effect: 'Allow', Principal: { AWS: bobId }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-basic/*' }]);
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-basic', Policy: text }));
  assert.equal((await alice.send(new GetBucketPolicyCommand({ Bucket: 'pol-basic' }))).Policy, text);
  assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-basic' }))).PolicyStatus?.IsPublic, false);
  // Only the owner manages the policy, whatever it grants.
  await expectS3Error(bob.send(new GetBucketPolicyCommand({ Bucket: 'pol-basic' })), 'AccessDenied', 403);

  const publicText = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-basic/*' }]);
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-basic', Policy: publicText }));
  assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol-basic' }))).PolicyStatus?.IsPublic, true);

  await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-basic' }));
  await expectS3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'pol-basic' })), 'NoSuchBucketPolicy', 404);
});

test('invalid policies are MalformedPolicy with the reason, and leave the old policy in place', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'pol-bad' }));
  const good = doc([{ Effect: 'Allow', Principal: { AWS: bobId }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*' }]);
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-bad', Policy: good }));
  const bad: Array<[string, RegExp]> = [
    ['not json', /invalid Json|JSON/i],
    [doc([{ Effect: 'Allow', Principal: '*', Action: 's3:Teleport', Resource: 'arn:aws:s3:::pol-bad/*' }]), /invalid action/i],
    [doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-else/*' }]), /invalid resource/i],
    [doc([{ Effect: 'Maybe', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*' }]), /effect/i],
    [doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*' }]), /principal/i],
    [doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-bad/*', Condition: { StringAlmostEquals: { 'aws:UserAgent': 'x' } } }]), /condition/i],
  ];
  for (const [policy, reason] of bad) {
    const e = await expectS3Error(alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-bad', Policy: policy })), 'MalformedPolicy', 400, policy);
    assert.match(e.message, reason, policy);
  }
  assert.equal((await alice.send(new GetBucketPolicyCommand({ Bucket: 'pol-bad' }))).Policy, good);
});

test('public access block: BlockPublicPolicy refuses public policies, RestrictPublicBuckets keeps one to the owner', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'pol-pab' }));
  await alice.send(new PutObjectCommand({ Bucket: 'pol-pab', Key: 'k', Body: 'v' }));
  const publicText = doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol-pab/*' }]);
  await alice.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'pol-pab',
      PublicAccessBlockConfiguration: { BlockPublicPolicy: true, BlockPublicAcls: false, IgnorePublicAcls: false, RestrictPublicBuckets: false },
    }),
  );
  await expectS3Error(alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-pab', Policy: publicText })), 'AccessDenied', 403);
  await expectS3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'pol-pab' })), 'NoSuchBucketPolicy', 404);

  await alice.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'pol-pab',
      PublicAccessBlockConfiguration: { BlockPublicPolicy: false, BlockPublicAcls: false, IgnorePublicAcls: false, RestrictPublicBuckets: false },
    }),
  );
  await alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-pab', Policy: publicText }));
  assert.equal(await anonymousGet('/pol-pab/k'), 200);
  await bob.send(new GetObjectCommand({ Bucket: 'pol-pab', Key: 'k' }));
  await alice.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'pol-pab',
      PublicAccessBlockConfiguration: { BlockPublicPolicy: false, BlockPublicAcls: false, IgnorePublicAcls: false, RestrictPublicBuckets: true },
    }),
  );
  assert.equal(await anonymousGet('/pol-pab/k'), 403);
  await expectS3Error(bob.send(new GetObjectCommand({ Bucket: 'pol-pab', Key: 'k' })), 'AccessDenied', 403);
  await alice.send(new GetObjectCommand({ Bucket: 'pol-pab', Key: 'k' }));
});

test('conditions see what the request carries: source address, transport, prefix, user agent, object tags', async () => {
  await alice.send(new CreateBucketCommand({ Bucket: 'pol-cond' }));
  for (const key of ['docs/a', 'docs/b', 'private/c']) await alice.send(new PutObjectCommand({ Bucket: 'pol-cond', Key: key, Body: key }));
  const put = (statements: object[]) => alice.send(new PutBucketPolicyCommand({ Bucket: 'pol-cond', Policy: doc(statements) }));
  const bucketArn = 'arn:aws:s3:::pol-cond';

  // Bob may list only under docs/.
  await put([{ Effect: 'Allow', Principal: { AWS: bobId }, Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': 'docs/*' } } }]);
  assert.equal((await bob.send(new ListObjectsV2Command({ Bucket: 'pol-cond', Prefix: 'docs/' }))).KeyCount, 2);
  await expectS3Error(bob.send(new ListObjectsV2Command({ Bucket: 'pol-cond', Prefix: 'private/' })), 'AccessDenied', 403);
  await expectS3Error(bob.send(new ListObjectsV2Command({ Bucket: 'pol-cond' })), 'AccessDenied', 403);

  // Anyone from loopback may read; the address test is what decides.
  await put([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucketArn}/docs/*`, Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } }]);
  assert.equal(await anonymousGet('/pol-cond/docs/a'), 200);
  assert.equal(await anonymousGet('/pol-cond/private/c'), 403);
  await put([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucketArn}/docs/*`, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]);
  assert.equal(await anonymousGet('/pol-cond/docs/a'), 403);

  // A Deny on insecure transport applies to the owner too (the test server speaks plain HTTP).
  await put([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${bucketArn}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]);
  await expectS3Error(alice.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'docs/a' })), 'AccessDenied', 403);
  await put([{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${bucketArn}/*`, Condition: { StringLike: { 'aws:UserAgent': '*curl*' } } }]);
  await alice.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'docs/a' }));

  // Existing object tags: bob may read objects tagged share=yes.
  await alice.send(new PutObjectCommand({ Bucket: 'pol-cond', Key: 'tagged', Body: 't', Tagging: 'share=yes' }));
  await put([{ Effect: 'Allow', Principal: { AWS: bobId }, Action: 's3:GetObject', Resource: `${bucketArn}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'yes' } } }]);
  assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'tagged' }))).Body!.transformToString(), 't');
  await expectS3Error(bob.send(new GetObjectCommand({ Bucket: 'pol-cond', Key: 'docs/a' })), 'AccessDenied', 403);
});
