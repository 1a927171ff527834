// Byte streams the engine benchmarks write and read: a repeated random block, and a counting drain.
import { randomBytes } from 'node:crypto';

const MiB = 1024 * 1024;

/** `size` bytes in 1 MiB pieces of one random block (generating them would cost more than storing). */
export async function* body(size: number): AsyncGenerator<Buffer> {
  const block = randomBytes(MiB);
  for (let at = 0; at < size; at += MiB) yield at + MiB <= size ? block : block.subarray(0, size - at);
}

/** Reads a stream to its end; returns how many bytes it gave. */
export async function drain(r: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const c of r) n += (c as Buffer).length;
  return n;
}
