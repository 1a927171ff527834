import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface TlsFiles {
  cert: string;
  key: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export async function readTls(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(files.cert), readFile(files.key)]);
  return { cert, key };
}

/**
 * A self-signed certificate for loopback and the configured domains (and `*.domain` for
 * virtual-hosted buckets), made once into `<dataDir>/tls/` and reused on later starts.
 * Clients trust it by being given `cert.pem` as their CA bundle.
 */
export async function ensureSelfSigned(dataDir: string, domains: readonly string[], address: string): Promise<TlsFiles> {
  const dir = join(dataDir, 'tls');
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  try {
    await readTls(files);
    return files;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = new Set(['localhost', ...domains]);
  const altNames: Array<{ type: 2; value: string } | { type: 7; ip: string }> = [];
  for (const n of names) {
    // Virtual-hosted buckets on the endpoint and on its archive endpoint (s3-archive.<domain>).
    altNames.push({ type: 2, value: n }, { type: 2, value: `*.${n}` }, { type: 2, value: `*.s3-archive.${n}` });
  }
  for (const ip of new Set(['127.0.0.1', '::1', ...(isIP(address) && address !== '0.0.0.0' && address !== '::' ? [address] : [])])) altNames.push({ type: 7, ip });
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'oort-storage self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3600_000),
    notAfterDate: new Date(now.getTime() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  await writeFile(files.key, pems.private, { mode: 0o600 });
  await writeFile(files.cert, pems.cert, { mode: 0o644 });
  return files;
}
