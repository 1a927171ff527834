// Master key rotation: re-wraps every data key under a new master key; no object data is touched.
// Run it with the server stopped (a running server keeps wrapping new keys under the key it loaded).
//
// With the key file: the new key is added as current (old keys kept), every stream's data key and
// every inline locator is re-wrapped (and, through `rewrapOthers`, anything else sealed under the
// master key, such as access key secrets), and then the old keys are dropped from the file. Stopped
// half-way, it can simply be run again. With OORT_MASTER_KEY: set the new key there and the old
// one(s) in OORT_PREVIOUS_MASTER_KEYS, run this, then remove the old ones.

import { unwrapKey, wrapKey, type MasterKey } from './crypto.ts';
import { inlineKekId, isInline, rewrapInline } from './inline.ts';
import { KeyRing, loadKeyRing, newMasterKey, writeKeyFile } from '../../security/master-key.ts';
import type { SegmentStore } from './segment-store.ts';

/** What rotation needs from the MetaStore: a way to replace inline locators. */
export interface LocatorStore {
  replaceLocators(replace: (locator: string) => string | undefined): Promise<number>;
}

export interface RotationResult {
  /** The master key id everything is wrapped under now. */
  kekId: string;
  previousKekIds: string[];
  streams: number;
  inline: number;
}

export async function rotateMasterKey(options: {
  dataDir: string;
  meta: LocatorStore;
  segments: SegmentStore;
  env?: NodeJS.ProcessEnv;
  /** The new key (a fresh random one by default; ignored when keys come from the environment). */
  newKey?: MasterKey;
  /**
   * Re-seals whatever else is sealed under the master key (e.g. access key secrets), given the
   * ring with the new key current and the old ones still available. Runs before the old keys are
   * dropped from the key file.
   */
  rewrapOthers?: (keys: KeyRing) => Promise<void>;
}): Promise<RotationResult> {
  const { keys: loaded } = await loadKeyRing(options.dataDir, options.env ?? process.env);
  let keys = loaded;
  if (loaded.file) {
    const fresh = options.newKey ?? newMasterKey();
    const others = loaded.ids().map((id) => loaded.get(id));
    await writeKeyFile(loaded.file, fresh, others);
    keys = new KeyRing(fresh, others, loaded.file);
  }
  const current = keys.current;
  const previousKekIds = keys.ids().filter((id) => id !== current.id);

  let streams = 0;
  for (;;) {
    const batch = await options.segments.streamsNotUnderKek(current.id, 500);
    if (batch.length === 0) break;
    for (const s of batch) {
      const dek = unwrapKey(keys.get(s.kekId), s.streamId, s.wrappedKey);
      if (await options.segments.rewrapStream(s.streamId, s.kekId, current.id, wrapKey(current, s.streamId, dek))) streams++;
    }
  }

  // One pass over the rows, inline locators re-wrapped as it goes (listing them first would hold
  // every one in memory at once: kilobytes each, and there can be millions).
  const inline = await options.meta.replaceLocators((locator) =>
    isInline(locator) && inlineKekId(locator) !== current.id ? rewrapInline(keys, locator) : undefined,
  );

  if (options.rewrapOthers) await options.rewrapOthers(keys);
  if (keys.file) await writeKeyFile(keys.file, current, []);
  return { kekId: current.id, previousKekIds, streams, inline };
}
