// The list target at full size: ListObjectsV2 pages of 1000 over a bucket of 1,000,000 keys
// (1000 folders of 1000). Loading a million keys over HTTP would take most of an hour here, so the
// keys are written straight through the MetaStore while the server is stopped: real rows (the
// same shape a PUT of a tiny object leaves, sharing that object's inline locator), folder after
// folder in a scrambled order within each, as list-load fills its bucket over HTTP. Then the server
// starts on that data directory and serves the listings over HTTP, like the other scenarios.
//
// Run as the `list-1m` scenario of bench/run.ts (oort only: the reference serves a fixed page).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteMetaStore } from '../src/meta/sqlite/store.ts';
import { Client, percentile, rng, runLoad, type LoadResult, type Res } from './load.ts';
import { ACCESS_KEY, SECRET_KEY, cpuMsOf, startOort, type ServerProc } from './servers.ts';
import { Signer, canonicalQuery, objectPath } from './sigv4.ts';

export interface BigListOptions {
  keys: number;
  durationMs: number;
  /** A data directory a previous run prefilled (kept with --keep): skip the prefill. */
  dataDir?: string;
  keep: boolean;
  log: (msg: string) => void;
}

export interface BigListFigures {
  keys: number;
  prefillSeconds?: number;
  dataDir: string;
  results: Array<{ name: string; pages: number; keysPerS: number; p50Ms: number; p99Ms: number; serverCpuMsPerPage: number; errors: number }>;
}

const BUCKET = 'list1m';
const PER_FOLDER = 1000;
const BATCH = 5000;

const folderName = (f: number) => `f${String(f).padStart(4, '0')}/`;

function keyAt(i: number): string {
  return `${folderName(Math.floor(i / PER_FOLDER))}obj-${String(i % PER_FOLDER).padStart(6, '0')}`;
}

/** Writes `total` keys through the MetaStore, folder by folder, scrambled within each folder. */
async function prefill(dataDir: string, total: number, log: (m: string) => void): Promise<number> {
  const started = performance.now();
  const meta = await SqliteMetaStore.open(join(dataDir, 'meta.sqlite'));
  try {
    const template = await meta.getObject(BUCKET, 'template');
    if (!template) throw new Error('the template object is missing');
    // Folders fill one after the other, keys in a scrambled order within each (n * 379 mod 1000
    // is a permutation), as the HTTP key load of list-load does: inserts land all over a folder's
    // range, so pages split as they do in a bucket filled over time. (A scramble over the whole
    // bucket makes every batch touch every page: hours here, for no different b-tree.)
    for (let at = 0; at < total; at += BATCH) {
      const writes: Promise<unknown>[] = [];
      for (let i = at; i < Math.min(total, at + BATCH); i++) {
        const key = keyAt(i - (i % PER_FOLDER) + (((i % PER_FOLDER) * 379) % PER_FOLDER));
        writes.push(meta.putObject({ ...template, key, lastModified: new Date(template.lastModified.getTime() + i) }));
      }
      // One group commit per batch: every write above joined the same transaction.
      await Promise.all(writes);
      if ((at / BATCH) % 40 === 39) log(`list-1m: ${at + BATCH} of ${total} keys written (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await meta.close();
  }
  return (performance.now() - started) / 1000;
}

function keyCount(body: Buffer | undefined): number {
  if (!body) return 0;
  const i = body.indexOf('<KeyCount>');
  return i < 0 ? 0 : Number(body.toString('latin1', i + 10, body.indexOf('</KeyCount>', i)));
}

function nextToken(body: Buffer | undefined): string | undefined {
  if (!body) return undefined;
  const i = body.indexOf('<NextContinuationToken>');
  return i < 0 ? undefined : body.toString('latin1', i + 23, body.indexOf('</NextContinuationToken>', i));
}

export async function bigListFigures(o: BigListOptions): Promise<BigListFigures> {
  const signer = new Signer(ACCESS_KEY, SECRET_KEY);
  let dataDir = o.dataDir;
  let prefillSeconds: number | undefined;
  if (!dataDir || !existsSync(join(dataDir, 'meta.sqlite'))) {
    // A server makes the account, the bucket and one tiny object whose row is the template.
    const first = await startOort({ dataDir });
    try {
      const c = new Client(first.url, signer, 1);
      const made = await c.request({ method: 'PUT', path: objectPath(BUCKET), collect: true });
      const put = await c.request({ method: 'PUT', path: objectPath(BUCKET, 'template'), body: Buffer.from('x'), collect: true });
      c.close();
      if (made.status !== 200 || put.status !== 200) throw new Error(`list-1m setup failed: ${made.status} / ${put.status}`);
    } finally {
      await first.stop(true);
    }
    dataDir = first.dataDir;
    o.log(`list-1m: writing ${o.keys.toLocaleString('en-US')} keys through the MetaStore into ${dataDir}`);
    prefillSeconds = await prefill(dataDir, o.keys, o.log);
    o.log(`list-1m: prefill took ${prefillSeconds.toFixed(0)} s`);
  }

  const server: ServerProc = await startOort({ dataDir });
  const figures: BigListFigures = { keys: o.keys, prefillSeconds, dataDir, results: [] };
  try {
    const client = new Client(server.url, signer, 1);
    const folders = Math.max(1, Math.floor(o.keys / PER_FOLDER));
    const ok = (res: Res) => res.status === 200;
    let token: string | undefined;
    const flat = () => ({
      method: 'GET' as const,
      path: objectPath(BUCKET),
      query: canonicalQuery(token === undefined ? { 'list-type': 2, 'max-keys': 1000 } : { 'continuation-token': token, 'list-type': 2, 'max-keys': 1000 }),
      collectHead: 8192,
    });
    const r = rng(7);
    const delim = () => ({
      method: 'GET' as const,
      path: objectPath(BUCKET),
      query: canonicalQuery({ delimiter: '/', 'list-type': 2, 'max-keys': 1000, prefix: folderName(Math.floor(r() * folders)) }),
      collectHead: 8192,
    });
    // The walk goes on from page to page (and starts again at the end), so it reads the whole bucket.
    const scenarios: Array<[string, () => Promise<LoadResult>]> = [
      ['list 1000/page, no delimiter (walk)', () => runLoad({ client, concurrency: 1, durationMs: o.durationMs, next: flat, ok, units: (res) => ((token = nextToken(res.body)), keyCount(res.body)) })],
      ['list 1000/page, prefix + delimiter', () => runLoad({ client, concurrency: 1, durationMs: o.durationMs, next: delim, ok, units: (res) => keyCount(res.body) })],
    ];
    for (const [name, run] of scenarios) {
      await runLoad({ client, concurrency: 1, durationMs: 1000, next: delim }); // warm-up: JIT and page cache
      const cpu0 = cpuMsOf(server.pid)!;
      const load = await run();
      const cpu = cpuMsOf(server.pid)! - cpu0;
      const pages = load.ops - load.errors;
      figures.results.push({
        name,
        pages,
        keysPerS: (load.units * 1000) / load.elapsedMs,
        p50Ms: percentile(load.latencies, 50),
        p99Ms: percentile(load.latencies, 99),
        serverCpuMsPerPage: cpu / Math.max(1, load.ops),
        errors: load.errors,
      });
      if (load.errors > 0) o.log(`list-1m: ${name}: ${load.errors} errors, e.g. ${load.errorSamples[0]}`);
    }
    client.close();
  } finally {
    await server.stop(o.keep);
  }
  return figures;
}
