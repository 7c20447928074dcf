/** What every bench group shares: the figure sink, the scratch directory, small timers. */
import { join } from 'node:path';
import { LogWriter, logHeader } from '@isosim/core';
import { FileSink } from '@isosim/core/node';

/** Prints one figure (and records it for `--save` and `--compare`). */
export type Emit = (name: string, value: number, unit: string) => void;

export interface Bench {
  /** Scratch directory for logs and run directories, deleted at the end. */
  readonly dir: string;
  readonly emit: Emit;
  /**
   * The bare kernel's logged events/s measured in this run (the `kernel` group's
   * `kernel.eventsPerSec`): `sim.eventsPerSecOfKernel` divides by it.
   */
  kernelEventsPerSec?: number;
}

/** Each in-process figure is the median of this many runs after a warm-up. */
export const REPEATS = 3;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall time of `f`, ms. */
export function timeMs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A log on disk in the scratch directory, as a real run writes one. */
export function openLog(dir: string, name: string, seed: number): LogWriter {
  return new LogWriter(new FileSink(join(dir, `${name}.isolog`)), logHeader(name, seed));
}
