import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Agent } from 'node:https';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
let server: TestServer;
let ca: Buffer;
before(async () => {
  server = await startTestServer({ extraArgs: ['--tls-self-signed', '--http-port', '0'] });
  ca = await readFile(server.tlsCertFile!);
});
after(() => server.stop());

function rawHttp(url: string, method: string, body?: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the S3 API is served over HTTPS with the generated certificate', async () => {
  assert.match(server.url, /^https:\/\//);
  const s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }),
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'secure' }));
    await s3.send(new PutObjectCommand({ Bucket: 'secure', Key: 'k', Body: 'over tls' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'secure', Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'over tls');
  } finally {
    s3.destroy();
  }
  // Without the CA the certificate is not trusted.
  await assert.rejects(fetch(`${server.url}/`), /fetch failed/);
});

test('plain HTTP only redirects: 301 for GET/HEAD, 307 otherwise, same path on HTTPS', async () => {
  const httpsPort = new URL(server.url).port;
  const get = await rawHttp(`${server.redirectUrl}/secure/k?x=1`, 'GET');
  assert.equal(get.status, 301);
  assert.equal(get.location, `https://127.0.0.1:${httpsPort}/secure/k?x=1`);
  const head = await rawHttp(`${server.redirectUrl}/secure/k`, 'HEAD');
  assert.equal(head.status, 301);
  const put = await rawHttp(`${server.redirectUrl}/secure/new`, 'PUT', 'body that must not be stored');
  assert.equal(put.status, 307);
  assert.equal(put.location, `https://127.0.0.1:${httpsPort}/secure/new`);
  const del = await rawHttp(`${server.redirectUrl}/secure/k`, 'DELETE');
  assert.equal(del.status, 307);
  assert.equal(get.body, '');
});

test('the AWS CLI works over HTTPS with the CA bundle', async (t) => {
  const aws = await run('aws', ['--version']).catch(() => undefined);
  if (!aws) return t.skip('aws cli not installed');
  const env = { ...process.env, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  const common = ['--endpoint-url', server.url, '--ca-bundle', server.tlsCertFile!];
  const ls = await run('aws', ['s3', 'ls', 's3://secure', ...common], { env });
  assert.match(ls.stdout, /\bk\b/);
  const cp = await run('aws', ['s3', 'cp', 's3://secure/k', '-', ...common], { env });
  assert.equal(cp.stdout, 'over tls');
});

test('without TLS the server refuses a non-loopback address unless --insecure-http', async () => {
  const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
  const r = await run(process.execPath, [cli, 'server', '--address', '0.0.0.0', '--port', '0', '--data-dir', `${server.dataDir}-insecure`], { timeout: 20_000 }).catch((e) => e as { code: number; stderr: string });
  assert.notEqual((r as { code: number }).code, 0);
  assert.match((r as { stderr: string }).stderr, /refusing plain HTTP/);
});

test('SIGHUP reloads the certificate files', async () => {
  const { mkdtemp, copyFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { connect } = await import('node:tls');
  const { ensureSelfSigned } = await import('../../src/http/tls.ts');
  const dir = await mkdtemp(join(tmpdir(), 'oort-tls-'));
  const first = await ensureSelfSigned(join(dir, 'a'), [], '127.0.0.1');
  const second = await ensureSelfSigned(join(dir, 'b'), [], '127.0.0.1');
  const live = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  await copyFile(first.cert, live.cert);
  await copyFile(first.key, live.key);
  const s = await startTestServer({ extraArgs: ['--tls-cert', live.cert, '--tls-key', live.key] });
  const fingerprint = () =>
    new Promise<string>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: s.port, rejectUnauthorized: false }, () => {
        resolve(sock.getPeerCertificate().fingerprint256);
        sock.end();
      });
      sock.on('error', reject);
    });
  try {
    const before = await fingerprint();
    await copyFile(second.cert, live.cert);
    await copyFile(second.key, live.key);
    s.process.kill('SIGHUP');
    for (let i = 0; i < 50 && !/TLS certificate reloaded/.test(s.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    const after = await fingerprint();
    assert.notEqual(after, before);
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
