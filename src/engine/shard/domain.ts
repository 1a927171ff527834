// A failure domain holds pieces: one data directory here; a storage node later (same interface).
// At most one piece of a segment goes to one domain.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { hash } from 'node:crypto';
import { decodeHeader, decodeTrailer, HEADER_SIZE, merkleProof, trailerSize } from './piece-file.ts';

export interface PieceInfo {
  name: string;
  size: number;
  mtime: Date;
}

/** A piece being written: bytes are appended after the header's room, then commit makes it durable and visible. */
export interface PieceWriter {
  /** Appends data (in order) after the header. */
  write(data: Uint8Array): Promise<void>;
  /** Writes the header at offset 0, fsyncs, and publishes the piece under its name (replacing any). */
  commit(header: Uint8Array): Promise<void>;
  /** Drops the unfinished piece. */
  abort(): Promise<void>;
}

/** An open piece for positional reads. */
export interface PieceHandle {
  /** Exactly `length` bytes at `offset`; throws if the file is shorter. */
  read(offset: number, length: number): Promise<Buffer>;
  /** Fills `target` from `offset` without allocating (optional; read() + copy otherwise); throws if the file is shorter. */
  readInto?(target: Uint8Array, offset: number): Promise<void>;
  close(): Promise<void>;
}

export class PieceMissingError extends Error {
  constructor(domain: string, name: string) {
    super(`piece ${name} is missing on ${domain}`);
    this.name = 'PieceMissingError';
  }
}

/** A storage proof: one block of a piece and the Merkle path from its hash to the piece's root. */
export interface AuditAnswer {
  block: Buffer;
  proof: Buffer[];
}

/** A piece re-hashed against its own trailer. */
export interface VerifyResult {
  ok: boolean;
  blocks: number;
  badBlocks: number[];
}

export interface FailureDomain {
  /** Stable id, recorded with every piece in the metadata database. */
  readonly id: string;
  /** Where it is: a directory path, or a node's URL. */
  readonly address: string;
  readonly kind: 'dir' | 'node';
  create(name: string): Promise<PieceWriter>;
  /** Opens a piece (a trashed one too, until it is deleted). */
  open(name: string): Promise<PieceHandle>;
  /** Moves a piece out of the live set: still readable through open(), gone for list() and scrub. */
  trash(name: string): Promise<void>;
  /** Removes a piece, live or trashed; a missing one is not an error. */
  delete(name: string): Promise<void>;
  stat(name: string): Promise<PieceInfo | undefined>;
  list(): AsyncIterable<PieceInfo>;
  listTrash(): AsyncIterable<PieceInfo>;
  /** Removes unfinished writes older than the cutoff; returns how many. */
  sweepTemporary(olderThan: Date): Promise<number>;
  /** True while the domain answers and is still the same one (its identity marker intact). */
  healthy(): Promise<boolean>;
  space(): Promise<{ free: number; total: number }>;
  /** Block `leaf` of a piece with its Merkle path (answers an audit challenge). */
  audit(name: string, leaf: number): Promise<AuditAnswer>;
  /** Re-hashes every block of a piece against its trailer. */
  verify(name: string): Promise<VerifyResult>;
}

/** Where a piece file's blocks and trailer lie, from its header. */
async function pieceLayout(h: PieceHandle): Promise<{ hashes: Buffer[]; blockAt(i: number): { offset: number; length: number } }> {
  const header = decodeHeader(await h.read(0, HEADER_SIZE));
  const hashes = decodeTrailer(await h.read(HEADER_SIZE + header.pieceDataSize, trailerSize(header.stripeCount)), header.stripeCount);
  return {
    hashes,
    blockAt: (i) => ({ offset: HEADER_SIZE + i * header.blockSize, length: i === header.stripeCount - 1 ? header.tailBlockSize : header.blockSize }),
  };
}

/** audit() of a domain that can open pieces locally. */
export async function auditLocal(domain: FailureDomain, name: string, leaf: number): Promise<AuditAnswer> {
  const h = await domain.open(name);
  try {
    const layout = await pieceLayout(h);
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= layout.hashes.length) throw new RangeError(`block ${leaf} out of range`);
    const { offset, length } = layout.blockAt(leaf);
    return { block: await h.read(offset, length), proof: merkleProof(layout.hashes, leaf) };
  } finally {
    await h.close().catch(() => {});
  }
}

/** verify() of a domain that can open pieces locally. */
export async function verifyLocal(domain: FailureDomain, name: string): Promise<VerifyResult> {
  const h = await domain.open(name);
  try {
    let layout;
    try {
      layout = await pieceLayout(h);
    } catch {
      return { ok: false, blocks: 0, badBlocks: [] };
    }
    const bad: number[] = [];
    for (let i = 0; i < layout.hashes.length; i++) {
      const { offset, length } = layout.blockAt(i);
      const block = await h.read(offset, length).catch(() => undefined);
      if (!block || !hash('sha256', block, 'buffer').equals(layout.hashes[i]!)) bad.push(i);
    }
    return { ok: bad.length === 0, blocks: layout.hashes.length, badBlocks: bad };
  } finally {
    await h.close().catch(() => {});
  }
}

const MARKER = 'oort-domain.json';

