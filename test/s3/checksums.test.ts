import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
const Bucket = 'sums';
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
after(() => server.stop());

function crc32b64(data: string): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(Buffer.from(data)) >>> 0);
  return b.toString('base64');
}

test('every algorithm: the SDK computes it (trailer), the server verifies, stores and returns it', async () => {
  const body = 'checksummed content '.repeat(100);
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as ChecksumAlgorithm[]) {
    const Key = `alg-${alg}`;
    const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ChecksumAlgorithm: alg }));
    const field = `Checksum${alg}` as 'ChecksumCRC32';
    assert.ok(put[field], `${alg} returned on put`);
    const get = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
    assert.equal(await get.Body!.transformToString(), body);
    assert.equal(get[field], put[field], alg);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
    assert.equal(head[field], put[field], alg);
  }
  const sha = await s3.send(new HeadObjectCommand({ Bucket, Key: 'alg-SHA256', ChecksumMode: 'ENABLED' }));
  assert.equal(sha.ChecksumSHA256, createHash('sha256').update(body).digest('base64'));
  const crc = await s3.send(new HeadObjectCommand({ Bucket, Key: 'alg-CRC32', ChecksumMode: 'ENABLED' }));
  assert.equal(crc.ChecksumCRC32, crc32b64(body));
});

test('a checksum given in a header is verified: a wrong value is BadDigest and stores nothing', async () => {
  const body = 'header checksum';
  await s3.send(new PutObjectCommand({ Bucket, Key: 'hdr', Body: body, ChecksumCRC32: crc32b64(body) }));
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'hdr-bad', Body: body, ChecksumCRC32: crc32b64('different') })), 'BadDigest', 400);
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'hdr-bad' })), 'NoSuchKey', 404);
  const sha = createHash('sha256').update('nope').digest('base64');
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'hdr-bad', Body: body, ChecksumSHA256: sha })), 'BadDigest', 400);
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'hdr-bad', Body: body, ChecksumCRC32: 'xx' })), 'InvalidRequest', 400);
});

test('without checksum mode no checksum headers are returned; ranged reads never carry the whole-object checksum', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: 'quiet', Body: 'abcdef', ChecksumAlgorithm: 'CRC32' }));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'quiet' }));
  assert.equal(head.ChecksumCRC32, undefined);
  const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: 'quiet', Range: 'bytes=0-1', ChecksumMode: 'ENABLED' }));
  assert.equal(ranged.ChecksumCRC32, undefined);
  assert.equal(await ranged.Body!.transformToString(), 'ab');
});

test('a client that sends no checksum at all (when_required) still works', async () => {
  const plain = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await plain.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'no checksum' }));
    const get = await plain.send(new GetObjectCommand({ Bucket, Key: 'plain' }));
    assert.equal(await get.Body!.transformToString(), 'no checksum');
  } finally {
    plain.destroy();
  }
});
