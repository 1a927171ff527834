// The storage node: a small HTTP(S) server that stores pieces by name in one data directory (the
// same layout as a gateway's local data directory, DirectoryDomain) and does nothing else. It never
// sees plaintext, keys or object names: pieces are ciphertext blocks with self-describing headers.
//
// Protocol (every request signed, see auth.ts; docs/architecture.md has the table):
//   GET    /v1/info                          id, capacity, free, used bytes, pieces
//   PUT    /v1/pieces/NAME                   streamed body: the piece after its header, then the
//                                            256-byte header last; fsync'd and renamed into place
//   GET    /v1/pieces/NAME   (Range)         bytes of a piece (also of a trashed one)
//   HEAD   /v1/pieces/NAME                   size and time of a live piece
//   DELETE /v1/pieces/NAME                   removes it (live or trashed)
//   POST   /v1/pieces/NAME/trash             out of the live set, still readable
//   POST   /v1/pieces/NAME/verify            re-hash every block against the trailer
//   POST   /v1/pieces/NAME/audit?leaf=I      block I and its Merkle path (x-oort-proof)
//   GET    /v1/pieces[?trash=1]              listing, one JSON object per line
//   POST   /v1/tmp/sweep?before=MS           removes unfinished writes older than MS

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DirectoryDomain, PieceMissingError } from '../engine/shard/domain.ts';
import { decodeHeader, HEADER_SIZE, parsePieceName, trailerSize } from '../engine/shard/piece-file.ts';
import { readTls, type TlsFiles } from '../http/tls.ts';
import { answerSignature, deriveClusterKey, HEADER_ANSWER, HEADER_NONCE, RequestVerifier } from './auth.ts';

export const HEADER_PROOF = 'x-oort-proof';

export interface NodeOptions {
  dataDir: string;
  secret: Buffer;
  address: string;
  port: number;
  /** Writes are refused while free space is below this many bytes. */
  reserveBytes: number;
  /** Announced capacity (default: the file system's size). */
  capacityBytes?: number;
  skewMs?: number;
  tls?: TlsFiles;
  log?: (message: string) => void;
}

