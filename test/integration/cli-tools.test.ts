import { describe, test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Everyday flows driven through real S3 clients from Debian packages (aws cli v2, rclone, s3cmd)
// against a real oort server: make bucket, upload, list, download, server-side copy, move,
// delete, sync a tree, remove bucket. Every tool is configured through temporary files and
// environment variables only; the user's home directory is never read or written.

const MiB = 1024 * 1024;

/**
 * While this is false every tool is told to send the large file in a single PUT (aws cli:
 * multipart_threshold 64MB; s3cmd: enable_multipart False; rclone's default upload_cutoff is
 * 200 MiB) and the large file is 20 MiB. Set it to true once the tools' multipart paths pass
 * against the server: the large file becomes 100 MiB and each tool goes multipart (aws cli and
 * s3cmd with their defaults, rclone with a lowered upload_cutoff), server-side copies included.
 */
const MULTIPART_IMPLEMENTED = true;
const LARGE_FILE_BYTES = MULTIPART_IMPLEMENTED ? 100 * MiB : 20 * MiB;
/** aws cli `s3.multipart_threshold` (its default is 8MB). */
const AWS_MULTIPART_THRESHOLD = MULTIPART_IMPLEMENTED ? '8MB' : '64MB';

/**
 * Upper bound for one tool invocation: a guard against hangs, not a speed target (100 MiB takes a
 * few seconds on an idle machine, and several times that on a shared, loaded one).
 */
const CALL_TIMEOUT_MS = 120_000;

const execFileP = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Locating the tools

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first executable among `preferred` and then `name` on PATH. The Debian package's
 * /usr/bin/aws (aws cli v2) comes first on purpose: a developer's PATH may put another aws
 * (e.g. a pyenv shim for aws cli v1) ahead of it.
 */
async function findBinary(name: string, preferred: string[] = []): Promise<string | undefined> {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const candidate of [...preferred, ...onPath]) if (await isExecutable(candidate)) return candidate;
  return undefined;
}

const AWS = await findBinary('aws', ['/usr/bin/aws']);
const RCLONE = await findBinary('rclone', ['/usr/bin/rclone']);
const S3CMD = await findBinary('s3cmd', ['/usr/bin/s3cmd']);

// ---------------------------------------------------------------------------------------------
// Running the tools, keeping a transcript for failure reports

interface CommandRecord {
  command: string;
  exit: string;
  stdout: string;
  stderr: string;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function tail(s: string, max = 4000): string {
  return s.length > max ? `…${s.slice(-max)}` : s;
}

class Runner {
  readonly transcript: CommandRecord[] = [];
  private readonly bin: string;
  private readonly baseArgs: string[];
  private readonly env: NodeJS.ProcessEnv;

  constructor(bin: string, baseArgs: string[], env: NodeJS.ProcessEnv) {
    this.bin = bin;
    this.baseArgs = baseArgs;
    this.env = env;
  }

  /** Runs the tool; a non-zero exit or a timeout rejects (the transcript has the output). */
  async run(args: string[], timeout = CALL_TIMEOUT_MS): Promise<string> {
    const full = [...this.baseArgs, ...args];
    const record: CommandRecord = { command: [this.bin, ...full].map(shellQuote).join(' '), exit: 'running', stdout: '', stderr: '' };
    this.transcript.push(record);
    try {
      const { stdout, stderr } = await execFileP(this.bin, full, { env: this.env, timeout, maxBuffer: 32 * MiB, encoding: 'utf8' });
      Object.assign(record, { exit: '0', stdout, stderr });
      return stdout;
    } catch (err) {
      const e = err as Error & { code?: number | string; signal?: string; killed?: boolean; stdout?: string; stderr?: string };
      const exit = e.killed ? `killed (${e.signal}) after the ${timeout} ms timeout` : e.signal ? `signal ${e.signal}` : `exit ${e.code}`;
      Object.assign(record, { exit, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message });
      throw new Error(`command failed (${exit}): ${record.command}`);
    }
  }

  /** The last few commands with their output, for a failure message. */
  report(count = 3): string {
    return this.transcript
      .slice(-count)
      .map((r) => `$ ${r.command}\n[${r.exit}]\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`)
      .join('\n\n');
  }
}

/** A clean environment for the tools: no inherited AWS/rclone settings, a throwaway HOME, UTF-8. */
function toolEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|RCLONE_|S3CMD)/.test(k)) continue;
    env[k] = v;
  }
  // A pyenv shim (if that is what is on PATH) still has to find its installations.
  env.PYENV_ROOT = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
  return { ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', ...extra };
}

