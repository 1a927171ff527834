import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  DeletePublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';
import { adminClient, newAccount } from '../helpers/admin.ts';
import { exchange, head, parseResponses, type RawResponse } from '../helpers/raw-http.ts';
import { AdminClient } from '../../src/cli/admin-client.ts';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

type Keys = { id: string; accessKeyId: string; secretAccessKey: string };

let server: TestServer;
let alice: Keys;
let bob: Keys;
let s3: S3Client;
const BODY = 'The quick brown fox jumps over the lazy dog';

before(async () => {
  server = await startTestServer({ extraArgs: ['--share-max-expiry', '1d'] });
  [alice, bob] = await Promise.all([newAccount(server, 'alice'), newAccount(server, 'bob')]);
  s3 = server.client({ credentials: alice });
  await s3.send(new CreateBucketCommand({ Bucket: 'photos' }));
  await Promise.all(
    [
      ['album/fox.txt', BODY],
      ['album/sub/deep.txt', 'deep'],
      ['album/ünï cödé %2F.txt', 'unicode'],
      ['album/', ''],
      ['secret.txt', 'not shared'],
      ['albumx/sibling.txt', 'not shared either'],
    ].map(([Key, Body]) => s3.send(new PutObjectCommand({ Bucket: 'photos', Key, Body: Buffer.from(Body!), ContentType: 'text/plain' }))),
  );
});
after(() => server.stop());

/** The owner API as an account's own key signs it. */
function api(keys: Keys): AdminClient {
  return new AdminClient({ endpoint: server.url, accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, region: 'us-east-1', basePath: '/_oort/api/v1/' });
}

async function share(keys: Keys, body: Record<string, unknown>): Promise<{ id: string; url: string; token: string }> {
  const r = await api(keys).call('POST', 'shares', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return (r.body as { share: { id: string; url: string; token: string } }).share;
}

async function cli(keys: Keys, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, 'share', ...args], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_ENDPOINT_URL: server.url },
  });
  return stdout;
}

/** curl, with the response head and body split. */
async function curl(...args: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-i', ...args], { encoding: 'latin1' });
  const end = stdout.indexOf('\r\n\r\n');
  const lines = stdout.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: Buffer.from(stdout.slice(end + 4), 'latin1').toString('utf8') };
}

/** A GET sent byte for byte as written (no client folds `..` or re-encodes anything). */
async function rawGet(path: string): Promise<RawResponse> {
  const res = await exchange(server.port, [head(`GET ${path} HTTP/1.1`, { host: `127.0.0.1:${server.port}`, connection: 'close' })], { end: true });
  return parseResponses(res.raw)[0]!;
}

function errorCode(body: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
}

