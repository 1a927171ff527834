// The piece file: header + blocks + trailer (shared/design/engine.md 8.1, 8.5).
//
//   [0, 256)           header: self-describing, with its own SHA-256
//   [256, 256 + D)     the piece's shard blocks, stripe after stripe (D = piece data size)
//   [256 + D, ...)     trailer: one SHA-256 per block, then the SHA-256 of those hashes
//
// The header names the stream, segment, piece index, profile and sizes, and carries the stream's
// wrapped data key with its master key id, so that a lost metadata database can be rebuilt by
// scanning the data directories. The Merkle root over the block hashes goes into the database.

import { createHash } from 'node:crypto';
import { WRAPPED_KEY_SIZE } from './crypto.ts';

export const HEADER_SIZE = 256;
const HEADER_BODY = HEADER_SIZE - 32;
const MAGIC = Buffer.from('OORTPIEC', 'latin1');
const FORMAT_VERSION = 1;
export const HASH_SIZE = 32;

/** Codec ids as stored in a header byte. */
const CODECS = ['', 'rs-cauchy-gf256-v1'] as const;

export interface PieceHeader {
  streamId: string;
  segment: number;
  piece: number;
  k: number;
  m: number;
  codec: string;
  blockSize: number;
  stripeCount: number;
  tailBlockSize: number;
  segmentPlainSize: number;
  segmentCipherSize: number;
  pieceDataSize: number;
  createdAt: number;
  merkleRoot: Buffer;
  kekId: string;
  wrappedKey: Buffer;
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function encodeHeader(h: PieceHeader): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(b, 0);
  b.writeUInt16BE(FORMAT_VERSION, 8);
  b.writeUInt16BE(HEADER_SIZE, 10);
  const codec = CODECS.indexOf(h.codec as (typeof CODECS)[number]);
  if (codec <= 0) throw new Error(`unknown codec ${h.codec}`);
  b.writeUInt8(codec, 12);
  b.writeUInt8(h.k, 13);
  b.writeUInt8(h.m, 14);
  b.writeUInt8(h.piece, 15);
  Buffer.from(h.streamId, 'hex').copy(b, 16);
  b.writeUInt32BE(h.segment, 32);
  b.writeUInt32BE(h.blockSize, 36);
  b.writeUInt32BE(h.stripeCount, 40);
  b.writeUInt32BE(h.tailBlockSize, 44);
  b.writeBigUInt64BE(BigInt(h.segmentPlainSize), 48);
  b.writeBigUInt64BE(BigInt(h.segmentCipherSize), 56);
  b.writeBigUInt64BE(BigInt(h.pieceDataSize), 64);
  b.writeBigUInt64BE(BigInt(h.createdAt), 72);
  h.merkleRoot.copy(b, 80);
  if (h.wrappedKey.length !== WRAPPED_KEY_SIZE) throw new Error('wrapped key size');
  h.wrappedKey.copy(b, 112);
  const kek = Buffer.from(h.kekId, 'utf8');
  if (kek.length > 48) throw new Error('master key id too long');
  b.writeUInt8(kek.length, 172);
  kek.copy(b, 173);
  sha256(b.subarray(0, HEADER_BODY)).copy(b, HEADER_BODY);
  return b;
}

/** Parses and checks a header; throws on a bad magic, version or checksum. */
export function decodeHeader(b: Uint8Array): PieceHeader {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  if (buf.length < HEADER_SIZE || !buf.subarray(0, 8).equals(MAGIC)) throw new Error('not a piece file');
  if (buf.readUInt16BE(8) !== FORMAT_VERSION || buf.readUInt16BE(10) !== HEADER_SIZE) throw new Error('unknown piece format');
  if (!sha256(buf.subarray(0, HEADER_BODY)).equals(buf.subarray(HEADER_BODY, HEADER_SIZE))) throw new Error('piece header checksum mismatch');
  const codec = CODECS[buf.readUInt8(12)];
  if (!codec) throw new Error('unknown codec in piece header');
  const kekLength = buf.readUInt8(172);
  return {
    codec,
    k: buf.readUInt8(13),
    m: buf.readUInt8(14),
    piece: buf.readUInt8(15),
    streamId: buf.subarray(16, 32).toString('hex'),
    segment: buf.readUInt32BE(32),
    blockSize: buf.readUInt32BE(36),
    stripeCount: buf.readUInt32BE(40),
    tailBlockSize: buf.readUInt32BE(44),
    segmentPlainSize: Number(buf.readBigUInt64BE(48)),
    segmentCipherSize: Number(buf.readBigUInt64BE(56)),
    pieceDataSize: Number(buf.readBigUInt64BE(64)),
    createdAt: Number(buf.readBigUInt64BE(72)),
    merkleRoot: Buffer.from(buf.subarray(80, 112)),
    wrappedKey: Buffer.from(buf.subarray(112, 112 + WRAPPED_KEY_SIZE)),
    kekId: buf.subarray(173, 173 + kekLength).toString('utf8'),
  };
}