export interface RunningNode {
  id: string;
  url: string;
  port: number;
  close(): Promise<void>;
  reloadTls(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const { domain } = await DirectoryDomain.open(o.dataDir);
  const key = deriveClusterKey(o.secret);
  const verifier = new RequestVerifier(key, o.skewMs);
  const log = o.log ?? ((m: string) => console.error(m));
  // Bytes and count of live pieces, counted once at start and kept up to date.
  const usage = { bytes: 0, pieces: 0 };
  for await (const p of domain.list()) {
    usage.bytes += p.size;
    usage.pieces++;
  }
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof PieceMissingError ? 404 : 500;
      if (status === 500) log(`node: ${req.method} ${req.url}: ${String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(req, res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  };

  function answer(req: IncomingMessage, res: ServerResponse, status: number): void {
    const nonce = req.headers[HEADER_NONCE];
    if (typeof nonce === 'string' && (req as { authenticated?: boolean }).authenticated) res.setHeader(HEADER_ANSWER, answerSignature(key, nonce, status));
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, body?: unknown): void {
    answer(req, res, status);
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const why = verifier.check(method, rawPath, req.headers);
    if (why) {
      // Nothing about the store is revealed to an unauthenticated caller; its body is not read.
      res.setHeader('connection', 'close');
      send(req, res, 401, { error: why });
      req.resume();
      return;
    }
    (req as { authenticated?: boolean }).authenticated = true;
    const url = new URL(rawPath, 'http://node');
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'v1') throw new HttpError(404, 'no such endpoint');
    if (parts[1] === 'info' && parts.length === 2 && method === 'GET') {
      const space = await domain.space();
      return send(req, res, 200, {
        id: domain.id,
        capacity: o.capacityBytes ?? space.total,
        total: space.total,
        free: space.free,
        reserve: o.reserveBytes,
        used: usage.bytes,
        pieces: usage.pieces,
        acceptsWrites: space.free >= o.reserveBytes,
      });
    }
    if (parts[1] === 'tmp' && parts[2] === 'sweep' && method === 'POST') {
      const before = Number(url.searchParams.get('before'));
      if (!Number.isFinite(before)) throw new HttpError(400, 'before must be a time in ms');
      return send(req, res, 200, { removed: await domain.sweepTemporary(new Date(before)) });
    }
    if (parts[1] !== 'pieces') throw new HttpError(404, 'no such endpoint');
    if (parts.length === 2 && method === 'GET') return list(res, req, url.searchParams.get('trash') === '1');
    const name = parts[2] ?? '';
    const ref = parsePieceName(name);
    if (!ref) throw new HttpError(400, 'bad piece name');
    const action = parts[3];
    if (parts.length > 4) throw new HttpError(404, 'no such endpoint');
    const route = `${method} ${action ?? ''}`;
    switch (route) {
      case 'PUT ':
        return put(req, res, name, ref);
      case 'GET ':
        return get(req, res, name);
      case 'HEAD ': {
        const info = await domain.stat(name);
        answer(req, res, info ? 200 : 404);
        if (!info) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-length': info.size, 'last-modified': info.mtime.toUTCString(), 'x-oort-mtime': String(info.mtime.getTime()) }).end();
        return;
      }
      case 'DELETE ':
      case 'POST trash': {
        // Either way the piece leaves the node's usage counts.
        const info = await domain.stat(name);
        await (route === 'DELETE ' ? domain.delete(name) : domain.trash(name));
        if (info) {
          usage.bytes -= info.size;
          usage.pieces--;
        }
        return send(req, res, 204);
      }
      case 'POST verify':
        return send(req, res, 200, await domain.verify(name));
      case 'POST audit': {
        const leaf = Number(url.searchParams.get('leaf'));
        if (!Number.isInteger(leaf) || leaf < 0) throw new HttpError(400, 'leaf must be a block index');
        let a;
        try {
          a = await domain.audit(name, leaf);
        } catch (err) {
          if (err instanceof RangeError) throw new HttpError(400, err.message);
          throw err;
        }
        answer(req, res, 200);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': a.block.length,
          [HEADER_PROOF]: Buffer.concat(a.proof).toString('base64'),
        });
        res.end(a.block);
        return;
      }
      default:
        throw new HttpError(405, 'method not allowed');
    }
  }

  async function list(res: ServerResponse, req: IncomingMessage, trash: boolean): Promise<void> {
    answer(req, res, 200);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for await (const p of trash ? domain.listTrash() : domain.list()) {
      if (!res.write(JSON.stringify({ name: p.name, size: p.size, mtime: p.mtime.getTime() }) + '\n')) {
        await new Promise((r) => res.once('drain', r));
      }
    }
    res.end();
  }

  /**
   * The body is the piece from offset HEADER_SIZE on, then its header: the last HEADER_SIZE bytes
   * are held back until the body ends, checked (own checksum, names this piece, sizes add up),
   * and written at offset 0 before the fsync and rename. A body cut short (the gateway gave up or
   * died) never ends normally, so nothing is published.
   */
  async function put(req: IncomingMessage, res: ServerResponse, name: string, ref: { streamId: string; segment: number; piece: number }): Promise<void> {
    const space = await domain.space();
    if (space.free < o.reserveBytes) {
      res.setHeader('connection', 'close');
      req.resume();
      throw new HttpError(507, `free space ${space.free} B is below the reserve of ${o.reserveBytes} B`);
    }
    const writer = await domain.create(name);
    // Incoming socket chunks (~64 KiB) are gathered into writes of about 1 MiB; the last
    // HEADER_SIZE bytes seen are always held back (they may be the header).
    const WRITE_BYTES = 1024 * 1024;
    let held: Buffer[] = [];
    let heldBytes = 0;
    let written = 0;
    let committed = false;
    let tail = Buffer.alloc(0);
    try {
      for await (const c of req) {
        const chunk = c as Buffer;
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes >= WRITE_BYTES + HEADER_SIZE) {
          const all = Buffer.concat(held, heldBytes);
          const body = all.subarray(0, all.length - HEADER_SIZE);
          await writer.write(body);
          written += body.length;
          held = [all.subarray(all.length - HEADER_SIZE)];
          heldBytes = HEADER_SIZE;
        }
      }
      if (heldBytes > HEADER_SIZE) {
        const all = Buffer.concat(held, heldBytes);
        await writer.write(all.subarray(0, all.length - HEADER_SIZE));
        written += all.length - HEADER_SIZE;
        held = [all.subarray(all.length - HEADER_SIZE)];
        heldBytes = HEADER_SIZE;
      }
      tail = Buffer.concat(held, heldBytes);
      if (tail.length !== HEADER_SIZE) throw new HttpError(400, 'the body is shorter than a piece header');
      let header;
      try {
        header = decodeHeader(tail);
      } catch (err) {
        throw new HttpError(400, `bad piece header: ${(err as Error).message}`);
      }
      if (header.streamId !== ref.streamId || header.segment !== ref.segment || header.piece !== ref.piece) throw new HttpError(400, 'the header names another piece');
      if (written !== header.pieceDataSize + trailerSize(header.stripeCount)) throw new HttpError(400, 'the body length does not match the header');
      const before = await domain.stat(name);
      await writer.commit(tail);
      committed = true;
      usage.bytes += HEADER_SIZE + written - (before?.size ?? 0);
      if (!before) usage.pieces++;
      send(req, res, 201);
    } finally {
      if (!committed) await writer.abort();
    }
  }

  async function get(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const h = await domain.open(name);
    try {
      const range = req.headers.range;
      let start: number;
      let length: number;
      if (range) {
        const m = /^bytes=(\d+)-(\d+)$/.exec(range);
        if (!m) throw new HttpError(416, 'only bytes=a-b ranges');
        start = Number(m[1]);
        length = Number(m[2]) - start + 1;
        if (length <= 0 || length > 64 * 1024 * 1024) throw new HttpError(416, 'bad range');
      } else {
        const info = await domain.stat(name);
        if (!info) throw new HttpError(404, 'not a live piece (ask for a range)');
        start = 0;
        length = info.size;
      }
      const step = 1024 * 1024;
      let first: Buffer;
      try {
        first = await h.read(start, Math.min(step, length));
      } catch {
        throw new HttpError(416, 'range beyond the end of the piece');
      }
      answer(req, res, range ? 206 : 200);
      res.writeHead(range ? 206 : 200, { 'content-type': 'application/octet-stream', 'content-length': length });
      let at = first.length;
      let ok = res.write(first);
      while (at < length) {
        if (!ok) await new Promise((r) => res.once('drain', r));
        const b = await h.read(start + at, Math.min(step, length - at));
        at += b.length;
        ok = res.write(b);
      }
      res.end();
    } finally {
      await h.close().catch(() => {});
    }
  }

  const serverOptions = { requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 30_000 };
  let server: Server | HttpsServer;
  if (o.tls) server = createHttpsServer({ ...serverOptions, ...(await readTls(o.tls)) }, handler);
  else server = createHttpServer(serverOptions, handler);
  server.timeout = 120_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => resolve((server.address() as AddressInfo).port));
  });
  const host = o.address.includes(':') ? `[${o.address}]` : o.address;
  return {
    id: domain.id,
    url: `${o.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    async reloadTls() {
      if (o.tls) (server as HttpsServer).setSecureContext(await readTls(o.tls));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

