import type { Readable } from 'node:stream';

// The ObjectEngine turns a byte stream into durable data and back, for any byte range.
// It never sees S3 names or headers: what it hands out is an opaque locator string that
// the MetaStore keeps next to the object's metadata.

export interface WriteResult {
  /** Opaque; pass back to read/delete. */
  locator: string;
  /** Bytes written. */
  size: number;
}

/** How a write should be stored: the storage class picks the redundancy profile. */
export interface WriteOptions {
  storageClass?: 'STANDARD' | 'ARCHIVE';
}

export interface ObjectEngine {
  /**
   * Consumes the stream and resolves once every byte is durable (fsync'd). If the source fails,
   * nothing is left behind and the promise rejects with the source's error.
   */
  write(source: AsyncIterable<Buffer>, options?: WriteOptions): Promise<WriteResult>;
  /** Bytes [start, end] (inclusive) of the data, or all of it without a range. */
  read(locator: string, range?: { start: number; end: number }): Readable;
  /**
   * The whole data at once when the locator itself holds it (tiny objects), else undefined: lets
   * a small GET skip the stream machinery. Throws like `read` would fail.
   */
  readHeld?(locator: string): Buffer | undefined;
  /** Locators that start with this hold their data themselves: nothing stored for `sweep` to keep. */
  readonly heldPrefix?: string;
  /** Removes the data; a missing locator is not an error. */
  delete(locator: string): Promise<void>;
  /**
   * Garbage collection: removes stored data written before `olderThan` whose locator is not in
   * `keep` (left by a crash between a write and its metadata commit, or by a failed delete).
   * Returns how many were removed.
   */
  sweep(keep: ReadonlySet<string>, olderThan: Date): Promise<number>;
  close(): Promise<void>;
}

/**
 * A write could not reach enough durable pieces (too few failure domains answer, have room, or
 * take pieces): a temporary condition of the storage, not of the request. The S3 layer answers
 * 503 ServiceUnavailable with Retry-After.
 */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}
