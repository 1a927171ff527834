// Per-stage CPU cost of the small-object GET path, in process (no HTTP): how many µs each step
// of a request takes, measured as the minimum over several repetitions of a tight loop (the
// minimum is what the code costs; contention on a shared machine only adds).
//
//   node bench/stages.ts [--n 20000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { authenticate } from '../src/auth/index.ts';
import { parseAddress } from '../src/s3/addressing.ts';
import { resolveOperation } from '../src/s3/router.ts';
import { createGate } from '../src/s3/gate.ts';
import { AccessControl } from '../src/iam/authorize.ts';
import { compileBucketPolicy } from '../src/iam/bucket-policy.ts';
import { SqliteMetaStore } from '../src/meta/sqlite/store.ts';
import { objectHeaders } from '../src/s3/headers.ts';
import { KeyRing, newMasterKey } from '../src/security/master-key.ts';
import { openInline, sealInline } from '../src/engine/shard/inline.ts';
import { nextRequestId } from '../src/http/request-id.ts';
import { Signer, EMPTY_SHA256, objectPath } from './sigv4.ts';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '20000' } }, strict: true });
const N = Number(args.n);

function time(name: string, fn: () => unknown): void {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    runs.push(Number(process.hrtime.bigint() - t) / N / 1000);
  }
  console.log(`${name.padEnd(34)} ${Math.min(...runs).toFixed(2).padStart(7)} µs  (median ${runs.sort((a, b) => a - b)[2]!.toFixed(2)})`);
}
async function timeAsync(name: string, fn: () => Promise<unknown>): Promise<void> {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    runs.push(Number(process.hrtime.bigint() - t) / N / 1000);
  }
  console.log(`${name.padEnd(34)} ${Math.min(...runs).toFixed(2).padStart(7)} µs  (median ${runs.sort((a, b) => a - b)[2]!.toFixed(2)})`);
}

const dir = await mkdtemp(join(tmpdir(), 'oort-stages-'));
try {
  const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
  const keys = new KeyRing(newMasterKey(), []);
  const locator = sealInline(keys, Buffer.alloc(4096, 0x61));
  await meta.createBucket({ name: 'bench', owner: 'acct', region: 'us-east-1', createdAt: new Date(), settings: {} });
  await meta.putObject({
    bucket: 'bench', key: 'g/f01/obj-1', versionId: 'null', size: 4096, etag: '0123456789abcdef0123456789abcdef',
    lastModified: new Date(), storageClass: 'STANDARD', owner: 'acct', contentHeaders: {}, userMetadata: {}, locator,
  });

  const host = '127.0.0.1:9000';
  const path = objectPath('bench', 'g/f01/obj-1');
  const signer = new Signer('AKIDBENCH', 'secret-bench');
  const signed = signer.sign('GET', path, '', host, EMPTY_SHA256);
  const headers = { ...signed, 'user-agent': 'bench', connection: 'keep-alive' };
  const rawHeaders = Object.entries(headers).flat();
  const body = Readable.from([]);
  const lookup = async (id: string) => ({ accessKeyId: id, secretAccessKey: 'secret-bench' });
  const principal = { accountId: 'acct', displayName: 'acct', accessKeyId: 'AKIDBENCH', isAdmin: false };
  const access = new AccessControl(compileBucketPolicy);
  const address = parseAddress(path, host, ['localhost']);

  time('nextRequestId', () => nextRequestId());
  time('parseAddress', () => parseAddress(path, host, ['localhost']));
  await timeAsync('authenticate (SigV4 header)', () => authenticate({ method: 'GET', rawUrl: path, headers, rawHeaders, body, virtualHostBucket: undefined }, lookup, { region: 'us-east-1' }));
  time('resolveOperation', () => resolveOperation({ method: 'GET', bucket: 'bench', key: 'g/f01/obj-1', query: address.query, hasCopySource: false, isForm: false }));
  await timeAsync('createGate + check (owner)', () => createGate({ meta, access, credentials: async () => undefined }, { principal, headers, query: address.query, sourceIp: '127.0.0.1', secure: false }).check('s3:GetObject', 'bench', 'g/f01/obj-1'));
  await timeAsync('meta.getBucket', () => meta.getBucket('bench'));
  await timeAsync('meta.getObject (with locator)', () => meta.getObject('bench', 'g/f01/obj-1'));
  await timeAsync('meta.getObject (HEAD, no locator)', () => meta.getObject('bench', 'g/f01/obj-1', { locators: false }));
  const obj = (await meta.getObject('bench', 'g/f01/obj-1'))!;
  time('objectHeaders', () => objectHeaders(obj));
  time('openInline (engine)', () => openInline(keys, obj.locator));
  await meta.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
