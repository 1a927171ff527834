// Atomic visibility under concurrency (ARCHITECTURE.md invariant 2): many clients overwrite one
// key at once with distinct bodies and metadata while readers GET/HEAD it in a loop. Every read
// shows one whole version (bytes, ETag, length and x-amz-meta all of the same version), and the
// final state is one of the versions written last, with its own ETag and metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { Prng, md5Hex, multipartEtag, seededBytes, sha256Hex } from '../helpers/seeded.ts';
import { orphanReport } from '../helpers/data-dir.ts';
import { signRaw } from '../helpers/raw-http.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const Bucket = 'race';
const WRITERS = 16;
const READERS = 4;
const ROUNDS = 3;

interface Version {
  id: string;
  body: Buffer;
  sha256: string;
  etag: string;
}

let server: TestServer;
const clients: S3Client[] = [];
before(async () => {
  server = await startTestServer({ keepData: true });
  await newClient().send(new CreateBucketCommand({ Bucket }));
});
after(async () => {
  for (const c of clients) c.destroy();
  await server.stop();
  await rm(server.dataDir, { recursive: true, force: true });
});

function newClient(): S3Client {
  const c = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

function putVersion(id: string, seed: number, size: number): Version {
  const body = seededBytes(seed, size);
  return { id, body, sha256: sha256Hex(body), etag: md5Hex(body) };
}

/**
 * Readers loop over full GETs, HEADs and ranged GETs until `done()`; every answer is checked to be
 * exactly one known version. Returns the problems found and the number of reads.
 */
function startReaders(key: string, versions: Map<string, Version>, done: () => boolean, seed: number) {
  const problems: string[] = [];
  let reads = 0;
  const readers = Array.from({ length: READERS }, async (_, r) => {
    const s3 = newClient();
    const rng = new Prng(seed + r);
    while (!done()) {
      const mode = rng.pick(['get', 'get', 'head', 'range'] as const);
      try {
        if (mode === 'head') {
          const h = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
          const v = versions.get(h.Metadata?.['ver'] ?? '');
          if (!v) problems.push(`HEAD shows unknown version ${h.Metadata?.['ver']}`);
          else if (h.ETag !== `"${v.etag}"` || h.ContentLength !== v.body.length) {
            problems.push(`HEAD mixes versions: metadata ${v.id}, ETag ${h.ETag}, length ${h.ContentLength}`);
          }
        } else {
          const start = rng.int(0, 64 * KiB);
          const end = start + rng.int(0, 256 * KiB);
          const g = await s3.send(new GetObjectCommand({ Bucket, Key: key, Range: mode === 'range' ? `bytes=${start}-${end}` : undefined }));
          const bytes = Buffer.from(await g.Body!.transformToByteArray());
          const v = versions.get(g.Metadata?.['ver'] ?? '');
          if (!v) {
            problems.push(`GET shows unknown version ${g.Metadata?.['ver']}`);
          } else if (g.ETag !== `"${v.etag}"`) {
            problems.push(`GET mixes versions: metadata ${v.id} but ETag ${g.ETag}`);
          } else if (mode === 'range') {
            const want = v.body.subarray(start, end + 1);
            if (!bytes.equals(want)) problems.push(`ranged GET ${start}-${end} of ${v.id}: ${bytes.length} bytes that are not the version's (want ${want.length})`);
          } else if (sha256Hex(bytes) !== v.sha256) {
            problems.push(`GET of ${v.id}: ${bytes.length} bytes that are not the version's ${v.body.length} (a mix or a partial)`);
          }
        }
      } catch (err) {
        problems.push(`${mode} failed: ${(err as Error).name}: ${(err as Error).message}`);
      }
      reads++;
    }
  });
  return { problems, reads: () => reads, finished: Promise.all(readers) };
}

async function assertFinalState(s3: S3Client, key: string, lastWritten: Version[], label: string): Promise<void> {
  const h = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
  const v = lastWritten.find((x) => x.id === h.Metadata?.['ver']);
  assert.ok(v, `${label}: final version ${h.Metadata?.['ver']} is not one of the last written`);
  assert.equal(h.ETag, `"${v.etag}"`, `${label}: final ETag`);
  assert.equal(h.ContentLength, v.body.length, `${label}: final length`);
  const g = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
  assert.equal(g.Metadata?.['ver'], v.id, `${label}: GET and HEAD agree`);
  assert.equal(sha256Hex(Buffer.from(await g.Body!.transformToByteArray())), v.sha256, `${label}: final bytes`);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: key }));
  const entry = listed.Contents?.find((o) => o.Key === key);
  assert.equal(entry?.ETag, `"${v.etag}"`, `${label}: listing ETag`);
  assert.equal(entry?.Size, v.body.length, `${label}: listing size`);
}

