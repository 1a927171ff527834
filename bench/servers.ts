// Child processes under test (oort and the reference server) and their resident memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli.ts');
const REFERENCE = join(ROOT, 'bench/reference-server.ts');

export const ACCESS_KEY = 'OORTBENCHKEY00000001';
export const SECRET_KEY = 'bench-secret-key-0123456789abcdef';

/** Reads a process's VmRSS (bytes), or undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS_PER_S = 100; // getconf CLK_TCK on Linux x86-64

/** CPU time (user + system) a process has used so far, ms (10 ms resolution), or undefined once it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the `(comm)` one: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs`; keeps the peak since the last reset and of the whole run. */
export class RssSampler {
  readonly pid: number;
  peak = 0;
  runPeak = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 50) {
    this.pid = pid;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const rss = rssOf(this.pid);
    if (rss === undefined) return;
    this.samples++;
    if (rss > this.peak) this.peak = rss;
    if (rss > this.runPeak) this.runPeak = rss;
  }

  /** Starts a new measurement window; returns the current RSS. */
  reset(): number {
    this.peak = 0;
    this.sample();
    return this.peak;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface ServerProc {
  name: string;
  url: string;
  pid: number;
  dataDir: string;
  rss: RssSampler;
  child: ChildProcess;
  stderr(): string;
  alive(): boolean;
  /** SIGTERM, wait for exit (a --cpu-prof profile is written then), remove the data directory. */
  stop(keepData?: boolean): Promise<void>;
}

async function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, dataDir: string): Promise<ServerProc> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${stderr}`)), 30_000);
    const onData = () => {
      const m = /listening on (http\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        child.off('exit', onExit);
        resolveUrl(m[1]!);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${stderr}`));
    };
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  const rss = new RssSampler(child.pid!);
  return {
    name,
    url,
    pid: child.pid!,
    dataDir,
    rss,
    child,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(keepData = false) {
      rss.stop();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timeout);
      }
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `dataDir`: reuse a data directory a previous (stopped, kept) server left; default a fresh one.
 * `tree`: run the oort of another checkout (bench/ab.ts compares two).
 */
export async function startOort(opts: { cpuProfDir?: string; dataDir?: string; tree?: string; name?: string } = {}): Promise<ServerProc> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'oort-bench-')));
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  return startChild(
    opts.name ?? 'oort',
    [...nodeArgs, opts.tree ? join(resolve(opts.tree), 'src/cli.ts') : CLI, 'server', '--port', '0', '--data-dir', dataDir, '--access-log', 'off'],
    // The per-key rate limit (when the server has one) would measure the limiter, not the server.
    { ...process.env, OORT_ROOT_ACCESS_KEY: ACCESS_KEY, OORT_ROOT_SECRET_KEY: SECRET_KEY, OORT_RATE_LIMIT: '0' },
    dataDir,
  );
}

export async function startReference(): Promise<ServerProc> {
  const dataDir = await mkdtemp(join(tmpdir(), 'oort-bench-ref-'));
  return startChild('ref', [REFERENCE, '--data-dir', dataDir, '--port', '0'], process.env, dataDir);
}