// ---------------------------------------------------------------------------------------------
// Local files

/** Deterministic pseudo-random bytes (AES-CTR keystream of a seed). */
function pseudoRandom(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

async function writeDeterministicFile(path: string, seed: string, size: number): Promise<void> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  async function* chunks() {
    const zero = Buffer.alloc(MiB);
    for (let left = size; left > 0; left -= MiB) yield cipher.update(left >= MiB ? zero : zero.subarray(0, left));
  }
  await pipeline(chunks, createWriteStream(path));
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

type Tree = Record<string, string | Buffer>;

/** Nested folders and names with spaces, unicode, `+` and other characters clients must encode. */
const TREE: Tree = {
  'top.txt': 'top of the tree\n',
  'empty.txt': '',
  'dir one/file with spaces.txt': 'spaces in the name\n',
  'dir one/nested/ünïcødé 名前 🚀.txt': 'unicode in the name\n',
  'dir one/nested/deeper/deepest/leaf.bin': pseudoRandom('leaf', 5000),
  'plus+dir/a+b=c.txt': 'plus signs\n',
  'plus+dir/100% & more (1).txt': 'percent, ampersand, parentheses\n',
};

/** What the sync-with-deletions step does to the tree. */
const TREE_CHANGES = {
  modified: ['top.txt', 'top of the tree, changed (and longer)\n'] as const,
  deleted: 'dir one/file with spaces.txt',
  added: ['new dir/new+file ü.txt', 'added later\n'] as const,
};

function changedTree(): Tree {
  const t: Tree = { ...TREE, [TREE_CHANGES.modified[0]]: TREE_CHANGES.modified[1], [TREE_CHANGES.added[0]]: TREE_CHANGES.added[1] };
  delete t[TREE_CHANGES.deleted];
  return t;
}

async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    const file = join(dir, ...path.split('/'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** Relative path ('/'-separated) -> sha256 of every file under dir. */
async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    out[relative(dir, full).split(sep).join('/')] = await sha256File(full);
  }
  return sortKeys(out);
}

function sortKeys<V>(o: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function treeHashes(tree: Tree): Record<string, string> {
  return sortKeys(Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, sha256(v)])));
}

function treeSizes(tree: Tree, prefix: string): Record<string, number> {
  return sortKeys(Object.fromEntries(Object.entries(tree).map(([k, v]) => [prefix + k, Buffer.byteLength(v)])));
}

// ---------------------------------------------------------------------------------------------
// One interface over the three tools

/** One level of a listing: object names and common prefixes, relative to the listed prefix. */
interface Listing {
  files: Record<string, number>;
  dirs: string[];
}

interface S3Tool {
  runner: Runner;
  /** The part size the tool is configured to upload the large file with. */
  partSize: number;
  listBuckets(): Promise<string[]>;
  makeBucket(bucket: string): Promise<void>;
  upload(local: string, bucket: string, key: string): Promise<void>;
  download(bucket: string, key: string, local: string): Promise<void>;
  /** One level under prefix ('' or ending in '/'). */
  list(bucket: string, prefix: string): Promise<Listing>;
  /** Every object under prefix: full key -> size. */
  listRecursive(bucket: string, prefix: string): Promise<Record<string, number>>;
  /** Server-side copy within the bucket. */
  copy(bucket: string, from: string, to: string): Promise<void>;
  move(bucket: string, from: string, to: string): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  /** Makes bucket/prefix mirror dir, deleting remote objects that are not in dir. */
  syncUp(dir: string, bucket: string, prefix: string): Promise<void>;
  syncDown(bucket: string, prefix: string, dir: string): Promise<void>;
  /** Removes a bucket that still holds objects. */
  removeBucket(bucket: string): Promise<void>;
  /** A presigned GET URL for the object; undefined where the tool cannot make one. */
  presign?(bucket: string, key: string): Promise<string>;
}

function parseLines(out: string): string[] {
  return out.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
}

function unparsed(tool: string, line: string): never {
  throw new Error(`unexpected ${tool} output line: ${JSON.stringify(line)}`);
}

