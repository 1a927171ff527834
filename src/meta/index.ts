// Public face of meta/: the MetaStore interface and its implementations.
export type * from './types.ts';
export { SqliteMetaStore } from './sqlite/store.ts';
export { NoSuchBucketError } from './errors.ts';
export { MAX_KEYS_PER_ACCOUNT } from './types.ts';
