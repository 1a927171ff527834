import { escapeXml } from '../s3/xml.ts';
import type { ListPage } from '../meta/index.ts';
import type { S3Response } from '../s3/index.ts';

// The folder page of a share link: JSON (?format=json) or a small HTML page. Paths are relative to
// the link's folder, so the page never shows the bucket or the prefix the link stands for.

/** `/share/<token>/<relative path>`; the path is one encoded segment (slashes as %2F), so no browser or
 * proxy can fold `..` or `//` in it. */
export function shareHref(token: string, relative: string): string {
  const seg = encodeURIComponent(relative);
  return `/share/${token}/${seg === '.' || seg === '..' ? seg.replaceAll('.', '%2E') : seg}`;
}

export interface FolderListing {
  /** The folder listed, relative to the link's folder ('' for the link's own). */
  folder: string;
  objects: Array<{ key: string; size: number; lastModified: string; etag: string; url: string }>;
  folders: Array<{ prefix: string; url: string }>;
  isTruncated: boolean;
  /** Give as ?after= for the next page. */
  next?: string;
}

/** Turns a listing page under `root` (the link's prefix) into paths relative to it. */
export function folderListing(token: string, root: string, folder: string, page: ListPage): FolderListing {
  const out: FolderListing = { folder, objects: [], folders: [], isTruncated: page.isTruncated };
  for (const e of page.entries) {
    if ('prefix' in e) {
      const rel = e.prefix.slice(root.length);
      out.folders.push({ prefix: rel, url: shareHref(token, rel) });
    } else {
      const rel = e.object.key.slice(root.length);
      // A folder's own marker object (key === the folder) is not a file in it.
      if (rel === folder) continue;
      out.objects.push({ key: rel, size: e.object.size, lastModified: e.object.lastModified.toISOString(), etag: `"${e.object.etag}"`, url: shareHref(token, rel) });
    }
  }
  if (page.isTruncated && page.next !== undefined) out.next = page.next.slice(root.length);
  return out;
}

function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function renderListing(l: FolderListing, token: string, format: 'json' | 'html'): S3Response {
  const headers = { 'cache-control': 'private, no-store' };
  if (format === 'json') {
    return { status: 200, headers: { ...headers, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(l)) };
  }
  const h = escapeXml;
  const name = (rel: string) => h(rel.slice(l.folder.length));
  const rows: string[] = [];
  if (l.folder !== '') {
    const up = l.folder.slice(0, l.folder.slice(0, -1).lastIndexOf('/') + 1);
    rows.push(`<tr><td><a href="${h(shareHref(token, up))}">../</a></td><td></td><td></td></tr>`);
  }
  for (const f of l.folders) rows.push(`<tr><td><a href="${h(f.url)}">${name(f.prefix)}</a></td><td></td><td></td></tr>`);
  for (const o of l.objects) {
    rows.push(`<tr><td><a href="${h(o.url)}">${name(o.key)}</a></td><td>${size(o.size)}</td><td>${h(o.lastModified)}</td></tr>`);
  }
  const more = l.next !== undefined ? `<p><a href="${h(shareHref(token, l.folder))}?after=${h(encodeURIComponent(l.next))}">more</a></p>` : '';
  const title = h(l.folder === '' ? 'Shared folder' : `Shared folder: ${l.folder}`);
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}td{padding:.2em 1em .2em 0}td:nth-child(2){text-align:right}</style></head>
<body><h1>${title}</h1><table><tr><th>name</th><th>size</th><th>modified</th></tr>
${rows.join('\n')}
</table>${more}</body></html>
`;
  return { status: 200, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from(html) };
}
