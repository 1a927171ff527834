// Public face of engine/: the ObjectEngine interface and its implementation, the shard engine.
export type * from './types.ts';
export { StorageUnavailableError } from './types.ts';
export { ShardEngine } from './shard/index.ts';
