import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RootCredentials {
  accountId: string;
  displayName: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const FILE = 'root-credentials.json';
const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomString(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/**
 * The root account's credentials: from OORT_ROOT_ACCESS_KEY / OORT_ROOT_SECRET_KEY when set,
 * else from `<dataDir>/root-credentials.json`, created (0600) on first start. `created` tells the
 * caller to print them once.
 */
export async function loadRootCredentials(
  dataDir: string,
  env: { accessKey?: string; secretKey?: string },
): Promise<{ credentials: RootCredentials; created: boolean }> {
  const path = join(dataDir, FILE);
  let stored: RootCredentials | undefined;
  try {
    stored = JSON.parse(await readFile(path, 'utf8')) as RootCredentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (env.accessKey && env.secretKey) {
    const accountId = stored?.accountId ?? randomUUID().replaceAll('-', '');
    const credentials = { accountId, displayName: 'root', accessKeyId: env.accessKey, secretAccessKey: env.secretKey };
    if (!stored) await writeFile(path, JSON.stringify({ ...credentials, secretAccessKey: '(from OORT_ROOT_SECRET_KEY)' }, null, 2), { mode: 0o600 });
    return { credentials, created: false };
  }
  if (stored && stored.secretAccessKey !== '(from OORT_ROOT_SECRET_KEY)') return { credentials: stored, created: false };
  const credentials: RootCredentials = {
    accountId: stored?.accountId ?? randomUUID().replaceAll('-', ''),
    displayName: 'root',
    accessKeyId: `OORT${randomString(ALPHANUM, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x'),
  };
  await writeFile(path, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return { credentials, created: true };
}
