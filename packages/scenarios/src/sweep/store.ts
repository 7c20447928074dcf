/**
 * Opening a sweep's results store from code that should not load DuckDB until it needs
 * it (the `isosim` command imports this package for every command).
 */
import type { ResultStore, SweepMeta } from './types.ts';

/** `openDuckStore(path, meta)` (duckStore.ts), with DuckDB loaded only now. */
export async function openResultStore(path: string, meta: SweepMeta): Promise<ResultStore> {
  const { openDuckStore } = await import('./duckStore.ts');
  return openDuckStore(path, meta);
}
