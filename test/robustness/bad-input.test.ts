// Bad input (ARCHITECTURE.md invariant 5): malformed and oversized XML, broken signatures, wrong
// lengths, broken aws-chunked bodies, invalid ranges, hostile keys, huge headers and stalled
// clients. Each request gets a 4xx S3 error document (Code, RequestId, no stack trace) or, where
// HTTP allows nothing else, a closed connection; nothing is written; the server keeps serving.
// Property-based with fast-check under fixed seeds and bounded runs, so every run is the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, dirname, basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketTaggingCommand,
  GetObjectTaggingCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { seededBytes, md5Hex, sha256Hex } from '../helpers/seeded.ts';
import { dataFiles, filesUnder } from '../helpers/data-dir.ts';
import { assertRefused, assertS3Error, exchange, head, sendSigned, signRaw, type RawResult, type Target } from '../helpers/raw-http.ts';
import { chunkSignature, crc32Base64 } from '../auth/chunked-helpers.ts';

const KiB = 1024;
const Bucket = 'victim';
const BASE: Record<string, Buffer> = { 'base/a': seededBytes(11, 1000), 'base/b': seededBytes(12, 100 * KiB) };
const MPU_KEY = 'mp/target';

let server: TestServer;
let s3: S3Client;
let t: Target;
let uploadId: string;
let partEtag: string;

interface Snapshot {
  buckets: string[];
  objects: string[];
  uploads: string[];
  files: string[];
  /** The bucket's grants, public access block and tags, and base/a's tags. */
  settings: string[];
}
let baseline: Snapshot;

async function snapshot(): Promise<Snapshot> {
  const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name!) ?? [];
  const objects = (await s3.send(new ListObjectsV2Command({ Bucket }))).Contents?.map((o) => `${o.Key} ${o.ETag} ${o.Size}`) ?? [];
  const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads?.map((u) => `${u.Key} ${u.UploadId}`) ?? [];
  return { buckets, objects, uploads, files: await dataFiles(server.dataDir), settings: await settings() };
}

async function settings(): Promise<string[]> {
  const missing = (err: unknown) => `none (${(err as Error).name})`;
  const acl = (await s3.send(new GetBucketAclCommand({ Bucket }))).Grants?.map((g) => `${g.Grantee?.URI ?? g.Grantee?.ID} ${g.Permission}`).join(',');
  const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket })).then((r) => JSON.stringify(r.PublicAccessBlockConfiguration), missing);
  const bucketTags = await s3.send(new GetBucketTaggingCommand({ Bucket })).then((r) => JSON.stringify(r.TagSet), missing);
  const objectTags = JSON.stringify((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'base/a' }))).TagSet);
  return [`acl ${acl}`, `pab ${pab}`, `bucket tags ${bucketTags}`, `base/a tags ${objectTags}`];
}

/** Puts the bucket back to its starting state after a failed check, so later cases are judged on their own. */
async function restore(): Promise<void> {
  for (const b of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    if (b.Name !== Bucket) await s3.send(new DeleteBucketCommand({ Bucket: b.Name! })).catch(() => {});
  }
  const listed = (await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? [];
  for (const o of listed) if (!(o.Key! in BASE)) await s3.send(new DeleteObjectCommand({ Bucket, Key: o.Key! }));
  for (const [Key, Body] of Object.entries(BASE)) {
    if (!listed.some((o) => o.Key === Key && o.ETag === `"${md5Hex(Body)}"`)) await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  }
  const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? [];
  if (!uploads.some((u) => u.UploadId === uploadId)) await createUpload();
  await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'private' }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket }));
  await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
  await s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'base/a' }));
  baseline = await snapshot();
}

async function createUpload(): Promise<void> {
  uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: MPU_KEY }))).UploadId!;
  const part = seededBytes(13, 2 * KiB);
  partEtag = md5Hex(part);
  await s3.send(new UploadPartCommand({ Bucket, Key: MPU_KEY, UploadId: uploadId, PartNumber: 1, Body: part }));
}

/**
 * Nothing changed: same buckets, objects, uploads and data files as at the start, data/tmp empty,
 * the child alive and a real read answered. Failed writes clean up asynchronously after a cut
 * connection, so file checks get a short grace period. On a difference the state is restored
 * (so the next case starts clean) and the check fails.
 */
async function assertIntact(label: string): Promise<void> {
  assert.equal(server.process.exitCode, null, `${label}: the server process exited\n${server.stderr().slice(-2000)}`);
  assert.equal(server.process.signalCode, null, `${label}: the server process was killed`);
  let snap: Snapshot | undefined;
  let tmp: string[] = [];
  for (let i = 0; i < 40; i++) {
    snap = await snapshot();
    tmp = await filesUnder(join(server.dataDir, 'data', 'tmp'));
    if (tmp.length === 0 && JSON.stringify(snap) === JSON.stringify(baseline)) break;
    await sleep(50);
  }
  const before = baseline;
  if (JSON.stringify(snap) !== JSON.stringify(before)) await restore();
  assert.deepEqual(snap, before, `${label}: the stored state changed`);
  assert.deepEqual(tmp, [], `${label}: data/tmp keeps files`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'base/b' }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(BASE['base/b']!), `${label}: base/b reads back`);
}

/** Runs the checks on one response, then assertIntact; reports the first failure (and always restores). */
async function judged(label: string, check: () => unknown): Promise<void> {
  let failure: unknown;
  try {
    await check();
  } catch (err) {
    failure = err;
  }
  try {
    await assertIntact(label);
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) throw failure;
}

before(async () => {
  server = await startTestServer();
  s3 = server.client();
  t = { port: server.port, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  await s3.send(new CreateBucketCommand({ Bucket }));
  for (const [Key, Body] of Object.entries(BASE)) await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  await createUpload();
  baseline = await snapshot();
});
after(() => server.stop());

const ascii = (min: number, max: number) => fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max });