test('an object link made with the CLI: curl whole, ranged, conditional; fetch; listed; revoked at once', async () => {
  const created = await cli(alice, 'create', 's3://photos/album/fox.txt', '--expires', '2h');
  const [url, details] = created.trim().split('\n');
  assert.match(url!, new RegExp(`^${server.url}/share/[A-Za-z0-9_-]{32,}$`));
  const id = /^id (\S+) /.exec(details!)![1]!;

  const whole = await curl(url!);
  assert.equal(whole.status, 200);
  assert.equal(whole.body, BODY);
  assert.equal(whole.headers['content-type'], 'text/plain');
  assert.match(whole.headers['content-disposition']!, /filename\*=UTF-8''fox\.txt/);
  const etag = whole.headers['etag']!;

  const ranged = await curl('-r', '4-8', url!);
  assert.equal(ranged.status, 206);
  assert.equal(ranged.body, 'quick');
  assert.equal(ranged.headers['content-range'], `bytes 4-8/${BODY.length}`);

  assert.equal((await curl('-H', `If-None-Match: ${etag}`, url!)).status, 304);
  assert.equal((await curl('-H', `If-Modified-Since: ${new Date(Date.now() + 60_000).toUTCString()}`, url!)).status, 304);
  const refused = await curl('-H', 'If-Match: "0123"', url!);
  assert.equal(refused.status, 412);
  assert.equal(errorCode(refused.body), 'PreconditionFailed');

  const fetched = await fetch(url!, { headers: { range: 'bytes=-3' } });
  assert.equal(fetched.status, 206);
  assert.equal(await fetched.text(), 'dog');
  const headed = await fetch(url!, { method: 'HEAD' });
  assert.equal(headed.status, 200);
  assert.equal(headed.headers.get('content-length'), String(BODY.length));

  // The link reaches nothing but its object.
  assert.equal((await curl(`${url}/other`)).status, 404);
  assert.equal((await fetch(url!, { method: 'DELETE' })).status, 405);

  assert.match(await cli(alice, 'list'), new RegExp(`^${id}  \\S+  s3://photos/album/fox.txt$`, 'm'));
  assert.deepEqual((await api(bob).call('GET', 'shares')).body, { shares: [] });
  assert.match(await cli(alice, 'revoke', id), /revoked/);
  const gone = await curl(url!);
  assert.equal(gone.status, 403);
  assert.equal(errorCode(gone.body), 'AccessDenied');
  assert.doesNotMatch(await cli(alice, 'list'), new RegExp(id));
  assert.equal((await api(alice).call('DELETE', `shares/${id}`)).status, 404);
});

test('unknown tokens and expired links are 403 AccessDenied', async () => {
  for (const path of ['/share/nonsense', '/share/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/share/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x']) {
    const r = await curl(`${server.url}${path}`);
    assert.equal(r.status, 403, path);
    assert.equal(errorCode(r.body), 'AccessDenied', path);
  }
  const link = await share(alice, { bucket: 'photos', key: 'album/fox.txt', expiresInSeconds: 1 });
  assert.equal((await fetch(link.url)).status, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await fetch(link.url);
  assert.equal(expired.status, 403);
  assert.equal(errorCode(await expired.text()), 'AccessDenied');
  assert.equal(((await api(alice).call('GET', 'shares')).body as { shares: { id: string }[] }).shares.some((s) => s.id === link.id), false);
});

test('creation is checked: access, existence, lifetime, signature', async () => {
  const denied = await api(bob).call('POST', 'shares', { bucket: 'photos', key: 'album/fox.txt' });
  assert.equal(denied.status, 403);
  assert.equal((denied.body as { error: { code: string } }).error.code, 'AccessDenied');
  assert.equal((await api(bob).call('POST', 'shares', { bucket: 'photos', prefix: 'album/' })).status, 403);
  const missing = await api(alice).call('POST', 'shares', { bucket: 'photos', key: 'album/none.txt' });
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { error: { code: string } }).error.code, 'NoSuchKey');
  assert.equal((await api(alice).call('POST', 'shares', { bucket: 'nope-bucket', key: 'k' })).status, 404);
  assert.equal((await api(alice).call('POST', 'shares', { bucket: 'photos', key: 'album/fox.txt', expiresInSeconds: 86_401 })).status, 400);
  assert.equal((await api(alice).call('POST', 'shares', { bucket: 'photos', key: 'a', prefix: 'b/' })).status, 400);
  assert.equal((await api(alice).call('POST', 'shares', { bucket: 'photos', prefix: 'no-slash' })).status, 400);
  const anonymous = await fetch(`${server.url}/_oort/api/v1/shares`, { method: 'POST', body: '{}' });
  assert.equal(anonymous.status, 403);
  // The default lifetime is 12 hours.
  const r = await api(alice).call('POST', 'shares', { bucket: 'photos', key: 'album/fox.txt' });
  const s = (r.body as { share: { createdAt: string; expiresAt: string } }).share;
  assert.equal(Date.parse(s.expiresAt) - Date.parse(s.createdAt), 12 * 3600 * 1000);
  // `share` can never be a bucket, so /share/... is never ambiguous.
  await expectS3Error(server.client().send(new CreateBucketCommand({ Bucket: 'share' })), 'BucketAlreadyExists', 409);
});