test(`${WRITERS} clients overwrite one key at once while readers loop: every read is one whole version`, async () => {
  const key = 'hot/object';
  const writers = Array.from({ length: WRITERS }, () => newClient());
  const versions = new Map<string, Version>();
  const initial = putVersion('init', 1, 300 * KiB);
  versions.set(initial.id, initial);
  await writers[0]!.send(new PutObjectCommand({ Bucket, Key: key, Body: initial.body, Metadata: { ver: initial.id } }));

  let writing = true;
  const readers = startReaders(key, versions, () => !writing, 0xbeef);
  let last: Version[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const rng = new Prng(1000 + round);
    // Distinct sizes too, so a mix of two versions cannot pass for either.
    last = writers.map((_, w) => putVersion(`r${round}-w${w}`, round * 100 + w, 64 * KiB + rng.int(0, 1200 * KiB) + w));
    for (const v of last) versions.set(v.id, v);
    const results = await Promise.allSettled(
      writers.map((s3, w) => s3.send(new PutObjectCommand({ Bucket, Key: key, Body: last[w]!.body, Metadata: { ver: last[w]!.id } }))),
    );
    results.forEach((r, w) => {
      assert.equal(r.status, 'fulfilled', `round ${round} writer ${w}: ${r.status === 'rejected' ? (r.reason as Error).message : ''}`);
      if (r.status === 'fulfilled') assert.equal(r.value.ETag, `"${last[w]!.etag}"`);
    });
  }
  writing = false;
  await readers.finished;
  assert.ok(readers.reads() >= READERS * 4, `readers managed only ${readers.reads()} reads`);
  assert.deepEqual(readers.problems.slice(0, 10), [], `${readers.problems.length} bad reads of ${readers.reads()}`);
  await assertFinalState(writers[0]!, key, last, 'after the overwrites');
});

test('a multipart Complete racing PUTs of the same key: readers see one whole version, the final state is one of them', async () => {
  const key = 'hot/multipart';
  const s3 = newClient();
  const versions = new Map<string, Version>();
  const initial = putVersion('init', 2, 200 * KiB);
  versions.set(initial.id, initial);
  await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: initial.body, Metadata: { ver: initial.id } }));

  let writing = true;
  const readers = startReaders(key, versions, () => !writing, 0xfeed);
  for (let round = 0; round < 2; round++) {
    // The multipart version: three parts (two of 5 MiB and a tail), prepared before the race.
    const parts = [seededBytes(500 + round * 10, 5 * MiB), seededBytes(501 + round * 10, 5 * MiB), seededBytes(502 + round * 10, 77 * KiB)];
    const whole = Buffer.concat(parts);
    const mpu: Version = { id: `r${round}-mpu`, body: whole, sha256: sha256Hex(whole), etag: multipartEtag(parts.map(md5Hex)) };
    versions.set(mpu.id, mpu);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key, Metadata: { ver: mpu.id } }));
    const done = [];
    for (let i = 0; i < parts.length; i++) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    const puts = Array.from({ length: 8 }, (_, w) => putVersion(`r${round}-put${w}`, 600 + round * 10 + w, 100 * KiB + w * 37 * KiB));
    for (const v of puts) versions.set(v.id, v);
    const racers = puts.map((_, w) => newClient());
    const results = await Promise.allSettled([
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: done } })),
      ...puts.map((v, w) => racers[w]!.send(new PutObjectCommand({ Bucket, Key: key, Body: v.body, Metadata: { ver: v.id } }))),
    ]);
    results.forEach((r, i) => assert.equal(r.status, 'fulfilled', `racer ${i}: ${r.status === 'rejected' ? (r.reason as Error).message : ''}`));
    assert.equal((results[0] as PromiseFulfilledResult<{ ETag?: string }>).value.ETag, `"${mpu.etag}"`);
    // Give the readers time on the multipart version too, whichever won.
    await new Promise((r) => setTimeout(r, 300));
    await assertFinalState(s3, key, [mpu, ...puts], `round ${round}`);
  }
  writing = false;
  await readers.finished;
  assert.ok(readers.reads() >= READERS * 4, `readers managed only ${readers.reads()} reads`);
  assert.deepEqual(readers.problems.slice(0, 10), [], `${readers.problems.length} bad reads of ${readers.reads()}`);
});

test('a slow reader of a multipart object gets the whole version it started with, though an overwrite lands mid-read', async () => {
  // Deterministic form of the race above: the reader holds the response paused while the key is
  // replaced, then reads on. Three 5 MiB parts: the server cannot have reached the last part yet.
  const key = 'slow/multipart';
  const s3 = newClient();
  const parts = [seededBytes(701, 5 * MiB), seededBytes(702, 5 * MiB), seededBytes(703, 5 * MiB), seededBytes(704, 10 * KiB)];
  const whole = Buffer.concat(parts);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key, Metadata: { ver: 'old' } }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag! });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));

  const path = `/${Bucket}/${key}`;
  const signed = await signRaw({ port: server.port, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, { method: 'GET', path });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    get({ host: '127.0.0.1', port: server.port, path, headers: signed.headers, agent: false }, resolve).once('error', reject);
  });
  res.pause();
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['etag'], `"${multipartEtag(parts.map(md5Hex))}"`);
  await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: 'the new version', Metadata: { ver: 'new' } }));
  await sleep(200);
  const chunks: Buffer[] = [];
  let failure: string | undefined;
  try {
    for await (const c of res) chunks.push(c as Buffer);
  } catch (err) {
    failure = (err as Error).message;
  }
  const got = Buffer.concat(chunks);
  assert.equal(failure, undefined, `the reader was cut off after ${got.length} of ${whole.length} bytes`);
  assert.equal(got.length, whole.length, 'length of the body read');
  assert.equal(sha256Hex(got), sha256Hex(whole), 'the body is the version the response started with');
});

test('after the races, the data files are exactly those the metadata refers to', async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server.stop();
  const report = await orphanReport(server.dataDir);
  assert.deepEqual(report.unreferenced, [], 'data files of replaced versions were left behind');
  assert.deepEqual(report.missing, [], 'metadata refers to missing data files');
  assert.deepEqual(report.tmp, [], 'data/tmp is not empty');
  server = await startTestServer({ dataDir: server.dataDir });
});
