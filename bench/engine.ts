// Shard engine figures: Reed-Solomon encode/decode MiB/s per core; large write and read on 1
// directory (1+0) and on 6 directories (4+2); degraded read with 2 of 6 directories gone;
// repair MiB/s; bytes on disk per 4 KiB, 64 KiB and 64 MiB object; PUT latency of a 4 KiB object
// inline vs as pieces. Engine + metadata store in this process, no HTTP.
//
// Usage: node bench/engine.ts [--size MiB] [--dir PATH] [--json]
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { body, drain } from './streams.ts';
import { SqliteMetaStore } from '../src/meta/index.ts';
import { ShardEngine } from '../src/engine/shard/index.ts';
import { loadKeyRing } from '../src/security/master-key.ts';
import { bestKernel, ReedSolomon } from '../src/engine/shard/reed-solomon.ts';

const MiB = 1024 * 1024;
const { values } = parseArgs({
  options: { size: { type: 'string', default: '1024' }, dir: { type: 'string' }, json: { type: 'boolean', default: false } },
});
const BIG = Number(values.size) * MiB;
const base = values.dir ?? tmpdir();
const results: Record<string, number | string> = {};
const say = (name: string, value: number | string, unit = '') => {
  results[name] = value;
  if (!values.json) console.log(`${name.padEnd(46)} ${typeof value === 'number' ? value.toFixed(value < 10 ? 2 : 0) : value} ${unit}`);
};

function codecFigures(): void {
  const B = 256 * 1024;
  say('rs kernel', bestKernel().name);
  for (const [k, m] of [[4, 2], [8, 3], [10, 4], [12, 4]] as const) {
    const rs = new ReedSolomon(k, m);
    const data = Array.from({ length: k }, () => randomBytes(B));
    const parity = Array.from({ length: m }, () => Buffer.alloc(B));
    const time = (fn: () => void) => {
      for (let i = 0; i < 10; i++) fn();
      let n = 0;
      const t = performance.now();
      while (performance.now() - t < 500) {
        fn();
        n++;
      }
      return (n * k * B) / MiB / ((performance.now() - t) / 1000);
    };
    say(`rs encode ${k}+${m} (256 KiB blocks, 1 core)`, time(() => rs.encode(data, parity, B)), 'MiB/s of data');
    const all = [...data, ...parity];
    const lost = Array.from({ length: m }, (_, i) => i);
    const shards = all.map((s, i) => (lost.includes(i) ? undefined : s));
    const outs = lost.map(() => Buffer.alloc(B));
    say(`rs decode ${k}+${m}, ${m} data shards lost`, time(() => rs.reconstruct(shards, lost, outs, B)), 'MiB/s of data');
  }
}

async function diskBytes(dirs: string[]): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name !== 'oort-domain.json') total += (await stat(p)).blocks * 512;
    }
  };
  for (const d of dirs) await walk(join(d, 'pieces'));
  return total;
}

async function rig(dirs: number, inlineThreshold?: number) {
  const dir = await mkdtemp(join(base, 'oort-bench-engine-'));
  const drives = Array.from({ length: dirs }, (_, i) => join(dir, `drive-${i}`));
  const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
  const { keys } = await loadKeyRing(dir, {});
  const open = () =>
    ShardEngine.open({ drives, segments: meta.segmentStore(), keys, background: false, inlineThreshold, repair: { bytesPerSecond: 0 }, log: () => {} });
  return {
    dir,
    drives,
    meta,
    engine: await open(),
    async close() {
      await this.engine.close();
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function throughput(dirs: number): Promise<void> {
  const r = await rig(dirs);
  const label = `${dirs} dir${dirs > 1 ? 's' : ''} (${r.engine.ctx.profile.k}+${r.engine.ctx.profile.m})`;
  try {
    let t = performance.now();
    const w = await r.engine.write(body(BIG));
    say(`write ${BIG / MiB} MiB, ${label}`, BIG / MiB / ((performance.now() - t) / 1000), 'MiB/s');
    t = performance.now();
    await drain(r.engine.read(w.locator));
    const healthy = BIG / MiB / ((performance.now() - t) / 1000);
    say(`read ${BIG / MiB} MiB, ${label}`, healthy, 'MiB/s');
    if (dirs < 6) return;
    await rm(r.drives[0]!, { recursive: true, force: true });
    await rm(r.drives[3]!, { recursive: true, force: true });
    t = performance.now();
    await drain(r.engine.read(w.locator));
    const degraded = BIG / MiB / ((performance.now() - t) / 1000);
    say(`read ${BIG / MiB} MiB, ${label}, 2 of 6 dirs gone`, degraded, 'MiB/s');
    say('degraded / healthy read', degraded / healthy, '(target >= 0.7)');
    await r.engine.checkDomains();
    t = performance.now();
    await r.engine.repairAll();
    const s = await r.engine.repairStatus();
    say('repair (unthrottled), rebuilt bytes', s.repairedBytes / MiB / ((performance.now() - t) / 1000), 'MiB/s');
  } finally {
    await r.close();
  }
}

async function footprint(dirs: number): Promise<void> {
  for (const size of [4 * 1024, 64 * 1024, 64 * MiB]) {
    for (const inline of size === 4096 ? [4096, -1] : [undefined]) {
      const r = await rig(dirs, inline);
      try {
        const w = await r.engine.write(body(size));
        const onDisk = await diskBytes(r.drives);
        const label = `on disk per ${size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`} object, ${dirs} dir${dirs > 1 ? 's' : ''}${inline === -1 ? ', not inline' : ''}`;
        say(label, `${onDisk} B (${(onDisk / size).toFixed(3)}x)${w.locator.startsWith('i:') ? `, locator ${w.locator.length} B in the DB row` : ''}`);
      } finally {
        await r.close();
      }
    }
  }
}

async function putLatency(): Promise<void> {
  for (const [label, dirs, inline] of [['inline', 6, 4096], ['as pieces, 6 dirs 4+2', 6, -1], ['as pieces, 1 dir', 1, -1]] as const) {
    const r = await rig(dirs, inline);
    try {
      await r.meta.createBucket({ name: 'b', owner: 'o', region: 'us-east-1', createdAt: new Date(), settings: {} });
      const data = randomBytes(4096);
      const times: number[] = [];
      for (let i = 0; i < 120; i++) {
        const t = performance.now();
        const w = await r.engine.write((async function* () {
          yield data;
        })());
        await r.meta.putObject({
          bucket: 'b', key: `k${i}`, versionId: 'null', size: 4096, etag: 'x', lastModified: new Date(), storageClass: 'STANDARD',
          owner: 'o', contentHeaders: {}, userMetadata: {}, locator: w.locator,
        });
        if (i >= 20) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      say(`PUT 4 KiB (engine write + object row commit), ${label}`, `p50 ${times[times.length >> 1]!.toFixed(2)} ms, p99 ${times[Math.floor(times.length * 0.99)]!.toFixed(2)} ms`);
    } finally {
      await r.close();
    }
  }
}

codecFigures();
await putLatency();
await footprint(1);
await footprint(6);
await throughput(1);
await throughput(6);
if (values.json) console.log(JSON.stringify(results, null, 2));
