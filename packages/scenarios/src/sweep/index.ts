/**
 * Sweeps: a base scenario run over parameter points and seeds (see docs/sweeps.md).
 *
 * @module
 */
export * from './emit.ts';
export * from './execute.ts';
export * from './expand.ts';
export * from './merge.ts';
export * from './paths.ts';
export * from './plots.ts';
export * from './pool.ts';
export * from './query.ts';
export * from './schema.ts';
export * from './shard.ts';
export * from './store.ts';
export type { ParamValue, ResultStore, RunRecord, SweepMeta } from './types.ts';
