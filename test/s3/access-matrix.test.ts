// The access decision, cell by cell: every operation x principal (owner, another account,
// anonymous) x bucket setting (private, public-read, public-read-write, a grant, a policy Allow, a
// policy Deny, a public access block). The expected cells are written out by hand from S3's rules,
// not computed by the code under test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type ObjectCannedACL,
  type BucketCannedACL,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newAccount } from '../helpers/admin.ts';

type Who = 'owner' | 'other' | 'anonymous';
type Op =
  | 'ListObjects'
  | 'HeadBucket'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'DeleteObject'
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetObjectAcl'
  | 'PutObjectAcl'
  | 'ListMultipartUploads'
  | 'CreateMultipartUpload'
  | 'GetBucketPolicy';

const ALL_OPS: Op[] = [
  'ListObjects',
  'HeadBucket',
  'GetObject',
  'HeadObject',
  'PutObject',
  'DeleteObject',
  'GetBucketAcl',
  'PutBucketAcl',
  'GetObjectAcl',
  'PutObjectAcl',
  'ListMultipartUploads',
  'CreateMultipartUpload',
  'GetBucketPolicy',
];
const READ: Op[] = ['ListObjects', 'HeadBucket', 'GetObject', 'HeadObject'];

interface Setting {
  name: string;
  /** How the owner sets the bucket up (after creating it and its object `obj`). */
  setup: (owner: S3Client, bucket: string, ids: { other: string }) => Promise<void>;
  /** The ACLs PutBucketAcl / PutObjectAcl write back (the same as set up, so the cell changes nothing). */
  bucketAcl: (ids: { other: string }) => { ACL?: BucketCannedACL; GrantFullControl?: string };
  objectAcl: (ids: { other: string }) => { ACL?: ObjectCannedACL; GrantFullControl?: string };
  allowed: Record<Who, Op[]>;
}

