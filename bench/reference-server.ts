// The bench's reference: a bare node:http server doing the minimum an object server must do per
// request, so that oort's figures can be read as a fraction of what Node itself manages on this
// machine in the same run.
//   PUT    stream the body to a file, fsync it, answer 200 (a bucket PUT just drains and answers)
//   GET    a known object: its size from memory (or the file, above 1 MiB); a bucket: a fixed list page
//   HEAD   headers only
//   POST   ?uploads: a fixed upload id; ?uploadId: drain the body, a fixed completion document
//   DELETE 204
// No authentication, no metadata store: a map of path -> size is the whole state.
//
// Usage: node bench/reference-server.ts --data-dir <dir> [--port 0]
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, port: { type: 'string', default: '0' } } });
const dataDir = values['data-dir'];
if (!dataDir) {
  console.error('usage: reference-server.ts --data-dir <dir> [--port N]');
  process.exit(2);
}
await mkdir(dataDir, { recursive: true });

const MEMORY_LIMIT = 1024 * 1024;
const memoryBody = Buffer.alloc(MEMORY_LIMIT, 0x61);
const sizes = new Map<string, number>();
const ETAG = '"0123456789abcdef0123456789abcdef"';

const listPages = new Map<number, Buffer>();
/** A ListObjectsV2 page of n keys, shaped like a real one (built once per n). */
function listPage(n: number): Buffer {
  let page = listPages.get(n);
  if (!page) {
    let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>ref</Name><Prefix></Prefix><MaxKeys>${n}</MaxKeys><KeyCount>${n}</KeyCount><IsTruncated>false</IsTruncated>`;
    for (let i = 0; i < n; i++) {
      xml += `<Contents><Key>f${String(i % 100).padStart(2, '0')}/obj-${String(i).padStart(6, '0')}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>4096</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    }
    page = Buffer.from(xml + '</ListBucketResult>', 'utf8');
    listPages.set(n, page);
  }
  return page;
}

function fileFor(path: string, partNumber: string | null): string {
  return join(dataDir!, encodeURIComponent(path) + (partNumber ? `.part${partNumber}` : ''));
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    req.resume();
    req.once('end', resolve);
    req.once('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body?: Buffer | string, type = 'application/xml'): void {
  if (body === undefined) {
    res.writeHead(status, { 'content-length': 0 });
    res.end();
    return;
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length });
  res.end(bytes);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  const isObject = path.indexOf('/', 1) > 0;
  switch (req.method) {
    case 'PUT': {
      if (!isObject) {
        await drain(req);
        return reply(res, 200);
      }
      const partNumber = query.get('partNumber');
      await pipeline(req, createWriteStream(fileFor(path, partNumber), { flush: true }));
      if (partNumber === null) sizes.set(path, Number(req.headers['content-length'] ?? 0));
      res.writeHead(200, { etag: ETAG, 'content-length': 0 });
      res.end();
      return;
    }
    case 'GET': {
      if (!isObject) return reply(res, 200, listPage(Math.min(1000, Number(query.get('max-keys') ?? 1000))));
      const size = sizes.get(path);
      if (size === undefined) return reply(res, 404);
      if (size <= MEMORY_LIMIT) {
        res.writeHead(200, { etag: ETAG, 'content-type': 'application/octet-stream', 'content-length': size });
        res.end(memoryBody.subarray(0, size));
        return;
      }
      res.writeHead(200, { etag: ETAG, 'content-type': 'application/octet-stream', 'content-length': size });
      await pipeline(createReadStream(fileFor(path, null), { highWaterMark: 256 * 1024 }), res);
      return;
    }
    case 'HEAD': {
      const size = sizes.get(path);
      if (size === undefined) return reply(res, isObject ? 404 : 200);
      res.writeHead(200, { etag: ETAG, 'content-type': 'application/octet-stream', 'content-length': size });
      res.end();
      return;
    }
    case 'POST': {
      await drain(req);
      if (query.has('uploads')) {
        return reply(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>ref-upload</UploadId></InitiateMultipartUploadResult>`);
      }
      return reply(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><ETag>${ETAG}</ETag></CompleteMultipartUploadResult>`);
    }
    case 'DELETE':
      sizes.delete(path);
      res.writeHead(204);
      res.end();
      return;
    default:
      await drain(req);
      return reply(res, 405);
  }
}

const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error('reference server error:', err);
    if (!res.headersSent) reply(res, 500);
    else res.destroy();
  });
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.error(`reference server listening on http://127.0.0.1:${port}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
