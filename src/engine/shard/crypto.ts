// Data keys and chunk encryption (shared/design/engine.md 8.4).
//
// - A data key (DEK) is 256 random bits, fresh per stream (an object version or a multipart part).
// - It is stored wrapped: AES-256-GCM under the master key (KEK), random 96-bit nonce, AAD binding
//   the KEK id and the stream id, so a wrapped key cannot be moved to another stream or KEK.
// - Chunks are AES-256-GCM under the DEK. The nonce is segment index (32 bits) || chunk index
//   (32 bits) || 32 zero bits: unique because every DEK is fresh. The AAD binds the stream id,
//   segment index, chunk index, the last-chunk flag and, on the last chunk, the segment's
//   plaintext size (a streaming writer learns the size only when the segment ends): reordered,
//   spliced or truncated ciphertext fails authentication.

import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { TAG_SIZE } from './layout.ts';

export const KEY_SIZE = 32;
export const NONCE_SIZE = 12;
/** Wrapped data key: nonce || ciphertext || tag. */
export const WRAPPED_KEY_SIZE = NONCE_SIZE + KEY_SIZE + TAG_SIZE;

const WRAP_AAD = Buffer.from('oort-dek-v1\0', 'latin1');
const CHUNK_AAD = Buffer.from('oort-chunk-v1\0', 'latin1');

export type { MasterKey } from '../../security/master-key.ts';
import type { MasterKey } from '../../security/master-key.ts';

export function newDataKey(): Buffer {
  return randomBytes(KEY_SIZE);
}

/** The last AAD built: every inline object binds the same stream id, so one entry serves them all. */
let lastAad = { kekId: '', streamId: '', aad: WRAP_AAD };

function wrapAad(kekId: string, streamId: string): Buffer {
  if (lastAad.kekId !== kekId || lastAad.streamId !== streamId) {
    lastAad = { kekId, streamId, aad: Buffer.concat([WRAP_AAD, Buffer.from(`${kekId}\0${streamId}`, 'utf8')]) };
  }
  return lastAad.aad;
}

const kekObjects = new WeakMap<MasterKey, KeyObject>();

/** The master key as a KeyObject, made once per key (raw key bytes are re-imported on every use). */
function kekObject(kek: MasterKey): KeyObject {
  let k = kekObjects.get(kek);
  if (!k) {
    k = createSecretKey(kek.key);
    kekObjects.set(kek, k);
  }
  return k;
}

export function wrapKey(kek: MasterKey, streamId: string, dek: Buffer): Buffer {
  const nonce = randomBytes(NONCE_SIZE);
  const cipher = createCipheriv('aes-256-gcm', kekObject(kek), nonce);
  cipher.setAAD(wrapAad(kek.id, streamId));
  const body = Buffer.concat([cipher.update(dek), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function unwrapKey(kek: MasterKey, streamId: string, wrapped: Uint8Array): Buffer {
  if (wrapped.length !== WRAPPED_KEY_SIZE) throw new Error('wrapped data key has the wrong size');
  const buf = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.length);
  const decipher = createDecipheriv('aes-256-gcm', kekObject(kek), buf.subarray(0, NONCE_SIZE));
  decipher.setAAD(wrapAad(kek.id, streamId));
  decipher.setAuthTag(buf.subarray(NONCE_SIZE + KEY_SIZE));
  return Buffer.concat([decipher.update(buf.subarray(NONCE_SIZE, NONCE_SIZE + KEY_SIZE)), decipher.final()]);
}

export interface ChunkPosition {
  segment: number;
  chunk: number;
  last: boolean;
  /** The segment's plaintext size; bound into the last chunk only. */
  segmentPlainSize: number;
}

/** The stream key context: the DEK and the stream id the AAD binds. */
export class StreamCipher {
  /** A KeyObject, made once: building one per chunk from raw bytes costs as much as the AES. */
  private readonly dek: KeyObject;
  /**
   * Nonce and AAD scratch, rewritten per chunk: OpenSSL takes their bytes during the
   * createCipheriv/setAAD call itself, so one pair per stream serves every chunk.
   * AAD: 'oort-chunk-v1\0' || stream id (16 bytes) || segment || chunk || last flag || segment
   * plaintext size (0 unless last).
   */
  private readonly nonce = Buffer.alloc(NONCE_SIZE);
  private readonly aad: Buffer;
  private readonly aadAt: number;

  constructor(dek: Buffer, streamIdHex: string) {
    this.dek = createSecretKey(dek);
    const streamId = Buffer.from(streamIdHex, 'hex');
    this.aad = Buffer.alloc(CHUNK_AAD.length + streamId.length + 4 + 4 + 1 + 8);
    this.aadAt = CHUNK_AAD.copy(this.aad, 0) + streamId.copy(this.aad, CHUNK_AAD.length);
  }

  /** Writes the chunk's nonce (segment || chunk || 32 zero bits) and AAD into the scratch buffers. */
  private position(pos: ChunkPosition): void {
    this.nonce.writeUInt32BE(pos.segment, 0);
    this.nonce.writeUInt32BE(pos.chunk, 4);
    let at = this.aad.writeUInt32BE(pos.segment, this.aadAt);
    at = this.aad.writeUInt32BE(pos.chunk, at);
    at = this.aad.writeUInt8(pos.last ? 1 : 0, at);
    this.aad.writeBigUInt64BE(pos.last ? BigInt(pos.segmentPlainSize) : 0n, at);
  }

  /** Encrypts one chunk's plaintext into `out` at `at` (plaintext length + 16 bytes). */
  encryptInto(plain: Uint8Array, pos: ChunkPosition, out: Uint8Array, at: number): number {
    this.position(pos);
    const cipher = createCipheriv('aes-256-gcm', this.dek, this.nonce);
    cipher.setAAD(this.aad);
    const body = cipher.update(plain);
    out.set(body, at);
    const fin = cipher.final();
    if (fin.length) out.set(fin, at + body.length);
    out.set(cipher.getAuthTag(), at + plain.length);
    return plain.length + TAG_SIZE;
  }

  encrypt(plain: Uint8Array, pos: ChunkPosition): Buffer {
    const out = Buffer.allocUnsafe(plain.length + TAG_SIZE);
    this.encryptInto(plain, pos, out, 0);
    return out;
  }

  /** Decrypts one chunk (ciphertext + tag); throws if it does not authenticate. */
  decrypt(chunk: Uint8Array, pos: ChunkPosition): Buffer {
    if (chunk.length < TAG_SIZE) throw new Error('chunk shorter than its tag');
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.position(pos);
    const decipher = createDecipheriv('aes-256-gcm', this.dek, this.nonce);
    decipher.setAAD(this.aad);
    decipher.setAuthTag(buf.subarray(buf.length - TAG_SIZE));
    const body = decipher.update(buf.subarray(0, buf.length - TAG_SIZE));
    const fin = decipher.final();
    return fin.length ? Buffer.concat([body, fin]) : body;
  }
}
