import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type CORSRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';
import { sdkSigner } from '../auth/helpers.ts';

// Bucket CORS rules through the SDK; preflights and actual requests as a browser sends them (fetch).

let server: TestServer;
let s3: S3Client;
const BUCKET = 'cors-bucket';
const SITE = 'https://app.example.com';

const RULES: CORSRule[] = [
  {
    ID: 'uploads',
    AllowedOrigins: [SITE, 'https://*.partner.example'],
    AllowedMethods: ['PUT', 'POST'],
    AllowedHeaders: ['Content-Type', 'x-amz-meta-*'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];

before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'public.txt', Body: 'hello', ACL: 'public-read' }));
});
after(() => server.stop());

function options(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/${path}`, { method: 'OPTIONS', headers });
}

async function errorOf(res: Response): Promise<{ code: string; message: string; body: string }> {
  const body = await res.text();
  return { code: /<Code>(.*?)<\/Code>/.exec(body)?.[1] ?? '', message: /<Message>(.*?)<\/Message>/.exec(body)?.[1] ?? '', body };
}

test('GetBucketCors without a configuration is NoSuchCORSConfiguration; preflights are refused', async () => {
  await expectS3Error(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })), 'NoSuchCORSConfiguration', 404);
  const res = await options(`${BUCKET}/public.txt`, { Origin: SITE, 'Access-Control-Request-Method': 'GET' });
  assert.equal(res.status, 403);
  const err = await errorOf(res);
  assert.equal(err.code, 'AccessForbidden');
  assert.equal(err.message, 'CORSResponse: CORS is not enabled for this bucket.');
  assert.match(err.body, /<Method>GET<\/Method><ResourceType>OBJECT<\/ResourceType>/);
  // An actual request with an Origin gets no CORS headers.
  const get = await fetch(`${server.url}/${BUCKET}/public.txt`, { headers: { Origin: SITE } });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('access-control-allow-origin'), null);
  await get.arrayBuffer();
});

test('put, get and delete a CORS configuration', async () => {
  await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
  assert.deepEqual(got.CORSRules, RULES);
  await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
  await expectS3Error(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })), 'NoSuchCORSConfiguration', 404);
  // Deleting again is fine, as in S3.
  await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
});

test('invalid configurations are refused with S3 errors and change nothing', async () => {
  const put = (rules: CORSRule[]) => s3.send(new PutBucketCorsCommand({ Bucket: 'cors-invalid', CORSConfiguration: { CORSRules: rules } }));
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-invalid' }));
  const bad = await expectS3Error(put([{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }]), 'InvalidRequest', 400);
  assert.equal(bad.message, 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH');
  const wild = await expectS3Error(put([{ AllowedOrigins: ['https://*.*.com'], AllowedMethods: ['GET'] }]), 'InvalidRequest', 400);
  assert.equal(wild.message, 'AllowedOrigin "https://*.*.com" can not have more than one wildcard.');
  await expectS3Error(put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] }]), 'InvalidRequest', 400);
  await expectS3Error(put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['*'] }]), 'InvalidRequest', 400);
  await expectS3Error(put([{ AllowedOrigins: [], AllowedMethods: ['GET'] }]), 'MalformedXML', 400);
  await expectS3Error(put([]), 'MalformedXML', 400);
  const many = Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }));
  await expectS3Error(put(many), 'MalformedXML', 400);
  await put(many.slice(0, 100));
  await expectS3Error(s3.send(new DeleteBucketCorsCommand({ Bucket: 'no-such-bucket-cors' })), 'NoSuchBucket', 404);

  // Raw bodies: not XML, unknown elements, a bad MaxAgeSeconds, a wrong Content-MD5, too large.
  const signer = sdkSigner({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, 'us-east-1');
  async function rawPut(body: string, extra: Record<string, string> = {}): Promise<{ status: number; code: string }> {
    const url = new URL(`${server.url}/cors-invalid?cors`);
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/cors-invalid',
      query: { cors: '' },
      headers: { host: url.host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...extra },
      body,
    });
    const res = await fetch(url, { method: 'PUT', headers: signed.headers, body });
    return { status: res.status, code: (await errorOf(res)).code };
  }
  const rule = '<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>';
  assert.deepEqual(await rawPut('not xml'), { status: 400, code: 'MalformedXML' });
  assert.deepEqual(await rawPut(`<CORSConfiguration><CORSRule>${rule}<Bogus>1</Bogus></CORSRule></CORSConfiguration>`), { status: 400, code: 'MalformedXML' });
  assert.deepEqual(await rawPut(`<CORSConfiguration><CORSRule>${rule}<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>`), { status: 400, code: 'MalformedXML' });
  const ok = `<CORSConfiguration><CORSRule>${rule}</CORSRule></CORSConfiguration>`;
  assert.deepEqual(await rawPut(ok, { 'content-md5': createHash('md5').update('other').digest('base64') }), { status: 400, code: 'BadDigest' });
  const huge = `<CORSConfiguration>${`<CORSRule>${rule}</CORSRule>`.repeat(1200)}</CORSConfiguration>`;
  assert.equal((await rawPut(huge)).status, 400);
  // Nothing above replaced the 100 rules stored before.
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-invalid' }));
  assert.equal(got.CORSRules?.length, 100);
  assert.deepEqual(await rawPut(ok, { 'content-md5': createHash('md5').update(ok).digest('base64') }), { status: 200, code: '' });
});

test('a preflight is answered from the first matching rule', async () => {
  const res = await options(`${BUCKET}/uploads/a.txt`, {
    Origin: SITE,
    'Access-Control-Request-Method': 'PUT',
    'Access-Control-Request-Headers': 'content-type, X-Amz-Meta-Owner',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), SITE);
  assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(res.headers.get('access-control-allow-methods'), 'PUT, POST');
  assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, x-amz-meta-owner');
  assert.equal(res.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');
  assert.equal(res.headers.get('access-control-max-age'), '600');
  assert.equal(res.headers.get('vary'), 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  assert.equal(await res.text(), '');

  // A wildcard origin: the origin is echoed; the open rule answers '*' without credentials.
  const partner = await options(BUCKET, { Origin: 'https://shop.partner.example', 'Access-Control-Request-Method': 'POST' });
  assert.equal(partner.status, 200);
  assert.equal(partner.headers.get('access-control-allow-origin'), 'https://shop.partner.example');
  const open = await options(`${BUCKET}/x`, { Origin: 'https://anyone.test', 'Access-Control-Request-Method': 'GET' });
  assert.equal(open.status, 200);
  assert.equal(open.headers.get('access-control-allow-origin'), '*');
  assert.equal(open.headers.get('access-control-allow-credentials'), null);
  assert.equal(open.headers.get('access-control-allow-methods'), 'GET, HEAD');
  assert.equal(open.headers.get('access-control-max-age'), null);
});

test('preflights that no rule allows, or that lack information, are refused as S3 does', async () => {
  const notAllowed =
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
  const refused: Array<Record<string, string>> = [
    { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'PUT' }, // origin
    { Origin: SITE, 'Access-Control-Request-Method': 'DELETE' }, // method
    { Origin: SITE, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization' }, // header
    { Origin: 'https://APP.example.com', 'Access-Control-Request-Method': 'PUT' }, // origins are case-sensitive
    // The open rule allows no headers at all.
    { Origin: 'https://anyone.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
  ];
  for (const headers of refused) {
    const res = await options(`${BUCKET}/k`, headers);
    assert.equal(res.status, 403, JSON.stringify(headers));
    const err = await errorOf(res);
    assert.equal(err.code, 'AccessForbidden');
    assert.equal(err.message.replace(/&apos;/g, "'"), notAllowed);
  }
  const noOrigin = await options(`${BUCKET}/k`, { 'Access-Control-Request-Method': 'GET' });
  assert.equal(noOrigin.status, 400);
  assert.deepEqual(await errorOf(noOrigin).then((e) => [e.code, e.message]), ['BadRequest', 'Insufficient information. Origin request header needed.']);
  const noMethod = await options(`${BUCKET}/k`, { Origin: SITE });
  assert.equal(noMethod.status, 400);
  assert.equal((await errorOf(noMethod)).message, 'Invalid Access-Control-Request-Method: null');
  const badMethod = await options(`${BUCKET}/k`, { Origin: SITE, 'Access-Control-Request-Method': 'PATCH' });
  assert.equal((await errorOf(badMethod)).message, 'Invalid Access-Control-Request-Method: PATCH');
  const noBucket = await options('no-such-cors-bucket/k', { Origin: SITE, 'Access-Control-Request-Method': 'GET' });
  assert.equal(noBucket.status, 403);
  assert.equal((await errorOf(noBucket)).message, 'CORSResponse: Bucket not found');
});

test('actual requests from an allowed origin carry the Access-Control headers', async () => {
  const get = await fetch(`${server.url}/${BUCKET}/public.txt`, { headers: { Origin: 'https://anyone.test' } });
  assert.equal(get.status, 200);
  assert.equal(await get.text(), 'hello');
  assert.equal(get.headers.get('access-control-allow-origin'), '*');
  assert.equal(get.headers.get('access-control-allow-methods'), 'GET, HEAD');
  assert.equal(get.headers.get('vary'), 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  const head = await fetch(`${server.url}/${BUCKET}/public.txt`, { method: 'HEAD', headers: { Origin: SITE } });
  assert.equal(head.headers.get('access-control-allow-origin'), '*');
  // Without an Origin (not a cross-origin request) no CORS headers and no Vary.
  const plain = await fetch(`${server.url}/${BUCKET}/public.txt`);
  assert.equal(plain.headers.get('access-control-allow-origin'), null);
  assert.equal(plain.headers.get('vary'), null);
  await plain.arrayBuffer();
  // Anonymous PUT to a private bucket: denied (nothing stored), but with the matching rule's headers,
  // as S3 sends them, so the page can read the error.
  const put = await fetch(`${server.url}/${BUCKET}/x.txt`, { method: 'PUT', headers: { Origin: SITE }, body: 'x' });
  assert.equal(put.status, 403);
  assert.equal(put.headers.get('access-control-allow-origin'), SITE);
  assert.match(await put.text(), /<Code>AccessDenied<\/Code>/);
  const missing = await fetch(`${server.url}/${BUCKET}/nope.txt`, { headers: { Origin: 'https://anyone.test' } });
  assert.equal(missing.status, 403);
  assert.equal(missing.headers.get('access-control-allow-origin'), '*');
  await missing.arrayBuffer();
  // An origin no rule allows gets the error without them.
  const stranger = await fetch(`${server.url}/${BUCKET}/x.txt`, { method: 'PUT', headers: { Origin: 'https://evil.test' }, body: 'x' });
  assert.equal(stranger.status, 403);
  assert.equal(stranger.headers.get('access-control-allow-origin'), null);
  await stranger.arrayBuffer();
});
