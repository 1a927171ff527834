import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectEngine, WriteResult } from './types.ts';

// Coalesce the 16-64 KiB buffers a socket delivers into fewer write() calls.
const WRITE_BATCH = 1024 * 1024;

/**
 * The single-drive engine: one file per object (or part) under `<dir>/objects/xx/`.
 * Bytes land in `<dir>/tmp/` first, are fsync'd, then renamed into place and the directory
 * fsync'd, so a locator handed out always names a complete, durable file. A crash leaves at
 * most stray files in tmp/ (or unreferenced ones in objects/), never a partial object.
 */
export class LocalFileEngine implements ObjectEngine {
  readonly dir: string;
  private readonly tmpDir: string;
  private readonly madeDirs = new Set<string>();

  private constructor(dir: string) {
    this.dir = dir;
    this.tmpDir = join(dir, 'tmp');
  }

  static async open(dir: string): Promise<LocalFileEngine> {
    const engine = new LocalFileEngine(dir);
    await mkdir(join(dir, 'objects'), { recursive: true });
    // Whatever is in tmp/ at start was never handed out: it is garbage from a crash.
    await rm(engine.tmpDir, { recursive: true, force: true });
    await mkdir(engine.tmpDir, { recursive: true });
    return engine;
  }

  private pathOf(locator: string): string {
    if (!/^[0-9a-f]{32}$/.test(locator)) throw new Error(`bad locator ${locator}`);
    return join(this.dir, 'objects', locator.slice(0, 2), locator);
  }

  async write(source: AsyncIterable<Buffer>): Promise<WriteResult> {
    const locator = randomUUID().replaceAll('-', '');
    const tmpPath = join(this.tmpDir, locator);
    const fh = await open(tmpPath, 'wx', 0o600);
    let size = 0;
    try {
      let batch: Buffer[] = [];
      let batched = 0;
      for await (const chunk of source) {
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) {
          await fh.writev(batch);
          size += batched;
          batch = [];
          batched = 0;
        }
      }
      if (batched > 0) {
        await fh.writev(batch);
        size += batched;
      }
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmpPath).catch(() => {});
      throw err;
    }
    await fh.close();
    const finalPath = this.pathOf(locator);
    const shardDir = join(this.dir, 'objects', locator.slice(0, 2));
    if (!this.madeDirs.has(shardDir)) {
      await mkdir(shardDir, { recursive: true });
      this.madeDirs.add(shardDir);
    }
    await rename(tmpPath, finalPath);
    await syncDir(shardDir);
    return { locator, size };
  }

  read(locator: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(locator), {
      start: range?.start,
      end: range?.end,
      highWaterMark: 256 * 1024,
    });
  }

  async delete(locator: string): Promise<void> {
    await unlink(this.pathOf(locator)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async sweep(keep: ReadonlySet<string>, olderThan: Date): Promise<number> {
    let removed = 0;
    const objects = join(this.dir, 'objects');
    for (const shard of await readdir(objects)) {
      for (const name of await readdir(join(objects, shard)).catch(() => [] as string[])) {
        if (keep.has(name)) continue;
        const path = join(objects, shard, name);
        const info = await stat(path).catch(() => undefined);
        if (!info || info.mtime >= olderThan) continue;
        await unlink(path).catch(() => {});
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}

async function syncDir(path: string): Promise<void> {
  const dh = await open(path, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
