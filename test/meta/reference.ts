// Brute-force reference listings: what a page must hold, computed from every key without cleverness.
// They share no code with src/meta/listing.ts on purpose.

/** UTF-8 byte order. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export type RefEntry = { key: string } | { prefix: string };

interface RefOptions {
  prefix: string;
  delimiter?: string;
  after?: string;
  limit: number;
}

/** The entry a key lists as: itself, or the common prefix it rolls up into. */
function entryOf(key: string, prefix: string, delimiter: string | undefined): RefEntry {
  if (delimiter) {
    const rest = key.slice(prefix.length);
    const i = rest.indexOf(delimiter);
    if (i >= 0) return { prefix: prefix + rest.slice(0, i + delimiter.length) };
  }
  return { key };
}

const nameOf = (e: RefEntry) => ('key' in e ? e.key : e.prefix);

/** ListObjects: every distinct entry in byte order, those after `after`, the first `limit`. */
export function referenceList(keys: Iterable<string>, o: RefOptions): { entries: RefEntry[]; isTruncated: boolean; next?: string } {
  if (o.limit <= 0) return { entries: [], isTruncated: false };
  const byName = new Map<string, RefEntry>();
  for (const key of keys) {
    if (!key.startsWith(o.prefix)) continue;
    const e = entryOf(key, o.prefix, o.delimiter);
    byName.set(nameOf(e), e);
  }
  const all = [...byName.values()]
    .filter((e) => o.after === undefined || o.after === '' || byteOrder(nameOf(e), o.after) > 0)
    .sort((a, b) => byteOrder(nameOf(a), nameOf(b)));
  const entries = all.slice(0, Math.max(0, o.limit));
  const isTruncated = all.length > entries.length;
  return isTruncated ? { entries, isTruncated, next: nameOf(entries[entries.length - 1]!) } : { entries, isTruncated };
}

export interface RefUpload {
  key: string;
  uploadId: string;
  initiated: number;
}

export type RefUploadEntry = { upload: RefUpload } | { prefix: string };

interface RefUploadOptions {
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  limit: number;
}

/** ListMultipartUploads: entries ordered by (key, initiated, uploadId); markers as S3 defines them. */
export function referenceUploads(
  uploads: RefUpload[],
  o: RefUploadOptions,
): { entries: RefUploadEntry[]; isTruncated: boolean; nextKeyMarker?: string; nextUploadIdMarker?: string } {
  if (o.limit <= 0) return { entries: [], isTruncated: false };
  const prefixes = new Set<string>();
  const all: RefUploadEntry[] = [];
  for (const u of uploads) {
    if (!u.key.startsWith(o.prefix)) continue;
    const e = entryOf(u.key, o.prefix, o.delimiter);
    if ('prefix' in e) {
      if (!prefixes.has(e.prefix)) all.push(e);
      prefixes.add(e.prefix);
    } else {
      all.push({ upload: u });
    }
  }
  const name = (e: RefUploadEntry) => ('prefix' in e ? e.prefix : e.upload.key);
  all.sort((a, b) => {
    const c = byteOrder(name(a), name(b));
    if (c !== 0) return c;
    if ('prefix' in a || 'prefix' in b) return 'prefix' in a ? -1 : 1;
    return a.upload.initiated - b.upload.initiated || byteOrder(a.upload.uploadId, b.upload.uploadId);
  });
  const km = o.keyMarker === '' ? undefined : o.keyMarker;
  const marker = km !== undefined && o.uploadIdMarker ? uploads.find((u) => u.uploadId === o.uploadIdMarker && u.key === km) : undefined;
  const after = all.filter((e) => {
    if (km === undefined) return true;
    const c = byteOrder(name(e), km);
    if (c !== 0) return c > 0;
    if ('prefix' in e || !o.uploadIdMarker) return false;
    const u = e.upload;
    if (!marker) return byteOrder(u.uploadId, o.uploadIdMarker) > 0;
    return u.initiated > marker.initiated || (u.initiated === marker.initiated && byteOrder(u.uploadId, marker.uploadId) > 0);
  });
  const entries = after.slice(0, Math.max(0, o.limit));
  if (after.length === entries.length) return { entries, isTruncated: false };
  const last = entries[entries.length - 1]!;
  return 'prefix' in last
    ? { entries, isTruncated: true, nextKeyMarker: last.prefix }
    : { entries, isTruncated: true, nextKeyMarker: last.upload.key, nextUploadIdMarker: last.upload.uploadId };
}