async function syncDir(path: string): Promise<void> {
  const dh = await open(path, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Reads a directory's identity marker; undefined when the directory or marker is missing. */
export async function readDomainId(dir: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * One data directory:
 *   <dir>/oort-domain.json      identity marker {id, created}
 *   <dir>/pieces/<xy>/<name>    published pieces (xy: first two hex digits of the stream id)
 *   <dir>/tmp/<name>.<random>   pieces being written
 *   <dir>/trash/<name>          pieces of deleted streams, kept readable for a grace period
 * A piece is written in tmp/, fsync'd, renamed into pieces/ and the directory fsync'd.
 */
export class DirectoryDomain implements FailureDomain {
  readonly id: string;
  readonly address: string;
  readonly kind = 'dir' as const;
  private readonly madeDirs = new Set<string>();

  private constructor(id: string, dir: string) {
    this.id = id;
    this.address = dir;
  }

  /** Opens a directory as a domain, creating its marker (a fresh id) if it has none. */
  static async open(dir: string): Promise<{ domain: DirectoryDomain; created: boolean }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let id = await readDomainId(dir);
    let created = false;
    if (!id) {
      id = randomUUID();
      const tmp = join(dir, `${MARKER}.tmp`);
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify({ id, created: new Date().toISOString() }) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dir, MARKER));
      await syncDir(dir);
      created = true;
    }
    await mkdir(join(dir, 'pieces'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await mkdir(join(dir, 'trash'), { recursive: true });
    return { domain: new DirectoryDomain(id, dir), created };
  }

  private dirOf(name: string): string {
    return join(this.address, 'pieces', name.slice(0, 2));
  }

  private pathOf(name: string): string {
    return join(this.dirOf(name), name);
  }

  async create(name: string): Promise<PieceWriter> {
    const tmpDir = join(this.address, 'tmp');
    const tmp = join(tmpDir, `${name}.${randomBytes(4).toString('hex')}`);
    let fh: FileHandle;
    try {
      fh = await open(tmp, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(tmpDir, { recursive: true });
      fh = await open(tmp, 'wx', 0o600);
    }
    let position = HEADER_SIZE;
    let closed = false;
    const finalDir = this.dirOf(name);
    const finalPath = this.pathOf(name);
    const close = async () => {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    };
    return {
      write: async (data) => {
        // Reserve the range now: writes may overlap in time and still land in call order.
        const at = position;
        position += data.length;
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await fh.write(data, done, data.length - done, at + done);
          done += bytesWritten;
        }
      },
      commit: async (header) => {
        await fh.write(header, 0, header.length, 0);
        await fh.sync();
        await close();
        if (!this.madeDirs.has(finalDir)) {
          await mkdir(finalDir, { recursive: true });
          this.madeDirs.add(finalDir);
        }
        try {
          await rename(tmp, finalPath);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          // The directory vanished (wiped under us): recreate it once.
          this.madeDirs.delete(finalDir);
          await mkdir(finalDir, { recursive: true });
          await rename(tmp, finalPath);
        }
        await syncDir(finalDir);
      },
      abort: async () => {
        await close().catch(() => {});
        await unlink(tmp).catch(() => {});
      },
    };
  }

  private trashPathOf(name: string): string {
    return join(this.address, 'trash', name);
  }

  async open(name: string): Promise<PieceHandle> {
    let fh: FileHandle | undefined;
    for (const path of [this.pathOf(name), this.trashPathOf(name)]) {
      try {
        fh = await open(path, 'r');
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (!fh) throw new PieceMissingError(this.id, name);
    const readInto = async (buf: Uint8Array, offset: number) => {
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await fh!.read(buf, done, buf.length - done, offset + done);
        if (bytesRead === 0) throw new Error(`piece ${name}: short read at ${offset + done}`);
        done += bytesRead;
      }
    };
    return {
      async read(offset, length) {
        const buf = Buffer.allocUnsafe(length);
        await readInto(buf, offset);
        return buf;
      },
      readInto,
      close: () => fh!.close(),
    };
  }

  async trash(name: string): Promise<void> {
    try {
      await rename(this.pathOf(name), this.trashPathOf(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async delete(name: string): Promise<void> {
    for (const path of [this.pathOf(name), this.trashPathOf(name)]) {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  async stat(name: string): Promise<PieceInfo | undefined> {
    const info = await stat(this.pathOf(name)).catch(() => undefined);
    return info ? { name, size: info.size, mtime: info.mtime } : undefined;
  }

  async *list(): AsyncIterable<PieceInfo> {
    const root = join(this.address, 'pieces');
    const shards = await readdir(root).catch(() => [] as string[]);
    for (const shard of shards.sort()) {
      const names = await readdir(join(root, shard)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const info = await stat(join(root, shard, name)).catch(() => undefined);
        if (info?.isFile()) yield { name, size: info.size, mtime: info.mtime };
      }
    }
  }

  async *listTrash(): AsyncIterable<PieceInfo> {
    const dir = join(this.address, 'trash');
    for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info?.isFile()) yield { name, size: info.size, mtime: info.mtime };
    }
  }

  async sweepTemporary(olderThan: Date): Promise<number> {
    const dir = join(this.address, 'tmp');
    let removed = 0;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (!info || info.mtime >= olderThan) continue;
      await rm(join(dir, name), { force: true }).catch(() => {});
      removed++;
    }
    return removed;
  }

  async healthy(): Promise<boolean> {
    try {
      return (await readDomainId(this.address)) === this.id;
    } catch {
      return false;
    }
  }

  async space(): Promise<{ free: number; total: number }> {
    const s = await statfs(this.address);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  }

  audit(name: string, leaf: number): Promise<AuditAnswer> {
    return auditLocal(this, name, leaf);
  }

  verify(name: string): Promise<VerifyResult> {
    return verifyLocal(this, name);
  }
}