function awsTool(bin: string, endpoint: string, env: NodeJS.ProcessEnv): S3Tool {
  const partSize = MULTIPART_IMPLEMENTED ? 8 * MiB : LARGE_FILE_BYTES;
  const runner = new Runner(bin, ['--endpoint-url', endpoint], env);
  const run = (...args: string[]) => runner.run(args);
  const url = (bucket: string, key = '') => `s3://${bucket}/${key}`;
  // `2024-01-02 03:04:05      12345 some key`
  const objectLine = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +(\d+) (.*)$/;
  return {
    partSize,
    runner,
    async listBuckets() {
      return parseLines(await run('s3', 'ls')).map((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.+)$/.exec(l)?.[1] ?? unparsed('aws', l));
    },
    async makeBucket(bucket) {
      await run('s3', 'mb', url(bucket));
    },
    async upload(local, bucket, key) {
      await run('s3', 'cp', '--no-progress', local, url(bucket, key));
    },
    async download(bucket, key, local) {
      await run('s3', 'cp', '--no-progress', url(bucket, key), local);
    },
    async list(bucket, prefix) {
      const listing: Listing = { files: {}, dirs: [] };
      for (const l of parseLines(await run('s3', 'ls', url(bucket, prefix)))) {
        const pre = /^ +PRE (.*)$/.exec(l);
        const obj = objectLine.exec(l);
        if (pre) listing.dirs.push(pre[1]!);
        else if (obj) listing.files[obj[2]!] = Number(obj[1]);
        else unparsed('aws', l);
      }
      return listing;
    },
    async listRecursive(bucket, prefix) {
      const out: Record<string, number> = {};
      for (const l of parseLines(await run('s3', 'ls', '--recursive', url(bucket, prefix)))) {
        const obj = objectLine.exec(l) ?? unparsed('aws', l);
        out[obj[2]!] = Number(obj[1]);
      }
      return sortKeys(out);
    },
    async copy(bucket, from, to) {
      await run('s3', 'cp', '--no-progress', url(bucket, from), url(bucket, to));
    },
    async move(bucket, from, to) {
      await run('s3', 'mv', '--no-progress', url(bucket, from), url(bucket, to));
    },
    async remove(bucket, key) {
      await run('s3', 'rm', url(bucket, key));
    },
    async syncUp(dir, bucket, prefix) {
      await run('s3', 'sync', '--no-progress', '--delete', dir, url(bucket, prefix));
    },
    async syncDown(bucket, prefix, dir) {
      await run('s3', 'sync', '--no-progress', url(bucket, prefix), dir);
    },
    async removeBucket(bucket) {
      await run('s3', 'rb', '--force', url(bucket));
    },
    async presign(bucket, key) {
      return (await run('s3', 'presign', '--expires-in', '300', url(bucket, key))).trim();
    },
  };
}

function rcloneTool(bin: string, configFile: string, remote: string, v2Auth: boolean, env: NodeJS.ProcessEnv): S3Tool {
  const partSize = MULTIPART_IMPLEMENTED ? 5 * MiB : LARGE_FILE_BYTES;
  // Fail fast: retries would hide a server error behind a later success.
  const runner = new Runner(bin, ['--config', configFile, '--retries', '1', '--low-level-retries', '1', '--contimeout', '10s', '--timeout', '20s'], env);
  const run = (...args: string[]) => runner.run(args);
  const path = (bucket: string, key = '') => `${remote}:${bucket}/${key}`.replace(/\/$/, '');
  interface Entry {
    Path: string;
    Name: string;
    Size: number;
    IsDir: boolean;
  }
  const lsjson = async (...args: string[]) => JSON.parse(await run('lsjson', ...args)) as Entry[];
  return {
    partSize,
    runner,
    async listBuckets() {
      return (await lsjson('--dirs-only', `${remote}:`)).map((e) => e.Name);
    },
    async makeBucket(bucket) {
      await run('mkdir', path(bucket));
    },
    async upload(local, bucket, key) {
      await run('copyto', local, path(bucket, key));
    },
    async download(bucket, key, local) {
      await run('copyto', path(bucket, key), local);
    },
    async list(bucket, prefix) {
      const listing: Listing = { files: {}, dirs: [] };
      for (const e of await lsjson(path(bucket, prefix))) {
        if (e.IsDir) listing.dirs.push(`${e.Name}/`);
        else listing.files[e.Name] = e.Size;
      }
      return listing;
    },
    async listRecursive(bucket, prefix) {
      const entries = await lsjson('--recursive', '--files-only', path(bucket, prefix));
      return sortKeys(Object.fromEntries(entries.map((e) => [prefix + e.Path, e.Size])));
    },
    async copy(bucket, from, to) {
      await run('copyto', path(bucket, from), path(bucket, to));
    },
    async move(bucket, from, to) {
      await run('moveto', path(bucket, from), path(bucket, to));
    },
    async remove(bucket, key) {
      await run('deletefile', path(bucket, key));
    },
    async syncUp(dir, bucket, prefix) {
      await run('sync', dir, path(bucket, prefix));
    },
    async syncDown(bucket, prefix, dir) {
      await run('copy', path(bucket, prefix), dir);
    },
    async removeBucket(bucket) {
      await run('purge', path(bucket));
    },
    // With v2_auth rclone's `link` prints the bare URL, without any signature.
    presign: v2Auth
      ? undefined
      : async (bucket, key) => (await run('link', '--expire', '5m', path(bucket, key))).trim(),
  };
}

