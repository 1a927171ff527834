// Builds aws-chunked bodies per the AWS documentation, independently of the decoder under test.
import { crc32 } from 'node:zlib';
import { EMPTY_SHA256, hmacHex, sha256Hex } from './helpers.ts';

export interface ChunkSigner {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

export function chunkSignature(s: ChunkSigner, previous: string, data: Buffer): string {
  return hmacHex(s.key, ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_SHA256, sha256Hex(data)].join('\n'));
}

export function trailerSignature(s: ChunkSigner, previous: string, trailers: [string, string][]): string {
  const canonical = [...trailers].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([n, v]) => `${n}:${v}\n`).join('');
  return hmacHex(s.key, ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, previous, sha256Hex(canonical)].join('\n'));
}

/** STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) body. */
export function signedChunked(s: ChunkSigner, chunks: Buffer[], trailers?: [string, string][]): Buffer {
  const out: Buffer[] = [];
  let prev = s.seed;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const sig = chunkSignature(s, prev, data);
    prev = sig;
    out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`));
    if (data.length > 0) out.push(data, Buffer.from('\r\n'));
  }
  if (trailers) {
    for (const [n, v] of trailers) out.push(Buffer.from(`${n}:${v}\r\n`));
    out.push(Buffer.from(`x-amz-trailer-signature:${trailerSignature(s, prev, trailers)}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** STREAMING-UNSIGNED-PAYLOAD-TRAILER body, as the AWS SDK for JavaScript v3 writes it. */
export function unsignedChunked(chunks: Buffer[], trailers: [string, string][]): Buffer {
  const out: Buffer[] = [];
  for (const data of chunks) out.push(Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n'));
  out.push(Buffer.from('0\r\n'));
  for (const [n, v] of trailers) out.push(Buffer.from(`${n}:${v}\r\n`));
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

export function crc32Base64(data: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(data) >>> 0);
  return b.toString('base64');
}
