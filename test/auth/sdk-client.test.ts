// The real AWS SDK for JavaScript v3 against a bare node:http server that only authenticates:
// what the SDK actually sends (aws-chunked with trailers, path and query encodings, presigned URLs).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { authenticate } from '../../src/auth/index.ts';
import { isS3Error } from '../../src/s3/errors.ts';
import { crc32Base64 } from './chunked-helpers.ts';
import { collect, CREDS, lookup, REGION } from './helpers.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  accessKeyId: string | null;
  body: Buffer;
  trailers: Map<string, string>;
  contentLength: number | undefined;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml', connection: 'close' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message.replace(/[<&]/g, '')}</Message></Error>`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const r = await authenticate(
      { method: req.method!, rawUrl: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: req },
      lookup,
      { region: REGION },
    );
    const body = await collect(r.body);
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, accessKeyId: r.accessKeyId, body, trailers: r.trailers, contentLength: r.contentLength });
    if (req.method === 'GET' && /[?&]list-type=2/.test(req.url!)) {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>');
    } else if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '2', etag: '"x"' });
      res.end('ok');
    } else {
      res.writeHead(200, { etag: '"etag"', 'content-length': '0' });
      res.end();
    }
  } catch (e) {
    if (isS3Error(e)) sendError(res, e.status, e.code, e.message);
    else sendError(res, 500, 'InternalError', String(e));
  }
}

before(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client(credentials = CREDS): S3Client {
  return new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials, maxAttempts: 1 });
}

const last = () => seen[seen.length - 1]!;

test('PutObject with a stream: STREAMING-UNSIGNED-PAYLOAD-TRAILER, crc32 trailer delivered', { timeout: 10_000 }, async () => {
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const chunks = [data.subarray(0, 100_000), data.subarray(100_000, 200_000), data.subarray(200_000)];
  await client().send(new PutObjectCommand({ Bucket: 'bucket', Key: 'streamed.bin', Body: Readable.from(chunks), ContentLength: data.length }));
  const s = last();
  assert.equal(s.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  assert.equal(s.accessKeyId, CREDS.accessKeyId);
  assert.equal(s.contentLength, data.length);
  assert.deepEqual(s.body, data);
  assert.equal(s.trailers.get('x-amz-checksum-crc32'), crc32Base64(data));
});

test('UploadPart with a stream and PutObject with a buffer', { timeout: 10_000 }, async () => {
  const part = Buffer.alloc(70_000, 'p');
  await client().send(new UploadPartCommand({ Bucket: 'bucket', Key: 'mp/obj', UploadId: 'upload+id/=1', PartNumber: 3, Body: Readable.from([part]), ContentLength: part.length }));
  assert.deepEqual(last().body, part);
  assert.match(last().url, /partNumber=3/);

  await client().send(new PutObjectCommand({ Bucket: 'bucket', Key: 'small.txt', Body: 'hello', ContentType: 'text/plain', Metadata: { note: 'a  b' } }));
  assert.equal(last().body.toString(), 'hello');
});

test('keys and query values with special characters', { timeout: 10_000 }, async () => {
  const keys = ['with space', 'plus+sign', 'percent%25', 'ünïcode/日本/🎉', 'a//b', 'x/../y', "!*'()", 'tilde~eq=amp&', 'trailing/'];
  for (const key of keys) {
    await client().send(new HeadObjectCommand({ Bucket: 'bucket', Key: key }));
    assert.equal(last().accessKeyId, CREDS.accessKeyId, key);
  }
  await client().send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'dir/a b+c&d=é', StartAfter: "!*'()~", Delimiter: '/' }));
  assert.equal(last().accessKeyId, CREDS.accessKeyId);
});

test('a wrong secret is refused with SignatureDoesNotMatch', { timeout: 10_000 }, async () => {
  await assert.rejects(
    client({ ...CREDS, secretAccessKey: 'wrong' }).send(new HeadObjectCommand({ Bucket: 'bucket', Key: 'k' })),
    (e: any) => e.$metadata?.httpStatusCode === 403,
  );
  await assert.rejects(
    client({ ...CREDS, secretAccessKey: 'wrong' }).send(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' })),
    (e: any) => e.name === 'SignatureDoesNotMatch',
  );
});

test('presigned GET and PUT URLs from @aws-sdk/s3-request-presigner', { timeout: 10_000 }, async () => {
  const url = await getSignedUrl(client(), new GetObjectCommand({ Bucket: 'bucket', Key: 'dir/a b+ü.txt', ResponseContentDisposition: 'attachment; filename="x.txt"' }), { expiresIn: 600 });
  const ok = await fetch(url);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal(last().accessKeyId, CREDS.accessKeyId);
  const tampered = await fetch(url.replace('filename', 'filenamf'));
  assert.equal(tampered.status, 403);
  assert.match(await tampered.text(), /SignatureDoesNotMatch/);

  const putUrl = await getSignedUrl(client(), new PutObjectCommand({ Bucket: 'bucket', Key: 'up.txt' }), { expiresIn: 600 });
  const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' });
  assert.equal(put.status, 200, await put.clone().text());
  assert.equal(last().body.toString(), 'presigned body');
});
