// Unwrapped data keys, kept for a while. Unwrapping a data key and importing it as a KeyObject are
// two OpenSSL context setups, about as much CPU as decrypting a small object itself; a hot object
// reads many times under the same key. The cache key is the whole wrapped key with its binding
// (master key id, stream id), so a hit returns exactly what a fresh unwrap would have, and an entry
// never outlives the process (the master key is in this process's memory anyway).

import { StreamCipher, unwrapKey } from './crypto.ts';
import type { KeyRing } from '../../security/master-key.ts';

const LIMIT = 4096;

export class DataKeyCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly ciphers = new Map<string, StreamCipher>();

  private readonly keys: KeyRing;
  private readonly limit: number;

  constructor(keys: KeyRing, limit = LIMIT) {
    this.keys = keys;
    this.limit = limit;
  }

  /**
   * The stream's cipher; unwraps (and authenticates) the data key on a miss. Concurrent readers
   * share it: its encrypt and decrypt are synchronous, so its scratch buffers never interleave.
   */
  cipher(kekId: string, streamId: string, wrappedKey: Buffer): StreamCipher {
    const id = `${kekId}\0${streamId}\0${wrappedKey.toString('latin1')}`;
    let c = this.ciphers.get(id);
    if (c) {
      this.ciphers.delete(id);
    } else {
      c = new StreamCipher(unwrapKey(this.keys.get(kekId), streamId, wrappedKey), streamId);
      if (this.ciphers.size >= this.limit) this.ciphers.delete(this.ciphers.keys().next().value!);
    }
    this.ciphers.set(id, c);
    return c;
  }
}

const caches = new WeakMap<KeyRing, DataKeyCache>();

/** The cache that goes with a key ring (one per ring, so a new ring after a rotation starts empty). */
export function dataKeysOf(keys: KeyRing): DataKeyCache {
  let c = caches.get(keys);
  if (!c) caches.set(keys, (c = new DataKeyCache(keys)));
  return c;
}
