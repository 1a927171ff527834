// `npm run bench`: starts oort and a bare node:http reference server as child processes on fresh
// temporary data directories, drives both with the same SigV4 load generator over loopback, and
// prints every oort figure next to the reference's figure of the same scenario (the machine is
// shared and noisy: only ratios measured side by side in one run mean much). Results also go to
// bench-results/<timestamp>.json.
//
//   npm run bench                       the default scenarios (several minutes)
//   npm run bench -- --quick            the same, smaller and shorter (under a minute)
//   npm run bench -- --scenario get-4k,list-delim
//   npm run bench -- --scenario big-multipart    5 GiB, 8-way multipart; asserts server RSS < 256 MiB
//   npm run bench -- --profile [--scenario put-4k,get-4k]   oort under --cpu-prof, one server per
//                                       scenario, then a summary of the hottest functions
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, percentile, rng, runLoad, type LoadResult, type Req, type Res } from './load.ts';
import { ACCESS_KEY, SECRET_KEY, cpuMsOf, startOort, startReference, type ServerProc } from './servers.ts';
import { Signer, canonicalQuery, objectPath } from './sigv4.ts';
import { summariseProfile } from './profile-summary.ts';
import { bigListFigures } from './list-big.ts';

const ROOT = resolve(import.meta.dirname, '..');
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------------------------------------
// Options and sizes

const HELP = `Usage: npm run bench -- [options]
  --quick             smaller counts and shorter durations (under a minute)
  --scenario a,b,...  run only these (default: all but big-multipart); names:
                      ${'put-4k get-4k head-4k mixed list-load list-flat list-delim get-4k-cold put-1g get-1g mpu-1g engine nodes big-multipart list-1m'}
  --duration S        seconds per server for the timed scenarios (default 10, quick 1.5)
  --profile           run oort under --cpu-prof (one server per scenario, no reference) and
                      summarise the hottest functions (default scenarios: put-4k,get-4k)
  --list-keys N       list-1m: keys in the bucket (default 1000000; quick 100000)
  --list-dir DIR      list-1m: reuse a data directory a previous list-1m run kept (--keep)
  --out DIR           where results go (default bench-results/)
  --keep              keep the servers' data directories`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    duration: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'list-keys': { type: 'string' },
    'list-dir': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const quick = args.quick!;
const durationMs = args.duration !== undefined ? Number(args.duration) * 1000 : quick ? 1500 : 10_000;
if (!(durationMs > 0)) throw new Error(`invalid --duration ${args.duration}`);

const config = {
  /** Per server, for timed scenarios; split into `rounds` ABBA segments. */
  durationMs,
  warmupMs: quick ? 200 : 1000,
  rounds: 2,
  smallSize: 4 * KiB,
  smallConcurrency: 32,
  /** Objects GET/HEAD/mixed read: `preloadFolders` folders of `preloadPerFolder`. */
  preloadFolders: quick ? 5 : 10,
  preloadPerFolder: 100,
  // quick: 3 folders of 1000 keys (pages stay 1000 keys; loading them is the slow part).
  listFolders: quick ? 3 : 100,
  listPerFolder: 1000,
  /** The key load stops after this long even if not all keys are in (reported); folders fill one by one. */
  listLoadCapMs: quick ? 8000 : 420_000,
  listLoadConcurrency: 64,
  /** The reference's side of list-load: PUTs at the same concurrency for this long. */
  refLoadMs: quick ? 1500 : 8000,
  listConcurrency: 1,
  listPageKeys: 1000,
  mixedListKeys: 100,
  bigBytes: quick ? 256 * MiB : 1 * GiB,
  bigRounds: quick ? 1 : 2,
  mpuBytes: quick ? 256 * MiB : 1 * GiB,
  mpuPartBytes: 16 * MiB,
  mpuParallel: 4,
  mpuRounds: quick ? 1 : 2,
  // big-multipart: 64 MiB parts, so a server that buffered whole parts (8 x 64 MiB) would fail.
  bigMpuBytes: 5 * GiB,
  bigMpuPartBytes: 64 * MiB,
  bigMpuParallel: 8,
  bigMpuRssLimit: 256 * MiB,
};

// 'engine' runs bench/engine.ts (the shard engine without HTTP: codec, layouts, degraded read, repair);
// 'nodes' runs bench/nodes.ts (the engine over 6 local storage nodes: ratio to 1 dir, degraded, hung node, repair).
const DEFAULT_SCENARIOS = ['put-4k', 'get-4k', 'head-4k', 'mixed', 'list-load', 'list-flat', 'list-delim', 'get-4k-cold', 'put-1g', 'get-1g', 'mpu-1g', 'engine', 'nodes'];
// list-1m writes a million keys first (a few minutes): only when asked for.
const ALL_SCENARIOS = [...DEFAULT_SCENARIOS, 'big-multipart', 'list-1m'];
const selected = args.scenario
  ? args.scenario.split(',').map((s) => s.trim()).filter(Boolean)
  : args.profile
    ? ['put-4k', 'get-4k']
    : DEFAULT_SCENARIOS;
