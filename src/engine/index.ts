// Public face of engine/: the ObjectEngine interface and its implementations.
export type * from './types.ts';
export { LocalFileEngine } from './local-file.ts';
