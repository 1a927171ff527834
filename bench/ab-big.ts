// A/B of two checkouts of oort on one big PUT and GET, for a machine too noisy for two separate
// bench runs to compare: both servers run at once and take turns in ABBA order, so whatever else
// the machine does hits both alike. Reports, per server, the median MiB/s and the server's CPU
// time (user + system, all threads, from /proc) per GiB, and the peak RSS.
//
//   node bench/ab-big.ts --a /work/main [--b .] [--size 512] [--rounds 3] [--op put,get]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from './load.ts';
import { ACCESS_KEY, SECRET_KEY, cpuMsOf, RssSampler } from './servers.ts';
import { Signer, objectPath } from './sigv4.ts';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: '.' },
    size: { type: 'string', default: '512' },
    rounds: { type: 'string', default: '3' },
    op: { type: 'string', default: 'put,get' },
  },
  strict: true,
});
if (!args.a) {
  console.error('usage: node bench/ab-big.ts --a <checkout> [--b <checkout>] [--size MiB] [--rounds N] [--op put,get]');
  process.exit(2);
}
const MiB = 1024 * 1024;
const size = Number(args.size) * MiB;
const rounds = Number(args.rounds);
const ops = args.op!.split(',');

interface Side {
  name: string;
  pid: number;
  client: Client;
  rss: RssSampler;
  stop(): Promise<void>;
  results: Record<string, Array<{ mibs: number; cpuMsPerGiB: number }>>;
}

async function start(name: string, tree: string): Promise<Side> {
  const dataDir = await mkdtemp(join(tmpdir(), 'oort-abbig-'));
  const child = spawn(process.execPath, [join(resolve(tree), 'src/cli.ts'), 'server', '--port', '0', '--data-dir', dataDir, '--access-log', 'off'], {
    env: { ...process.env, OORT_ROOT_ACCESS_KEY: ACCESS_KEY, OORT_ROOT_SECRET_KEY: SECRET_KEY, OORT_RATE_LIMIT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (s: string) => {
      stderr += s;
      const m = /listening on (http\S+)/.exec(stderr);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`${name} exited with ${code}:\n${stderr}`)));
  });
  const client = new Client(url, new Signer(ACCESS_KEY, SECRET_KEY), 1);
  const res = await client.request({ method: 'PUT', path: objectPath('big'), collect: true });
  if (res.status !== 200) throw new Error(`${name}: create bucket: ${res.status}`);
  const rss = new RssSampler(child.pid!);
  return {
    name,
    pid: child.pid!,
    client,
    rss,
    results: {},
    async stop() {
      rss.stop();
      client.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function once(s: Side, op: string): Promise<void> {
  const cpu0 = cpuMsOf(s.pid)!;
  const t0 = performance.now();
  const res =
    op === 'put'
      ? await s.client.request({ method: 'PUT', path: objectPath('big', 'obj'), streamBytes: size })
      : await s.client.request({ method: 'GET', path: objectPath('big', 'obj') });
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuMsOf(s.pid)! - cpu0;
  if (res.status !== 200 || (op === 'get' && res.bytes !== size)) throw new Error(`${s.name} ${op}: ${res.status}, ${res.bytes} bytes`);
  (s.results[op] ??= []).push({ mibs: size / MiB / secs, cpuMsPerGiB: (cpu * 1024 * MiB) / size });
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

const a = await start('A', args.a);
const b = await start('B', args.b!);
try {
  if (!ops.includes('put')) for (const s of [a, b]) await s.client.request({ method: 'PUT', path: objectPath('big', 'obj'), streamBytes: size });
  for (let r = 0; r < rounds; r++) {
    for (const op of ops) for (const s of r % 2 === 0 ? [a, b, b, a] : [b, a, a, b]) await once(s, op);
    console.error(`round ${r + 1}/${rounds} done`);
  }
  for (const op of ops) {
    const ma = median(a.results[op]!.map((x) => x.mibs));
    const mb = median(b.results[op]!.map((x) => x.mibs));
    const ca = median(a.results[op]!.map((x) => x.cpuMsPerGiB));
    const cb = median(b.results[op]!.map((x) => x.cpuMsPerGiB));
    console.log(`${op} ${size / MiB} MiB: A ${ma.toFixed(1)} MiB/s, ${(ca / 1000).toFixed(2)} s CPU/GiB | B ${mb.toFixed(1)} MiB/s, ${(cb / 1000).toFixed(2)} s CPU/GiB | B/A rate ${(mb / ma).toFixed(2)}, CPU ${(cb / ca).toFixed(2)}`);
  }
  console.log(`peak RSS: A ${(a.rss.runPeak / MiB).toFixed(0)} MiB, B ${(b.rss.runPeak / MiB).toFixed(0)} MiB`);
} finally {
  await a.stop();
  await b.stop();
}
