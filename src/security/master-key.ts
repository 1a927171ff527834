import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The server master key: 256 bits with an id, kept outside the metadata database. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

const FILE = 'master.key';

/**
 * From OORT_MASTER_KEY (base64, 32 bytes) and OORT_MASTER_KEY_ID, else from `<dataDir>/master.key`
 * (mode 0600), generated on first start. Without it nothing sealed under it can be read again.
 */
export async function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<MasterKey> {
  if (env.OORT_MASTER_KEY) {
    const key = Buffer.from(env.OORT_MASTER_KEY, 'base64');
    if (key.length !== 32) throw new Error('OORT_MASTER_KEY must be 32 bytes, base64-encoded');
    return { id: env.OORT_MASTER_KEY_ID || 'env', key };
  }
  const path = join(dataDir, FILE);
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as { id: string; key: string };
    const key = Buffer.from(stored.key, 'base64');
    if (key.length !== 32 || !stored.id) throw new Error(`${path} is not a valid master key file`);
    return { id: stored.id, key };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const created: MasterKey = { id: `mk-${randomBytes(4).toString('hex')}`, key: randomBytes(32) };
  await writeFile(path, JSON.stringify({ id: created.id, key: created.key.toString('base64') }) + '\n', { mode: 0o600, flag: 'wx' });
  return created;
}
