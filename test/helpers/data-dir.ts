// Looks inside a stopped (or idle) server's data directory: data files on disk vs the locators the
// metadata refers to.
import { readdir } from 'node:fs/promises';
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
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
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

/** Names of the data files under `<dataDir>/data/objects/<shard>/`. */
export async function objectFiles(dataDir: string): Promise<string[]> {
  return (await filesUnder(join(dataDir, 'data', 'objects'))).map((p) => p.split('/').pop()!).sort();
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

/** Files without a reference and references without a file (both should be empty). */
export async function orphanReport(dataDir: string): Promise<{ unreferenced: string[]; missing: string[]; tmp: string[] }> {
  const files = await objectFiles(dataDir);
  const refs = new Set(await referencedLocators(dataDir));
  const fileSet = new Set(files);
  return {
    unreferenced: files.filter((f) => !refs.has(f)),
    missing: [...refs].filter((r) => !fileSet.has(r)),
    tmp: await filesUnder(join(dataDir, 'data', 'tmp')),
  };
}
