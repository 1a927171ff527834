import { createHash } from 'node:crypto';
import { createHasher } from './checksums.ts';
import type { Checksum, ChecksumAlgorithm, ObjectPart } from '../meta/index.ts';

// The ETag and checksums of an object assembled from parts, computed from the parts' own
// digests only (no object bytes are read again): O(number of parts).

/** MD5 of the parts' binary MD5s, then `-N`: Amazon S3's multipart ETag. */
export function multipartEtag(parts: readonly ObjectPart[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(Buffer.from(p.etag, 'hex'));
  return `${h.digest('hex')}-${parts.length}`;
}

/** COMPOSITE: the algorithm over the concatenated binary part checksums, then `-N`. */
async function composite(alg: ChecksumAlgorithm, parts: readonly ObjectPart[]): Promise<string> {
  const h = createHasher(alg);
  for (const p of parts) h.update(Buffer.from(p.checksum!.value, 'base64'));
  return `${await h.digest()}-${parts.length}`;
}

// CRC combination (the zlib crc32_combine method, for any reflected CRC up to 64 bits):
// crc(A || B) from crc(A), crc(B) and len(B), by applying len(B) zero bytes to crc(A) with
// GF(2) matrix squaring, then xoring crc(B).
const POLYS: Partial<Record<ChecksumAlgorithm, { poly: bigint; width: number }>> = {
  CRC32: { poly: 0xedb88320n, width: 32 },
  CRC32C: { poly: 0x82f63b78n, width: 32 },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64 },
};

function gf2Times(mat: bigint[], vec: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vec !== 0n; i++, vec >>= 1n) if (vec & 1n) sum ^= mat[i]!;
  return sum;
}

function gf2Square(mat: bigint[]): bigint[] {
  return mat.map((row) => gf2Times(mat, row));
}

function crcCombine(crc1: bigint, crc2: bigint, len2: number, poly: bigint, width: number): bigint {
  if (len2 === 0) return crc1;
  // Operator for one zero bit, then squared to two and four bits; odd/even alternate from there.
  let odd: bigint[] = [poly];
  for (let i = 1, row = 1n; i < width; i++, row <<= 1n) odd.push(row);
  let even = gf2Square(odd);
  odd = gf2Square(even);
  let len = BigInt(len2);
  do {
    even = gf2Square(odd);
    if (len & 1n) crc1 = gf2Times(even, crc1);
    len >>= 1n;
    if (len === 0n) break;
    odd = gf2Square(even);
    if (len & 1n) crc1 = gf2Times(odd, crc1);
    len >>= 1n;
  } while (len !== 0n);
  return crc1 ^ crc2;
}

function toBig(b64: string): bigint {
  return BigInt(`0x${Buffer.from(b64, 'base64').toString('hex') || '0'}`);
}

function fromBig(v: bigint, width: number): string {
  return Buffer.from(v.toString(16).padStart(width / 4, '0'), 'hex').toString('base64');
}

export function supportsFullObject(alg: ChecksumAlgorithm): boolean {
  return POLYS[alg] !== undefined;
}

/** The whole-object checksum of a multipart object, in the type the upload asked for. */
export async function multipartChecksum(alg: ChecksumAlgorithm, type: 'FULL_OBJECT' | 'COMPOSITE', parts: readonly ObjectPart[]): Promise<Checksum> {
  if (type === 'COMPOSITE') return { algorithm: alg, type, value: await composite(alg, parts) };
  const { poly, width } = POLYS[alg]!;
  let crc = 0n;
  for (const p of parts) crc = crcCombine(crc, toBig(p.checksum!.value), p.size, poly, width);
  return { algorithm: alg, type, value: fromBig(crc, width) };
}
