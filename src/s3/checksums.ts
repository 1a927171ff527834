import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';
import { crc32c } from '@node-rs/crc32';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { S3Error } from './errors.ts';
import { header } from './context.ts';
import type { ChecksumAlgorithm } from '../meta/index.ts';

// S3's additional checksums (x-amz-checksum-*): which one a request asks for, and the
// incremental hashers that compute them while the body streams through.

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

export function parseAlgorithm(value: string): ChecksumAlgorithm {
  const alg = value.toUpperCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(alg)) throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
  return alg;
}

export interface Hasher {
  update(data: Buffer): void;
  /** Base64 of the big-endian digest. */
  digest(): Promise<string>;
}

class CrcHasher implements Hasher {
  private value = 0;
  private readonly fn: (data: Buffer, prev: number) => number;
  constructor(fn: (data: Buffer, prev: number) => number) {
    this.fn = fn;
  }
  update(data: Buffer): void {
    this.value = this.fn(data, this.value);
  }
  async digest(): Promise<string> {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.value >>> 0);
    return out.toString('base64');
  }
}

class CryptoHasher implements Hasher {
  private readonly hash: Hash;
  constructor(name: string) {
    this.hash = createHash(name);
  }
  update(data: Buffer): void {
    this.hash.update(data);
  }
  async digest(): Promise<string> {
    return this.hash.digest('base64');
  }
}

class Crc64Hasher implements Hasher {
  private readonly crc = new Crc64Nvme();
  update(data: Buffer): void {
    this.crc.update(data);
  }
  async digest(): Promise<string> {
    return Buffer.from(await this.crc.digest()).toString('base64');
  }
}

export function createHasher(alg: ChecksumAlgorithm): Hasher {
  switch (alg) {
    case 'CRC32':
      return new CrcHasher((d, p) => crc32(d, p));
    case 'CRC32C':
      return new CrcHasher((d, p) => crc32c(d, p));
    case 'CRC64NVME':
      return new Crc64Hasher();
    case 'SHA1':
      return new CryptoHasher('sha1');
    case 'SHA256':
      return new CryptoHasher('sha256');
  }
}

/** What a write request says about its checksum: which algorithm, and where the expected value is. */
export interface ChecksumRequest {
  algorithm: ChecksumAlgorithm;
  /** The expected value from a header; undefined when it comes in a trailer or is to be computed. */
  expected?: string;
  /** The trailer that will carry the expected value. */
  trailer?: string;
}

function checkValueShape(alg: ChecksumAlgorithm, value: string): void {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== DIGEST_BYTES[alg] || bytes.toString('base64') !== value) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(alg)} header is invalid.`);
  }
}

/** Reads x-amz-checksum-*, x-amz-trailer and x-amz-sdk-checksum-algorithm; undefined when none is asked for. */
export function checksumRequestFrom(headers: IncomingHttpHeaders): ChecksumRequest | undefined {
  const inHeaders = CHECKSUM_ALGORITHMS.filter((alg) => headers[checksumHeaderName(alg)] !== undefined);
  if (inHeaders.length > 1) {
    throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const trailer = header({ headers }, 'x-amz-trailer')?.trim().toLowerCase();
  const declared = header({ headers }, 'x-amz-sdk-checksum-algorithm');
  if (inHeaders.length === 1) {
    const algorithm = inHeaders[0]!;
    const expected = header({ headers }, checksumHeaderName(algorithm))!;
    checkValueShape(algorithm, expected);
    if (declared !== undefined && parseAlgorithm(declared) !== algorithm) {
      throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    }
    return { algorithm, expected };
  }
  if (trailer !== undefined && trailer !== '') {
    const algorithm = CHECKSUM_ALGORITHMS.find((alg) => checksumHeaderName(alg) === trailer);
    if (!algorithm) throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    return { algorithm, trailer };
  }
  if (declared !== undefined) return { algorithm: parseAlgorithm(declared) };
  return undefined;
}

/** Compares a computed checksum against what the request promised (header or trailer). */
export function verifyChecksum(req: ChecksumRequest, computed: string, trailers: Map<string, string>): void {
  let expected = req.expected;
  if (req.trailer !== undefined) {
    expected = trailers.get(req.trailer);
    if (expected === undefined) throw new S3Error('InvalidRequest', `Missing trailer ${req.trailer}.`);
    checkValueShape(req.algorithm, expected);
  }
  if (expected !== undefined && expected !== computed) {
    throw new S3Error('BadDigest', `The ${req.algorithm} you specified did not match the calculated checksum.`);
  }
}
