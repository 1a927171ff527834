// SHA-256 of ranges of shared memory on worker threads. Repair hashes every block it reads (to
// check it against its piece's trailer) and every block it rebuilds: three bytes hashed per rebuilt
// byte at 4+2, most of a core. On worker threads this runs beside the main thread's decoding and
// I/O, and in place: the blocks lie in a SharedArrayBuffer (a CodecArena), nothing is copied.
//
// Workers start on first use and hold the process open only while they have work. A worker that
// dies fails its pending requests and is replaced on the next one; where no worker can start, or
// after three have died, the hashing runs on the calling thread.

import { hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** A message to a thread: `ranges` is offset, length, offset, length, ... */
interface HashRequest {
  id: number;
  buffer: SharedArrayBuffer;
  ranges: readonly number[];
}

type HashReply = { id: number; digests: ArrayBuffer; error?: undefined } | { id: number; error: string; digests?: undefined };

// The thread's code: plain JavaScript, so a new thread need not load the TypeScript stripper.
const THREAD_SOURCE = `
const { hash } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, buffer, ranges }) => {
  try {
    const digests = new Uint8Array((ranges.length / 2) * 32);
    for (let i = 0; i < ranges.length; i += 2) {
      digests.set(hash('sha256', new Uint8Array(buffer, ranges[i], ranges[i + 1]), 'buffer'), (i / 2) * 32);
    }
    parentPort.postMessage({ id, digests: digests.buffer }, [digests.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) });
  }
});
`;

interface Pending {
  bytes: number;
  resolve(digests: ArrayBuffer): void;
  reject(err: Error): void;
}

class HashThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** Bytes asked of this thread and not yet answered. */
  load = 0;

  constructor(onGone: (t: HashThread) => void) {
    this.worker = new Worker(THREAD_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (reply: HashReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.settle(reply.id, p);
      if (reply.error !== undefined) p.reject(new Error(`hash worker: ${reply.error}`));
      else p.resolve(reply.digests);
    });
    let gone = false;
    const fail = (err: Error) => {
      if (!gone) onGone(this);
      gone = true;
      for (const [id, p] of this.pending) {
        this.settle(id, p);
        p.reject(err);
      }
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    this.load -= p.bytes;
    if (this.pending.size === 0) this.worker.unref();
  }

  run(id: number, buffer: SharedArrayBuffer, ranges: readonly number[], bytes: number): Promise<ArrayBuffer> {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { bytes, resolve, reject });
      this.load += bytes;
      // Keep the process alive while an answer is due.
      this.worker.ref();
      this.worker.postMessage({ id, buffer, ranges } satisfies HashRequest);
    });
  }
}

const MAX_DEATHS = 3;

export class HashPool {
  private readonly size: number;
  private readonly threads: HashThread[] = [];
  private nextId = 1;
  /** Threads that died; after MAX_DEATHS the hashing stays on the calling thread. */
  private deaths = 0;
  private broken = false;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  /** SHA-256 of each range (offset, length pairs) of `buffer`; the bytes must not change until it resolves. */
  async digest(buffer: SharedArrayBuffer, ranges: readonly number[]): Promise<Buffer[]> {
    const count = ranges.length / 2;
    const thread = this.pick();
    if (!thread) {
      const out: Buffer[] = [];
      for (let i = 0; i < ranges.length; i += 2) out.push(hash('sha256', new Uint8Array(buffer, ranges[i]!, ranges[i + 1]!), 'buffer'));
      return out;
    }
    let bytes = 0;
    for (let i = 1; i < ranges.length; i += 2) bytes += ranges[i]!;
    const digests = Buffer.from(await thread.run(this.nextId++, buffer, ranges, bytes));
    return Array.from({ length: count }, (_, i) => digests.subarray(i * 32, i * 32 + 32));
  }

  /** The least busy thread, starting one while there are fewer than `size`. */
  private pick(): HashThread | undefined {
    if (this.broken) return undefined;
    let best = this.threads.reduce<HashThread | undefined>((a, t) => (!a || t.load < a.load ? t : a), undefined);
    if ((!best || best.load > 0) && this.threads.length < this.size) {
      try {
        best = new HashThread((gone) => {
          const at = this.threads.indexOf(gone);
          if (at >= 0) this.threads.splice(at, 1);
          if (++this.deaths >= MAX_DEATHS) this.broken = true;
        });
        this.threads.push(best);
      } catch {
        this.broken = this.threads.length === 0;
      }
    }
    return best;
  }
}

let shared: HashPool | undefined;

/** The process's pool: one thread per core but one (the main thread decodes), at least one, at most 4. */
export function hashPool(): HashPool {
  shared ??= new HashPool(Math.min(4, Math.max(1, availableParallelism() - 1)));
  return shared;
}