export function trailerSize(blockCount: number): number {
  return (blockCount + 1) * HASH_SIZE;
}

/** Byte offset of the trailer in a piece file. */
export function trailerOffset(pieceDataSize: number): number {
  return HEADER_SIZE + pieceDataSize;
}

export function encodeTrailer(blockHashes: readonly Buffer[]): Buffer {
  const body = Buffer.concat(blockHashes);
  return Buffer.concat([body, sha256(body)]);
}

/** The block hashes of a trailer; throws if its checksum does not match. */
export function decodeTrailer(b: Uint8Array, blockCount: number): Buffer[] {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  if (buf.length !== trailerSize(blockCount)) throw new Error('piece trailer has the wrong size');
  const body = buf.subarray(0, blockCount * HASH_SIZE);
  if (!sha256(body).equals(buf.subarray(body.length))) throw new Error('piece trailer checksum mismatch');
  const hashes: Buffer[] = [];
  for (let i = 0; i < blockCount; i++) hashes.push(Buffer.from(body.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  return hashes;
}

/** Merkle root with domain separation: leaf = H(0x00 || hash || index), node = H(0x01 || left || right). */
export function merkleRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return sha256(Buffer.alloc(0));
  let level: Buffer[] = hashes.map((h, i) => {
    const index = Buffer.alloc(4);
    index.writeUInt32BE(i);
    return createHash('sha256').update(Buffer.of(0)).update(h).update(index).digest();
  });
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      next.push(right ? createHash('sha256').update(Buffer.of(1)).update(level[i]!).update(right).digest() : level[i]!);
    }
    level = next;
  }
  return level[0]!;
}

/** Name of a piece file: `<stream id>.<segment>.<piece>`. */
export function pieceName(streamId: string, segment: number, piece: number): string {
  return `${streamId}.${segment}.${piece}`;
}

export function parsePieceName(name: string): { streamId: string; segment: number; piece: number } | undefined {
  const m = /^([0-9a-f]{32})\.(\d+)\.(\d+)$/.exec(name);
  if (!m) return undefined;
  return { streamId: m[1]!, segment: Number(m[2]), piece: Number(m[3]) };
}

function leafHash(hash: Buffer, index: number): Buffer {
  const i = Buffer.alloc(4);
  i.writeUInt32BE(index);
  return createHash('sha256').update(Buffer.of(0)).update(hash).update(i).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/**
 * The sibling hashes from leaf `index` up to the root (levels where the node has no sibling are
 * skipped: an odd last node is carried up unchanged, as in merkleRoot).
 */
export function merkleProof(hashes: readonly Buffer[], index: number): Buffer[] {
  let level = hashes.map((h, i) => leafHash(h, i));
  const proof: Buffer[] = [];
  let at = index;
  while (level.length > 1) {
    const sibling = at % 2 === 0 ? level[at + 1] : level[at - 1];
    if (sibling) proof.push(sibling);
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(level[i + 1] ? nodeHash(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
    at = Math.floor(at / 2);
  }
  return proof;
}

/** True when `blockHash` at leaf `index` of `count` leaves, with `proof`, hashes up to `root`. */
export function verifyMerkleProof(blockHash: Buffer, index: number, count: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (index < 0 || index >= count) return false;
  let node = leafHash(blockHash, index);
  let at = index;
  let width = count;
  let used = 0;
  while (width > 1) {
    const hasSibling = at % 2 === 1 || at + 1 < width;
    if (hasSibling) {
      const sibling = proof[used++];
      if (!sibling || sibling.length !== HASH_SIZE) return false;
      node = at % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
    }
    at = Math.floor(at / 2);
    width = Math.ceil(width / 2);
  }
  return used === proof.length && node.equals(root);
}
