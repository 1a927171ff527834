// The master key (KEK): 256 bits with an id, outside the metadata database.
//
// Embedded mode keeps it in `<data-dir>/master.key` (mode 0600), generated at first start, as
// JSON { "id", "key" (base64), "previous": [{ "id", "key" }] } -- the same file and top-level
// fields for the shard engine's data keys and for sealed access-key secrets. `previous` lists older keys only
// while a rotation is re-wrapping data keys, so a rotation that stops half-way can be run again.
// OORT_MASTER_KEY (base64 of 32 bytes) with OORT_MASTER_KEY_ID replaces the file;
// OORT_PREVIOUS_MASTER_KEYS ("id:base64,id:base64") lists older keys still needed to unwrap.
//
// Losing this key makes every object unreadable: back it up.

import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
/** A 256-bit master key (KEK) and its id. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

const KEY_SIZE = 32;

export const MASTER_KEY_FILE = 'master.key';

interface KeyFile {
  id: string;
  key: string;
  previous?: Array<{ id: string; key: string }>;
}

/** The current master key and the older ones data keys may still be wrapped under. */
export class KeyRing {
  readonly current: MasterKey;
  private readonly byId: Map<string, MasterKey>;
  /** The key file this ring was read from (undefined when it came from the environment). */
  readonly file: string | undefined;

  constructor(current: MasterKey, others: MasterKey[] = [], file?: string) {
    this.current = current;
    this.byId = new Map([...others, current].map((k) => [k.id, k]));
    this.file = file;
  }

  get(id: string): MasterKey {
    const key = this.byId.get(id);
    if (!key) throw new Error(`master key ${id} is not available (was the key file or OORT_MASTER_KEY changed?)`);
    return key;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

export function newMasterKey(): MasterKey {
  return { id: `mk-${randomBytes(4).toString('hex')}`, key: randomBytes(KEY_SIZE) };
}

function checkKey(id: string, key: Buffer): MasterKey {
  if (!/^[A-Za-z0-9._-]{1,48}$/.test(id)) throw new Error(`invalid master key id ${JSON.stringify(id)}`);
  if (key.length !== KEY_SIZE) throw new Error(`master key ${id} must be ${KEY_SIZE} bytes (base64), got ${key.length}`);
  return { id, key };
}

function keysFromEnv(env: NodeJS.ProcessEnv): KeyRing | undefined {
  const value = env.OORT_MASTER_KEY;
  if (!value) return undefined;
  const id = env.OORT_MASTER_KEY_ID || 'env';
  const current = checkKey(id, Buffer.from(value, 'base64'));
  const others = (env.OORT_PREVIOUS_MASTER_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at < 0) throw new Error('OORT_PREVIOUS_MASTER_KEYS: expected id:base64 entries');
      return checkKey(entry.slice(0, at), Buffer.from(entry.slice(at + 1), 'base64'));
    });
  return new KeyRing(current, others);
}

async function readKeyFile(path: string): Promise<KeyRing | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as KeyFile;
  if (typeof parsed.id !== 'string' || typeof parsed.key !== 'string') throw new Error(`${path} is not a valid master key file`);
  const current = checkKey(parsed.id, Buffer.from(parsed.key, 'base64'));
  const previous = (parsed.previous ?? []).map((k) => checkKey(k.id, Buffer.from(k.key, 'base64')));
  return new KeyRing(current, previous, path);
}

/** Writes the key file atomically with mode 0600 (tmp, fsync, rename, fsync directory). */
export async function writeKeyFile(path: string, current: MasterKey, others: MasterKey[]): Promise<void> {
  const body: KeyFile = { id: current.id, key: current.key.toString('base64') };
  const previous = others.filter((k) => k.id !== current.id);
  if (previous.length > 0) body.previous = previous.map((k) => ({ id: k.id, key: k.key.toString('base64') }));
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(body, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * The master keys: from OORT_MASTER_KEY(_ID) when set, else `<dataDir>/master.key`, created
 * (mode 0600) with a fresh key when it does not exist.
 */
export async function loadKeyRing(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ keys: KeyRing; created: boolean }> {
  const fromEnv = keysFromEnv(env);
  if (fromEnv) return { keys: fromEnv, created: false };
  const path = join(dataDir, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return { keys: existing, created: false };
  // First start: create it, unless another loader of the same file just did.
  const key = newMasterKey();
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ id: key.id, key: key.key.toString('base64') }) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = await readKeyFile(path);
    if (raced) return { keys: raced, created: false };
    throw err;
  }
  return { keys: new KeyRing(key, [], path), created: true };
}