const policy = (bucket: string, statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

const SETTINGS: Setting[] = [
  {
    name: 'private',
    setup: async () => {},
    bucketAcl: () => ({ ACL: 'private' }),
    objectAcl: () => ({ ACL: 'private' }),
    allowed: { owner: ALL_OPS, other: [], anonymous: [] },
  },
  {
    name: 'public-read ACLs',
    setup: async (owner, bucket) => {
      await owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
      await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj', ACL: 'public-read' }));
    },
    bucketAcl: () => ({ ACL: 'public-read' }),
    objectAcl: () => ({ ACL: 'public-read' }),
    allowed: { owner: ALL_OPS, other: [...READ, 'ListMultipartUploads'], anonymous: [...READ, 'ListMultipartUploads'] },
  },
  {
    name: 'public-read-write bucket ACL',
    setup: async (owner, bucket) => {
      await owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }));
    },
    bucketAcl: () => ({ ACL: 'public-read-write' }),
    objectAcl: () => ({ ACL: 'private' }),
    allowed: {
      owner: ALL_OPS,
      // The object itself stays private: listing and writing, not reading it.
      other: ['ListObjects', 'HeadBucket', 'PutObject', 'DeleteObject', 'ListMultipartUploads', 'CreateMultipartUpload'],
      anonymous: ['ListObjects', 'HeadBucket', 'PutObject', 'DeleteObject', 'ListMultipartUploads', 'CreateMultipartUpload'],
    },
  },
  {
    name: 'FULL_CONTROL granted to the other account',
    setup: async (owner, bucket, ids) => {
      await owner.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${ids.other}"` }));
      await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj', GrantFullControl: `id="${ids.other}"` }));
    },
    bucketAcl: (ids) => ({ GrantFullControl: `id="${ids.other}"` }),
    objectAcl: (ids) => ({ GrantFullControl: `id="${ids.other}"` }),
    allowed: {
      owner: ALL_OPS,
      // Everything but the owner-only policy calls.
      other: ALL_OPS.filter((op) => op !== 'GetBucketPolicy'),
      anonymous: [],
    },
  },
  {
    name: 'policy Allow',
    setup: async (owner, bucket, ids) => {
      await owner.send(
        new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: policy(bucket, [
            {
              Sid: 'other-reads-and-writes',
              Effect: 'Allow',
              Principal: { AWS: [`arn:aws:iam::${ids.other}:root`] },
              Action: ['s3:ListBucket', 's3:GetObject', 's3:PutObject'],
              Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
            },
            { Sid: 'anyone-reads-obj', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/obj` },
          ]),
        }),
      );
    },
    bucketAcl: () => ({ ACL: 'private' }),
    objectAcl: () => ({ ACL: 'private' }),
    allowed: {
      owner: ALL_OPS,
      other: [...READ, 'PutObject', 'CreateMultipartUpload'],
      anonymous: ['GetObject', 'HeadObject'],
    },
  },
  {
    name: 'policy Deny over a public-read ACL',
    setup: async (owner, bucket) => {
      await owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
      await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj', ACL: 'public-read' }));
      await owner.send(
        new PutBucketPolicyCommand({
          Bucket: bucket,
          Policy: policy(bucket, [{ Sid: 'no-reads', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]),
        }),
      );
    },
    bucketAcl: () => ({ ACL: 'public-read' }),
    objectAcl: () => ({ ACL: 'public-read' }),
    allowed: {
      // An explicit Deny wins even over the owner.
      owner: ALL_OPS.filter((op) => op !== 'GetObject' && op !== 'HeadObject'),
      other: ['ListObjects', 'HeadBucket', 'ListMultipartUploads'],
      anonymous: ['ListObjects', 'HeadBucket', 'ListMultipartUploads'],
    },
  },
  {
    name: 'public access block ignoring public ACLs',
    setup: async (owner, bucket) => {
      await owner.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
      await owner.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj', ACL: 'public-read' }));
      await owner.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: { IgnorePublicAcls: true, BlockPublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
        }),
      );
    },
    bucketAcl: () => ({ ACL: 'public-read' }),
    objectAcl: () => ({ ACL: 'public-read' }),
    allowed: { owner: ALL_OPS, other: [], anonymous: [] },
  },
];

let server: TestServer;
let clients: Record<Who, S3Client>;
let ids: { other: string };

function anonymousClient(url: string): S3Client {
  // No signature at all: the SDK sends the request as it would to a public bucket.
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    signer: { sign: async (request) => request },
  });
}

before(async () => {
  server = await startTestServer();
  const other = await newAccount(server, 'other');
  ids = { other: other.id };
  clients = {
    owner: server.client(),
    other: server.client({ credentials: { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey } }),
    anonymous: anonymousClient(server.url),
  };
});
after(async () => {
  clients.anonymous.destroy();
  await server.stop();
});

/** Runs one operation; true when it was allowed (any answer but 403 AccessDenied). */
async function attempt(op: Op, who: Who, bucket: string, setting: Setting): Promise<boolean> {
  const c = clients[who];
  try {
    switch (op) {
      case 'ListObjects':
        await c.send(new ListObjectsV2Command({ Bucket: bucket }));
        break;
      case 'HeadBucket':
        await c.send(new HeadBucketCommand({ Bucket: bucket }));
        break;
      case 'GetObject':
        await (await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' }))).Body!.transformToString();
        break;
      case 'HeadObject':
        await c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }));
        break;
      case 'PutObject':
        await c.send(new PutObjectCommand({ Bucket: bucket, Key: `new-by-${who}`, Body: 'x' }));
        break;
      case 'DeleteObject':
        await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: `doomed-${who}` }));
        break;
      case 'GetBucketAcl':
        await c.send(new GetBucketAclCommand({ Bucket: bucket }));
        break;
      case 'PutBucketAcl':
        await c.send(new PutBucketAclCommand({ Bucket: bucket, ...setting.bucketAcl(ids) }));
        break;
      case 'GetObjectAcl':
        await c.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'obj' }));
        break;
      case 'PutObjectAcl':
        await c.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj', ...setting.objectAcl(ids) }));
        break;
      case 'ListMultipartUploads':
        await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        break;
      case 'CreateMultipartUpload': {
        const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `mpu-${who}` }));
        await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `mpu-${who}`, UploadId }));
        break;
      }
      case 'GetBucketPolicy':
        await c.send(new GetBucketPolicyCommand({ Bucket: bucket }));
        break;
    }
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 403) {
      // HEAD answers carry no body: the status alone tells.
      if (op !== 'HeadBucket' && op !== 'HeadObject') assert.equal(e.name, 'AccessDenied', `${op} by ${who}: ${e.name}`);
      return false;
    }
    if (e.$metadata?.httpStatusCode === 404 || e.name === 'NoSuchBucketPolicy') return true;
    throw err;
  }
}

for (const [i, setting] of SETTINGS.entries()) {
  test(`access matrix: ${setting.name}`, async () => {
    const bucket = `matrix-${i}`;
    const owner = clients.owner;
    await owner.send(new CreateBucketCommand({ Bucket: bucket }));
    await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'the object' }));
    for (const who of ['owner', 'other', 'anonymous'] as const) {
      await owner.send(new PutObjectCommand({ Bucket: bucket, Key: `doomed-${who}`, Body: 'x' }));
    }
    await setting.setup(owner, bucket, ids);

    const wrong: string[] = [];
    for (const who of ['owner', 'other', 'anonymous'] as const) {
      for (const op of ALL_OPS) {
        const expected = setting.allowed[who].includes(op);
        const got = await attempt(op, who, bucket, setting);
        if (got !== expected) wrong.push(`${op} by ${who}: ${got ? 'allowed' : 'denied'}, expected ${expected ? 'allowed' : 'denied'}`);
      }
    }
    assert.deepEqual(wrong, [], `setting "${setting.name}"`);
  });
}

test('virtual-host style and presigned URLs get the same decisions as path style', async () => {
  const owner = clients.owner;
  await owner.send(new CreateBucketCommand({ Bucket: 'matrix-styles' }));
  await owner.send(new PutObjectCommand({ Bucket: 'matrix-styles', Key: 'granted', Body: 'for other', GrantRead: `id="${ids.other}"` }));
  await owner.send(new PutObjectCommand({ Bucket: 'matrix-styles', Key: 'private', Body: 'owner only' }));
  await owner.send(new PutObjectCommand({ Bucket: 'matrix-styles', Key: 'public', Body: 'anyone', ACL: 'public-read' }));
  // fetch() will not send another Host header: node:http does.
  const { request } = await import('node:http');
  const vhost = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: `/${key}`, headers: { host: `matrix-styles.localhost:${server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await vhost('public'), 200);
  assert.equal(await vhost('private'), 403);
  assert.equal(await vhost('granted'), 403);

  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const presigned = async (who: Who, key: string) => (await fetch(await getSignedUrl(clients[who], new GetObjectCommand({ Bucket: 'matrix-styles', Key: key }), { expiresIn: 60 }))).status;
  assert.equal(await presigned('other', 'granted'), 200);
  assert.equal(await presigned('other', 'private'), 403);
  assert.equal(await presigned('owner', 'private'), 200);
});
