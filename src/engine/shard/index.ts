// Public face of the shard engine.
export { ShardEngine, NodeAdminError, DEFAULT_INLINE_THRESHOLD, DEFAULT_SCRUB_PERIOD_MS, type ShardEngineOptions, type NodeStatus } from './engine.ts';
export { rotateMasterKey, type RotationResult } from './rotate.ts';
export { profileFor, successThreshold, type Profile } from './layout.ts';
export type { SegmentStore } from './segment-store.ts';
