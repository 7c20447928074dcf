/**
 * The `sweep` group (issue 19): a 200-run sweep of the Table 1 host, SEDF-DC (Dom-1's
 * slice × the debt feedback interval × 5 seeds, 5 simulated s each), run by the built
 * CLI with `--jobs 1` and with `--jobs 2`, each into a fresh DuckDB file. Figures: the
 * wall time of each, runs per second, and `sweep.parallelEfficiency` = T(1) / (2 ×
 * T(2)), 1 when two workers give twice the throughput (the issue's target: ≥ 0.8).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench } from './common.ts';
import { cli } from './processes.ts';

/** 5 slices × 8 feedback intervals × 5 seeds = 200 runs. */
const SWEEP = {
  name: 'bench-table1',
  base: 'table1-sedfdc',
  durationS: 5,
  params: [
    { path: 'domains[name=Dom-1].vcpus[0].sedf.sliceMs', values: [1, 1.3, 1.6, 1.9, 2.2] },
    { path: 'mechanisms.debt.feedbackMs', range: { from: 100, to: 800, step: 100 } },
  ],
  seeds: 5,
  record: { metrics: ['domains.Dom-1.combinedPct', 'domains.Dom-1.cpuPct'] },
};
const RUNS = 200;

export function sweepGroup(b: Bench): void {
  const file = join(b.dir, 'bench-sweep.json');
  writeFileSync(file, `${JSON.stringify(SWEEP, null, 2)}\n`);
  const wall = (jobs: number) =>
    cli(['sweep', file, '--jobs', String(jobs), '--out', join(b.dir, `sweep-j${jobs}`)]);
  const t1 = wall(1);
  const t2 = wall(2);
  b.emit('sweep.jobs1.wallS', t1, 's');
  b.emit('sweep.jobs2.wallS', t2, 's');
  b.emit('sweep.jobs2.runsPerSec', RUNS / t2, 'runs/s');
  b.emit('sweep.parallelEfficiency', t1 / (2 * t2), 'ratio');
}