// ---------------------------------------------------------------------------------------------
// XML bodies

type XmlOp = 'delete' | 'complete' | 'create' | 'acl' | 'pab' | 'tagging' | 'bucket-tagging';
const XML_OPS: XmlOp[] = ['delete', 'complete', 'create', 'acl', 'pab', 'tagging', 'bucket-tagging'];
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function deleteDoc(keys: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Delete ${NS}>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}<Quiet>false</Quiet></Delete>`;
}
function completeDoc(parts: Array<[string, string]>): string {
  return `<CompleteMultipartUpload ${NS}>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>"${e}"</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
}
function createDoc(location: string): string {
  return `<CreateBucketConfiguration ${NS}><LocationConstraint>${location}</LocationConstraint></CreateBucketConfiguration>`;
}

function aclDoc(grants: string): string {
  return `<AccessControlPolicy ${NS}><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}
function groupGrant(permission: string): string {
  return `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>${permission}</Permission></Grant>`;
}
function pabDoc(value: string): string {
  return `<PublicAccessBlockConfiguration ${NS}><BlockPublicAcls>${value}</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls></PublicAccessBlockConfiguration>`;
}
function taggingDoc(tags: Array<[string, string]>): string {
  return `<Tagging ${NS}><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;
}

/**
 * A valid document for the operation, which would change state if accepted (deletes base keys,
 * completes the upload, makes the bucket public, blocks public access, tags the bucket or base/a).
 */
function validDoc(op: XmlOp): string {
  if (op === 'delete') return deleteDoc(['base/a', 'base/b']);
  if (op === 'complete') return completeDoc([['1', partEtag]]);
  if (op === 'acl') return aclDoc(groupGrant('READ'));
  if (op === 'pab') return pabDoc('true');
  if (op === 'tagging' || op === 'bucket-tagging') return taggingDoc([['team', 'red']]);
  return createDoc('us-east-1');
}