function s3cmdTool(bin: string, configFile: string, env: NodeJS.ProcessEnv): S3Tool {
  const partSize = MULTIPART_IMPLEMENTED ? 15 * MiB : LARGE_FILE_BYTES;
  const runner = new Runner(bin, ['-c', configFile, '--no-progress'], env);
  const run = (...args: string[]) => runner.run(args);
  const url = (bucket: string, key = '') => `s3://${bucket}/${key}`;
  // `2024-01-02 03:04        12345  s3://bucket/some key`
  const objectLine = /^\d{4}-\d\d-\d\d \d\d:\d\d +(\d+) +s3:\/\/[^/]+\/(.*)$/;
  return {
    partSize,
    runner,
    async listBuckets() {
      return parseLines(await run('ls')).map((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d +s3:\/\/(.+)$/.exec(l)?.[1] ?? unparsed('s3cmd', l));
    },
    async makeBucket(bucket) {
      await run('mb', url(bucket));
    },
    async upload(local, bucket, key) {
      await run('put', local, url(bucket, key));
    },
    async download(bucket, key, local) {
      await run('get', '--force', url(bucket, key), local);
    },
    async list(bucket, prefix) {
      const listing: Listing = { files: {}, dirs: [] };
      for (const l of parseLines(await run('ls', url(bucket, prefix)))) {
        const dir = /^ +DIR +s3:\/\/[^/]+\/(.*)$/.exec(l);
        const obj = objectLine.exec(l);
        if (dir) listing.dirs.push(dir[1]!.slice(prefix.length));
        else if (obj) listing.files[obj[2]!.slice(prefix.length)] = Number(obj[1]);
        else unparsed('s3cmd', l);
      }
      return listing;
    },
    async listRecursive(bucket, prefix) {
      const out: Record<string, number> = {};
      for (const l of parseLines(await run('ls', '--recursive', url(bucket, prefix)))) {
        const obj = objectLine.exec(l) ?? unparsed('s3cmd', l);
        out[obj[2]!] = Number(obj[1]);
      }
      return sortKeys(out);
    },
    async copy(bucket, from, to) {
      await run('cp', url(bucket, from), url(bucket, to));
    },
    async move(bucket, from, to) {
      await run('mv', url(bucket, from), url(bucket, to));
    },
    async remove(bucket, key) {
      await run('del', url(bucket, key));
    },
    async syncUp(dir, bucket, prefix) {
      await run('sync', '--delete-removed', `${dir}/`, url(bucket, prefix));
    },
    async syncDown(bucket, prefix, dir) {
      await run('sync', url(bucket, prefix), `${dir}/`);
    },
    async removeBucket(bucket) {
      await run('del', '--recursive', '--force', url(bucket));
      await run('rb', url(bucket));
    },
    async presign(bucket, key) {
      // s3cmd signs URLs with SigV2 query parameters whatever signature_v2 says.
      return (await run('signurl', url(bucket, key), '+300')).trim();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

let server: TestServer;
/** The AWS SDK, to check the server's state independently of the tool under test. */
let sdk: S3Client;
let work: string;
/** The server's access log: tools shrug off some failed requests, the last test looks at all. */
let accessLog: string;
let smallFile: string;
let largeFile: string;
const SMALL_CONTENT = 'hello from the oort cli tests\n';
let largeSha: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'oort-cli-'));
  accessLog = join(work, 'access.log');
  // Given after the helper's own `--access-log off`, this one wins.
  server = await startTestServer({ extraArgs: ['--access-log', accessLog] });
  sdk = server.client();
  smallFile = join(work, 'small.txt');
  largeFile = join(work, 'large.bin');
  await writeFile(smallFile, SMALL_CONTENT);
  await writeDeterministicFile(largeFile, 'large', LARGE_FILE_BYTES);
  largeSha = await sha256File(largeFile);
});

