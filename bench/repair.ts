// Repair alone, profiled: 6 directories at 4+2, one object, two directories wiped, then the
// unthrottled repair timed with its CPU time per rebuilt MiB and a CPU profile of just the repair
// (written to /tmp/repair.cpuprofile; summarise with bench/profile-summary.ts).
//
// Usage: node bench/repair.ts [object MiB, default 512] [repair concurrency, default 2]
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetaStore } from '../src/meta/index.ts';
import { ShardEngine } from '../src/engine/shard/index.ts';
import { loadKeyRing } from '../src/security/master-key.ts';
const MiB = 1024 * 1024;
const SIZE = Number(process.argv[2] ?? 512) * MiB;
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
const c0 = process.cpuUsage();
await engine.repairAll();
const c1 = process.cpuUsage(c0);
const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/repair.cpuprofile', JSON.stringify(profile));
const s = await engine.repairStatus();
console.log('cpu ms per MiB', ((c1.user + c1.system) / 1000 / (s.repairedBytes / MiB)).toFixed(2), 'repair', (s.repairedBytes / MiB / ((performance.now() - t) / 1000)).toFixed(0), 'MiB/s', s.repairedBytes / MiB, 'MiB');
await engine.close(); await meta.close(); await rm(dir, { recursive: true, force: true });