/** Well-formed XML that does not validate against the operation's schema (some start with a valid entry). */
function invalidShapes(op: XmlOp): string[] {
  if (op === 'delete') {
    return [
      `<Delete ${NS}></Delete>`,
      `<Delete ${NS}><Quiet>true</Quiet></Delete>`,
      `<NotDelete><Object><Key>base/a</Key></Object></NotDelete>`,
      `<Delete><Object><Key>base/a</Key><Key>base/b</Key></Object></Delete>`,
      `<Delete><Object><Key>base/a</Key></Object><Object></Object></Delete>`,
      `<Delete><Object><Key>base/a</Key></Object><Object><Key><Nested>base/b</Nested></Key></Object></Delete>`,
      `<Delete><Object><Key>base/a</Key></Object><Object><VersionId>1</VersionId></Object></Delete>`,
      `<Delete>${'<Object><Key>base/a</Key></Object>'.repeat(1001)}</Delete>`,
    ];
  }
  if (op === 'complete') {
    return [
      `<CompleteMultipartUpload ${NS}></CompleteMultipartUpload>`,
      `<Other><Part><PartNumber>1</PartNumber><ETag>"${partEtag}"</ETag></Part></Other>`,
      completeDoc([['one', partEtag]]),
      completeDoc([['0', partEtag]]),
      completeDoc([['-1', partEtag]]),
      completeDoc([['10001', partEtag]]),
      completeDoc([['1.5', partEtag]]),
      completeDoc([['2', partEtag]]),
      completeDoc([['1', '0123456789abcdef0123456789abcdef']]),
      completeDoc([['1', partEtag], ['1', partEtag]]),
      `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`,
      `<CompleteMultipartUpload><Part><ETag>"${partEtag}"</ETag></Part></CompleteMultipartUpload>`,
      `<CompleteMultipartUpload><Part><PartNumber><X>1</X></PartNumber><ETag>"${partEtag}"</ETag></Part></CompleteMultipartUpload>`,
    ];
  }
  if (op === 'acl') {
    return [
      aclDoc(groupGrant('EVERYTHING')),
      aclDoc(`<Grant><Grantee><URI>${ALL_USERS}</URI></Grantee></Grant>`),
      aclDoc(`<Grant><Permission>READ</Permission></Grant>`),
      aclDoc(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://example.com/not-a-group</URI></Grantee><Permission>READ</Permission></Grant>`),
      aclDoc(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail"><EmailAddress>nobody@example.com</EmailAddress></Grantee><Permission>READ</Permission></Grant>`),
      aclDoc(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>no-such-account</ID></Grantee><Permission>READ</Permission></Grant>`),
      `<NotAnAcl>${groupGrant('READ')}</NotAnAcl>`,
    ];
  }
  if (op === 'pab') return [pabDoc('yes'), pabDoc(''), `<Other ${NS}><BlockPublicAcls>true</BlockPublicAcls></Other>`, pabDoc('<b>true</b>')];
  if (op === 'tagging' || op === 'bucket-tagging') {
    return [
      taggingDoc([['', 'v']]),
      taggingDoc([['k'.repeat(129), 'v']]),
      taggingDoc([['k', 'v'.repeat(257)]]),
      taggingDoc([['same', '1'], ['same', '2']]),
      taggingDoc([['aws:reserved', 'v']]),
      taggingDoc(Array.from({ length: op === 'tagging' ? 11 : 51 }, (_, i): [string, string] => [`k${i}`, 'v'])),
      `<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>`,
      `<NotTagging><TagSet/></NotTagging>`,
    ];
  }
  return [
    createDoc('mars-west-9'),
    `<Wrong ${NS}><LocationConstraint>us-east-1</LocationConstraint></Wrong>`,
    `<Wrong/>`,
  ];
}

/** Documents that are not well-formed XML at all. */
const malformedXml = fc.oneof(
  // A proper prefix of a valid document never closes its root.
  fc.tuple(fc.constantFrom(...XML_OPS), fc.nat()).map(([op, n]) => {
    const d = validDoc(op);
    const cut = 1 + (n % (d.length - 1));
    return { op, body: d.slice(0, cut), note: `truncated at ${cut}` };
  }),
  // One angle bracket dropped.
  fc.tuple(fc.constantFrom(...XML_OPS), fc.nat()).map(([op, n]) => {
    const d = validDoc(op);
    const at = [...d.matchAll(/[<>]/g)].map((m) => m.index);
    const i = at[n % at.length]!;
    return { op, body: d.slice(0, i) + d.slice(i + 1), note: `bracket at ${i} dropped` };
  }),
  // A closing tag renamed so the tags no longer match.
  fc.tuple(fc.constantFrom(...XML_OPS), fc.nat()).map(([op, n]) => {
    const d = validDoc(op);
    const at = [...d.matchAll(/<\/([A-Za-z]+)>/g)];
    const m = at[n % at.length]!;
    return { op, body: d.slice(0, m.index) + `</${m[1]}X>` + d.slice(m.index + m[0].length), note: `closing tag ${m[1]} renamed` };
  }),
  // Text that is no XML.
  fc.tuple(fc.constantFrom(...XML_OPS), ascii(1, 120).filter((s) => !s.includes('<'))).map(([op, s]) => ({ op, body: s, note: 'text' })),
  // Junk after the root element.
  fc.tuple(fc.constantFrom(...XML_OPS), ascii(1, 40).filter((s) => s.trim() !== '' && !s.includes('<'))).map(([op, s]) => ({ op, body: validDoc(op) + s, note: 'junk after root' })),
  // An unescaped & or < inside a text node.
  fc.tuple(fc.constantFrom(...XML_OPS), fc.constantFrom('&', '<', '&amp', '& ')).map(([op, c]) => {
    const d = validDoc(op);
    const i = d.indexOf('</', d.indexOf('<', 1) + 1);
    return { op, body: d.slice(0, i) + c + d.slice(i), note: `unescaped ${c}` };
  }),
);

const xmlCase = fc.oneof(
  { weight: 5, arbitrary: malformedXml.map((c) => ({ ...c, oversized: false })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...XML_OPS).chain((op) => fc.constantFrom(...invalidShapes(op)).map((body) => ({ op, body, note: 'invalid shape', oversized: false }))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...XML_OPS).map((op) => {
      // Larger than each operation's limit (2 MiB, 4 MiB, 64 KiB for the rest), with a valid start.
      const limit = op === 'delete' ? 2 * 1024 * KiB : op === 'complete' ? 4 * 1024 * KiB : 64 * KiB;
      const d = validDoc(op);
      const cut = d.lastIndexOf('</');
      return { op, body: d.slice(0, cut) + ' '.repeat(limit + 1) + d.slice(cut), note: 'oversized', oversized: true };
    }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...XML_OPS), fc.integer({ min: 2000, max: 50_000 })).map(([op, depth]) => ({
      op,
      body: validDoc(op).replace(/<\/[A-Za-z]+>$/, `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}$&`),
      note: `nested ${depth} deep`,
      oversized: false,
    })),
  },
);

async function sendXml(op: XmlOp, body: string): Promise<RawResult> {
  const headers = { 'content-type': 'application/xml', 'content-md5': Buffer.from(md5Hex(body), 'hex').toString('base64') };
  if (op === 'delete') return sendSigned(t, { method: 'POST', path: `/${Bucket}`, query: { delete: '' }, headers, body });
  if (op === 'complete') return sendSigned(t, { method: 'POST', path: `/${Bucket}/${MPU_KEY}`, query: { uploadId }, headers, body });
  if (op === 'acl') return sendSigned(t, { method: 'PUT', path: `/${Bucket}`, query: { acl: '' }, headers, body });
  if (op === 'pab') return sendSigned(t, { method: 'PUT', path: `/${Bucket}`, query: { publicAccessBlock: '' }, headers, body });
  if (op === 'tagging') return sendSigned(t, { method: 'PUT', path: `/${Bucket}/base/a`, query: { tagging: '' }, headers, body });
  if (op === 'bucket-tagging') return sendSigned(t, { method: 'PUT', path: `/${Bucket}`, query: { tagging: '' }, headers, body });
  return sendSigned(t, { method: 'PUT', path: '/fresh-bucket', headers, body });
}

test('malformed, invalid and oversized XML (DeleteObjects, CompleteMultipartUpload, CreateBucket, ACL, public access block, tagging) is a 4xx and changes nothing', async () => {
  // The valid documents are accepted (and change the state the checks compare), so the mutations
  // below are what makes the difference.
  for (const op of ['acl', 'pab', 'tagging', 'bucket-tagging'] as const) {
    const res = await sendXml(op, validDoc(op));
    const status = res.responses[0]?.status ?? 0;
    assert.ok(status >= 200 && status < 300, `${op}: the valid document got ${status}`);
    assert.notDeepEqual(await settings(), baseline.settings, `${op}: the valid document changed nothing`);
    await restore();
  }
  await fc.assert(
    fc.asyncProperty(xmlCase, async (c) => {
      const res = await sendXml(c.op, c.body);
      await judged(`${c.op} ${c.note}`, () => assertRefused(res, { note: `${c.op} ${c.note}` }));
    }),
    { seed: 0x0a11ce, numRuns: 100 },
  );
});

// ---------------------------------------------------------------------------------------------
// Authorization

type HeaderList = Array<[string, string]>;
const AUTH_MUTATIONS = [
  'random', 'flip-signature', 'access-key', 'scope-date', 'scope-region', 'scope-service', 'scope-terminator',
  'drop-host', 'sign-missing-header', 'duplicate', 'amz-date', 'no-amz-date', 'content-sha256', 'body-tamper',
  'truncate', 'v2-garbage', 'presign-garbage', 'lowercase-algorithm', 'no-signature', 'no-credential', 'stale-date',
] as const;

async function authRequest(kind: (typeof AUTH_MUTATIONS)[number], n: number, s: string): Promise<RawResult> {
  const path = `/${Bucket}/auth/test`;
  const body = Buffer.from('this must not be stored');
  if (kind === 'presign-garbage') {
    const pick = (i: number, good: string) => ((n >> i) & 1 ? s : good);
    const query = {
      'X-Amz-Algorithm': pick(0, 'AWS4-HMAC-SHA256'),
      'X-Amz-Credential': pick(1, `${t.accessKeyId}/20250101/us-east-1/s3/aws4_request`),
      'X-Amz-Date': pick(2, '20250101T000000Z'),
      'X-Amz-Expires': pick(3, String(n % 1_000_000)),
      'X-Amz-SignedHeaders': pick(4, 'host'),
      'X-Amz-Signature': pick(5, 'ab'.repeat(32)),
    };
    const qs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    return exchange(t.port, [head(`PUT ${path}?${qs} HTTP/1.1`, { host: `127.0.0.1:${t.port}`, 'content-length': String(body.length), connection: 'close' }), body]);
  }
  const date = kind === 'stale-date' ? new Date(Date.now() - 3600_000) : new Date();
  const signed = await signRaw(t, { method: 'PUT', path, headers: { 'content-length': String(body.length) }, body }, date);
  const h: Record<string, string> = { ...signed.headers };
  const auth = h['authorization']!;
  let extra: HeaderList = [];
  let sent = body;
  switch (kind) {
    case 'random':
      h['authorization'] = s;
      break;
    case 'flip-signature': {
      const i = auth.lastIndexOf('Signature=') + 'Signature='.length + (n % 64);
      const d = parseInt(auth[i]!, 16);
      h['authorization'] = auth.slice(0, i) + ((d + 1 + (n % 15)) % 16).toString(16) + auth.slice(i + 1);
      break;
    }
    case 'access-key':
      h['authorization'] = auth.replace(t.accessKeyId, `AKIA${s.replace(/[^A-Za-z0-9]/g, '')}X`);
      break;
    case 'scope-date':
      h['authorization'] = auth.replace(/Credential=([^/]+)\/\d{8}\//, `Credential=$1/${20200101 + (n % 28)}/`);
      break;
    case 'scope-region':
      h['authorization'] = auth.replace('/us-east-1/', '/eu-central-1/');
      break;
    case 'scope-service':
      h['authorization'] = auth.replace('/s3/', '/ec2/');
      break;
    case 'scope-terminator':
      h['authorization'] = auth.replace('aws4_request', 'aws4_reques');
      break;
    case 'drop-host':
      h['authorization'] = auth.replace(/SignedHeaders=([^,]*)/, (_, list: string) => `SignedHeaders=${list.split(';').filter((x) => x !== 'host').join(';')}`);
      break;
    case 'sign-missing-header':
      h['authorization'] = auth.replace(/SignedHeaders=([^,]*)/, (_, list: string) => `SignedHeaders=${[...list.split(';'), 'x-amz-not-sent'].sort().join(';')}`);
      break;
    case 'duplicate':
      // A broken Authorization first and the valid one after it: the valid one must not count.
      h['authorization'] = s.trim() === '' ? 'AWS4-HMAC-SHA256 x' : s;
      extra = [['authorization', auth]];
      break;
    case 'amz-date':
      h['x-amz-date'] = n % 2 ? s : '20991231T000000Z';
      break;
    case 'no-amz-date':
      delete h['x-amz-date'];
      break;
    case 'content-sha256':
      h['x-amz-content-sha256'] = n % 2 ? s : sha256Hex(s + 'other');
      break;
    case 'body-tamper':
      sent = Buffer.from(body);
      sent[n % sent.length] ^= 1 + (n % 255);
      break;
    case 'truncate':
      h['authorization'] = auth.slice(0, n % auth.length);
      break;
    case 'v2-garbage':
      h['authorization'] = `AWS ${t.accessKeyId}:${s}`;
      break;
    case 'lowercase-algorithm':
      h['authorization'] = auth.replace('AWS4-HMAC-SHA256', 'aws4-hmac-sha256');
      break;
    case 'no-signature':
      h['authorization'] = auth.replace(/,\s*Signature=[0-9a-f]+/, '');
      break;
    case 'no-credential':
      h['authorization'] = auth.replace(/Credential=[^,]+,\s*/, '');
      break;
    case 'stale-date':
      break;
  }
  const list: HeaderList = [...Object.entries(h), ...extra, ['connection', 'close']];
  return exchange(t.port, [head(`PUT ${path} HTTP/1.1`, list), sent]);
}

test('broken Authorization headers, signatures and presigned queries are refused with 4xx and store nothing', async () => {
  // The unmodified request is accepted, so each refusal below is due to the mutation.
  const ok = await sendSigned(t, { method: 'PUT', path: `/${Bucket}/auth/control`, body: 'x' });
  assert.equal(ok.responses[0]?.status, 200);
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'auth/control' }));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...AUTH_MUTATIONS), fc.nat(), ascii(0, 60), async (kind, n, s) => {
      const res = await authRequest(kind, n, s);
      await judged(`auth ${kind}`, () => assertRefused(res, { note: `auth ${kind}` }));
    }),
    { seed: 0xa07, numRuns: 80 },
  );
});

// ---------------------------------------------------------------------------------------------
// Declared lengths and digests that disagree with the body (well-framed HTTP)

test('bodies that disagree with their declared length, hash or digest are refused and store nothing', async () => {
  const path = `/${Bucket}/length/test`;
  const body = seededBytes(21, 3000);
  const cases: Array<{ note: string; headers: Record<string, string>; send: Buffer; codes?: string[] }> = [
    // The payload hash covers more bytes than Content-Length delivers.
    { note: 'signed hash of a longer body', headers: { 'content-length': '2000', 'x-amz-content-sha256': sha256Hex(body) }, send: body.subarray(0, 2000), codes: ['XAmzContentSHA256Mismatch'] },
    { note: 'Content-MD5 of a longer body', headers: { 'content-length': '2000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-md5': Buffer.from(md5Hex(body), 'hex').toString('base64') }, send: body.subarray(0, 2000), codes: ['BadDigest'] },
    { note: 'malformed Content-MD5', headers: { 'content-length': '3000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-md5': 'not-base64!' }, send: body, codes: ['InvalidDigest'] },
    { note: 'Content-Length over 5 GiB', headers: { 'content-length': String(5 * 1024 ** 3 + 1), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, send: body, codes: ['EntityTooLarge'] },
    { note: 'HTTP chunked without any length', headers: { 'transfer-encoding': 'chunked', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, send: Buffer.from(`${body.length.toString(16)}\r\n${body.toString('latin1')}\r\n0\r\n\r\n`, 'latin1'), codes: ['MissingContentLength'] },
    { note: 'x-amz-decoded-content-length not a number', headers: { 'content-length': '3000', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '12ab' }, send: body },
  ];
  for (const c of cases) {
    const signed = await signRaw(t, { method: 'PUT', path, headers: c.headers, body: c.send });
    const res = await exchange(t.port, [head(signed.line, { ...signed.headers, connection: 'close' }), c.send]);
    await judged(c.note, () => assertRefused(res, { note: c.note, codes: c.codes }));
  }
});

// ---------------------------------------------------------------------------------------------
// aws-chunked bodies

const SIG_EXT = ';chunk-signature=';

/** STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing of the chunks; the length is known before signing. */
function chunkedLength(sizes: number[]): number {
  let n = 0;
  for (const size of [...sizes, 0]) n += size.toString(16).length + SIG_EXT.length + 64 + 2 + (size > 0 ? size + 2 : 0);
  return n + 2;
}

function encodeChunks(signing: { key: Buffer; amzDate: string; scope: string; seed: string }, chunks: Buffer[]): { bytes: Buffer; sigAt: number[]; sizeAt: number[]; dataAt: number[] } {
  const parts: Buffer[] = [];
  const sigAt: number[] = [];
  const sizeAt: number[] = [];
  const dataAt: number[] = [];
  let prev = signing.seed;
  let pos = 0;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const sig = chunkSignature(signing, prev, data);
    prev = sig;
    const line = `${data.length.toString(16)}${SIG_EXT}${sig}\r\n`;
    sizeAt.push(pos);
    sigAt.push(pos + data.length.toString(16).length + SIG_EXT.length);
    parts.push(Buffer.from(line));
    pos += line.length;
    if (data.length > 0) {
      dataAt.push(pos);
      parts.push(data, Buffer.from('\r\n'));
      pos += data.length + 2;
    }
  }
  parts.push(Buffer.from('\r\n'));
  return { bytes: Buffer.concat(parts), sigAt, sizeAt, dataAt };
}

const CHUNK_MUTATIONS = ['truncate', 'flip-data', 'bad-signature', 'size-field', 'decoded-length', 'no-final-chunk', 'swap-chunks', 'extension', 'trailer-crc', 'trailer-missing'] as const;

test('truncated and malformed aws-chunked bodies are refused and store nothing', async () => {
  const path = `/${Bucket}/chunked/test`;
  // The unmutated encoding is accepted: what fails below fails because of the mutation.
  {
    const chunks = [seededBytes(31, 8 * KiB), seededBytes(32, 100)];
    const decoded = chunks.reduce((a, c) => a + c.length, 0);
    const signed = await signRaw(t, {
      method: 'PUT',
      path,
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': String(decoded), 'content-length': String(chunkedLength(chunks.map((c) => c.length))) },
    });
    const enc = encodeChunks({ key: signed.signingKey, amzDate: signed.amzDate, scope: signed.scope, seed: signed.seedSignature }, chunks);
    const res = await exchange(t.port, [head(signed.line, { ...signed.headers, connection: 'close' }), enc.bytes]);
    assert.equal(res.responses[0]?.status, 200, res.raw.toString());
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'chunked/test' }));
  }
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...CHUNK_MUTATIONS),
      fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 2, maxLength: 4 }),
      fc.nat(),
      async (kind, sizes, n) => {
        if (kind === 'swap-chunks') sizes = sizes.map(() => sizes[0]!);
        const chunks = sizes.map((size, i) => seededBytes(n + i, size));
        const decoded = sizes.reduce((a, b) => a + b, 0);
        let res: RawResult;
        if (kind === 'trailer-crc' || kind === 'trailer-missing') {
          // STREAMING-UNSIGNED-PAYLOAD-TRAILER with a wrong (or absent) CRC32 trailer.
          const all = Buffer.concat(chunks);
          const crc = kind === 'trailer-crc' ? crc32Base64(Buffer.concat([all, Buffer.from([n & 0xff])])) : undefined;
          const parts: Buffer[] = [];
          for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
          parts.push(Buffer.from('0\r\n'));
          if (crc) parts.push(Buffer.from(`x-amz-checksum-crc32:${crc}\r\n`));
          parts.push(Buffer.from('\r\n'));
          const bytes = Buffer.concat(parts);
          const signed = await signRaw(t, {
            method: 'PUT',
            path,
            headers: {
              'content-encoding': 'aws-chunked',
              'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
              'x-amz-trailer': 'x-amz-checksum-crc32',
              'x-amz-decoded-content-length': String(decoded),
              'content-length': String(bytes.length),
            },
          });
          res = await exchange(t.port, [head(signed.line, { ...signed.headers, connection: 'close' }), bytes]);
        } else {
          const fullLength = chunkedLength(sizes);
          const finalChunkLength = 1 + SIG_EXT.length + 64 + 2;
          const length =
            kind === 'truncate' ? 1 + (n % (fullLength - 1)) : kind === 'no-final-chunk' ? fullLength - finalChunkLength : kind === 'extension' ? fullLength - 1 : fullLength;
          const decodedHeader = kind === 'decoded-length' ? decoded + (n % 2 ? 1 + (n % 100) : -1 - (n % Math.max(1, decoded - 1))) : decoded;
          const signed = await signRaw(t, {
            method: 'PUT',
            path,
            headers: {
              'content-encoding': 'aws-chunked',
              'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
              'x-amz-decoded-content-length': String(decodedHeader),
              'content-length': String(length),
            },
          });
          const enc = encodeChunks({ key: signed.signingKey, amzDate: signed.amzDate, scope: signed.scope, seed: signed.seedSignature }, chunks);
          let bytes = Buffer.from(enc.bytes);
          switch (kind) {
            case 'truncate':
              bytes = bytes.subarray(0, length);
              break;
            case 'flip-data': {
              const c = n % chunks.length;
              const i = enc.dataAt[c]! + (n % chunks[c]!.length);
              bytes[i] ^= 1 + (n % 255);
              break;
            }
            case 'bad-signature': {
              const i = enc.sigAt[n % enc.sigAt.length]! + (n % 64);
              const d = parseInt(String.fromCharCode(bytes[i]!), 16);
              bytes[i] = ((d + 1 + (n % 15)) % 16).toString(16).charCodeAt(0);
              break;
            }
            case 'size-field': {
              const c = n % chunks.length;
              const width = chunks[c]!.length.toString(16).length;
              let other = (chunks[c]!.length + 1 + (n % 7)) % 16 ** width;
              if (other === 0 || other.toString(16).length !== width) other = 16 ** (width - 1) + ((chunks[c]!.length + 1) % (16 ** width - 16 ** (width - 1)));
              if (other === chunks[c]!.length) other = other === 16 ** width - 1 ? other - 1 : other + 1;
              bytes.write(other.toString(16), enc.sizeAt[c]!, 'latin1');
              break;
            }
            case 'no-final-chunk': {
              const last = enc.sizeAt[enc.sizeAt.length - 1]!;
              bytes = Buffer.concat([bytes.subarray(0, last), bytes.subarray(last + finalChunkLength)]);
              break;
            }
            case 'swap-chunks': {
              // Two equal-sized chunks in the wrong order: each signature is valid, the chain is not.
              const a = enc.sizeAt[0]!;
              const b = enc.sizeAt[1]!;
              const c2 = enc.sizeAt[2]!;
              bytes = Buffer.concat([bytes.subarray(b, c2), bytes.subarray(a, b), bytes.subarray(c2)]);
              break;
            }
            case 'extension': {
              const i = enc.sizeAt[n % chunks.length]!;
              const at = bytes.indexOf(SIG_EXT, i);
              bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(';chunk-signatur='), bytes.subarray(at + SIG_EXT.length)]);
              break;
            }
          }
          assert.equal(bytes.length, length, `${kind}: framing length`);
          res = await exchange(t.port, [head(signed.line, { ...signed.headers, connection: 'close' }), bytes]);
        }
        await judged(`aws-chunked ${kind}`, () => assertRefused(res, { note: `aws-chunked ${kind}` }));
      },
    ),
    { seed: 0xc4a7, numRuns: 60 },
  );
});

// ---------------------------------------------------------------------------------------------
// Range

/** What RFC 9110 and S3 make of a Range header on an object of `size` bytes. */
function expectedRange(value: string, size: number): { status: 200 } | { status: 206; start: number; end: number } | { status: 416 } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(value);
  if (!m) return undefined; // several ranges, other units, junk: S3 may ignore it (200) or refuse it
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return { status: 416 };
    return { status: 206, start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return { status: 200 }; // last < first: invalid, so ignored
  if (start >= size) return { status: 416 };
  const end = b === '' ? size - 1 : Number(b);
  return { status: 206, start, end: Math.min(end, size - 1) };
}

test('invalid and edge-case Range headers: 200, a correct 206 or a 416 S3 error, never anything else', async () => {
  const body = BASE['base/b']!;
  const size = body.length;
  const num = fc.oneof(
    fc.integer({ min: 0, max: 200 }).map(String),
    fc.integer({ min: size - 5, max: size + 5 }).map(String),
    fc.nat().map(String),
    fc.constantFrom('9007199254740993', '18446744073709551616', '0000000000000000000000001', '99999999999999999999999999999'),
  );
  const range = fc.oneof(
    fc.tuple(num, num).map(([a, b]) => `bytes=${a}-${b}`),
    num.map((a) => `bytes=${a}-`),
    num.map((b) => `bytes=-${b}`),
    fc.tuple(num, num, num, num).map(([a, b, c, d]) => `bytes=${a}-${b},${c}-${d}`),
    fc.tuple(fc.constantFrom('bytes', 'Bytes', 'items', 'bytes ', ''), fc.constantFrom('=', ':', ' = '), num, fc.constantFrom('-', '--', '+', ' - ', '..'), num).map(([u, eq, a, dash, b]) => `${u}${eq}${a}${dash}${b}`),
    fc.constantFrom('bytes=-', 'bytes=', 'bytes=--1', 'bytes=-0', 'bytes=0-0', 'bytes=1-0', 'bytes=abc-def', 'bytes=0x10-0x20', 'bytes=1e3-2e3', 'bytes=-1-2', 'bytes=0-1;q=1'),
    ascii(0, 40).filter((s) => s.trim() === s),
  );
  await fc.assert(
    fc.asyncProperty(range, async (value) => {
      const res = await sendSigned(t, { method: 'GET', path: `/${Bucket}/base/b`, headers: { range: value } });
      const r = res.responses[0];
      assert.ok(r, `Range ${JSON.stringify(value)}: no response`);
      const expected = expectedRange(value, size);
      if (expected) assert.equal(r.status, expected.status, `Range ${JSON.stringify(value)}`);
      if (r.status === 200) {
        assert.ok(r.body.equals(body), `Range ${JSON.stringify(value)}: 200 must carry the whole object`);
      } else if (r.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.headers['content-range'] ?? '');
        assert.ok(m, `Range ${JSON.stringify(value)}: Content-Range ${r.headers['content-range']}`);
        const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
        assert.equal(total, size);
        assert.ok(start <= end && end < size, `Range ${JSON.stringify(value)}: Content-Range ${r.headers['content-range']}`);
        if (expected?.status === 206) assert.deepEqual([start, end], [expected.start, expected.end], `Range ${JSON.stringify(value)}`);
        assert.equal(Number(r.headers['content-length']), end - start + 1);
        assert.ok(r.body.equals(body.subarray(start, end + 1)), `Range ${JSON.stringify(value)}: bytes`);
      } else {
        assert.equal(r.status, 416, `Range ${JSON.stringify(value)}: status ${r.status} ${r.body.toString().slice(0, 200)}`);
        assertS3Error(r, { status: 416, codes: ['InvalidRange'], note: `Range ${JSON.stringify(value)}` });
      }
    }),
    { seed: 0x4a46e, numRuns: 150 },
  );
  await assertIntact('ranges');
});

// ---------------------------------------------------------------------------------------------
// Keys

const SEGMENTS = ['..', '.', '', '%2e%2e', '%2E%2E%2F', '..%2F..', '%00', 'a%00b', '%C0%AF', '%C0%AE%C0%AE', '%E0%80%AF', '%ED%A0%80', '%FF', '%zz', '%', '%4', 'a%2Fb', '%5C..%5C', '~', 'x', 'caf%C3%A9', '%F0%9F%92%A9', '%F4%90%80%80'];

/** The key a raw path names, or undefined when the path is not valid percent-encoded UTF-8. */
function decodedKey(rawKey: string): string | undefined {
  try {
    const k = decodeURIComponent(rawKey);
    return k.isWellFormed() ? k : undefined;
  } catch {
    return undefined;
  }
}

/** Names of everything in the data directory's parent and below the data directory that contains `marker`. */
async function filesNamed(marker: string): Promise<string[]> {
  const near = (await readdir(dirname(server.dataDir))).filter((n) => n.includes(marker));
  const inside = (await filesUnder(server.dataDir)).filter((p) => p.includes(marker));
  return [...near, ...inside];
}

test('keys with ../, NUL, overlong UTF-8 and broken percent-encoding: refused, or stored as plain names inside the data directory', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 }), fc.boolean(), async (segments, longKey) => {
      const marker = `escape-${basename(server.dataDir)}-${run++}`;
      const rawKey = [...segments, longKey ? 'L'.repeat(1030) : marker].join('/');
      const path = `/${Bucket}/${rawKey}`;
      const body = `key body ${run}`;
      const put = await sendSigned(t, { method: 'PUT', path, body });
      await judged(`key ${rawKey}`, async () => {
        const r = put.responses[0];
        assert.ok(r, `PUT ${path}: no response`);
        const key = decodedKey(rawKey);
        if (key === undefined || longKey) {
          assertS3Error(r, { note: `PUT ${path}` });
        } else if (r.status === 200) {
          // A key is a name: it reads back under the same path, is listed as itself, and no file
          // named after it exists anywhere (data files are named by locator only).
          const got = await sendSigned(t, { method: 'GET', path });
          assert.equal(got.responses[0]?.status, 200, `GET ${path}`);
          assert.equal(got.responses[0]!.body.toString(), body, `GET ${path}`);
          const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: key, EncodingType: 'url' }));
          assert.ok(listed.Contents?.some((o) => decodeURIComponent(o.Key!) === key), `${JSON.stringify(key)} is listed`);
          assert.deepEqual(await filesNamed(marker), [], `a file named after key ${rawKey} exists`);
          const del = await sendSigned(t, { method: 'DELETE', path });
          assert.equal(del.responses[0]?.status, 204, `DELETE ${path}`);
        } else {
          assertS3Error(r, { note: `PUT ${path}` });
        }
        assert.deepEqual(await filesNamed(marker), [], `a file named after key ${rawKey} exists`);
      });
    }),
    { seed: 0x6e75, numRuns: 60 },
  );
  // Paths that leave the bucket with dot segments name another (invalid) bucket, never a file.
  for (const path of ['/../victim/base/a', `/${Bucket}/../../etc/passwd`, '/%2e%2e/victim/base/a', '/./victim/base/a']) {
    const res = await sendSigned(t, { method: 'GET', path });
    const r = res.responses[0];
    assert.ok(r, `GET ${path}: no response`);
    assertS3Error(r, { note: `GET ${path}` });
  }
  await assertIntact('dot-segment paths');
});

// ---------------------------------------------------------------------------------------------
// Headers

test('many headers: oversized user metadata is MetadataTooLarge; 600 unknown headers are harmless', async () => {
  const meta: Record<string, string> = {};
  // 200 pairs of ~28 bytes: 5.6 KB of metadata (the limit is 2 KB), well inside the header size limit.
  for (let i = 0; i < 200; i++) meta[`x-amz-meta-k${String(i).padStart(3, '0')}`] = 'v'.repeat(24);
  const big = await sendSigned(t, { method: 'PUT', path: `/${Bucket}/headers/meta`, headers: meta, body: 'x' });
  await judged('200 metadata headers', () => assertRefused(big, { codes: ['MetadataTooLarge'], note: '200 metadata headers' }));

  const signed = await signRaw(t, { method: 'GET', path: `/${Bucket}/base/a` });
  // 600 short headers: far more than any client sends, still inside Node's header size limit.
  const junk: HeaderList = Array.from({ length: 600 }, (_, i) => [`x-j${i}`, 'v']);
  const res = await exchange(t.port, [head(signed.line, [...Object.entries(signed.headers), ...junk, ['connection', 'close']])]);
  assert.equal(res.responses[0]?.status, 200, res.raw.toString('latin1').slice(0, 300));
  assert.ok(res.responses[0]!.body.equals(BASE['base/a']!));
  await assertIntact('600 unknown headers');
});

// ---------------------------------------------------------------------------------------------
// Broken HTTP framing: the cases Node's HTTP parser itself detects

test('requests with broken HTTP framing get an S3 error document (or a plain close), and nothing is stored', async () => {
  const host = `127.0.0.1:${t.port}`;
  const body = seededBytes(41, 4000);
  const shortPut = await signRaw(t, { method: 'PUT', path: `/${Bucket}/framing/short`, headers: { 'content-length': '4000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  const longPut = await signRaw(t, { method: 'PUT', path: `/${Bucket}/framing/long`, headers: { 'content-length': '3000' }, body });
  const chunkSizes = [3000, 1000];
  const chunkedPut = await signRaw(t, {
    method: 'PUT',
    path: `/${Bucket}/framing/chunked`,
    headers: { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '4000', 'content-length': String(chunkedLength(chunkSizes)) },
  });
  const chunked = encodeChunks({ key: chunkedPut.signingKey, amzDate: chunkedPut.amzDate, scope: chunkedPut.scope, seed: chunkedPut.seedSignature }, [body.subarray(0, 3000), body.subarray(3000)]);
  const manyHeaders = Array.from({ length: 3000 }, (_, i) => `x-h-${i}: v\r\n`).join('');

  const cases: Array<{ note: string; steps: Array<Buffer | string>; end?: boolean; allowClose?: boolean }> = [
    { note: 'garbage request line', steps: ['HELLO THERE\r\n\r\n'] },
    { note: 'NUL byte in the request target', steps: [`GET /${Bucket}/a\0b HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`] },
    { note: 'raw non-ASCII bytes in the request target', steps: [Buffer.from(`GET /${Bucket}/caf\u00e9 HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`, 'utf8')] },
    { note: 'header section over the size limit (3000 headers)', steps: [`GET /${Bucket}/base/a HTTP/1.1\r\nhost: ${host}\r\n${manyHeaders}connection: close\r\n\r\n`] },
    { note: 'a 20 KiB header value', steps: [`GET /${Bucket}/base/a HTTP/1.1\r\nhost: ${host}\r\nx-big: ${'b'.repeat(20 * KiB)}\r\nconnection: close\r\n\r\n`] },
    { note: 'non-numeric Content-Length', steps: [`PUT /${Bucket}/framing/cl HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 12abc\r\nconnection: close\r\n\r\nhello`] },
    { note: 'two different Content-Lengths', steps: [`PUT /${Bucket}/framing/cl HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 5\r\ncontent-length: 6\r\nconnection: close\r\n\r\nhello!`] },
    { note: 'Content-Length and Transfer-Encoding together', steps: [`PUT /${Bucket}/framing/cl HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`] },
    // The client half-closes after part of the declared body: it can still read an answer.
    { note: 'shorter body than Content-Length, then FIN', steps: [head(shortPut.line, shortPut.headers), body.subarray(0, 1500)], end: true, allowClose: true },
    { note: 'truncated aws-chunked body, then FIN', steps: [head(chunkedPut.line, chunkedPut.headers), chunked.bytes.subarray(0, 2500)], end: true, allowClose: true },
    // Bytes after the declared body are the next request; the first one still deserves its own answer.
    { note: 'longer body than Content-Length', steps: [head(longPut.line, { ...longPut.headers, connection: 'close' }), body] },
  ];
  const problems: string[] = [];
  for (const c of cases) {
    const res = await exchange(t.port, c.steps, { end: c.end, timeoutMs: 5000 });
    try {
      assertRefused(res, { note: c.note, allowClose: c.allowClose });
    } catch (err) {
      problems.push(`${c.note}: ${(err as Error).message.split('\n')[0]} [received ${JSON.stringify(res.raw.toString('latin1').slice(0, 80))}]`);
    }
    await assertIntact(c.note);
  }
  assert.deepEqual(problems, []);
});

// ---------------------------------------------------------------------------------------------
// Slow clients

test('clients that send half a request and stall do not stop the server from serving others', async () => {
  const host = `127.0.0.1:${t.port}`;
  const halfPut = await signRaw(t, { method: 'PUT', path: `/${Bucket}/slow/body`, headers: { 'content-length': String(1024 * KiB), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  const hangUp = new AbortController();
  const stalledOptions = { timeoutMs: 60_000, signal: hangUp.signal };
  const stalled = [
    exchange(t.port, [`PUT /${Bucket}/slow/line HT`], stalledOptions),
    exchange(t.port, [`GET /${Bucket}/base/a HTTP/1.1\r\nhost: ${host}\r\nx-amz-date: 2025`], stalledOptions),
    exchange(t.port, [head(halfPut.line, halfPut.headers), seededBytes(51, 300 * KiB)], stalledOptions),
    exchange(t.port, [head(halfPut.line, halfPut.headers), seededBytes(52, 10)], stalledOptions),
  ];
  try {
    await sleep(200);
    // Meanwhile: full write/read/delete cycles. A server blocked by the stalled sockets would never
    // answer them (the stalled ones stay open until these are done).
    const others = Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; i < 4; i++) {
          const Key = `slow/other-${w}-${i}`;
          const Body = seededBytes(100 + w * 10 + i, 20 * KiB);
          await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
          const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
          assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Body));
          await s3.send(new DeleteObjectCommand({ Bucket, Key }));
        }
        return true;
      }),
    );
    const served = await Promise.race([others, sleep(20_000).then(() => false)]);
    assert.ok(served, 'other clients were not served within 20 s while four clients stalled');
  } finally {
    hangUp.abort();
  }
  const results = await Promise.all(stalled);
  for (const r of results) {
    // Nothing answered a stalled request early, least of all with a success.
    assert.equal(r.responses.filter((x) => x.status < 400).length, 0, 'a stalled request got a success');
  }
  await assertIntact('stalled clients gone');
});