after(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every object under prefix as the server lists it (ListObjectsV2 via the SDK): key -> size. */
/** The S3 ETag of a file uploaded in parts of `partSize` (a plain MD5 when it fits in one). */
async function expectedEtag(path: string, partSize: number): Promise<string> {
  const data = await readFile(path);
  if (data.length <= partSize) return `"${createHash('md5').update(data).digest('hex')}"`;
  const outer = createHash('md5');
  let n = 0;
  for (let off = 0; off < data.length; off += partSize, n++) outer.update(createHash('md5').update(data.subarray(off, off + partSize)).digest());
  return `"${outer.digest('hex')}-${n}"`;
}

async function serverObjects(bucket: string, prefix = ''): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let token: string | undefined;
  do {
    const page = await sdk.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out[o.Key!] = o.Size!;
    token = page.NextContinuationToken;
  } while (token);
  return sortKeys(out);
}

async function bucketExists(bucket: string): Promise<boolean> {
  try {
    await sdk.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** A scratch directory (with its own HOME) for one tool variant. */
async function scratch(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(join(dir, 'home'), { recursive: true });
  return dir;
}

/**
 * Runs steps as subtests; once one fails the rest are skipped (they depend on it). A failure
 * message carries the tool's recent commands with their output and the server's stderr.
 */
function stepper(t: TestContext, tool: S3Tool) {
  let failed: string | undefined;
  return async (name: string, fn: () => Promise<void>) => {
    await t.test(name, async (st) => {
      if (failed) {
        st.skip(`an earlier step failed: ${failed}`);
        return;
      }
      try {
        await fn();
      } catch (err) {
        failed = name;
        const e = err instanceof Error ? err : new Error(String(err));
        e.message += `\n\n=== recent commands ===\n${tool.runner.report()}\n\n=== server stderr (tail) ===\n${tail(server.stderr()) || '(empty)'}`;
        throw e;
      }
    });
  };
}

/** A query parameter marking requests this file expects to be refused (for the access-log check). */
const EXPECTED_REFUSAL_MARK = 'oort-test-expect-refusal';

/** The everyday flow, the same through every tool. `extra` steps run before the bucket is removed. */
async function everydayFlow(t: TestContext, tool: S3Tool, bucket: string, dir: string, extra?: (step: ReturnType<typeof stepper>) => Promise<void>) {
  const step = stepper(t, tool);
  const smallKey = 'small.txt';
  const largeKey = 'big/large.bin';
  const copyKey = 'copies/large copy+1.bin';
  const movedKey = 'moved/ünïcødé moved.bin';

  await step('make bucket', async () => {
    await tool.makeBucket(bucket);
    assert.ok((await tool.listBuckets()).includes(bucket), `bucket ${bucket} is listed`);
  });

  await step('upload a small file', async () => {
    await tool.upload(smallFile, bucket, smallKey);
  });

  await step(`upload a ${LARGE_FILE_BYTES / MiB} MiB file`, async () => {
    await tool.upload(largeFile, bucket, largeKey);
    // The ETag is what Amazon S3 would give the tool's parts: MD5 of the part MD5s, then -N.
    const head = await sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: largeKey }));
    assert.equal(head.ETag, await expectedEtag(largeFile, tool.partSize));
  });

  await step('list the bucket, one level and recursively', async () => {
    const top = await tool.list(bucket, '');
    assert.deepEqual(top, { files: { [smallKey]: SMALL_CONTENT.length }, dirs: ['big/'] });
    const big = await tool.list(bucket, 'big/');
    assert.deepEqual(big, { files: { 'large.bin': LARGE_FILE_BYTES }, dirs: [] });
    assert.deepEqual(await tool.listRecursive(bucket, ''), { [largeKey]: LARGE_FILE_BYTES, [smallKey]: SMALL_CONTENT.length });
  });

  await step('download both and compare sha256', async () => {
    await tool.download(bucket, smallKey, join(dir, 'small.out'));
    assert.equal(await sha256File(join(dir, 'small.out')), sha256(SMALL_CONTENT));
    await tool.download(bucket, largeKey, join(dir, 'large.out'));
    assert.equal(await sha256File(join(dir, 'large.out')), largeSha);
    await unlink(join(dir, 'large.out'));
  });

  await step('server-side copy', async () => {
    await tool.copy(bucket, largeKey, copyKey);
    await tool.download(bucket, copyKey, join(dir, 'copy.out'));
    assert.equal(await sha256File(join(dir, 'copy.out')), largeSha);
    await unlink(join(dir, 'copy.out'));
  });

  await step('move', async () => {
    await tool.move(bucket, copyKey, movedKey);
    assert.deepEqual(await serverObjects(bucket), {
      [largeKey]: LARGE_FILE_BYTES,
      [movedKey]: LARGE_FILE_BYTES,
      [smallKey]: SMALL_CONTENT.length,
    });
  });

  await step('delete', async () => {
    await tool.remove(bucket, movedKey);
    assert.deepEqual(await serverObjects(bucket), { [largeKey]: LARGE_FILE_BYTES, [smallKey]: SMALL_CONTENT.length });
  });

  const local = join(dir, 'tree');
  await step('sync a directory tree up (nested folders, spaces, unicode, +)', async () => {
    await writeTree(local, TREE);
    await tool.syncUp(local, bucket, 'tree/');
    assert.deepEqual(await tool.listRecursive(bucket, 'tree/'), treeSizes(TREE, 'tree/'));
    const nested = await tool.list(bucket, 'tree/dir one/');
    assert.deepEqual(nested, { files: { 'file with spaces.txt': Buffer.byteLength(TREE['dir one/file with spaces.txt']!) }, dirs: ['nested/'] });
  });

  await step('sync the tree back down and compare sha256 of every file', async () => {
    const back = join(dir, 'tree-back');
    await mkdir(back);
    await tool.syncDown(bucket, 'tree/', back);
    assert.deepEqual(await hashTree(back), treeHashes(TREE));
  });

  await step('sync changes up (modified, deleted, added)', async () => {
    await unlink(join(local, ...TREE_CHANGES.deleted.split('/')));
    await writeTree(local, { [TREE_CHANGES.modified[0]]: TREE_CHANGES.modified[1], [TREE_CHANGES.added[0]]: TREE_CHANGES.added[1] });
    await tool.syncUp(local, bucket, 'tree/');
    assert.deepEqual(await serverObjects(bucket, 'tree/'), treeSizes(changedTree(), 'tree/'));
    await tool.download(bucket, `tree/${TREE_CHANGES.modified[0]}`, join(dir, 'modified.out'));
    assert.equal(await sha256File(join(dir, 'modified.out')), sha256(TREE_CHANGES.modified[1]));
  });

  const presign = tool.presign;
  if (presign) {
    await step('presigned GET URLs download the objects (unicode, %, &, +, spaces)', async () => {
      let link = '';
      for (const name of ['dir one/nested/ünïcødé 名前 🚀.txt', 'plus+dir/100% & more (1).txt']) {
        link = await presign(bucket, `tree/${name}`);
        assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\//, 'a URL on the server');
        const res = await fetch(link);
        const body = await res.text();
        assert.equal(res.status, 200, `GET ${link}: ${res.status} ${body}`);
        assert.equal(body, TREE[name]);
      }
      // Without its signature the same URL is refused.
      const unsigned = new URL(link);
      for (const p of ['Signature', 'X-Amz-Signature']) unsigned.searchParams.delete(p);
      unsigned.searchParams.set(EXPECTED_REFUSAL_MARK, '1');
      const res = await fetch(unsigned);
      await res.arrayBuffer();
      // S3 answers 400 AuthorizationQueryParametersError (SigV4) or 403 AccessDenied (SigV2).
      assert.ok(res.status === 400 || res.status === 403, `GET ${unsigned} without its signature: ${res.status}`);
    });
  }

  if (extra) await extra(step);

  await step('remove the bucket (with its objects)', async () => {
    await tool.removeBucket(bucket);
    assert.equal(await bucketExists(bucket), false, `bucket ${bucket} is gone`);
  });
}

