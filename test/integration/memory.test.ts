import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// The server streams: uploading and downloading a 1 GiB object must not grow its resident
// memory by more than a small, size-independent amount. The bytes are generated on the fly
// (never held in memory) and hashed on both sides of the round trip.

const MiB = 1024 * 1024;
const OBJECT_BYTES = 1024 * MiB;
const WARMUP_BYTES = 64 * MiB;
const CHUNK_BYTES = MiB;
/**
 * Allowed RSS growth over the working set the warm-up established. That baseline is the highest
 * RSS seen during and right after the warm-up transfers, not an idle reading: while bytes stream,
 * V8's young generation and not-yet-collected Buffers add some 40-60 MiB whatever the object
 * size, and an idle reading (taken just after a GC or not) would make that noise part of the
 * measurement. Holding or leaking a fraction of a 1 GiB object shows up well above it.
 */
const MAX_RSS_GROWTH = 64 * MiB;
const SAMPLE_EVERY_MS = 100;

let server: TestServer;
let s3: S3Client;

before(async () => {
  server = await startTestServer();
  s3 = server.client();
});
after(() => server?.stop());

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Samples a process's RSS every SAMPLE_EVERY_MS until stopped; keeps the peak. */
function sampleRss(pid: number) {
  let peak = 0;
  let samples = 0;
  let error: unknown;
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        peak = Math.max(peak, await rssBytes(pid));
        samples++;
      } catch (err) {
        error = err;
        return;
      }
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      if (error) throw error;
      return { peak, samples };
    },
  };
}

/**
 * A deterministic pseudo-random byte stream (AES-CTR keystream of a seed), produced one chunk
 * at a time as the consumer pulls, with a running sha256 of what was produced.
 */
function deterministicStream(seed: string, size: number) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const hash = createHash('sha256');
  const zero = Buffer.alloc(CHUNK_BYTES);
  let left = size;
  const stream = new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, CHUNK_BYTES);
      left -= n;
      const chunk = cipher.update(zero.subarray(0, n));
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

async function upload(bucket: string, key: string, size: number, seed: string): Promise<string> {
  const body = deterministicStream(seed, size);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body.stream, ContentLength: size }));
  return body.sha256();
}

async function download(bucket: string, key: string): Promise<{ sha256: string; bytes: number }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

const fmt = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

test('RSS stays flat while a 1 GiB object is uploaded and downloaded', { timeout: 120_000 }, async (t) => {
  if (process.platform !== 'linux') {
    t.skip('reads /proc/<pid>/status');
    return;
  }
  const pid = server.process.pid!;
  const bucket = 'memory-test';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  // Warm-up: the same upload and download path with a smaller object, so that code is compiled
  // and heap, pools and buffers are at their streaming working size.
  const idleBefore = await rssBytes(pid);
  const warmSampler = sampleRss(pid);
  for (let i = 0; i < 2; i++) {
    const sent = await upload(bucket, 'warmup.bin', WARMUP_BYTES, `warmup-${i}`);
    const got = await download(bucket, 'warmup.bin');
    assert.equal(got.sha256, sent, 'warm-up round trip');
  }
  await sleep(300);
  const warm = await warmSampler.stop();
  const afterWarmup = await rssBytes(pid);
  const baseline = Math.max(warm.peak, afterWarmup);

  let phase = 'upload';
  const samplers: ReturnType<typeof sampleRss>[] = [];
  try {
    const upSampler = sampleRss(pid);
    samplers.push(upSampler);
    const started = performance.now();
    const sentSha = await upload(bucket, 'big.bin', OBJECT_BYTES, 'one-gibibyte');
    const up = await upSampler.stop();
    const upSeconds = (performance.now() - started) / 1000;

    phase = 'download';
    const downSampler = sampleRss(pid);
    samplers.push(downSampler);
    const started2 = performance.now();
    const got = await download(bucket, 'big.bin');
    const down = await downSampler.stop();
    const downSeconds = (performance.now() - started2) / 1000;

    t.diagnostic(
      `RSS idle ${fmt(idleBefore)}, warm-up peak ${fmt(warm.peak)}, after warm-up ${fmt(afterWarmup)}; baseline ${fmt(baseline)}; upload peak ${fmt(up.peak)} (+${fmt(up.peak - baseline)}, ${up.samples} samples, ${upSeconds.toFixed(1)} s); ` +
        `download peak ${fmt(down.peak)} (+${fmt(down.peak - baseline)}, ${down.samples} samples, ${downSeconds.toFixed(1)} s)`,
    );
    assert.equal(got.bytes, OBJECT_BYTES, 'downloaded length');
    assert.equal(got.sha256, sentSha, 'downloaded sha256 equals uploaded');
    assert.ok(up.samples > 0 && down.samples > 0, 'RSS was sampled');
    assert.ok(up.peak - baseline < MAX_RSS_GROWTH, `upload grew RSS by ${fmt(up.peak - baseline)} (baseline ${fmt(baseline)}, peak ${fmt(up.peak)}), limit ${fmt(MAX_RSS_GROWTH)}`);
    assert.ok(down.peak - baseline < MAX_RSS_GROWTH, `download grew RSS by ${fmt(down.peak - baseline)} (baseline ${fmt(baseline)}, peak ${fmt(down.peak)}), limit ${fmt(MAX_RSS_GROWTH)}`);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message += `\n(during ${phase})\n=== server stderr (tail) ===\n${server.stderr().slice(-4000) || '(empty)'}`;
    throw e;
  } finally {
    for (const s of samplers) await s.stop().catch(() => {});
  }
});
