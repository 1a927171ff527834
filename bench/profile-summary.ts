// Summarises a V8 .cpuprofile (as written by `node --cpu-prof`): where the busy time went, by
// function (self time), by area (project folder, dependency, Node internal module, GC, native),
// by the innermost project (src/) frame on the stack, and the project functions with the most
// inclusive time.
//
// Usage: node bench/profile-summary.ts <file.cpuprofile> [--top N] [--root DIR]
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SummaryOptions {
  top?: number;
  /** The project root: frames under <root>/src count as project code and are shown relative. */
  root?: string;
}

const SPECIAL = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

export async function summariseProfile(path: string, options: SummaryOptions = {}): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  return summarise(profile, options);
}

export function summarise(profile: CpuProfile, options: SummaryOptions = {}): string {
  const top = options.top ?? 25;
  const rootUrl = 'file://' + resolve(options.root ?? process.cwd()) + '/';
  const srcUrl = rootUrl + 'src/';

  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const shortUrl = (url: string): string => {
    if (url.startsWith(rootUrl)) return url.slice(rootUrl.length);
    if (url.startsWith('file://')) {
      const nm = url.lastIndexOf('/node_modules/');
      return nm >= 0 ? url.slice(nm + 1) : url.slice(7);
    }
    return url;
  };
  const fnKey = (f: CallFrame): string => {
    const name = f.functionName || '(anonymous)';
    if (f.url === '') return SPECIAL.has(name) ? name : `${name} [native]`;
    return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
  };
  const area = (f: CallFrame): string => {
    const url = f.url;
    if (url === '') {
      if (f.functionName === '(garbage collector)') return 'GC';
      if (f.functionName === '(idle)') return 'idle';
      if (f.functionName === '(program)') return '(program: VM/native, unattributed)';
      return 'native builtins (C++: fs, crypto, sqlite, zlib, ...)';
    }
    if (url.startsWith(srcUrl)) {
      const rest = url.slice(srcUrl.length);
      const slash = rest.indexOf('/');
      return 'src/' + (slash >= 0 ? rest.slice(0, slash) : rest);
    }
    if (url.startsWith(rootUrl + 'bench/')) return 'bench';
    const nm = url.lastIndexOf('/node_modules/');
    if (nm >= 0) {
      const parts = url.slice(nm + 14).split('/');
      return 'dep ' + (parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
    }
    if (url.startsWith('node:')) {
      const mod = url.slice(5).replace(/^internal\//, '');
      const first = mod.split('/')[0]!;
      return 'node:' + first.replace(/^_/, '').replace(/\.js$/, '');
    }
    return url;
  };

  // Duration of each sample: the time until the next one (the last one: until the profile's end).
  const n = profile.samples.length;
  const durations = new Float64Array(n);
  let ts = profile.startTime;
  const stamps = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts += profile.timeDeltas[i] ?? 0;
    stamps[i] = ts;
  }
  for (let i = 0; i < n; i++) durations[i] = Math.max(0, (i + 1 < n ? stamps[i + 1]! : profile.endTime) - stamps[i]!);

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const innermostSrc = new Map<string, number>();
  const inclusiveSrc = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const seen = new Set<string>();

  for (let i = 0; i < n; i++) {
    const d = durations[i]!;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    total += d;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += d;
      continue;
    }
    add(self, fnKey(f), d);
    add(areas, area(f), d);
    // Walk the stack once: the innermost src/ frame, and every distinct src/ function on it.
    let innermost: string | undefined;
    seen.clear();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!frame.url.startsWith(srcUrl)) continue;
      const k = fnKey(frame);
      innermost ??= k;
      if (!seen.has(k)) {
        seen.add(k);
        add(inclusiveSrc, k, d);
      }
    }
    add(innermostSrc, innermost ?? (f.functionName === '(garbage collector)' ? '(garbage collector)' : '(no src/ frame: node internals, http parser, event loop)'), d);
  }

  const busy = total - idle;
  const pct = (v: number, of: number) => (of > 0 ? ((v / of) * 100).toFixed(1).padStart(5) + '%' : '    -');
  const ms = (v: number) => (v / 1000).toFixed(0).padStart(7) + ' ms';
  const list = (m: Map<string, number>, limit: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([k, v]) => `  ${pct(v, busy)} ${ms(v)}  ${k}`)
      .join('\n');

  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, ${n} samples; busy ${(busy / 1e6).toFixed(1)} s (${pct(busy, total).trim()}), idle ${(idle / 1e6).toFixed(1)} s. Percentages are of busy time.`,
    '',
    `Top ${top} functions by self time:`,
    list(self, top),
    '',
    'Self time by area:',
    list(areas, 20),
    '',
    `Busy time by innermost src/ frame on the stack (what project code the time is spent for):`,
    list(innermostSrc, top),
    '',
    `src/ functions by inclusive time (self + callees):`,
    list(inclusiveSrc, top),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string' }, root: { type: 'string' } }, allowPositionals: true });
  if (positionals.length === 0) {
    console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [--top N] [--root DIR]');
    process.exit(2);
  }
  for (const file of positionals) {
    console.log(`=== ${file}`);
    console.log(await summariseProfile(file, { top: values.top ? Number(values.top) : 25, root: values.root ?? resolve(import.meta.dirname, '..') }));
  }
}
