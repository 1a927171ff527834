import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SqliteMetaStore } from '../../src/meta/index.ts';
import { ShardEngine, type ShardEngineOptions } from '../../src/engine/shard/index.ts';
import { loadKeyRing } from '../../src/security/master-key.ts';
import { Prng } from '../helpers/seeded.ts';

/**
 * Deterministic pseudo-random bytes: the AES-256-CTR keystream of a seed, so any range can be
 * produced on its own (the counter starts at offset / 16) and nothing needs holding in memory.
 */
export class Pattern {
  private readonly key: Buffer;
  readonly size: number;

  constructor(seed: string, size: number) {
    this.key = createHash('sha256').update(seed).digest();
    this.size = size;
  }

  /** Bytes [start, end] (inclusive). */
  range(start: number, end: number): Buffer {
    if (end < start) return Buffer.alloc(0);
    const block = Math.floor(start / 16);
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(block), 8);
    const cipher = createCipheriv('aes-256-ctr', this.key, iv);
    const skip = start - block * 16;
    const out = cipher.update(Buffer.alloc(end - start + 1 + skip));
    return out.subarray(skip);
  }

  /** The whole pattern as a stream of `chunk`-sized buffers. */
  async *stream(chunk = 256 * 1024): AsyncGenerator<Buffer> {
    for (let at = 0; at < this.size; at += chunk) yield this.range(at, Math.min(this.size, at + chunk) - 1);
  }

  sha256(): string {
    const h = createHash('sha256');
    for (let at = 0; at < this.size; at += 4 * 1024 * 1024) h.update(this.range(at, Math.min(this.size, at + 4 * 1024 * 1024) - 1));
    return h.digest('hex');
  }
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function sha256Of(r: Readable): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of r) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { hash: h.digest('hex'), size };
}

/** Deterministic numbers in [0, 1) (the shared seeded PRNG). */
export function prng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

export interface Rig {
  dir: string;
  drives: string[];
  meta: SqliteMetaStore;
  engine: ShardEngine;
  /** Closes the engine (and the store unless keepMeta) and reopens it on the same directories. */
  reopen(options?: Partial<ShardEngineOptions>): Promise<ShardEngine>;
  close(): Promise<void>;
}

export async function openRig(dirs: number, options: Partial<ShardEngineOptions> = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'oort-engine-'));
  const drives = Array.from({ length: dirs }, (_, i) => join(dir, `drive-${i}`));
  const meta = await SqliteMetaStore.open(join(dir, 'meta.sqlite'));
  const { keys } = await loadKeyRing(dir, {});
  const logs: string[] = [];
  const open = (more: Partial<ShardEngineOptions> = {}) =>
    ShardEngine.open({ drives, segments: meta.segmentStore(), keys, background: false, log: (m) => logs.push(m), ...options, ...more });
  const rig: Rig = {
    dir,
    drives,
    meta,
    engine: await open(),
    async reopen(more) {
      await rig.engine.close();
      rig.engine = await open(more);
      return rig.engine;
    },
    async close() {
      await rig.engine.close();
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
