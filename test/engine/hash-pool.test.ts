import { it } from 'node:test';
import assert from 'node:assert/strict';
import { hash, randomFillSync } from 'node:crypto';
import { HashPool } from '../../src/engine/shard/hash-pool.ts';

it('hash threads give the SHA-256 of each range of shared memory, and survive a bad request', async () => {
  const pool = new HashPool(2);
  const buffer = new SharedArrayBuffer(1 << 20);
  randomFillSync(new Uint8Array(buffer));
  const ranges = [0, 0, 0, 1000, 17, 65536, (1 << 20) - 333, 333, 0, 1 << 20];
  // Several requests at once spread over both threads; every answer goes to its own caller.
  const answers = await Promise.all(Array.from({ length: 6 }, () => pool.digest(buffer, ranges)));
  for (const digests of answers) {
    assert.equal(digests.length, ranges.length / 2);
    digests.forEach((d, i) => assert.ok(d.equals(hash('sha256', new Uint8Array(buffer, ranges[2 * i]!, ranges[2 * i + 1]!), 'buffer'))));
  }
  await assert.rejects(pool.digest(buffer, [1 << 20, 10]), /hash worker/);
  const [again] = await pool.digest(buffer, [5, 5]);
  assert.ok(again!.equals(hash('sha256', new Uint8Array(buffer, 5, 5), 'buffer')));
});

it('a hash thread that dies fails its pending work, is replaced, and after three deaths hashing stays in the caller', async () => {
  const pool = new HashPool(1);
  const buffer = new SharedArrayBuffer(4 << 20);
  randomFillSync(new Uint8Array(buffer));
  const expect = hash('sha256', new Uint8Array(buffer), 'buffer');
  // Reaching into the pool to kill its thread, as a crash would.
  const threads = (pool as unknown as { threads: Array<{ worker: { terminate(): Promise<number> } }> }).threads;
  for (let death = 1; death <= 3; death++) {
    // Long enough (256 MiB) that the thread cannot answer before it is stopped.
    const pending = pool.digest(buffer, Array.from({ length: 64 }, () => [0, 4 << 20]).flat());
    await threads[0]!.worker.terminate();
    await assert.rejects(pending, /exited/);
    const [d] = await pool.digest(buffer, [0, 4 << 20]);
    assert.ok(d!.equals(expect), `after death ${death}`);
  }
  assert.equal(threads.length, 0, 'no thread after the third death: hashed in the caller');
});
