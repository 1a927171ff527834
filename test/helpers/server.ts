import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

// A real oort server in a child process on a free loopback port, with a fresh data directory.

const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

export interface TestServer {
  url: string;
  port: number;
  /** The plain-HTTP redirect listener, when started with TLS and --http-port. */
  redirectUrl: string | undefined;
  /** The certificate to trust, when TLS is on. */
  tlsCertFile: string | undefined;
  accessKeyId: string;
  secretAccessKey: string;
  dataDir: string;
  process: ChildProcess;
  /** Output the server wrote to stderr so far (for diagnosing failures). */
  stderr(): string;
  client(options?: { forcePathStyle?: boolean; credentials?: { accessKeyId: string; secretAccessKey: string } }): S3Client;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  dataDir?: string;
  /** Keep the data directory on stop (for restart tests). */
  keepData?: boolean;
  extraArgs?: string[];
  env?: Record<string, string>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'oort-test-')));
  const accessKeyId = 'OORTTESTKEY0000001';
  const secretAccessKey = 'test-secret-key-0123456789abcdef';
  const child = spawn(
    process.execPath,
    [CLI, 'server', '--port', '0', '--data-dir', dataDir, '--access-log', 'off', '--rate-limit', '0', ...(options.extraArgs ?? [])],
    {
      env: { ...process.env, OORT_ROOT_ACCESS_KEY: accessKeyId, OORT_ROOT_SECRET_KEY: secretAccessKey, ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 20_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr += s;
      const m = /listening on (http\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
  const port = Number(new URL(url).port);
  const redirectUrl = /redirecting (http:\S+) to HTTPS/.exec(stderr)?.[1];
  const tlsCertFile = /TLS certificate: (\S+)/.exec(stderr)?.[1];
  const clients: S3Client[] = [];
  return {
    url,
    port,
    redirectUrl,
    tlsCertFile,
    accessKeyId,
    secretAccessKey,
    dataDir,
    process: child,
    stderr: () => stderr,
    client(opts = {}) {
      const c = new S3Client({
        endpoint: url,
        region: 'us-east-1',
        forcePathStyle: opts.forcePathStyle ?? true,
        credentials: opts.credentials ?? { accessKeyId, secretAccessKey },
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A DNS lookup that sends every name (e.g. bucket.localhost) to 127.0.0.1, for virtual-host tests. */
export function loopbackLookup(
  _host: string,
  options: { all?: boolean },
  cb: (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void,
): void {
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}