// The tools run side by side, each in its own bucket and scratch directory: the aws cli spends
// about a second of Python start-up per call, which would otherwise dominate the file's run time.
describe('S3 command-line clients', { concurrency: true }, () => {
  // ---------------------------------------------------------------------------------------------
  // aws cli

  /** aws cli configured through temporary files and environment variables only. */
  async function awsSetup(name: string): Promise<{ dir: string; tool: S3Tool }> {
    const dir = await scratch(name);
    const configFile = join(dir, 'aws-config');
    const credentialsFile = join(dir, 'aws-credentials');
    await writeFile(
      configFile,
      [
        '[default]',
        'region = us-east-1',
        's3 =',
        '    addressing_style = path',
        `    multipart_threshold = ${AWS_MULTIPART_THRESHOLD}`,
        `    multipart_chunksize = ${MULTIPART_IMPLEMENTED ? '8MB' : AWS_MULTIPART_THRESHOLD}`,
        '',
      ].join('\n'),
    );
    await writeFile(credentialsFile, `[default]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = ${server.secretAccessKey}\n`);
    const env = toolEnv(join(dir, 'home'), {
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    });
    return { dir, tool: awsTool(AWS!, server.url, env) };
  }

  test('aws cli (s3): everyday flows', async (t) => {
    if (!AWS) {
      t.skip('aws cli not installed');
      return;
    }
    const { dir, tool } = await awsSetup('aws-s3');
    await everydayFlow(t, tool, 'cli-aws', dir);
  });

  test('aws cli (s3api): put-object with metadata, head-object, copy-object', async (t) => {
    if (!AWS) {
      t.skip('aws cli not installed');
      return;
    }
    const { tool } = await awsSetup('aws-s3api');
    const step = stepper(t, tool);
    const bucket = 'cli-aws-s3api';
    const s3api = async (...args: string[]) => JSON.parse((await tool.runner.run(['s3api', '--output', 'json', ...args])) || '{}') as Record<string, unknown>;
    const key = 'meta/with metadata+ü.txt';
    const md5 = createHash('md5').update(SMALL_CONTENT).digest('hex');
    const metadata = { color: 'blue', answer: '42' };

    await step('s3api create-bucket', async () => {
      await s3api('create-bucket', '--bucket', bucket);
      assert.equal(await bucketExists(bucket), true);
    });

    await step('s3api put-object with metadata and content headers', async () => {
      const put = await s3api(
        'put-object', '--bucket', bucket, '--key', key, '--body', smallFile,
        '--metadata', 'color=blue,Answer=42',
        '--content-type', 'text/plain; charset=utf-8',
        '--cache-control', 'max-age=60',
        '--content-disposition', 'attachment; filename="x.txt"',
      );
      assert.equal(put.ETag, `"${md5}"`);
    });

    await step('s3api head-object returns what was stored', async () => {
      const head = await s3api('head-object', '--bucket', bucket, '--key', key);
      assert.equal(head.ContentLength, SMALL_CONTENT.length);
      assert.equal(head.ETag, `"${md5}"`);
      assert.equal(head.ContentType, 'text/plain; charset=utf-8');
      assert.equal(head.CacheControl, 'max-age=60');
      assert.equal(head.ContentDisposition, 'attachment; filename="x.txt"');
      assert.deepEqual(head.Metadata, metadata);
      assert.ok(typeof head.LastModified === 'string' && head.LastModified !== '', 'LastModified');
    });

    await step('s3api copy-object keeps the metadata', async () => {
      // The aws cli percent-encodes --copy-source itself: pass the key as it is.
      await s3api('copy-object', '--bucket', bucket, '--key', 'meta/copy.txt', '--copy-source', `${bucket}/${key}`);
      const head = await s3api('head-object', '--bucket', bucket, '--key', 'meta/copy.txt');
      assert.equal(head.ContentLength, SMALL_CONTENT.length);
      assert.equal(head.ETag, `"${md5}"`);
      assert.equal(head.ContentType, 'text/plain; charset=utf-8');
      assert.deepEqual(head.Metadata, metadata);
    });

    await step('s3api head-object of a missing key is a 404', async () => {
      await assert.rejects(s3api('head-object', '--bucket', bucket, '--key', 'meta/missing'));
      const last = tool.runner.transcript.at(-1)!;
      assert.match(last.stderr, /\(404\)|Not Found/);
    });

    await step('remove the bucket (with its objects)', async () => {
      await tool.removeBucket(bucket);
      assert.equal(await bucketExists(bucket), false, `bucket ${bucket} is gone`);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // rclone

  function rcloneRemote(name: string, v2Auth: boolean): string {
    return [
      `[${name}]`,
      'type = s3',
      'provider = Other',
      `access_key_id = ${server.accessKeyId}`,
      `secret_access_key = ${server.secretAccessKey}`,
      `endpoint = ${server.url}`,
      'region = us-east-1',
      'force_path_style = true',
      `v2_auth = ${v2Auth}`,
      ...(MULTIPART_IMPLEMENTED ? ['upload_cutoff = 5Mi', 'chunk_size = 5Mi'] : []),
      '',
    ].join('\n');
  }

  for (const v2 of [false, true]) {
    const sig = v2 ? 'SigV2' : 'SigV4';
    test(`rclone (${sig}): everyday flows`, async (t) => {
      if (!RCLONE) {
        t.skip('rclone not installed');
        return;
      }
      const dir = await scratch(`rclone-${sig}`);
      const configFile = join(dir, 'rclone.conf');
      const remote = v2 ? 'oortv2' : 'oort';
      // Both remotes in one file, as a user would have them; each run uses one.
      await writeFile(configFile, `${rcloneRemote('oort', false)}\n${rcloneRemote('oortv2', true)}`);
      const tool = rcloneTool(RCLONE, configFile, remote, v2, toolEnv(join(dir, 'home')));
      const bucket = `cli-rclone-${sig.toLowerCase()}`;
      await everydayFlow(t, tool, bucket, dir, async (step) => {
        await step('rclone check: local tree matches the bucket (sizes and md5 hashes)', async () => {
          await tool.runner.run(['check', '--one-way', join(dir, 'tree'), `${remote}:${bucket}/tree`]);
        });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // s3cmd

  for (const v2 of [false, true]) {
    const sig = v2 ? 'SigV2' : 'SigV4';
    test(`s3cmd (${sig}): everyday flows`, async (t) => {
      if (!S3CMD) {
        t.skip('s3cmd not installed');
        return;
      }
      const dir = await scratch(`s3cmd-${sig}`);
      const configFile = join(dir, 's3cmd.cfg');
      const hostPort = `127.0.0.1:${server.port}`;
      await writeFile(
        configFile,
        [
          '[default]',
          `access_key = ${server.accessKeyId}`,
          `secret_key = ${server.secretAccessKey}`,
          `host_base = ${hostPort}`,
          `host_bucket = ${hostPort}`,
          'use_https = False',
          'check_ssl_certificate = False',
          `signature_v2 = ${v2 ? 'True' : 'False'}`,
          'bucket_location = us-east-1',
          ...(MULTIPART_IMPLEMENTED ? ['enable_multipart = True', 'multipart_chunk_size_mb = 15'] : ['enable_multipart = False']),
          'progress_meter = False',
          '',
        ].join('\n'),
      );
      const tool = s3cmdTool(S3CMD, configFile, toolEnv(join(dir, 'home')));
      await everydayFlow(t, tool, `cli-s3cmd-${sig.toLowerCase()}`, dir);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// What the tools did not tell: they retry, fall back or ignore some failures (rclone carries on
// when GetBucketVersioning fails, s3cmd when it cannot read an ACL). The access log has them.

interface AccessLogEntry {
  method: string;
  path: string;
  operation?: string;
  status: number;
  error?: string;
}

/** Failures that are part of normal client behaviour. */
function expectedFailure(e: AccessLogEntry): boolean {
  if (e.status === 404) return true; // existence probes (HEAD object, HEAD bucket)
  if (e.status === 409 && e.error === 'BucketAlreadyOwnedByYou') return true; // rclone creates the bucket before uploads
  if (e.path.includes(EXPECTED_REFUSAL_MARK)) return true; // our own presigned URL without its signature
  return false;
}

test('no tool request failed authentication or hit a server error, even where the tool carried on', async (t) => {
  await sleep(200); // let the server flush its last access-log lines
  const entries: AccessLogEntry[] = [];
  for (const line of (await readFile(accessLog, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    entries.push(JSON.parse(line) as AccessLogEntry);
  }
  assert.ok(entries.length > 0, 'the access log has entries');
  const describe = (e: AccessLogEntry) => `${e.status} ${e.error ?? ''} ${e.method} ${e.path} (${e.operation ?? 'no operation'})`;
  for (const e of entries.filter((x) => x.status === 501)) t.diagnostic(`not implemented, tolerated by the tool: ${describe(e)}`);
  const unexpected = entries.filter((e) => e.status >= 400 && e.status !== 501 && !expectedFailure(e));
  assert.deepEqual(unexpected.map(describe), [], `unexpected failed requests in the access log:\n${unexpected.map(describe).join('\n')}`);
});
