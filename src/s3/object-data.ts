import { Readable } from 'node:stream';
import type { ObjectEngine } from '../engine/index.ts';
import type { ObjectVersion } from '../meta/index.ts';
import type { ByteRange } from './range.ts';

/**
 * The bytes of an object version, or a range of them. A multipart object is read part by part,
 * touching only the parts the range covers, one at a time, so memory stays at one read buffer.
 */
export function readObject(engine: ObjectEngine, obj: ObjectVersion, range?: ByteRange): Readable {
  if (!obj.parts) return engine.read(obj.locator, range);
  const parts = obj.parts;
  const start = range?.start ?? 0;
  const end = range?.end ?? obj.size - 1;
  async function* pieces(): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const part of parts) {
      const partStart = offset;
      const partEnd = offset + part.size - 1;
      offset += part.size;
      if (part.size === 0 || partEnd < start) continue;
      if (partStart > end) break;
      yield* engine.read(part.locator, { start: Math.max(start, partStart) - partStart, end: Math.min(end, partEnd) - partStart });
    }
  }
  // Object mode, as the engine's stream: chunks pass through as they are, never concatenated.
  return Readable.from(pieces(), { objectMode: true, highWaterMark: 4 });
}