test('a link outlives key rotation, stops while the owner is suspended, 404s once the object is gone', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'rotate.txt', Body: 'rotate' }));
  const link = await share(alice, { bucket: 'photos', key: 'rotate.txt' });
  const admin = adminClient(server);
  const fresh = await admin.call('POST', `accounts/${alice.id}/keys`);
  assert.equal(fresh.status, 201);
  assert.equal((await admin.call('DELETE', `keys/${alice.accessKeyId}`)).status, 204);
  assert.equal(await (await fetch(link.url)).text(), 'rotate');
  const k = fresh.body as { key: { accessKeyId: string }; secretAccessKey: string };
  alice = { id: alice.id, accessKeyId: k.key.accessKeyId, secretAccessKey: k.secretAccessKey };
  s3 = server.client({ credentials: alice });

  assert.equal((await admin.call('POST', `accounts/${alice.id}/suspend`)).status, 200);
  assert.equal((await fetch(link.url)).status, 403);
  assert.equal((await admin.call('POST', `accounts/${alice.id}/activate`)).status, 200);
  assert.equal((await fetch(link.url)).status, 200);

  await s3.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'rotate.txt' }));
  const gone = await fetch(link.url);
  assert.equal(gone.status, 404);
  assert.equal(errorCode(await gone.text()), 'NoSuchKey');
});

test("a link made through a grant stops when the grant is withdrawn", async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'granted.txt', Body: 'granted' }));
  await s3.send(new PutObjectAclCommand({ Bucket: 'photos', Key: 'granted.txt', GrantRead: `id=${bob.id}` }));
  const link = await share(bob, { bucket: 'photos', key: 'granted.txt' });
  assert.equal(await (await fetch(link.url)).text(), 'granted');
  await s3.send(new PutObjectAclCommand({ Bucket: 'photos', Key: 'granted.txt', ACL: 'private' }));
  assert.equal((await fetch(link.url)).status, 403);
});

test('a folder link lists (HTML, JSON) and serves what is under its prefix, and nothing else', async () => {
  const link = await share(alice, { bucket: 'photos', prefix: 'album/' });
  const json = await fetch(`${link.url}?format=json`);
  assert.equal(json.status, 200);
  const listing = (await json.json()) as { folder: string; objects: { key: string; url: string; size: number }[]; folders: { prefix: string; url: string }[] };
  assert.equal(listing.folder, '');
  assert.deepEqual(listing.objects.map((o) => o.key), ['fox.txt', 'ünï cödé %2F.txt']);
  assert.deepEqual(listing.folders.map((f) => f.prefix), ['sub/']);
  for (const o of listing.objects) assert.equal((await fetch(new URL(o.url, server.url))).status, 200, o.key);
  const sub = (await (await fetch(new URL(`${listing.folders[0]!.url}?format=json`, server.url))).json()) as { folder: string; objects: { key: string }[] };
  assert.equal(sub.folder, 'sub/');
  assert.deepEqual(sub.objects.map((o) => o.key), ['sub/deep.txt']);

  const page2 = (await (await fetch(`${link.url}?format=json&after=fox.txt`)).json()) as typeof listing;
  assert.deepEqual([page2.objects.map((o) => o.key), page2.folders.map((f) => f.prefix)], [['ünï cödé %2F.txt'], ['sub/']]);

  const html = await curl(`${link.url}/`);
  assert.equal(html.status, 200);
  assert.match(html.headers['content-type']!, /text\/html/);
  assert.match(html.body, /ünï cödé %2F\.txt/);
  assert.doesNotMatch(html.body, /photos|secret/);

  const ranged = await curl('-r', '0-2', `${link.url}/fox.txt`);
  assert.equal(ranged.status, 206);
  assert.equal(ranged.body, 'The');
  assert.equal((await curl(`${link.url}/sub/deep.txt`)).body, 'deep');

  // Keys are names, never paths: `..`, encoded slashes and dots stay under the prefix (missing keys).
  const token = link.token;
  for (const path of [
    `/share/${token}/../secret.txt`,
    `/share/${token}/..%2Fsecret.txt`,
    `/share/${token}/%2E%2E%2Fsecret.txt`,
    `/share/${token}/%2F..%2F..%2Fsecret.txt`,
    `/share/${token}/..%2Falbumx%2Fsibling.txt`,
    `/share/${token}/../../photos/secret.txt`,
  ]) {
    const r = await rawGet(path);
    assert.equal(r.status, 404, path);
    assert.equal(errorCode(r.body.toString()), 'NoSuchKey', path);
  }
  // curl folds `..` itself unless told not to; either way nothing outside the prefix comes back.
  const folded = await curl(`${server.url}/share/${token}/../secret.txt`);
  assert.equal(folded.status, 403);
  assert.equal((await curl('--path-as-is', `${server.url}/share/${token}/../secret.txt`)).status, 404);
  const listingUp = await rawGet(`/share/${token}/..%2F?format=json`);
  assert.equal(listingUp.status, 200);
  assert.deepEqual(JSON.parse(listingUp.body.toString()).objects, []);

  // A link to a whole bucket lists its top level.
  const all = await share(alice, { bucket: 'photos', prefix: '' });
  const top = (await (await fetch(`${all.url}?format=json`)).json()) as { objects: { key: string }[]; folders: { prefix: string }[] };
  assert.ok(top.objects.some((o) => o.key === 'secret.txt'));
  assert.deepEqual(top.folders.map((f) => f.prefix), ['album/', 'albumx/']);
});

