import type { MetaStore } from '../meta/index.ts';
import type { ObjectEngine } from '../engine/index.ts';

/**
 * Mark and sweep: every locator the metadata refers to is kept; data older than `olderThan` that
 * nothing refers to is removed. Data is written before its metadata commit, so the grace period
 * (`olderThan`) must cover the longest write still in flight; at start-up, before any request,
 * the start time itself is safe.
 */
export async function collectGarbage(meta: MetaStore, engine: ObjectEngine, olderThan: Date): Promise<number> {
  const keep = new Set<string>();
  // Inline objects' locators are left out: they name no stored data, and there can be millions.
  for await (const locator of meta.referencedLocators({ skipPrefix: engine.heldPrefix })) keep.add(locator);
  return engine.sweep(keep, olderThan);
}
