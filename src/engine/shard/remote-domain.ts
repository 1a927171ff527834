// A storage node as a failure domain: the FailureDomain interface over the node protocol
// (src/node/server.ts), signed with the cluster key. To the writer, reader, repairer, scrubber and
// auditor it is the same thing as a local data directory.
//
// - Requests share a keep-alive agent per node; every answer must carry the node's HMAC over our
//   nonce, or it is treated as a failure (whatever answered is not a cluster member).
// - A piece write is one streamed PUT: blocks go out as the writer produces them (each write
//   resolves once its bytes are handed to the socket, so the caller may reuse the buffer), and
//   commit() sends the header last and waits for the node's fsync + rename.
// - Every request has a time limit, so a hung node fails requests instead of stalling them.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KeyObject } from 'node:crypto';
import { checkAnswer, HEADER_ANSWER, HEADER_NONCE, signRequest } from '../../node/auth.ts';
import { HASH_SIZE } from './piece-file.ts';
import { PieceMissingError, type AuditAnswer, type FailureDomain, type PieceHandle, type PieceInfo, type PieceWriter, type VerifyResult } from './domain.ts';

export interface NodeClientOptions {
  key: KeyObject;
  /** PEM certificate(s) to trust for https:// nodes. */
  ca?: Buffer;
  /** Time limit of one ordinary request (ms). */
  timeoutMs?: number;
  /** Time limit for one streamed write to be taken by the socket (ms). */
  writeTimeoutMs?: number;
}

/** What a node says about itself (GET /v1/info). */
export interface NodeInfo {
  id: string;
  capacity: number;
  total: number;
  free: number;
  reserve: number;
  used: number;
  pieces: number;
  acceptsWrites: boolean;
}

/** Consecutive failed requests after which a node is treated as suspect. */
const TROUBLE_RUN = 3;

