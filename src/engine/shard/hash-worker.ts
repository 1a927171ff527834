// A hashing thread of hash-pool.ts: SHA-256 of ranges of a SharedArrayBuffer, read in place.
import { hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-pool.ts';

const port = parentPort!;
port.on('message', ({ id, buffer, ranges }: HashRequest) => {
  try {
    const digests = new Uint8Array((ranges.length / 2) * 32);
    for (let i = 0; i < ranges.length; i += 2) {
      digests.set(hash('sha256', new Uint8Array(buffer, ranges[i]!, ranges[i + 1]!), 'buffer'), (i / 2) * 32);
    }
    port.postMessage({ id, digests: digests.buffer } satisfies HashReply, [digests.buffer]);
  } catch (err) {
    port.postMessage({ id, error: String(err) } satisfies HashReply);
  }
});