for (const s of selected) if (!ALL_SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; known: ${ALL_SCENARIOS.join(' ')}`);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
/** The code under test is what the servers load at start: note the commit then. */
let commitAtStart: string | undefined;
const outDir = resolve(args.out ?? join(ROOT, 'bench-results'));

// ---------------------------------------------------------------------------------------------
// Targets: a server plus clients for it

type Side = 'oort' | 'ref';

interface Target {
  side: Side;
  server: ServerProc;
  signer: Signer;
  clients: Map<number, Client>;
  preloaded: boolean;
  /** Keys of the list bucket loaded so far (oort only; the reference serves a fixed page). */
  listLoaded: number;
}

function clientFor(t: Target, concurrency: number): Client {
  let c = t.clients.get(concurrency);
  if (!c) t.clients.set(concurrency, (c = new Client(t.server.url, t.signer, concurrency)));
  return c;
}

const running: ServerProc[] = [];

async function startTarget(side: Side, opts: { cpuProfDir?: string; dataDir?: string } = {}): Promise<Target> {
  const server = side === 'oort' ? await startOort(opts) : await startReference();
  running.push(server);
  const t: Target = { side, server, signer: new Signer(ACCESS_KEY, SECRET_KEY), clients: new Map(), preloaded: false, listLoaded: 0 };
  for (const bucket of ['bench', 'list', 'big']) {
    const res = await clientFor(t, 1).request({ method: 'PUT', path: objectPath(bucket), collect: true });
    // 409 BucketAlreadyOwnedByYou: a restarted server on a kept data directory.
    if (res.status !== 200 && !(res.status === 409 && opts.dataDir)) throw new Error(`${side}: create bucket ${bucket}: ${res.status} ${res.body?.toString()}`);
  }
  return t;
}

async function stopTarget(t: Target, keepData = args.keep!): Promise<void> {
  for (const c of t.clients.values()) c.close();
  await t.server.stop(keepData);
  running.splice(running.indexOf(t.server), 1);
}

process.once('SIGINT', () => {
  for (const s of running) s.child.kill('SIGTERM');
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// Measurements

interface Segment {
  load: LoadResult;
  /** Wall time the measurement covers (may exceed load.elapsedMs for multi-step scenarios). */
  elapsedMs: number;
  serverPeakRss: number;
  /** The server's RSS when the segment started. */
  serverStartRss: number;
  serverCpuMs: number;
  extra?: Record<string, unknown>;
}

interface SideResult {
  rate: number;
  ops: number;
  errors: number;
  errorSamples: string[];
  elapsedS: number;
  p50Ms: number;
  p99Ms: number;
  bytes: number;
  units: number;
  serverPeakRssMiB: number;
  /** RSS when the scenario's first measured segment started (peak minus this: what it added). */
  serverStartRssMiB: number;
  serverCpuUsPerReq: number;
  genCpuUsPerReq: number;
  /** Generator CPU time as a share of one core over the measured wall time. */
  genCpuPct: number;
  byKind?: Record<string, { n: number; p50Ms: number; p99Ms: number }>;
  extra?: Record<string, unknown>[];
}

type Unit = 'ops/s' | 'MiB/s' | 'keys/s';
type Goal = { kind: 'ratio'; min: number } | { kind: 'p50'; maxMs: number } | { kind: 'rss'; maxBytes: number };

interface ScenarioResult {
  name: string;
  title: string;
  unit: Unit;
  oort?: SideResult;
  ref?: SideResult;
  ratio?: number;
  goal?: string;
  pass?: boolean;
  failure?: string;
  /** Wall time of the whole scenario, setup and warm-up included. */
  wallS?: number;
}

function merge(segments: Segment[], unit: Unit): SideResult {
  let ops = 0, errors = 0, elapsedMs = 0, bytes = 0, units = 0, cpuUs = 0, peak = 0, serverCpuMs = 0, loadMs = 0;
  const errorSamples: string[] = [];
  const lat: Float64Array[] = [];
  const kinds = new Map<string, Float64Array[]>();
  for (const s of segments) {
    ops += s.load.ops;
    errors += s.load.errors;
    elapsedMs += s.elapsedMs;
    loadMs += s.load.elapsedMs;
    bytes += s.load.bytes;
    units += s.load.units;
    cpuUs += s.load.cpuUs;
    serverCpuMs += s.serverCpuMs;
    peak = Math.max(peak, s.serverPeakRss);
    errorSamples.push(...s.load.errorSamples.slice(0, 5 - errorSamples.length));
    lat.push(s.load.latencies);
    for (const [k, v] of s.load.byKind) {
      if (!kinds.has(k)) kinds.set(k, []);
      kinds.get(k)!.push(v);
    }
  }
  const all = concatSorted(lat);
  const seconds = elapsedMs / 1000;
  const rate = unit === 'ops/s' ? (ops - errors) / seconds : unit === 'MiB/s' ? bytes / MiB / seconds : units / seconds;
  const r: SideResult = {
    rate,
    ops,
    errors,
    errorSamples,
    elapsedS: seconds,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    bytes,
    units,
    serverPeakRssMiB: peak / MiB,
    serverStartRssMiB: (segments[0]?.serverStartRss ?? 0) / MiB,
    serverCpuUsPerReq: ops > 0 ? (serverCpuMs * 1000) / ops : NaN,
    genCpuUsPerReq: ops > 0 ? cpuUs / ops : NaN,
    genCpuPct: loadMs > 0 ? (cpuUs / 1000 / loadMs) * 100 : NaN,
  };
  if (kinds.size > 0) {
    r.byKind = {};
    for (const [k, v] of kinds) {
      const s = concatSorted(v);
      r.byKind[k] = { n: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99) };
    }
  }
  const extra = segments.map((s) => s.extra).filter((e): e is Record<string, unknown> => e !== undefined);
  if (extra.length > 0) r.extra = extra;
  return r;
}

function concatSorted(parts: Float64Array[]): Float64Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.sort();
}

/** Runs one measured segment against a target: RSS window and server CPU time around it. */
async function measure(t: Target, fn: () => Promise<{ load: LoadResult; elapsedMs?: number; extra?: Record<string, unknown> }>): Promise<Segment> {
  const startRss = t.server.rss.reset();
  const cpu0 = cpuMsOf(t.server.pid) ?? 0;
  const r = await fn();
  t.server.rss.sample();
  const cpu1 = cpuMsOf(t.server.pid) ?? cpu0;
  return { load: r.load, elapsedMs: r.elapsedMs ?? r.load.elapsedMs, serverPeakRss: t.server.rss.peak, serverStartRss: startRss, serverCpuMs: cpu1 - cpu0, extra: r.extra };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const small = Buffer.alloc(config.smallSize, 0x5a);
const preloadKeys: string[] = [];
for (let f = 0; f < config.preloadFolders; f++) {
  for (let i = 0; i < config.preloadPerFolder; i++) preloadKeys.push(objectPath('bench', `g/f${pad(f, 2)}/obj-${pad(i, 4)}`));
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

const ok200 = (res: Res) => res.status === 200;

async function preload(t: Target): Promise<void> {
  if (t.preloaded) return;
  const r = await runLoad({
    client: clientFor(t, config.smallConcurrency),
    concurrency: config.smallConcurrency,
    count: preloadKeys.length,
    next: (i) => ({ method: 'PUT', path: preloadKeys[i]!, body: small }),
  });
  if (r.errors > 0) throw new Error(`${t.side}: preload failed: ${r.errorSamples.join('; ')}`);
  t.preloaded = true;
}

let segmentSeq = 0;

interface ScenarioDef {
  name: string;
  title: string;
  unit: Unit;
  goal?: Goal;
  /** Timed scenarios run as ABBA segments of durationMs / rounds, after a warm-up. */
  timed: boolean;
  rounds?: number;
  sides?: Side[];
  setup?(t: Target): Promise<void>;
  /** One measured segment; `ms` is its duration for timed scenarios. */
  segment(t: Target, ms: number): Promise<Segment>;
}

function timedLoad(
  concurrency: number,
  next: (seq: number, t: Target) => (i: number) => Req,
  ok?: (res: Res, req: Req) => boolean,
  units?: (res: Res, req: Req) => number,
): (t: Target, ms: number) => Promise<Segment> {
  return (t, ms) => {
    const seq = ++segmentSeq;
    return measure(t, async () => ({
      load: await runLoad({ client: clientFor(t, concurrency), concurrency, durationMs: ms, next: next(seq, t), ok, units }),
    }));
  };
}

function keyCount(body: Buffer | undefined): number {
  if (!body) return 0;
  const i = body.indexOf('<KeyCount>');
  if (i < 0) return 0;
  return Number(body.toString('latin1', i + 10, body.indexOf('</KeyCount>', i)));
}

function nextToken(body: Buffer | undefined): string | undefined {
  if (!body) return undefined;
  const i = body.indexOf('<NextContinuationToken>');
  if (i < 0) return undefined;
  return body.toString('latin1', i + 23, body.indexOf('</NextContinuationToken>', i));
}

function listFolderName(f: number): string {
  return `f${pad(f, 2)}/`;
}

const listTotal = config.listFolders * config.listPerFolder;
function listKey(i: number): string {
  // Folders fill one after the other (so a load cut short by the cap still leaves full
  // 1000-key folders), but within a folder the key numbers are scrambled (n * 379 mod 1000 is a
  // permutation), so inserts land all over the folder's key range as they do in real buckets.
  const folder = Math.floor(i / config.listPerFolder);
  const n = ((i % config.listPerFolder) * 379) % config.listPerFolder;
  return objectPath('list', `${listFolderName(folder)}obj-${pad(n, 6)}`);
}

/** Folders a listing may pick: the complete ones (at least the first). */
function listedFolders(t: Target): number {
  return t.side === 'oort' ? Math.max(1, Math.floor(t.listLoaded / config.listPerFolder)) : config.listFolders;
}

function loadListKeys(t: Target): Promise<LoadResult> {
  return runLoad({
    client: clientFor(t, config.listLoadConcurrency),
    concurrency: config.listLoadConcurrency,
    count: listTotal,
    durationMs: config.listLoadCapMs,
    next: (i) => ({ method: 'PUT', path: listKey(i), body: small }),
  }).then((load) => {
    t.listLoaded = load.ops - load.errors;
    if (t.listLoaded < listTotal) log(`list-load: only ${t.listLoaded} of ${listTotal} keys loaded within ${config.listLoadCapMs / 1000} s`);
    return load;
  });
}

async function ensureListLoaded(t: Target): Promise<void> {
  if (t.side !== 'oort' || t.listLoaded > 0) return;
  const r = await loadListKeys(t);
  if (r.errors > 0) throw new Error(`list load failed: ${r.errors} errors: ${r.errorSamples.join('; ')}`);
}

async function multipart(t: Target, key: string, total: number, partBytes: number, parallel: number): Promise<{ load: LoadResult; elapsedMs: number; extra: Record<string, unknown> }> {
  const client = clientFor(t, parallel);
  const path = objectPath('big', key);
  const t0 = performance.now();
  const created = await client.request({ method: 'POST', path, query: canonicalQuery({ uploads: '' }), collect: true });
  const m = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body?.toString('utf8') ?? '');
  if (created.status !== 200 || !m) throw new Error(`${t.side}: CreateMultipartUpload: ${created.status} ${created.body?.toString('utf8')}`);
  const uploadId = m[1]!;
  const parts = Math.ceil(total / partBytes);
  const etags: string[] = new Array(parts);
  const load = await runLoad({
    client,
    concurrency: parallel,
    count: parts,
    next: (i) => ({
      method: 'PUT',
      path,
      query: canonicalQuery({ partNumber: i + 1, uploadId }),
      streamBytes: Math.min(partBytes, total - i * partBytes),
      kind: `part`,
    }),
    units: (res, req) => {
      const n = Number(/partNumber=(\d+)/.exec(req.query!)![1]);
      etags[n - 1] = String(res.headers.etag ?? '');
      return 0;
    },
  });
  if (load.errors > 0) throw new Error(`${t.side}: UploadPart failed: ${load.errorSamples.join('; ')}`);
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const tc = performance.now();
  const done = await client.request({ method: 'POST', path, query: canonicalQuery({ uploadId }), body: Buffer.from(xml), collect: true });
  const completeMs = performance.now() - tc;
  if (done.status !== 200 || !done.body?.includes('<ETag>')) throw new Error(`${t.side}: CompleteMultipartUpload: ${done.status} ${done.body?.toString('utf8')}`);
  return { load, elapsedMs: performance.now() - t0, extra: { parts, completeMs } };
}

const SCENARIOS: ScenarioDef[] = [
  {
    name: 'put-4k',
    title: `PUT 4 KiB, c=${config.smallConcurrency}`,
    unit: 'ops/s',
    goal: { kind: 'ratio', min: 0.5 },
    timed: true,
    segment: timedLoad(config.smallConcurrency, (seq) => (i) => ({ method: 'PUT', path: objectPath('bench', `p/${seq}/${i}`), body: small })),
  },
  {
    name: 'get-4k',
    title: `GET 4 KiB, c=${config.smallConcurrency}`,
    unit: 'ops/s',
    goal: { kind: 'ratio', min: 0.6 },
    timed: true,
    setup: preload,
    segment: timedLoad(
      config.smallConcurrency,
      (seq) => {
        const r = rng(seq);
        return () => ({ method: 'GET', path: preloadKeys[Math.floor(r() * preloadKeys.length)]! });
      },
      (res) => res.status === 200 && res.bytes === config.smallSize,
    ),
  },
  {
    name: 'head-4k',
    title: `HEAD 4 KiB, c=${config.smallConcurrency}`,
    unit: 'ops/s',
    goal: { kind: 'ratio', min: 0.7 },
    timed: true,
    setup: preload,
    segment: timedLoad(
      config.smallConcurrency,
      (seq) => {
        const r = rng(seq);
        return () => ({ method: 'HEAD', path: preloadKeys[Math.floor(r() * preloadKeys.length)]! });
      },
      (res) => res.status === 200 && res.headers['content-length'] === String(config.smallSize),
    ),
  },
  {
    name: 'mixed',
    title: `mixed 70/20/10 GET/PUT/LIST(${config.mixedListKeys}), c=${config.smallConcurrency}`,
    unit: 'ops/s',
    timed: true,
    setup: preload,
    segment: timedLoad(config.smallConcurrency, (seq) => {
      const r = rng(seq);
      return (i) => {
        const x = r();
        if (x < 0.7) return { method: 'GET', path: preloadKeys[Math.floor(r() * preloadKeys.length)]!, kind: 'get' };
        if (x < 0.9) return { method: 'PUT', path: objectPath('bench', `m/${seq}/${i}`), body: small, kind: 'put' };
        const prefix = `g/${listFolderName(Math.floor(r() * config.preloadFolders))}`;
        return {
          method: 'GET',
          path: objectPath('bench'),
          query: canonicalQuery({ delimiter: '/', 'list-type': 2, 'max-keys': config.mixedListKeys, prefix }),
          kind: 'list',
        };
      };
    }),
  },
  {
    name: 'list-load',
    title: `load ${listTotal} keys: PUT 4 KiB, c=${config.listLoadConcurrency} (ref: ${config.refLoadMs / 1000} s of the same)`,
    unit: 'ops/s',
    timed: false,
    rounds: 1,
    segment: (t) =>
      measure(t, async () => {
        if (t.side === 'oort') return { load: await loadListKeys(t), extra: { keysLoaded: t.listLoaded } };
        return {
          load: await runLoad({
            client: clientFor(t, config.listLoadConcurrency),
            concurrency: config.listLoadConcurrency,
            durationMs: config.refLoadMs,
            next: (i) => ({ method: 'PUT', path: listKey(i), body: small }),
          }),
        };
      }),
  },
  {
    name: 'list-flat',
    title: `ListObjectsV2 ${config.listPageKeys}/page, no delimiter, walk ${listTotal} keys, c=${config.listConcurrency}`,
    unit: 'keys/s',
    goal: { kind: 'p50', maxMs: 10 },
    timed: true,
    setup: ensureListLoaded,
    segment: (t, ms) => {
      let token: string | undefined;
      return measure(t, async () => ({
        load: await runLoad({
          client: clientFor(t, config.listConcurrency),
          concurrency: config.listConcurrency,
          durationMs: ms,
          next: () => ({
            method: 'GET',
            path: objectPath('list'),
            query: canonicalQuery(token === undefined ? { 'list-type': 2, 'max-keys': config.listPageKeys } : { 'continuation-token': token, 'list-type': 2, 'max-keys': config.listPageKeys }),
            collectHead: 8192,
          }),
          ok: ok200,
          units: (res) => {
            token = nextToken(res.body);
            return keyCount(res.body);
          },
        }),
      }));
    },
  },
  {
    name: 'list-delim',
    title: `ListObjectsV2 ${config.listPageKeys}/page, prefix=<folder>/ delimiter=/, c=${config.listConcurrency}`,
    unit: 'keys/s',
    goal: { kind: 'p50', maxMs: 10 },
    timed: true,
    setup: ensureListLoaded,
    segment: timedLoad(
      config.listConcurrency,
      (seq, t) => {
        const r = rng(seq);
        const folders = listedFolders(t);
        return () => ({
          method: 'GET',
          path: objectPath('list'),
          query: canonicalQuery({ delimiter: '/', 'list-type': 2, 'max-keys': config.listPageKeys, prefix: listFolderName(Math.floor(r() * folders)) }),
          collectHead: 8192,
        });
      },
      ok200,
      (res) => keyCount(res.body),
    ),
  },
  {
    // get-4k reads 1000 hot keys, which oort's row, data-key and plaintext caches all hold; this
    // reads the listed bucket's keys at random, far more than the caches hold, so nearly every
    // GET takes the uncached path (not with --quick: its 3000 keys fit). The reference serves from
    // memory whatever the key.
    name: 'get-4k-cold',
    title: `GET 4 KiB, c=${config.smallConcurrency}, random over the ${listTotal} listed keys`,
    unit: 'ops/s',
    timed: true,
    setup: async (t) => {
      await preload(t);
      await ensureListLoaded(t);
    },
    segment: timedLoad(
      config.smallConcurrency,
      (seq, t) => {
        const r = rng(seq);
        if (t.side === 'ref') return () => ({ method: 'GET', path: preloadKeys[Math.floor(r() * preloadKeys.length)]! });
        return () => ({ method: 'GET', path: listKey(Math.floor(r() * t.listLoaded)) });
      },
      (res) => res.status === 200 && res.bytes === config.smallSize,
    ),
  },
  {
    name: 'put-1g',
    title: `PUT ${config.bigBytes / MiB} MiB object, streamed`,
    unit: 'MiB/s',
    goal: { kind: 'ratio', min: 0.7 },
    timed: false,
    rounds: config.bigRounds,
    segment: (t) =>
      measure(t, async () => ({
        load: await runLoad({ client: clientFor(t, 1), concurrency: 1, count: 1, next: () => ({ method: 'PUT', path: objectPath('big', 'obj-1g'), streamBytes: config.bigBytes }) }),
      })),
  },
  {
    name: 'get-1g',
    title: `GET ${config.bigBytes / MiB} MiB object`,
    unit: 'MiB/s',
    goal: { kind: 'ratio', min: 0.7 },
    timed: false,
    rounds: config.bigRounds,
    setup: async (t) => {
      const res = await clientFor(t, 1).request({ method: 'HEAD', path: objectPath('big', 'obj-1g') });
      if (res.headers['content-length'] === String(config.bigBytes)) return;
      const put = await clientFor(t, 1).request({ method: 'PUT', path: objectPath('big', 'obj-1g'), streamBytes: config.bigBytes });
      if (put.status !== 200) throw new Error(`${t.side}: PUT for get-1g: ${put.status}`);
    },
    segment: (t) =>
      measure(t, async () => ({
        load: await runLoad({
          client: clientFor(t, 1),
          concurrency: 1,
          count: 1,
          next: () => ({ method: 'GET', path: objectPath('big', 'obj-1g') }),
          ok: (res) => res.status === 200 && res.bytes === config.bigBytes,
        }),
      })),
  },
  {
    name: 'mpu-1g',
    title: `multipart ${config.mpuBytes / MiB} MiB, ${config.mpuPartBytes / MiB} MiB parts, ${config.mpuParallel} parallel`,
    unit: 'MiB/s',
    timed: false,
    rounds: config.mpuRounds,
    segment: (t) => measure(t, () => multipart(t, 'mpu-1g', config.mpuBytes, config.mpuPartBytes, config.mpuParallel)),
  },
  {
    name: 'big-multipart',
    title: `multipart ${config.bigMpuBytes / GiB} GiB, ${config.bigMpuPartBytes / MiB} MiB parts, ${config.bigMpuParallel} parallel, then GET; server RSS < ${config.bigMpuRssLimit / MiB} MiB`,
    unit: 'MiB/s',
    goal: { kind: 'rss', maxBytes: config.bigMpuRssLimit },
    timed: false,
    rounds: 1,
    sides: ['oort'],
    segment: async (t) => {
      const up = await measure(t, () => multipart(t, 'big-multipart', config.bigMpuBytes, config.bigMpuPartBytes, config.bigMpuParallel));
      const down = await measure(t, async () => ({
        load: await runLoad({
          client: clientFor(t, 1),
          concurrency: 1,
          count: 1,
          next: () => ({ method: 'GET', path: objectPath('big', 'big-multipart') }),
          ok: (res) => res.status === 200 && res.bytes === config.bigMpuBytes,
        }),
      }));
      const getMiBs = down.load.bytes / MiB / (down.load.elapsedMs / 1000);
      if (down.load.errors > 0) up.load.errorSamples.push(...down.load.errorSamples);
      up.load.errors += down.load.errors;
      return {
        ...up,
        serverPeakRss: Math.max(up.serverPeakRss, down.serverPeakRss),
        extra: { ...up.extra, uploadPeakRssMiB: up.serverPeakRss / MiB, getPeakRssMiB: down.serverPeakRss / MiB, getMiBs, getErrors: down.load.errors },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Running

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function runScenario(def: ScenarioDef, targets: Target[]): Promise<ScenarioResult> {
  const result: ScenarioResult = { name: def.name, title: def.title, unit: def.unit };
  const sides = targets.filter((t) => !def.sides || def.sides.includes(t.side));
  const segments = new Map<Side, Segment[]>(sides.map((t) => [t.side, []]));
  try {
    for (const t of sides) {
      if (!t.server.alive()) throw new Error(`${t.side} server is not running:\n${t.server.stderr().slice(-2000)}`);
      if (def.setup) await def.setup(t);
    }
    if (def.timed) {
      const segMs = config.durationMs / config.rounds;
      if (config.warmupMs > 0 && !args.profile) for (const t of sides) await def.segment(t, config.warmupMs);
      for (let r = 0; r < config.rounds; r++) {
        // ABBA: ref, oort, oort, ref ... so slow drift of the machine hits both alike.
        const order = r % 2 === 0 ? sides : [...sides].reverse();
        for (const t of order) segments.get(t.side)!.push(await def.segment(t, segMs));
      }
    } else {
      const rounds = def.rounds ?? 1;
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? sides : [...sides].reverse();
        for (const t of order) segments.get(t.side)!.push(await def.segment(t, 0));
      }
    }
  } catch (err) {
    result.failure = (err as Error).message;
  }
  for (const [side, segs] of segments) if (segs.length > 0) result[side] = merge(segs, def.unit);
  const o = result.oort;
  const ref = result.ref;
  if (o && ref && ref.rate > 0) result.ratio = o.rate / ref.rate;
  if (def.goal && o) {
    if (def.goal.kind === 'ratio') {
      result.goal = `ratio >= ${def.goal.min}`;
      if (result.ratio !== undefined) result.pass = result.ratio >= def.goal.min && o.errors === 0;
    } else if (def.goal.kind === 'p50') {
      result.goal = `p50 < ${def.goal.maxMs} ms`;
      result.pass = o.p50Ms < def.goal.maxMs && o.errors === 0;
    } else {
      result.goal = `RSS < ${def.goal.maxBytes / MiB} MiB`;
      result.pass = o.serverPeakRssMiB * MiB < def.goal.maxBytes && o.errors === 0 && result.failure === undefined;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

function fmtRate(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Microseconds, as ms once large (the 1 GiB scenarios are one request). */
function fmtUs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 100_000 ? `${(v / 1000).toFixed(0)}ms` : v.toFixed(0);
}

function rssText(s: SideResult | undefined): string {
  return s ? `${s.serverStartRssMiB.toFixed(0)}->${s.serverPeakRssMiB.toFixed(0)}` : '-';
}

function fmtNum(v: number | undefined, digits = 0): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function pair(a: string, b: string): string {
  return `${a} / ${b}`;
}

function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function report(results: ScenarioResult[]): string {
  const main = results.map((r) => [
    r.name,
    r.unit,
    fmtRate(r.oort?.rate),
    fmtRate(r.ref?.rate),
    r.ratio !== undefined ? r.ratio.toFixed(2) : '-',
    r.goal ?? '',
    r.pass === undefined ? (r.failure ? 'ERROR' : '') : r.pass ? 'PASS' : 'FAIL',
    pair(fmtMs(r.oort?.p50Ms), fmtMs(r.ref?.p50Ms)),
    pair(fmtMs(r.oort?.p99Ms), fmtMs(r.ref?.p99Ms)),
    pair(String(r.oort?.errors ?? '-'), String(r.ref?.errors ?? '-')),
  ]);
  const res = results.map((r) => [
    r.name,
    pair(rssText(r.oort), rssText(r.ref)),
    pair(fmtUs(r.oort?.serverCpuUsPerReq), fmtUs(r.ref?.serverCpuUsPerReq)),
    pair(fmtUs(r.oort?.genCpuUsPerReq), fmtUs(r.ref?.genCpuUsPerReq)),
    pair(fmtNum(r.oort?.genCpuPct), fmtNum(r.ref?.genCpuPct)),
    pair(String(r.oort?.ops ?? '-'), String(r.ref?.ops ?? '-')),
  ]);
  const lines = [
    table(main, ['scenario', 'unit', 'oort', 'ref', 'ratio', 'target', 'result', 'p50 ms oort/ref', 'p99 ms oort/ref', 'errors oort/ref']),
    '',
    table(res, ['scenario', 'server RSS MiB start->peak oort/ref', 'server CPU us/req oort/ref', 'generator CPU us/req oort/ref', 'generator CPU % oort/ref', 'requests oort/ref']),
    '',
    ...results.map((r) => `  ${r.name}: ${r.title}`),
  ];
  for (const r of results) {
    if (r.failure) lines.push(`  ${r.name} FAILED: ${r.failure}`);
    for (const side of ['oort', 'ref'] as const) {
      const s = r[side];
      if (s && s.errors > 0) lines.push(`  ${r.name} ${side} errors (${s.errors}), e.g.: ${s.errorSamples.join(' | ').slice(0, 600)}`);
      if (s?.byKind) lines.push(`  ${r.name} ${side} by kind: ${Object.entries(s.byKind).map(([k, v]) => `${k} n=${v.n} p50 ${fmtMs(v.p50Ms)} p99 ${fmtMs(v.p99Ms)}`).join('; ')}`);
      if (s?.extra && r.name === 'big-multipart') lines.push(`  ${r.name} ${side}: ${JSON.stringify(s.extra)}`);
    }
  }
  return lines.join('\n');
}

/** HEAD's short hash, with `+N` when N files under src/ differ from it (work in progress). */
function gitCommit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return dirty > 0 ? `${head}+${dirty}` : head;
  } catch {
    return undefined;
  }
}

function machine() {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model,
    memGiB: Math.round((totalmem() / GiB) * 10) / 10,
    loadavg: loadavg(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Main

async function benchmark(): Promise<void> {
  const started = performance.now();
  commitAtStart = gitCommit();
  log(`commit ${commitAtStart ?? '?'}; scenarios: ${selected.join(', ')}${quick ? ' (quick)' : ''}; machine load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const httpScenarios = selected.filter((s) => s !== 'engine' && s !== 'nodes' && s !== 'list-1m');
  if (httpScenarios.length === 0) {
    if (selected.includes('engine')) await engineFigures(join(outDir, `${stamp}-engine.json`));
    if (selected.includes('nodes')) await engineFigures(join(outDir, `${stamp}-nodes.json`), 'nodes.ts', 'storage nodes: the shard engine over 6 local oort node processes');
    if (selected.includes('list-1m')) await bigList(join(outDir, `${stamp}-list-1m.json`));
    return;
  }
  const oort = await startTarget('oort');
  const needRef = httpScenarios.some((s) => SCENARIOS.find((d) => d.name === s)!.sides?.includes('ref') ?? true);
  const ref = needRef ? await startTarget('ref') : undefined;
  const targets = ref ? [ref, oort] : [oort];
  log(`oort ${oort.server.url} (pid ${oort.server.pid})${ref ? `, reference ${ref.server.url} (pid ${ref.server.pid})` : ''}`);
  const results: ScenarioResult[] = [];
  try {
    for (const name of httpScenarios) {
      const def = SCENARIOS.find((d) => d.name === name)!;
      const t0 = performance.now();
      log(`${name}: ${def.title}`);
      const r = await runScenario(def, targets);
      r.wallS = Math.round((performance.now() - t0) / 100) / 10;
      results.push(r);
      log(
        `${name}: oort ${fmtRate(r.oort?.rate)} ${r.unit}, ref ${fmtRate(r.ref?.rate)}${r.ratio !== undefined ? `, ratio ${r.ratio.toFixed(2)}` : ''}` +
          `${r.pass !== undefined ? ` ${r.pass ? 'PASS' : 'FAIL'}` : ''}${r.failure ? ` ERROR ${r.failure.split('\n')[0]}` : ''} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    const peaks = { oortMiB: oort.server.rss.runPeak / MiB, refMiB: ref ? ref.server.rss.runPeak / MiB : undefined, generatorMiB: process.resourceUsage().maxRSS / KiB };
    const oortStderr = oort.server.stderr();
    await stopTarget(oort);
    if (ref) await stopTarget(ref);
    const totalS = (performance.now() - started) / 1000;
    const text = report(results);
    console.log(`\noort-storage bench ${new Date().toISOString()}${quick ? ' (quick)' : ''}, ${machine().cpus} CPUs, node ${process.version}, commit ${commitAtStart ?? '?'} (at start)`);
    console.log(text);
    console.log(
      `\nwhole run: server peak RSS oort ${peaks.oortMiB.toFixed(0)} MiB, reference ${peaks.refMiB?.toFixed(0) ?? '-'} MiB; generator peak RSS ${peaks.generatorMiB.toFixed(0)} MiB; ${totalS.toFixed(0)} s`,
    );
    const unexpected = oortStderr.split('\n').filter((l) => l.trim() !== '' && !/listening on/.test(l));
    if (unexpected.length > 0) console.log(`\noort stderr (${unexpected.length} lines), first:\n  ${unexpected.slice(0, 20).join('\n  ')}`);
    await mkdir(outDir, { recursive: true });
    const file = join(outDir, `${stamp}.json`);
    await writeFile(
      file,
      JSON.stringify({ date: new Date().toISOString(), commit: commitAtStart, commitAtEnd: gitCommit(), quick, machine: machine(), config, scenarios: selected, totalSeconds: totalS, peakRss: peaks, results, oortStderr: unexpected.slice(0, 200) }, null, 2) + '\n',
    );
    console.log(`\nresults: ${file}`);
  }
  if (selected.includes('engine')) await engineFigures(join(outDir, `${stamp}-engine.json`));
  if (selected.includes('nodes')) await engineFigures(join(outDir, `${stamp}-nodes.json`), 'nodes.ts', 'storage nodes: the shard engine over 6 local oort node processes');
  if (selected.includes('list-1m')) await bigList(join(outDir, `${stamp}-list-1m.json`));
}

/** ListObjectsV2 over a bucket of a million keys (bench/list-big.ts), printed and saved. */
async function bigList(file: string): Promise<void> {
  const keys = args['list-keys'] !== undefined ? Number(args['list-keys']) : quick ? 100_000 : 1_000_000;
  if (!(keys >= 1000)) throw new Error(`invalid --list-keys ${args['list-keys']}`);
  log(`list-1m: ListObjectsV2 over ${keys.toLocaleString('en-US')} keys`);
  const f = await bigListFigures({ keys, durationMs: config.durationMs, dataDir: args['list-dir'], keep: args.keep!, log });
  console.log(`\nlist-1m: ${keys.toLocaleString('en-US')} keys (${Math.ceil(keys / 1000)} folders of 1000)${f.prefillSeconds !== undefined ? `, prefilled in ${f.prefillSeconds.toFixed(0)} s` : ''}; target p50 < 10 ms`);
  console.log('  scenario                               pages   keys/s   p50 ms  p99 ms  server CPU ms/page  result');
  for (const r of f.results) {
    console.log(
      `  ${r.name.padEnd(38)} ${String(r.pages).padStart(5)} ${fmtRate(r.keysPerS).padStart(8)} ${fmtMs(r.p50Ms).padStart(8)} ${fmtMs(r.p99Ms).padStart(7)} ${r.serverCpuMsPerPage.toFixed(1).padStart(19)}  ${r.p50Ms < 10 ? 'PASS' : 'FAIL'}${r.errors ? ` (${r.errors} errors)` : ''}`,
    );
  }
  if (args.keep) console.log(`  data directory kept: ${f.dataDir} (reuse with --list-dir)`);
  await mkdir(outDir, { recursive: true });
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), commit: commitAtStart, ...f }, null, 2) + '\n');
  console.log(`list-1m results: ${file}`);
}

/** The shard engine's own figures (bench/engine.ts, or nodes.ts, in a child process), printed and saved. */
async function engineFigures(file: string, scriptName = 'engine.ts', title = 'shard engine'): Promise<void> {
  log(`${scriptName}: ${title} without HTTP (${quick ? 64 : 1024} MiB objects)`);
  const script = new URL(`./${scriptName}`, import.meta.url).pathname;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [script, '--json', '--size', quick ? '64' : '1024'], { maxBuffer: 16 * MiB }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  const figures = JSON.parse(out) as Record<string, number | string>;
  console.log(`\n${title} (no HTTP; MiB/s unless stated):`);
  for (const [name, value] of Object.entries(figures)) console.log(`  ${name.padEnd(62)} ${typeof value === 'number' ? value.toFixed(value < 10 ? 2 : 0) : value}`);
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), commit: commitAtStart, quick, figures }, null, 2) + '\n');
  console.log(`engine results: ${file}`);
}

async function profile(): Promise<void> {
  const base = join(outDir, `profile-${stamp}`);
  commitAtStart = gitCommit();
  log(`commit ${commitAtStart ?? '?'}; profiling: ${selected.join(', ')}`);
  for (const name of selected) {
    const def = SCENARIOS.find((d) => d.name === name)!;
    const dir = join(base, name);
    await mkdir(dir, { recursive: true });
    log(`profiling ${name}: ${def.title}`);
    // Setup (e.g. the objects GET reads) runs on a server without the profiler, which then
    // restarts on the same data directory under --cpu-prof: the profile holds only the scenario.
    let dataDir: string | undefined;
    let listLoaded = 0;
    if (def.setup) {
      const pre = await startTarget('oort');
      try {
        await def.setup(pre);
      } finally {
        await stopTarget(pre, true);
      }
      dataDir = pre.server.dataDir;
      listLoaded = pre.listLoaded;
    }
    const oort = await startTarget('oort', { cpuProfDir: dir, dataDir });
    oort.preloaded = true;
    oort.listLoaded = listLoaded;
    let result: ScenarioResult;
    try {
      result = await runScenario({ ...def, setup: undefined, sides: ['oort'] }, [oort]);
    } finally {
      await stopTarget(oort);
    }
    log(`${name}: oort ${fmtRate(result.oort?.rate)} ${def.unit} under the profiler, p50 ${fmtMs(result.oort?.p50Ms)} ms, errors ${result.oort?.errors ?? '-'}${result.failure ? ` ERROR ${result.failure}` : ''}`);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) {
      log(`${name}: no .cpuprofile written in ${dir}`);
      continue;
    }
    for (const f of files) {
      const summary = await summariseProfile(join(dir, f), { top: 30, root: ROOT });
      const out = join(dir, f.replace(/\.cpuprofile$/, '.summary.txt'));
      await writeFile(out, `${name}: ${def.title}; commit ${commitAtStart ?? '?'}; ${fmtRate(result.oort?.rate)} ${def.unit} under the profiler\n${summary}\n`);
      console.log(`\n=== ${name} (${fmtRate(result.oort?.rate)} ${def.unit} under the profiler): ${join(dir, f)}\n${summary}`);
    }
  }
}

await (args.profile ? profile() : benchmark());