export class NodeRequestError extends Error {
  readonly status: number;
  constructor(message: string, status = 0) {
    super(message);
    this.name = 'NodeRequestError';
    this.status = status;
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Asks a node who it is (used when a node is added, before its id is known). */
export async function fetchNodeInfo(url: string, options: NodeClientOptions): Promise<NodeInfo> {
  const probe = new RemoteDomain('', url, options);
  try {
    return await probe.info();
  } finally {
    probe.destroy();
  }
}

export class RemoteDomain implements FailureDomain {
  readonly id: string;
  readonly address: string;
  readonly kind = 'node' as const;
  private readonly url: URL;
  private readonly options: NodeClientOptions;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** The last info the node gave (capacity, free space, usage). */
  lastInfo: NodeInfo | undefined;
  /** Capacity set by the administrator, in place of what the node announces. */
  capacityOverride: number | undefined;
  /**
   * Called after TROUBLE_RUN consecutive failed requests (no answer, a cut connection, a time
   * limit): the engine treats the node as suspect until a heartbeat answers again (a circuit
   * breaker, so writes and reads stop waiting on a hung node before three heartbeats are missed).
   */
  onTrouble: ((id: string) => void) | undefined;
  private failures = 0;

  constructor(id: string, url: string, options: NodeClientOptions) {
    this.id = id;
    this.address = url;
    this.url = new URL(url);
    this.options = options;
    const https = this.url.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: options.ca }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    this.send = https ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
  }

  destroy(): void {
    this.agent.destroy();
  }

  private start(method: string, path: string, headers: Record<string, string | number> = {}): { req: ClientRequest; nonce: string } {
    const signed = signRequest(this.options.key, method, path, typeof headers.range === 'string' ? headers.range : '');
    const req = this.send({
      method,
      hostname: this.url.hostname,
      port: this.url.port,
      path,
      agent: this.agent,
      headers: { ...headers, ...signed },
    });
    return { req, nonce: signed[HEADER_NONCE]! };
  }

  /** Checks the node's answer signature and collects the body. */
  private receive(res: IncomingMessage, nonce: string, limit = 80 * 1024 * 1024): Promise<Answer> {
    const status = res.statusCode ?? 0;
    if (!checkAnswer(this.options.key, nonce, status, res.headers[HEADER_ANSWER])) {
      res.resume();
      return Promise.reject(new NodeRequestError(`${this.address} did not answer as a cluster member (status ${status})`, status));
    }
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) res.destroy(new NodeRequestError('answer too large'));
        else parts.push(c);
      });
      res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(parts, size) }));
      res.on('error', reject);
      res.on('aborted', () => reject(new NodeRequestError('answer cut short')));
    });
  }

  private call(method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer, timeoutMs = this.options.timeoutMs ?? 10_000): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const { req, nonce } = this.start(method, path, body ? { ...headers, 'content-length': body.length } : headers);
      const timer = setTimeout(() => req.destroy(new NodeRequestError(`${this.address}: no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('response', (res) => {
        this.receive(res, nonce).then(
          (a) => {
            clearTimeout(timer);
            this.answered(a.status < 500);
            resolve(a);
          },
          (err) => {
            clearTimeout(timer);
            this.answered(false);
            reject(err);
          },
        );
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        this.answered(false);
        reject(err);
      });
      req.end(body);
    });
  }

  /** Counts consecutive failures; the TROUBLE_RUN-th calls onTrouble. */
  private answered(ok: boolean): void {
    if (ok) {
      this.failures = 0;
      return;
    }
    if (++this.failures === TROUBLE_RUN) this.onTrouble?.(this.id);
  }

  private piecePath(name: string, action = ''): string {
    return `/v1/pieces/${encodeURIComponent(name)}${action ? `/${action}` : ''}`;
  }

  private fail(a: Answer, what: string): never {
    let message = '';
    try {
      message = (JSON.parse(a.body.toString('utf8')) as { error?: string }).error ?? '';
    } catch {}
    throw new NodeRequestError(`${this.address}: ${what} answered ${a.status}${message ? `: ${message}` : ''}`, a.status);
  }

  async info(timeoutMs?: number): Promise<NodeInfo> {
    const a = await this.call('GET', '/v1/info', {}, undefined, timeoutMs);
    if (a.status !== 200) this.fail(a, 'info');
    const info = JSON.parse(a.body.toString('utf8')) as NodeInfo;
    this.lastInfo = info;
    return info;
  }

  async create(name: string): Promise<PieceWriter> {
    const { req, nonce } = this.start('PUT', this.piecePath(name), { 'transfer-encoding': 'chunked', 'content-type': 'application/octet-stream' });
    let failure: Error | undefined;
    let ended = false;
    const answered = new Promise<Answer | undefined>((resolve) => {
      req.on('response', (res) => {
        if (!ended) failure ??= new NodeRequestError(`${this.address}: piece write refused (${res.statusCode})`, res.statusCode ?? 0);
        this.receive(res, nonce).then(resolve, (err: Error) => {
          failure ??= err;
          resolve(undefined);
        });
      });
      req.on('error', (err) => {
        failure ??= err;
        resolve(undefined);
      });
    });
    const writeTimeout = this.options.writeTimeoutMs ?? 15_000;
    return {
      write: (data) => {
        if (failure) return Promise.reject(failure);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            failure ??= new NodeRequestError(`${this.address}: write not taken within ${writeTimeout} ms`);
            this.answered(false);
            req.destroy(failure);
            reject(failure);
          }, writeTimeout);
          req.write(data, (err) => {
            clearTimeout(timer);
            if (err || failure) reject(err ?? failure);
            else resolve();
          });
        });
      },
      commit: async (header) => {
        if (failure) throw failure;
        ended = true;
        const timer = setTimeout(() => req.destroy(new NodeRequestError(`${this.address}: piece commit not answered in time`)), this.options.timeoutMs ?? 30_000);
        req.end(header);
        const a = await answered;
        clearTimeout(timer);
        if (!a) throw failure ?? new NodeRequestError(`${this.address}: piece write failed`);
        if (a.status !== 201) this.fail(a, 'piece write');
      },
      abort: async () => {
        failure ??= new NodeRequestError('aborted');
        req.destroy();
      },
    };
  }

  async open(name: string): Promise<PieceHandle> {
    // Lazy: nothing is asked until a read; a missing piece shows as a failed read.
    const path = this.piecePath(name);
    return {
      read: async (offset, length) => {
        const a = await this.call('GET', path, { range: `bytes=${offset}-${offset + length - 1}` });
        if (a.status === 404) throw new PieceMissingError(this.id, name);
        if (a.status !== 206) this.fail(a, 'read');
        if (a.body.length !== length) throw new NodeRequestError(`${this.address}: short read of ${name}`);
        return a.body;
      },
      close: async () => {},
    };
  }

  async trash(name: string): Promise<void> {
    const a = await this.call('POST', this.piecePath(name, 'trash'));
    if (a.status !== 204) this.fail(a, 'trash');
  }

  async delete(name: string): Promise<void> {
    const a = await this.call('DELETE', this.piecePath(name));
    if (a.status !== 204) this.fail(a, 'delete');
  }

  async stat(name: string): Promise<PieceInfo | undefined> {
    const a = await this.call('HEAD', this.piecePath(name));
    if (a.status === 404) return undefined;
    if (a.status !== 200) this.fail(a, 'stat');
    return { name, size: Number(a.headers['content-length']), mtime: new Date(Number(a.headers['x-oort-mtime'])) };
  }

  /** The listing streamed line by line (a node may hold millions of pieces). */
  private async *listing(trash: boolean): AsyncIterable<PieceInfo> {
    const { req, nonce } = this.start('GET', `/v1/pieces${trash ? '?trash=1' : ''}`);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.setTimeout(this.options.timeoutMs ?? 10_000, () => req.destroy(new NodeRequestError(`${this.address}: listing not answered in time`)));
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status !== 200 || !checkAnswer(this.options.key, nonce, status, res.headers[HEADER_ANSWER])) {
      res.resume();
      throw new NodeRequestError(`${this.address}: list answered ${status}`, status);
    }
    let rest = '';
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        const p = JSON.parse(line) as { name: string; size: number; mtime: number };
        yield { name: p.name, size: p.size, mtime: new Date(p.mtime) };
      }
    }
  }

  list(): AsyncIterable<PieceInfo> {
    return this.listing(false);
  }

  listTrash(): AsyncIterable<PieceInfo> {
    return this.listing(true);
  }

  async sweepTemporary(olderThan: Date): Promise<number> {
    const a = await this.call('POST', `/v1/tmp/sweep?before=${olderThan.getTime()}`);
    if (a.status !== 200) this.fail(a, 'sweep');
    return (JSON.parse(a.body.toString('utf8')) as { removed: number }).removed;
  }

  async healthy(): Promise<boolean> {
    try {
      return (await this.info()).id === this.id;
    } catch {
      return false;
    }
  }

  /** Free: what the node may still take (below its announced capacity, above its reserve). */
  async space(): Promise<{ free: number; total: number }> {
    const i = await this.info();
    return { free: this.available(i), total: this.capacityOverride ?? i.capacity };
  }

  /** Bytes the node may still take: above its reserve and below its (possibly overridden) capacity. */
  available(i: NodeInfo): number {
    return Math.max(0, Math.min(i.free - i.reserve, (this.capacityOverride ?? i.capacity) - i.used));
  }

  async audit(name: string, leaf: number, timeoutMs?: number): Promise<AuditAnswer> {
    const a = await this.call('POST', `${this.piecePath(name, 'audit')}?leaf=${leaf}`, {}, undefined, timeoutMs);
    if (a.status === 404) throw new PieceMissingError(this.id, name);
    if (a.status !== 200) this.fail(a, 'audit');
    const raw = Buffer.from(String(a.headers['x-oort-proof'] ?? ''), 'base64');
    const proof: Buffer[] = [];
    for (let i = 0; i + HASH_SIZE <= raw.length; i += HASH_SIZE) proof.push(raw.subarray(i, i + HASH_SIZE));
    return { block: a.body, proof };
  }

  async verify(name: string): Promise<VerifyResult> {
    const a = await this.call('POST', this.piecePath(name, 'verify'), {}, undefined, 600_000);
    if (a.status === 404) throw new PieceMissingError(this.id, name);
    if (a.status !== 200) this.fail(a, 'verify');
    return JSON.parse(a.body.toString('utf8')) as VerifyResult;
  }
}
