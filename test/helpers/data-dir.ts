// Looks inside a stopped (or idle) server's data directory: data files on disk vs what the metadata
// refers to. Two layouts are understood, so the checks survive the engine change:
//   one file per object:  <dataDir>/data/objects/<xx>/<locator>               (locator = 32 hex)
//   shard engine:         <dataDir>/data/pieces/<xy>/<stream>.<segment>.<piece> (locator `s:<stream>`,
//                         or `i:...` for inline objects, which have no file), piece rows in the
//                         metadata's segment store, domain id in <dataDir>/data/oort-domain.json,
//                         pieces of deleted streams in <dataDir>/data/trash/ until their purge
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SqliteMetaStore } from '../../src/meta/index.ts';

/** Every regular file below `dir` (paths relative to `dir`); [] when `dir` does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  }
  await walk(dir);
  return out.sort();
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** The directory holding the data files (`data/pieces` or `data/objects`), sharded by two hex digits. */
export async function dataFilesDir(dataDir: string): Promise<string> {
  const pieces = join(dataDir, 'data', 'pieces');
  return (await exists(pieces)) ? pieces : join(dataDir, 'data', 'objects');
}

/** Names of the data files (object files or pieces). */
export async function dataFiles(dataDir: string): Promise<string[]> {
  return (await filesUnder(await dataFilesDir(dataDir))).map((p) => p.split('/').pop()!).sort();
}

/** The locators the metadata refers to (objects, their parts, parts of open uploads). */
export async function referencedLocators(dataDir: string): Promise<string[]> {
  const meta = await SqliteMetaStore.open(join(dataDir, 'meta.sqlite'));
  try {
    const out: string[] = [];
    for await (const l of meta.referencedLocators()) out.push(l);
    return out.sort();
  } finally {
    await meta.close();
  }
}

interface PieceRow {
  streamId: string;
  segment: number;
  piece: number;
}
interface SegmentStoreView {
  piecesOnDomain(domainId: string): Promise<PieceRow[]>;
  getStream(streamId: string): Promise<{ state: string } | undefined>;
}

export interface OrphanReport {
  /** Data files (or stream records) nothing refers to. */
  unreferenced: string[];
  /** References (locators, piece rows) whose data is not there. */
  missing: string[];
  /** Files left in data/tmp. */
  tmp: string[];
}

/** Files without a reference and references without a file (both should be empty), and data/tmp. */
export async function orphanReport(dataDir: string): Promise<OrphanReport> {
  const tmp = await filesUnder(join(dataDir, 'data', 'tmp'));
  const files = await dataFiles(dataDir);
  const meta = await SqliteMetaStore.open(join(dataDir, 'meta.sqlite'));
  try {
    const refs: string[] = [];
    for await (const l of meta.referencedLocators()) refs.push(l);
    if (!(await exists(join(dataDir, 'data', 'pieces')))) {
      const refSet = new Set(refs);
      const fileSet = new Set(files);
      return { unreferenced: files.filter((f) => !refSet.has(f)), missing: [...refSet].filter((r) => !fileSet.has(r)).sort(), tmp };
    }
    // Shard engine: locators name streams; piece rows name files.
    const store = (meta as unknown as { segmentStore(): SegmentStoreView }).segmentStore();
    const domainId = (JSON.parse(await readFile(join(dataDir, 'data', 'oort-domain.json'), 'utf8')) as { id: string }).id;
    const rows = await store.piecesOnDomain(domainId);
    const streams = new Set(refs.filter((l) => l.startsWith('s:')).map((l) => l.slice(2)));
    const rowNames = new Set(rows.map((r) => `${r.streamId}.${r.segment}.${r.piece}`));
    const fileSet = new Set(files);
    const unreferenced = files.filter((f) => !rowNames.has(f) || !streams.has(f.split('.')[0]!));
    // A trashed piece is only legitimate while its (deleted, not yet purged) stream is recorded.
    for (const f of await filesUnder(join(dataDir, 'data', 'trash'))) if (!rowNames.has(f.split('/').pop()!)) unreferenced.push(`trash/${f}`);
    for (const r of rows) if (!streams.has(r.streamId)) unreferenced.push(`piece row ${r.streamId}.${r.segment}.${r.piece} of an unreferenced stream`);
    const missing = [...rowNames].filter((n) => streams.has(n.split('.')[0]!) && !fileSet.has(n));
    for (const s of streams) {
      const rec = await store.getStream(s);
      if (!rec) missing.push(`stream ${s} (referenced, not recorded)`);
      else if (rec.state !== 'complete') missing.push(`stream ${s} (referenced, still ${rec.state})`);
    }
    for (const l of refs) if (!l.startsWith('s:') && !l.startsWith('i:')) missing.push(`locator ${l} (unknown form)`);
    return { unreferenced: [...new Set(unreferenced)].sort(), missing: missing.sort(), tmp };
  } finally {
    await meta.close();
  }
}
