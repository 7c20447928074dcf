/**
 * Sweeps: a base scenario run over parameter points and seeds (see docs/sweeps.md).
 *
 * @module
 */
export type { ParamValue, ResultStore, RunRecord, SweepMeta } from './types.ts';
