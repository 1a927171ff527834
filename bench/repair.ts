// Repair alone, profiled: 6 directories at 4+2, one object, two directories wiped, then the
// unthrottled repair timed with its CPU time per rebuilt MiB (whole process, and by thread kind
// where /proc shows threads: main, hash workers, libuv I/O pool, V8 helpers) and a CPU profile of
// just the repair's main thread (written to /tmp/repair.cpuprofile; summarise with
// bench/profile-summary.ts).
//
// Usage: node bench/repair.ts [object MiB, default 512] [repair concurrency, default 2]
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetaStore } from '../src/meta/index.ts';
import { ShardEngine } from '../src/engine/shard/index.ts';
import { loadKeyRing } from '../src/security/master-key.ts';
const MiB = 1024 * 1024;
const SIZE = Number(process.argv[2] ?? 512) * MiB;

/** CPU ms (user + system) of each live thread of this process, by thread name (Linux; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}/${tid}`, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

const dir = await mkdtemp(join(tmpdir(), 'oort-reprof-'));
const drives = Array.from({ length: 6 }, (_, i) => join(dir, `d${i}`));
const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
const { keys } = await loadKeyRing(dir, {});
const engine = await ShardEngine.open({ drives, segments: meta.segmentStore(), keys, background: false, repair: { bytesPerSecond: 0, concurrency: Number(process.argv[3] ?? 2) }, log: () => {} });
const block = randomBytes(MiB);
await engine.write((async function* () { for (let a = 0; a < SIZE; a += MiB) yield block; })());
await rm(drives[0]!, { recursive: true, force: true });
await rm(drives[3]!, { recursive: true, force: true });
await engine.checkDomains();
const t = performance.now();
const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start');
const threads0 = threadCpu();
const c0 = process.cpuUsage();
await engine.repairAll();
const c1 = process.cpuUsage(c0);
const threads1 = threadCpu();
const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/repair.cpuprofile', JSON.stringify(profile));
const s = await engine.repairStatus();
const rebuilt = s.repairedBytes / MiB;
const byKind = new Map<string, number>();
for (const [key, ms] of threads1) {
  const kind = key.slice(0, key.lastIndexOf('/'));
  byKind.set(kind, (byKind.get(kind) ?? 0) + ms - (threads0.get(key) ?? 0));
}
console.log('cpu ms per MiB', ((c1.user + c1.system) / 1000 / rebuilt).toFixed(2), 'repair', (rebuilt / ((performance.now() - t) / 1000)).toFixed(0), 'MiB/s', rebuilt, 'MiB');
console.log('  by thread (ms per MiB, 10 ms ticks):', [...byKind].filter(([, ms]) => ms > 0).map(([k, ms]) => `${k} ${(ms / rebuilt).toFixed(2)}`).join(', '));
await engine.close(); await meta.close(); await rm(dir, { recursive: true, force: true });
