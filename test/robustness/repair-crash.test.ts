import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SqliteMetaStore } from '../../src/meta/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { Prng, md5Hex, seededBytes } from '../helpers/seeded.ts';
import { filesUnder } from '../helpers/data-dir.ts';
import { adminClient } from '../helpers/admin.ts';
import { redundancy } from '../node/corpus.ts';

// Six data directories (4+2). Two are wiped while the server is down; the restarted server repairs
// onto them and is killed with SIGKILL mid-repair, several times. In the end every object reads
// back byte-identical, every segment has its six healthy pieces again, and no piece file is left
// that the metadata does not name (nor a row without its file).

const MiB = 1024 * 1024;
const Bucket = 'repair';

/** The running gateway's repair queue and the segments short of k+m healthy pieces (admin API). */
async function healthy(server: TestServer): Promise<{ queued: number; degraded: number }> {
  const repair = (await adminClient(server).call('GET', 'repair')).body as { repair: { queuedSegments: number } };
  const r = await redundancy(server);
  return { queued: repair.repair.queuedSegments, degraded: r.segments - r.full };
}

test('SIGKILL during repair loses nothing and leaves no orphan pieces', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'oort-repair-'));
  const drives = Array.from({ length: 6 }, (_, i) => join(dataDir, `d${i}`));
  const args = ['--drives', drives.join(',')];
  const start = () => startTestServer({ dataDir, keepData: true, extraArgs: args });
  const prng = new Prng(7);
  const stored = new Map<string, string>();
  let server: TestServer | undefined = await start();
  try {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket }));
    for (let i = 0; i < 6; i++) {
      const body = seededBytes(100 + i, 8 * MiB + i * 333_333);
      await s3.send(new PutObjectCommand({ Bucket, Key: `obj-${i}`, Body: body }));
      stored.set(`obj-${i}`, md5Hex(body));
    }
    await server.stop();
    server = undefined;

    // Two disks fail: empty directories in their place.
    for (const d of drives.slice(4)) {
      await rm(d, { recursive: true, force: true });
      await mkdir(d);
    }
    const rebuilt = async () => (await Promise.all(drives.slice(4).map((d) => filesUnder(join(d, 'pieces'))))).reduce((n, f) => n + f.length, 0);
    const progress: number[] = [await rebuilt()];
    for (let round = 0; round < 4; round++) {
      server = await start();
      // A wiped directory is found at start; the kills land before, during and after its repair.
      await sleep(prng.int(150, 1500));
      const exited = new Promise((r) => server!.process.once('exit', r));
      server.process.kill('SIGKILL');
      await exited;
      server = undefined;
      progress.push(await rebuilt());
    }
    // Where each kill landed (piece files rebuilt on the wiped directories so far), for the log.
    console.log(`pieces on the wiped directories after each SIGKILL: ${JSON.stringify(progress)}`);

    server = await start();
    let state = await healthy(server);
    for (let i = 0; i < 120 && (state.queued > 0 || state.degraded > 0); i++) {
      await sleep(250);
      state = await healthy(server);
    }
    assert.deepEqual(state, { queued: 0, degraded: 0 }, 'repair finished and every segment is back to k+m healthy pieces');
    const s3b = server.client();
    for (const [Key, md5] of stored) {
      const got = await s3b.send(new GetObjectCommand({ Bucket, Key }));
      assert.equal(md5Hex(Buffer.from(await got.Body!.transformToByteArray())), md5, Key);
    }
    await server.stop();
    server = undefined;

    // Every piece file is named by a piece row of a live stream, and every row has its file.
    const meta = await SqliteMetaStore.open(join(dataDir, 'meta.sqlite'));
    try {
      const segments = meta.segmentStore();
      const live = new Set<string>();
      for await (const l of meta.referencedLocators()) if (l.startsWith('s:')) live.add(l.slice(2));
      for (const drive of drives) {
        const domainId = (JSON.parse(await readFile(join(drive, 'oort-domain.json'), 'utf8')) as { id: string }).id;
        const rows = (await segments.piecesOnDomain(domainId)).map((r) => `${r.streamId}.${r.segment}.${r.piece}`).sort();
        const files = (await filesUnder(join(drive, 'pieces'))).map((f) => f.split('/').pop()!).sort();
        assert.deepEqual(files, rows, `${drive}: piece files vs piece rows`);
        for (const r of rows) assert.ok(live.has(r.split('.')[0]!), `${drive}: piece ${r} of a stream nothing refers to`);
        assert.deepEqual(await filesUnder(join(drive, 'tmp')), [], `${drive}: tmp/ is empty`);
      }
    } finally {
      await meta.close();
    }
  } finally {
    if (server) await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
