// Storage-node figures: a large write and read through 6 local `oort node` processes at 4+2 as a
// ratio to the one-directory engine; a degraded read with 2 nodes killed; the p99 of 1 MiB range
// reads with one node hung (SIGSTOP) against the healthy p99; repair MiB/s onto fresh nodes.
// Engine + metadata store in this process (no S3 HTTP), nodes as child processes on loopback.
//
// Usage: node bench/nodes.ts [--size MiB] [--json]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { body, drain } from './streams.ts';
import { SqliteMetaStore } from '../src/meta/index.ts';
import { ShardEngine } from '../src/engine/shard/index.ts';
import { loadKeyRing } from '../src/security/master-key.ts';
import { deriveClusterKey } from '../src/node/auth.ts';

const MiB = 1024 * 1024;
const { values } = parseArgs({ options: { size: { type: 'string', default: '1024' }, json: { type: 'boolean', default: false } } });
const BIG = Number(values.size) * MiB;
const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const results: Record<string, number | string> = {};
const say = (name: string, value: number | string, unit = '') => {
  results[name] = value;
  if (!values.json) console.log(`${name.padEnd(58)} ${typeof value === 'number' ? value.toFixed(value < 10 ? 2 : 0) : value} ${unit}`);
};

interface Node {
  url: string;
  id: string;
  child: ChildProcess;
}

async function startNode(dir: string, secretFile: string): Promise<Node> {
  const child = spawn(process.execPath, [CLI, 'node', '--data-dir', dir, '--listen', '127.0.0.1:0', '--cluster-secret-file', secretFile, '--reserve', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      err += s;
      const m = /oort node (\S+) listening on (http\S+)/.exec(err);
      if (m) resolve({ id: m[1]!, url: m[2]!, child });
    });
    child.once('exit', (code) => reject(new Error(`node exited ${code}: ${err}`)));
  });
}

/** CPU time (ms) of a child process so far, from /proc (user + system). */
async function childCpuMs(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) || 0) + (Number(fields[12]) || 0)) * 10; // clock ticks of 10 ms
}

/** CPU of this process and the live nodes together (ms): on a shared machine, a steadier figure than time. */
async function cpuMs(): Promise<number> {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1000;
  for (const n of nodes) total += await childCpuMs(n.child.pid);
  return total;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpu: number; value: T }> {
  const c = await cpuMs();
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, cpu: (await cpuMs()) - c, value };
}

function p99(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

const dir = await mkdtemp(join(tmpdir(), 'oort-bench-nodes-'));
const nodes: Node[] = [];
try {
  const { keys } = await loadKeyRing(dir, {});
  // The one-directory engine, for the ratio.
  const meta1 = await SqliteMetaStore.open(join(dir, 'meta1.sqlite'));
  const one = await ShardEngine.open({ drives: [join(dir, 'drive')], segments: meta1.segmentStore(), keys, background: false, log: () => {} });
  const w1 = await timed(() => one.write(body(BIG)));
  const r1 = await timed(() => drain(one.read(w1.value.locator)));
  await one.close();
  await meta1.close();
  await rm(join(dir, 'drive'), { recursive: true, force: true });

  const secretFile = join(dir, 'secret');
  const secret = randomBytes(24).toString('hex');
  await writeFile(secretFile, secret);
  for (let i = 0; i < 6; i++) nodes.push(await startNode(join(dir, `node-${i}`), secretFile));
  const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
  const logs: string[] = [];
  const engine = await ShardEngine.open({
    drives: [],
    segments: meta.segmentStore(),
    keys,
    background: false,
    nodes: { key: deriveClusterKey(Buffer.from(secret)) },
    repair: { bytesPerSecond: 0 },
    log: (m) => logs.push(m),
  });
  for (const n of nodes) await engine.addNode(n.url);
  const label = `6 nodes (${engine.ctx.profile.k}+${engine.ctx.profile.m})`;
  const w = await timed(() => engine.write(body(BIG)));
  const r = await timed(() => drain(engine.read(w.value.locator)));
  const mibs = (ms: number) => BIG / MiB / (ms / 1000);
  say(`write ${BIG / MiB} MiB, 1 dir (1+0)`, mibs(w1.ms), 'MiB/s');
  say(`read ${BIG / MiB} MiB, 1 dir (1+0)`, mibs(r1.ms), 'MiB/s');
  say(`write ${BIG / MiB} MiB, ${label}`, mibs(w.ms), 'MiB/s');
  say(`read ${BIG / MiB} MiB, ${label}`, mibs(r.ms), 'MiB/s');
  say('write ratio, 6 nodes / 1 dir', w1.ms / w.ms);
  say('read ratio, 6 nodes / 1 dir', r1.ms / r.ms);
  const perMiB = (cpu: number) => cpu / (BIG / MiB);
  say('CPU per MiB written, 1 dir', perMiB(w1.cpu), 'ms');
  say('CPU per MiB read, 1 dir', perMiB(r1.cpu), 'ms');
  say('CPU per MiB written, 6 nodes (gateway + nodes)', perMiB(w.cpu), 'ms');
  say('CPU per MiB read, 6 nodes (gateway + nodes)', perMiB(r.cpu), 'ms');

  // 1 MiB range reads at random offsets: healthy, then with one node hung.
  const ranges = async (count: number) => {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = Math.floor(Math.random() * (BIG - MiB));
      times.push((await timed(() => drain(engine.read(w.value.locator, { start, end: start + MiB - 1 })))).ms);
    }
    return times;
  };
  await ranges(20);
  const healthy = await ranges(200);
  nodes[1]!.child.kill('SIGSTOP');
  const hung = await ranges(200);
  nodes[1]!.child.kill('SIGCONT');
  say('1 MiB range GET p99, healthy', p99(healthy), 'ms');
  say('1 MiB range GET p99, one node SIGSTOPped', p99(hung), 'ms');
  say('p99 added by a hung node', p99(hung) - p99(healthy), 'ms (target <= 250)');

  // Two nodes die.
  for (const n of nodes.slice(4)) n.child.kill('SIGKILL');
  const d = await timed(() => drain(engine.read(w.value.locator)));
  say(`read ${BIG / MiB} MiB, ${label}, 2 nodes killed`, mibs(d.ms), 'MiB/s');
  say('degraded / healthy read', r.ms / d.ms, '(target >= 0.7)');

  // Two fresh nodes; the dead ones declared lost; repair (unthrottled).
  for (let i = 6; i < 8; i++) {
    const n = await startNode(join(dir, `node-${i}`), secretFile);
    nodes.push(n);
    await engine.addNode(n.url);
  }
  for (const n of nodes.slice(4, 6)) await engine.removeNode(n.id);
  const rep = await timed(() => engine.repairAll());
  const s = await engine.repairStatus();
  say('repair onto fresh nodes (unthrottled), rebuilt bytes', s.repairedBytes / MiB / (rep.ms / 1000), 'MiB/s');
  say('CPU per rebuilt MiB (gateway + nodes)', rep.cpu / (s.repairedBytes / MiB), 'ms');
  await engine.close();
  await meta.close();
} finally {
  for (const n of nodes) {
    n.child.kill('SIGCONT');
    n.child.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify(results, null, 2));
