import type { Readable } from 'node:stream';
import { S3Error } from './errors.ts';

/** Reads a small request body (XML documents), refusing anything over `limit` bytes. */
export async function readSmallBody(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new S3Error('MaxMessageLengthExceeded');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
