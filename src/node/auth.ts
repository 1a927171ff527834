// Authentication between the gateway and storage nodes: every request carries an HMAC-SHA256
// signature under a key derived from the cluster secret, over the method, path, a timestamp and
// a random nonce. A node refuses a request whose time is outside the skew window or whose nonce
// it has already seen within that window, so a captured request cannot be replayed. Every answer
// carries an HMAC over the request's nonce and the status, so the gateway knows a real node
// answered (a node without the secret cannot pass as one).

import { createHmac, hkdfSync, randomBytes, timingSafeEqual, type KeyObject, createSecretKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export const HEADER_DATE = 'x-oort-date';
export const HEADER_NONCE = 'x-oort-nonce';
export const HEADER_SIGNATURE = 'x-oort-signature';
export const HEADER_ANSWER = 'x-oort-answer';

/** Default allowed difference between the gateway's and the node's clocks. */
export const DEFAULT_SKEW_MS = 5 * 60_000;

/** The request key, from the cluster secret (at least 16 bytes). */
export function deriveClusterKey(secret: Buffer): KeyObject {
  if (secret.length < 16) throw new Error('the cluster secret must be at least 16 bytes');
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'oort-cluster', 'oort-node-request-v1', 32)));
}

/** Reads a cluster secret file (its content, surrounding whitespace trimmed). */
export async function readClusterSecret(file: string): Promise<Buffer> {
  const text = (await readFile(file, 'utf8')).trim();
  if (text.length < 16) throw new Error(`${file}: the cluster secret must be at least 16 characters`);
  return Buffer.from(text, 'utf8');
}

function mac(key: KeyObject, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function requestText(method: string, path: string, date: string, nonce: string, range: string): string {
  return `oort-node-v1\n${method}\n${path}\n${date}\n${nonce}\n${range}`;
}

/** Headers that authenticate one request (path includes the query string). */
export function signRequest(key: KeyObject, method: string, path: string, range = '', now = Date.now()): Record<string, string> {
  const date = String(now);
  const nonce = randomBytes(16).toString('hex');
  return { [HEADER_DATE]: date, [HEADER_NONCE]: nonce, [HEADER_SIGNATURE]: mac(key, requestText(method, path, date, nonce, range)) };
}

export function answerSignature(key: KeyObject, nonce: string, status: number): string {
  return mac(key, `oort-node-answer-v1\n${nonce}\n${status}`);
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when a node's answer carries the right HMAC for our request's nonce and its status. */
export function checkAnswer(key: KeyObject, nonce: string, status: number, header: string | string[] | undefined): boolean {
  return typeof header === 'string' && equal(header, answerSignature(key, nonce, status));
}

/**
 * The node's side: checks signatures, the time window, and that no nonce is used twice. Nonces are
 * remembered for twice the skew window (a request is valid at most that long).
 */
export class RequestVerifier {
  private readonly key: KeyObject;
  private readonly skewMs: number;
  private readonly seen = new Map<string, number>();
  private lastPrune = Date.now();

  constructor(key: KeyObject, skewMs = DEFAULT_SKEW_MS) {
    this.key = key;
    this.skewMs = skewMs;
  }

  /** undefined when the request is authentic and fresh, else why not. The nonce is consumed. */
  check(method: string, path: string, headers: Record<string, string | string[] | undefined>, now = Date.now()): string | undefined {
    const date = headers[HEADER_DATE];
    const nonce = headers[HEADER_NONCE];
    const signature = headers[HEADER_SIGNATURE];
    const range = headers.range ?? '';
    if (typeof date !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string' || typeof range !== 'string') return 'unsigned request';
    if (!/^\d{1,15}$/.test(date) || !/^[0-9a-f]{32}$/.test(nonce)) return 'malformed signature headers';
    if (!equal(signature, mac(this.key, requestText(method, path, date, nonce, range)))) return 'bad signature';
    const t = Number(date);
    if (Math.abs(now - t) > this.skewMs) return 'request time outside the allowed clock skew';
    this.prune(now);
    if (this.seen.has(nonce)) return 'replayed request';
    this.seen.set(nonce, t + this.skewMs);
    return undefined;
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 10_000 && this.seen.size < 1_000_000) return;
    this.lastPrune = now;
    for (const [n, until] of this.seen) if (until < now) this.seen.delete(n);
  }
}
