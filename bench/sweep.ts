/**
 * The `sweep` group (issue 19): a 200-run sweep of the Table 1 host, SEDF-DC (Dom-1's
 * slice × the debt feedback interval × 5 seeds, 5 simulated s each), run by the built
 * CLI with `--jobs 1`, with `--jobs 2`, and as two one-worker processes of a shard each
 * at once, each into fresh DuckDB files, 3 rounds interleaved. Figures (medians): the wall
 * time of each, runs per second, `sweep.parallelEfficiency` = T(1) / (2 × T(2)), 1 when
 * two workers give twice the throughput (the issue's target: ≥ 0.8), and the same ratio
 * for the two processes, the machine's ceiling without the pool, and for `--jobs 2` under
 * `node --single-threaded-gc` (V8 cannot change its GC threads once running: the flag is
 * the user's to give).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench } from './common.ts';
import { median } from './common.ts';
import { CLI, cli, shell } from './processes.ts';

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

/** Rounds of the three ways of running it, interleaved so that a slow spell of the machine hits all three. */
const ROUNDS = 3;

/** `s` quoted for sh. */
const sh = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function sweepGroup(b: Bench): void {
  const file = join(b.dir, 'bench-sweep.json');
  writeFileSync(file, `${JSON.stringify(SWEEP, null, 2)}\n`);
  const wall = (jobs: number, round: number) =>
    cli(['sweep', file, '--jobs', String(jobs), '--out', join(b.dir, `sweep-j${jobs}-${round}`)]);
  /** The same sweep as two processes of one worker each, a shard each, at once: no threads shared. */
  const twoProcesses = (round: number): number => {
    const out = join(b.dir, `sweep-p2-${round}`);
    const one = (i: number) =>
      `${sh(process.execPath)} ${sh(CLI)} sweep ${sh(file)} --jobs 1 --shard ${i}/2 --out ${sh(out)} >/dev/null`;
    return shell(`${one(0)} & a=$!; ${one(1)} & b=$!; wait $a && wait $b`);
  };
  /** `--jobs 2` in a Node whose GC runs on each worker's own thread (`--single-threaded-gc`: no GC helper threads taking cores from the other worker). */
  const singleGc = (round: number) =>
    cli(
      ['sweep', file, '--jobs', '2', '--out', join(b.dir, `sweep-j2-gc-${round}`)],
      ['--single-threaded-gc'],
    );
  const t1: number[] = [];
  const t2: number[] = [];
  const tp: number[] = [];
  const tg: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    t1.push(wall(1, round));
    t2.push(wall(2, round));
    tp.push(twoProcesses(round));
    tg.push(singleGc(round));
  }
  const [m1, m2, mp, mg] = [median(t1), median(t2), median(tp), median(tg)];
  b.emit('sweep.jobs1.wallS', m1, 's');
  b.emit('sweep.jobs2.wallS', m2, 's');
  b.emit('sweep.jobs2.runsPerSec', RUNS / m2, 'runs/s');
  b.emit('sweep.parallelEfficiency', m1 / (2 * m2), 'ratio');
  // The machine's own ceiling for two of these runs at once, without the pool: if it is
  // no higher than the pool's, the two cores, not the pool, are the limit.
  b.emit('sweep.twoProcesses.wallS', mp, 's');
  b.emit('sweep.twoProcesses.efficiency', m1 / (2 * mp), 'ratio');
  b.emit('sweep.jobs2.singleThreadedGc.wallS', mg, 's');
  b.emit('sweep.jobs2.singleThreadedGc.efficiency', m1 / (2 * mg), 'ratio');
}
