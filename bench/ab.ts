// A/B of two checkouts of oort on the same small-object load, for a machine too noisy for two
// separate bench runs to compare: both servers run at once and get short bursts of the same load
// in ABBA order, so whatever else the machine does hits both alike. It reports each server's CPU
// time per request (user + system, from /proc) per burst: median and minimum over the rounds.
//
//   node bench/ab.ts --a /work/main --b . [--scenario get-4k,head-4k,put-4k] [--rounds 8] [--burst 1.5]
import { parseArgs } from 'node:util';
import { Client, rng, runLoad, type Req } from './load.ts';
import { ACCESS_KEY, SECRET_KEY, cpuMsOf, startOort, type ServerProc } from './servers.ts';
import { Signer, objectPath } from './sigv4.ts';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: '.' },
    scenario: { type: 'string', default: 'get-4k,head-4k' },
    rounds: { type: 'string', default: '8' },
    burst: { type: 'string', default: '1.5' },
    concurrency: { type: 'string', default: '32' },
  },
  strict: true,
});
if (!args.a) {
  console.error('usage: node bench/ab.ts --a <checkout> [--b <checkout>] [--scenario get-4k,head-4k,put-4k] [--rounds N] [--burst S]');
  process.exit(2);
}
const rounds = Number(args.rounds);
const burstMs = Number(args.burst) * 1000;
const concurrency = Number(args.concurrency);
const small = Buffer.alloc(4096, 0x61);
const keys = Array.from({ length: 1000 }, (_, i) => objectPath('bench', `g/f${Math.floor(i / 100)}/obj-${i}`));

interface Side {
  name: string;
  server: ServerProc;
  client: Client;
}

async function start(name: string, tree: string): Promise<Side> {
  const server = await startOort({ tree, name });
  const client = new Client(server.url, new Signer(ACCESS_KEY, SECRET_KEY), concurrency);
  const made = await client.request({ method: 'PUT', path: objectPath('bench') });
  if (made.status !== 200) throw new Error(`${name}: create bucket -> ${made.status}`);
  const r = await runLoad({ client, concurrency, count: keys.length, next: (i) => ({ method: 'PUT', path: keys[i]!, body: small }) });
  if (r.errors > 0) throw new Error(`${name}: preload failed: ${r.errorSamples.join('; ')}`);
  return { name, server, client };
}

function loadOf(scenario: string, seq: number): (i: number) => Req {
  const r = rng(seq + 1);
  switch (scenario) {
    case 'get-4k':
      return () => ({ method: 'GET', path: keys[Math.floor(r() * keys.length)]! });
    case 'head-4k':
      return () => ({ method: 'HEAD', path: keys[Math.floor(r() * keys.length)]! });
    case 'put-4k':
      return (i) => ({ method: 'PUT', path: objectPath('bench', `p/${seq}/${i}`), body: small });
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

/** One burst: requests done, server CPU µs per request, ops/s. */
async function burst(side: Side, scenario: string, seq: number): Promise<{ us: number; ops: number }> {
  const cpu0 = cpuMsOf(side.server.pid)!;
  const load = await runLoad({ client: side.client, concurrency, durationMs: burstMs, next: loadOf(scenario, seq) });
  const cpu = cpuMsOf(side.server.pid)! - cpu0;
  if (load.errors > 0) throw new Error(`${side.name}: ${load.errorSamples.join('; ')}`);
  return { us: (cpu * 1000) / load.ops, ops: (load.ops * 1000) / load.elapsedMs };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

const a = await start('A', args.a);
const b = await start('B', args.b!);
try {
  let seq = 0;
  for (const scenario of args.scenario!.split(',')) {
    // Warm-up (JIT, caches), not counted.
    await burst(a, scenario, seq++);
    await burst(b, scenario, seq++);
    const res: Record<string, { us: number[]; ops: number[] }> = { A: { us: [], ops: [] }, B: { us: [], ops: [] } };
    for (let i = 0; i < rounds; i++) {
      for (const side of i % 2 === 0 ? [a, b] : [b, a]) {
        const m = await burst(side, scenario, seq++);
        res[side.name]!.us.push(m.us);
        res[side.name]!.ops.push(m.ops);
      }
    }
    const line = (n: 'A' | 'B') =>
      `${n}: CPU/req median ${median(res[n]!.us).toFixed(0)} µs, min ${Math.min(...res[n]!.us).toFixed(0)} µs; ops/s median ${median(res[n]!.ops).toFixed(0)}`;
    console.log(`${scenario} (${rounds} rounds of ${burstMs / 1000} s, c=${concurrency}, load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
    console.log(`  ${line('A')}  [${args.a}]`);
    console.log(`  ${line('B')}  [${args.b}]`);
    console.log(`  B/A CPU per request: median ${(median(res.B!.us) / median(res.A!.us)).toFixed(2)}, min ${(Math.min(...res.B!.us) / Math.min(...res.A!.us)).toFixed(2)}`);
  }
} finally {
  a.client.close();
  b.client.close();
  await a.server.stop();
  await b.server.stop();
}
