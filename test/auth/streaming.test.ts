import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { authenticate } from '../../src/auth/index.ts';
import { crc32Base64, signedChunked, unsignedChunked, type ChunkSigner } from './chunked-helpers.ts';
import { collect, collectError, CREDS, input, lookup, opts, pieces, REGION, s3code, signHeaders, signingKey } from './helpers.ts';

const payload = Buffer.alloc(200_000);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
const parts = [payload.subarray(0, 65536), payload.subarray(65536, 131072), payload.subarray(131072)];

async function streamingHeaders(mode: string, extra: Record<string, string> = {}) {
  const headers = await signHeaders({
    method: 'PUT',
    path: '/bucket/big.bin',
    headers: {
      'x-amz-content-sha256': mode,
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(payload.length),
      ...extra,
    },
  });
  const seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!;
  const amzDate = headers['x-amz-date']!;
  const signer: ChunkSigner = { key: signingKey(CREDS.secretAccessKey, amzDate.slice(0, 8)), amzDate, scope: `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`, seed };
  return { headers, signer };
}

test('AWS documentation chunked upload example verifies end to end', { timeout: 10_000 }, async () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const docLookup = async (id: string) => (id === 'AKIAIOSFODNN7EXAMPLE' ? { accessKeyId: id, secretAccessKey: secret } : undefined);
  const headers = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,' +
      'Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  };
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
  const r = await authenticate(input('PUT', '/examplebucket/chunkObject.txt', headers, pieces(body, 8192)), docLookup, {
    region: 'us-east-1',
    now: () => Date.UTC(2013, 4, 24, 0, 1),
  });
  assert.equal(r.contentLength, 66560);
  assert.deepEqual(await collect(r.body), Buffer.alloc(66560, 'a'));
});

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: SDK-signed headers, chunks signed off the seed', { timeout: 10_000 }, async () => {
  const { headers, signer } = await streamingHeaders('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const body = signedChunked(signer, parts);
  const r = await authenticate(input('PUT', '/bucket/big.bin', headers, pieces(body, 16384)), lookup, opts);
  assert.equal(r.accessKeyId, CREDS.accessKeyId);
  assert.equal(r.contentLength, payload.length);
  assert.deepEqual(await collect(r.body), payload);

  const tampered = Buffer.from(body);
  tampered[100_000] ^= 0x40;
  const bad = await authenticate(input('PUT', '/bucket/big.bin', headers, pieces(tampered, 16384)), lookup, opts);
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(bad.body)));

  // Chunks signed with another seed (a replayed body) fail.
  const replay = signedChunked({ ...signer, seed: '0'.repeat(64) }, parts);
  const r3 = await authenticate(input('PUT', '/bucket/big.bin', headers, replay), lookup, opts);
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(r3.body)));

  const truncated = await authenticate(input('PUT', '/bucket/big.bin', headers, body.subarray(0, 150_000)), lookup, opts);
  assert.ok(s3code('IncompleteBody')(await collectError(truncated.body)));
});

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with a signed crc32 trailer', { timeout: 10_000 }, async () => {
  const { headers, signer } = await streamingHeaders('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { 'x-amz-trailer': 'x-amz-checksum-crc32' });
  const crc = crc32Base64(payload);
  const body = signedChunked(signer, parts, [['x-amz-checksum-crc32', crc]]);
  const r = await authenticate(input('PUT', '/bucket/big.bin', headers, pieces(body, 10000)), lookup, opts);
  assert.deepEqual(await collect(r.body), payload);
  assert.equal(r.trailers.get('x-amz-checksum-crc32'), crc);

  const forged = Buffer.from(body.toString('latin1').replace(crc, crc32Base64(Buffer.from('x'))), 'latin1');
  const bad = await authenticate(input('PUT', '/bucket/big.bin', headers, forged), lookup, opts);
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(bad.body)));
});

test('STREAMING-UNSIGNED-PAYLOAD-TRAILER (AWS SDK v3 default for streams) with crc32 trailer', { timeout: 10_000 }, async () => {
  const { headers } = await streamingHeaders('STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-trailer': 'x-amz-checksum-crc32' });
  const crc = crc32Base64(payload);
  const body = unsignedChunked(parts, [['x-amz-checksum-crc32', crc]]);
  const r = await authenticate(input('PUT', '/bucket/big.bin', headers, pieces(body, 4096)), lookup, opts);
  assert.equal(r.contentLength, payload.length);
  const seenAtEnd: string[] = [];
  r.body.on('end', () => seenAtEnd.push(r.trailers.get('x-amz-checksum-crc32') ?? 'none'));
  assert.deepEqual(await collect(r.body), payload);
  assert.deepEqual(seenAtEnd, [crc]);

  const short = await authenticate(input('PUT', '/bucket/big.bin', headers, unsignedChunked([parts[0]!], [['x-amz-checksum-crc32', crc]])), lookup, opts);
  assert.ok(s3code('IncompleteBody')(await collectError(short.body)));
});

test('a client that disconnects mid-body fails the stream with IncompleteBody; a bad body leaves the socket to the HTTP layer', { timeout: 10_000 }, async () => {
  const { headers, signer } = await streamingHeaders('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const body = signedChunked(signer, parts);
  const raw = new PassThrough();
  const r = await authenticate(input('PUT', '/bucket/big.bin', headers, raw), lookup, opts);
  const failed = collectError(r.body);
  raw.write(body.subarray(0, 70_000));
  setImmediate(() => raw.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
  assert.ok(s3code('IncompleteBody')(await failed));

  const tampered = Buffer.from(body);
  tampered[10] ^= 1;
  const raw2 = Readable.from(pieces(tampered, 1000));
  const r2 = await authenticate(input('PUT', '/bucket/big.bin', headers, raw2), lookup, opts);
  assert.ok(await collectError(r2.body));
  assert.equal(raw2.destroyed, false, 'raw request body is not destroyed by auth');
});

test('x-amz-decoded-content-length is checked; invalid values are refused', { timeout: 10_000 }, async () => {
  const { headers } = await streamingHeaders('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  const body = unsignedChunked(parts.slice(0, 2), []);
  const r = await authenticate(input('PUT', '/bucket/big.bin', headers, body), lookup, opts);
  assert.ok(s3code('IncompleteBody')(await collectError(r.body)));

  const bogus = await streamingHeaders('STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-decoded-content-length': '12abc' });
  await assert.rejects(authenticate(input('PUT', '/bucket/big.bin', bogus.headers, body), lookup, opts), s3code('InvalidArgument'));
});
