// Hash, HMAC and constant-time comparison helpers shared by the signers.
import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';

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
