import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

// Storage nodes (`oort node`) as child processes on free loopback ports, each with its own data
// directory, sharing one cluster secret.

const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

export interface TestNode {
  id: string;
  url: string;
  dataDir: string;
  process: ChildProcess;
  stderr(): string;
  /** SIGKILL (the process is gone; its directory stays). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface Cluster {
  dir: string;
  secretFile: string;
  secret: string;
  nodes: TestNode[];
  /** Starts one more node (optionally on an existing data directory). */
  add(options?: { dataDir?: string; extraArgs?: string[] }): Promise<TestNode>;
  close(): Promise<void>;
}

export async function startCluster(count: number, extraArgs: string[] = []): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'oort-cluster-'));
  const secret = randomBytes(24).toString('hex');
  const secretFile = join(dir, 'cluster.secret');
  await writeFile(secretFile, secret + '\n', { mode: 0o600 });
  let n = 0;
  const cluster: Cluster = {
    dir,
    secretFile,
    secret,
    nodes: [],
    async add(options = {}) {
      const node = await startNode(options.dataDir ?? join(dir, `node-${n++}`), secretFile, [...extraArgs, ...(options.extraArgs ?? [])]);
      cluster.nodes.push(node);
      return node;
    },
    async close() {
      await Promise.all(cluster.nodes.map((x) => x.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  await Promise.all(Array.from({ length: count }, () => cluster.add()));
  return cluster;
}

export async function startNode(dataDir: string, secretFile: string, extraArgs: string[] = []): Promise<TestNode> {
  const child = spawn(
    process.execPath,
    [CLI, 'node', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--cluster-secret-file', secretFile, '--reserve', '0', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const m = await new Promise<RegExpExecArray>((resolveMatch, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start:\n${stderr}`)), 60_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr += s;
      const found = /oort node (\S+) listening on (http\S+)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolveMatch(found);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${stderr}`));
    });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    id: m[1]!,
    url: m[2]!,
    dataDir,
    process: child,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
