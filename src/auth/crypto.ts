// Hash, HMAC and constant-time comparison helpers shared by the signers.
import { createHmac, createSecretKey, hash, KeyObject, timingSafeEqual } from 'node:crypto';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** One-shot crypto.hash: a third of createHash's cost for the short texts signers hash. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

// HMAC keys are KeyObjects on the hot paths: with a raw Buffer or string key Node re-imports the
// key on every call, about ten times the cost of the HMAC itself for short messages.

export function hmacSha256(key: Uint8Array | string | KeyObject, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * Hex HMAC-SHA256, the per-request signature check. For a KeyObject of at most one block (SigV4
 * signing keys are 32 bytes) it runs as two one-shot hashes over the key's padded blocks, made
 * once per key (RFC 2104): about half the cost of a createHmac object per call.
 */
export function hmacSha256Hex(key: Uint8Array | string | KeyObject, data: string): string {
  const p = key instanceof KeyObject ? padsOf(key) : undefined;
  if (!p) return createHmac('sha256', key).update(data, 'utf8').digest('hex');
  const need = BLOCK + Buffer.byteLength(data, 'utf8');
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  p.inner.copy(scratch, 0);
  scratch.write(data, BLOCK, 'utf8');
  const innerHash = hash('sha256', scratch.subarray(0, need), 'binary');
  return hash('sha256', Buffer.from(p.outer + innerHash, 'latin1'), 'hex');
}

const BLOCK = 64;
let scratch = Buffer.allocUnsafe(1024);
const pads = new WeakMap<KeyObject, { inner: Buffer; outer: string } | null>();

function padsOf(key: KeyObject): { inner: Buffer; outer: string } | undefined {
  let p = pads.get(key);
  if (p === undefined) {
    const raw = key.type === 'secret' ? key.export() : undefined;
    if (raw === undefined || raw.length > BLOCK) {
      p = null;
    } else {
      const inner = Buffer.alloc(BLOCK, 0x36);
      const outer = Buffer.alloc(BLOCK, 0x5c);
      for (let i = 0; i < raw.length; i++) {
        inner[i]! ^= raw[i]!;
        outer[i]! ^= raw[i]!;
      }
      p = { inner, outer: outer.toString('latin1') };
    }
    pads.set(key, p);
  }
  return p ?? undefined;
}

const secretKeys = new Map<string, KeyObject>();

/** A secret as a reusable HMAC key (bounded cache: secrets of recently seen access keys). */
export function secretKeyOf(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    if (secretKeys.size >= 4096) secretKeys.delete(secretKeys.keys().next().value!);
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    secretKeys.set(secret, key);
  }
  return key;
}

/** Compares two signatures without leaking where they differ (their length is not secret). */
export function safeEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
