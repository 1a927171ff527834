import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectS3Error } from '../helpers/errors.ts';

let server: TestServer;
let s3: S3Client;
const Bucket = 'multi';
const MiB = 1024 * 1024;
before(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
});
after(() => server.stop());

/** Deterministic bytes: part i filled with a pattern that differs per part and position. */
function partBytes(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j + 4 <= size; j += 4) b.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
  b.fill(i & 0xff, size - (size % 4));
  return b;
}

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
function s3Etag(parts: Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `"${h.digest('hex')}-${parts.length}"`;
}

async function upload(Key: string, parts: Buffer[], extra: Record<string, unknown> = {}) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...extra }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag!, ChecksumCRC32: r.ChecksumCRC32 });
  }
  return { UploadId: UploadId!, done };
}

test('create, upload parts, complete: S3 ETag, bytes, metadata, partNumber reads', async () => {
  const parts = [partBytes(1, 5 * MiB), partBytes(2, 5 * MiB), partBytes(3, 1234)];
  const { UploadId, done } = await upload('big/object.bin', parts, { ContentType: 'application/x-test', Metadata: { origin: 'mpu' } });
  const listed = await s3.send(new ListPartsCommand({ Bucket, Key: 'big/object.bin', UploadId }));
  assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), done.map((d, i) => [d.PartNumber, parts[i]!.length, `"${md5hex(parts[i]!)}"`]));
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'big/object.bin' })), 'NoSuchKey', 404);
  const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'big/object.bin', UploadId, MultipartUpload: { Parts: done } }));
  assert.equal(r.ETag, s3Etag(parts));
  const all = Buffer.concat(parts);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/object.bin' }));
  assert.equal(got.ETag, s3Etag(parts));
  assert.equal(got.ContentType, 'application/x-test');
  assert.deepEqual(got.Metadata, { origin: 'mpu' });
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  assert.ok(bytes.equals(all));
  // A range across the part boundary.
  const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/object.bin', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
  assert.ok(Buffer.from(await ranged.Body!.transformToByteArray()).equals(all.subarray(5 * MiB - 10, 5 * MiB + 10)));
  const p2 = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/object.bin', PartNumber: 2 }));
  assert.equal(p2.PartsCount, 3);
  assert.equal(p2.ContentRange, `bytes ${5 * MiB}-${10 * MiB - 1}/${all.length}`);
  assert.ok(Buffer.from(await p2.Body!.transformToByteArray()).equals(parts[1]!));
  const h3 = await s3.send(new HeadObjectCommand({ Bucket, Key: 'big/object.bin', PartNumber: 3 }));
  assert.equal(h3.ContentLength, 1234);
  assert.equal(h3.PartsCount, 3);
  await expectS3Error(s3.send(new ListPartsCommand({ Bucket, Key: 'big/object.bin', UploadId })), 'NoSuchUpload', 404);
});

test('complete errors: InvalidPartOrder, InvalidPart, EntityTooSmall, NoSuchUpload', async () => {
  const parts = [partBytes(4, 5 * MiB), partBytes(5, 100)];
  const { UploadId, done } = await upload('errs', parts);
  const send = (Parts: typeof done) => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'errs', UploadId, MultipartUpload: { Parts } }));
  await expectS3Error(send([done[1]!, done[0]!]), 'InvalidPartOrder', 400);
  await expectS3Error(send([{ ...done[0]!, ETag: '"00000000000000000000000000000000"' }, done[1]!]), 'InvalidPart', 400);
  await expectS3Error(send([done[0]!, { ...done[1]!, PartNumber: 7 }]), 'InvalidPart', 400);
  const small = await upload('small', [partBytes(6, 100), partBytes(7, 100)]);
  await expectS3Error(
    s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'small', UploadId: small.UploadId, MultipartUpload: { Parts: small.done } })),
    'EntityTooSmall',
    400,
  );
  // A subset of the parts is fine; the failed attempts changed nothing.
  await send([done[0]!]);
  await expectS3Error(send(done), 'NoSuchUpload', 404);
  await expectS3Error(s3.send(new UploadPartCommand({ Bucket, Key: 'errs', UploadId: 'nope', PartNumber: 1, Body: 'x' })), 'NoSuchUpload', 404);
  await expectS3Error(s3.send(new UploadPartCommand({ Bucket, Key: 'errs', UploadId: small.UploadId, PartNumber: 10001, Body: 'x' })), 'InvalidArgument', 400);
});

test('re-uploading a part number replaces it', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'replace' }));
  await s3.send(new UploadPartCommand({ Bucket, Key: 'replace', UploadId, PartNumber: 1, Body: 'first' }));
  const second = await s3.send(new UploadPartCommand({ Bucket, Key: 'replace', UploadId, PartNumber: 1, Body: 'second' }));
  const parts = await s3.send(new ListPartsCommand({ Bucket, Key: 'replace', UploadId }));
  assert.equal(parts.Parts?.length, 1);
  assert.equal(parts.Parts?.[0]?.ETag, second.ETag);
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'replace', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: second.ETag }] } }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'replace' }));
  assert.equal(await got.Body!.transformToString(), 'second');
});