test('the public-read switch writes the bucket policy; anonymous curl reads under the prefix only', async () => {
  const path = (prefix: string) => `buckets/photos/public?prefix=${encodeURIComponent(prefix)}`;
  const anon = async (key: string) => (await curl(`${server.url}/photos/${key}`)).status;
  assert.equal(await anon('album/fox.txt'), 403);

  const on = await api(alice).call('PUT', path('album/'));
  assert.equal(on.status, 200, JSON.stringify(on.body));
  assert.deepEqual(on.body, { bucket: 'photos', prefixes: ['album/'] });
  const fox = await curl(`${server.url}/photos/album/fox.txt`);
  assert.equal(fox.status, 200);
  assert.equal(fox.body, BODY);
  assert.equal(await anon('album/sub/deep.txt'), 200);
  assert.equal(await anon('secret.txt'), 403);
  assert.equal(await anon('albumx/sibling.txt'), 403);
  assert.equal((await curl(`${server.url}/photos?list-type=2`)).status, 403, 'reading is not listing');

  // One state: the S3 API reads the same policy the switch wrote.
  const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'photos' }))).Policy!) as { Statement: { Resource: string }[] };
  assert.deepEqual(policy.Statement.map((st) => st.Resource), ['arn:aws:s3:::photos/album/*']);
  assert.deepEqual((await api(alice).call('GET', 'buckets/photos/public')).body, { bucket: 'photos', prefixes: ['album/'] });

  assert.equal((await api(bob).call('PUT', path(''))).status, 403);
  assert.equal((await api(bob).call('GET', 'buckets/photos/public')).status, 403);
  assert.equal((await api(alice).call('PUT', path('bad*'))).status, 400);
  assert.equal((await api(alice).call('PUT', 'buckets/no-such-bucket-x/public')).status, 404);

  const off = await api(alice).call('DELETE', path('album/'));
  assert.deepEqual(off.body, { bucket: 'photos', prefixes: [] });
  assert.equal(await anon('album/fox.txt'), 403);
  await expectS3Error(s3.send(new GetBucketPolicyCommand({ Bucket: 'photos' })), 'NoSuchBucketPolicy', 404);

  // BlockPublicPolicy refuses the switch, as it refuses a public PutBucketPolicy.
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'photos', PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
  assert.equal((await api(alice).call('PUT', path(''))).status, 403);
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'photos' }));
});
