// Tiny objects live in their locator: `i:` + base64url of
//   version (1) || master key id length (1) || master key id || wrapped data key (60) || chunk
// where the chunk is the whole object encrypted as segment 0, chunk 0, last chunk, under a fresh
// data key (the same scheme as a stream's chunks). The object row holds the locator, so such an
// object needs no data file and no segment row.

import { StreamCipher, newDataKey, unwrapKey, wrapKey, WRAPPED_KEY_SIZE } from './crypto.ts';
import type { KeyRing } from '../../security/master-key.ts';

export const INLINE_PREFIX = 'i:';
const VERSION = 1;
/** Inline blobs bind this in place of a stream id. */
const INLINE_STREAM = '00000000000000000000000000000000';

export function isInline(locator: string): boolean {
  return locator.startsWith(INLINE_PREFIX);
}

interface InlineParts {
  kekId: string;
  wrappedKey: Buffer;
  chunk: Buffer;
}

function encode(p: InlineParts): string {
  const kek = Buffer.from(p.kekId, 'utf8');
  const head = Buffer.from([VERSION, kek.length]);
  return INLINE_PREFIX + Buffer.concat([head, kek, p.wrappedKey, p.chunk]).toString('base64url');
}

function decode(locator: string): InlineParts {
  const b = Buffer.from(locator.slice(INLINE_PREFIX.length), 'base64url');
  if (b.length < 2 || b[0] !== VERSION) throw new Error('bad inline locator');
  const kekEnd = 2 + b[1]!;
  const keyEnd = kekEnd + WRAPPED_KEY_SIZE;
  if (b.length < keyEnd + 16) throw new Error('bad inline locator');
  return { kekId: b.subarray(2, kekEnd).toString('utf8'), wrappedKey: b.subarray(kekEnd, keyEnd), chunk: b.subarray(keyEnd) };
}

const position = (size: number) => ({ segment: 0, chunk: 0, last: true, segmentPlainSize: size });

export function sealInline(keys: KeyRing, plain: Buffer): string {
  const dek = newDataKey();
  const chunk = new StreamCipher(dek, INLINE_STREAM).encrypt(plain, position(plain.length));
  return encode({ kekId: keys.current.id, wrappedKey: wrapKey(keys.current, INLINE_STREAM, dek), chunk });
}

/**
 * The plaintext. Each call unwraps the data key afresh: the engine keeps hot objects' plaintext
 * (`inline-cache.ts`), so a read that gets here is a cold one, which a data-key cache would miss too.
 */
export function openInline(keys: KeyRing, locator: string): Buffer {
  const p = decode(locator);
  const dek = unwrapKey(keys.get(p.kekId), INLINE_STREAM, p.wrappedKey);
  return new StreamCipher(dek, INLINE_STREAM).decrypt(p.chunk, position(p.chunk.length - 16));
}

/** The master key id an inline locator's data key is wrapped under. */
export function inlineKekId(locator: string): string {
  return decode(locator).kekId;
}

/** The same blob with its data key re-wrapped under the current master key (the ciphertext is unchanged). */
export function rewrapInline(keys: KeyRing, locator: string): string {
  const p = decode(locator);
  if (p.kekId === keys.current.id) return locator;
  const dek = unwrapKey(keys.get(p.kekId), INLINE_STREAM, p.wrappedKey);
  return encode({ kekId: keys.current.id, wrappedKey: wrapKey(keys.current, INLINE_STREAM, dek), chunk: p.chunk });
}
