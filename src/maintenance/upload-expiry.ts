import type { MetaStore } from '../meta/index.ts';
import type { ObjectEngine } from '../engine/index.ts';

/**
 * Aborts multipart uploads initiated more than `maxAgeMs` ago and frees their parts' data.
 * Returns how many were removed. Safe to run while clients work: abort is atomic in the store.
 */
export async function expireUploads(meta: MetaStore, engine: ObjectEngine, maxAgeMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  for (;;) {
    const stale = await meta.listUploadsInitiatedBefore(new Date(now - maxAgeMs), 100);
    if (stale.length === 0) return removed;
    for (const upload of stale) {
      const parts = await meta.abortUpload(upload.uploadId);
      if (!parts) continue;
      await Promise.all(parts.map((p) => engine.delete(p.locator)));
      removed++;
    }
  }
}
