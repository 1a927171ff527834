import { S3Error } from './errors.ts';

// Where a request's bucket and key come from: the path (path style) or the Host header
// (virtual-hosted style, `bucket.<domain>` for each configured domain). The archive endpoint
// `s3-archive.<domain>` (and `bucket.s3-archive.<domain>`) is the same API writing ARCHIVE.

export interface Address {
  bucket: string | undefined;
  /** The bucket named by the Host header (virtual-hosted style), if any. */
  hostBucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  /** The request came to the archive endpoint. */
  archive: boolean;
}

const ARCHIVE_LABEL = 's3-archive';

/** What the Host header says: a virtual-hosted bucket, and whether it is the archive endpoint. */
export function hostStyle(host: string | undefined, domains: readonly string[]): { bucket: string | undefined; archive: boolean } {
  if (!host) return { bucket: undefined, archive: false };
  const name = host.toLowerCase().replace(/:\d+$/, '');
  for (const d of domains) {
    const archive = `${ARCHIVE_LABEL}.${d}`;
    if (name === archive) return { bucket: undefined, archive: true };
    if (name.endsWith(`.${archive}`)) return { bucket: name.slice(0, -(archive.length + 1)), archive: true };
  }
  for (const d of domains) {
    if (name.length > d.length + 1 && name.endsWith(`.${d}`)) return { bucket: name.slice(0, -(d.length + 1)), archive: false };
  }
  return { bucket: undefined, archive: false };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}


export function parseAddress(rawUrl: string, host: string | undefined, domains: readonly string[]): Address {
  const q = rawUrl.indexOf('?');
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  const path = decode(rawPath.slice(1));

  const { bucket: hostBucket, archive } = hostStyle(host, domains);
  if (hostBucket !== undefined) return { bucket: hostBucket, hostBucket, key: path === '' ? undefined : path, query, archive };

  if (path === '') return { bucket: undefined, hostBucket, key: undefined, query, archive };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: path, hostBucket, key: undefined, query, archive };
  const key = path.slice(slash + 1);
  return { bucket: path.slice(0, slash), hostBucket, key: key === '' ? undefined : key, query, archive };
}
