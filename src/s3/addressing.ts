import { S3Error } from './errors.ts';

// Where a request's bucket and key come from: the path (path style) or the Host header
// (virtual-hosted style, `bucket.<domain>` for each configured domain).

export interface Address {
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** The bucket named by the Host header, if it is `<bucket>.<one of domains>`. */
export function bucketFromHost(host: string | undefined, domains: readonly string[]): string | undefined {
  if (!host) return undefined;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  for (const d of domains) {
    if (name.length > d.length + 1 && name.endsWith(`.${d}`)) return name.slice(0, -(d.length + 1));
  }
  return undefined;
}

export function parseAddress(rawUrl: string, host: string | undefined, domains: readonly string[]): Address {
  const q = rawUrl.indexOf('?');
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  const path = decode(rawPath.slice(1));

  const hostBucket = bucketFromHost(host, domains);
  if (hostBucket !== undefined) return { bucket: hostBucket, key: path === '' ? undefined : path, query };

  if (path === '') return { bucket: undefined, key: undefined, query };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: path, key: undefined, query };
  const key = path.slice(slash + 1);
  return { bucket: path.slice(0, slash), key: key === '' ? undefined : key, query };
}