test('abort removes the upload; ListParts and ListMultipartUploads paginate', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'aborted' }));
  for (let n = 1; n <= 5; n++) await s3.send(new UploadPartCommand({ Bucket, Key: 'aborted', UploadId, PartNumber: n, Body: `p${n}` }));
  const page1 = await s3.send(new ListPartsCommand({ Bucket, Key: 'aborted', UploadId, MaxParts: 2 }));
  assert.deepEqual(page1.Parts?.map((p) => p.PartNumber), [1, 2]);
  assert.equal(page1.IsTruncated, true);
  const page2 = await s3.send(new ListPartsCommand({ Bucket, Key: 'aborted', UploadId, MaxParts: 2, PartNumberMarker: page1.NextPartNumberMarker }));
  assert.deepEqual(page2.Parts?.map((p) => p.PartNumber), [3, 4]);

  const keys = ['u/a', 'u/b', 'u/c/d', 'v'];
  const ids: string[] = [];
  for (const Key of keys) ids.push((await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!);
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'u/', Delimiter: '/' }));
  assert.deepEqual(listed.Uploads?.map((u) => u.Key), ['u/a', 'u/b']);
  assert.deepEqual(listed.CommonPrefixes?.map((p) => p.Prefix), ['u/c/']);
  const first = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 2 }));
  assert.equal(first.IsTruncated, true);
  const rest = await s3.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker }));
  const seen = [...(first.Uploads ?? []), ...(rest.Uploads ?? [])].map((u) => u.Key);
  assert.ok(seen.includes('aborted') && seen.includes('v') && seen.includes('u/c/d'));

  const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId }));
  assert.equal(aborted.$metadata.httpStatusCode, 204);
  await expectS3Error(s3.send(new ListPartsCommand({ Bucket, Key: 'aborted', UploadId })), 'NoSuchUpload', 404);
  await expectS3Error(s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId })), 'NoSuchUpload', 404);
  for (let i = 0; i < keys.length; i++) await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: keys[i]!, UploadId: ids[i]! }));
});

test('UploadPartCopy with a source range', async () => {
  const src = partBytes(9, 6 * MiB);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'copy-src', Body: src }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'copy-dst' }));
  const a = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'copy-dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/copy-src`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
  const b = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'copy-dst', UploadId, PartNumber: 2, CopySource: `${Bucket}/copy-src`, CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}` }));
  await expectS3Error(
    s3.send(new UploadPartCopyCommand({ Bucket, Key: 'copy-dst', UploadId, PartNumber: 3, CopySource: `${Bucket}/copy-src`, CopySourceRange: `bytes=0-${7 * MiB}` })),
    'InvalidRange',
    416,
  );
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'copy-dst', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: a.CopyPartResult!.ETag }, { PartNumber: 2, ETag: b.CopyPartResult!.ETag }] } }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'copy-dst' }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(src));
  assert.equal(got.ETag, s3Etag([src.subarray(0, 5 * MiB), src.subarray(5 * MiB)]));
});

test('checksums: composite CRC32 and full-object CRC64NVME', async () => {
  const parts = [partBytes(11, 5 * MiB), partBytes(12, 77)];
  const comp = await upload('crc-composite', parts, { ChecksumAlgorithm: 'CRC32' });
  const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'crc-composite', UploadId: comp.UploadId, MultipartUpload: { Parts: comp.done } }));
  assert.match(r.ChecksumCRC32 ?? '', /^[A-Za-z0-9+/=]{8}-2$/);
  assert.equal(r.ChecksumType, 'COMPOSITE');

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'crc-full', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'crc-full', UploadId, PartNumber: i + 1, Body: parts[i], ChecksumAlgorithm: 'CRC64NVME' }));
    done.push({ PartNumber: i + 1, ETag: p.ETag, ChecksumCRC64NVME: p.ChecksumCRC64NVME });
  }
  const full = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'crc-full', UploadId, MultipartUpload: { Parts: done } }));
  // The same bytes uploaded in one piece must carry the same full-object CRC64NVME.
  const single = await s3.send(new PutObjectCommand({ Bucket, Key: 'crc-single', Body: Buffer.concat(parts), ChecksumAlgorithm: 'CRC64NVME' }));
  assert.equal(full.ChecksumCRC64NVME, single.ChecksumCRC64NVME);
  assert.equal(full.ChecksumType, 'FULL_OBJECT');
});

test('lib-storage Upload with parallel parts', async () => {
  const size = 17 * MiB + 3;
  const data = partBytes(13, size);
  const up = new Upload({ client: s3, params: { Bucket, Key: 'lib/upload.bin', Body: Readable.from([data.subarray(0, 8 * MiB), data.subarray(8 * MiB)]) }, partSize: 5 * MiB, queueSize: 4 });
  await up.done();
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'lib/upload.bin' }));
  assert.equal(got.ContentLength, size);
  assert.equal(md5hex(Buffer.from(await got.Body!.transformToByteArray())), md5hex(data));
  assert.match(got.ETag ?? '', /-4"$/);
});

test('concurrent complete and abort of one upload: exactly one wins', async () => {
  const parts = [partBytes(14, 1000)];
  const { UploadId, done } = await upload('race', parts);
  const results = await Promise.allSettled([
    s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'race', UploadId, MultipartUpload: { Parts: done } })),
    s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'race', UploadId })),
  ]);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  assert.equal(ok, 1, JSON.stringify(results.map((r) => r.status)));
  const exists = await s3.send(new HeadObjectCommand({ Bucket, Key: 'race' })).then(() => true, () => false);
  assert.equal(exists, results[0]!.status === 'fulfilled');
});
