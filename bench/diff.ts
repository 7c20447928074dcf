/**
 * The `replay.diff*` figures (issue 15): `diffLogs` on two 600 s logs of the built-in
 * table1-sedfdc (about 35 M records, 250 MB each), in process on the built packages,
 * and the peak memory of `isosim diff` on them in a child process.
 *
 * Two pairs, for the two paths through the diff (docs/replay.md, "diff"):
 *
 * - identical: the run and a copy of it (a second run with the same seed writes the
 *   same bytes, `test/determinism.test.ts`; copying saves its 10 to 20 s). Every pair
 *   of blocks is the same bytes from the same digest: compared as bytes, B's not hashed.
 * - divergent: the 600 s run against a 601 s run. The same records up to the last few
 *   (the 600 s run settles and samples at 600 s, the other runs on), but another header
 *   (the run length), so another digest chain: both logs hashed, then record by record
 *   in the last block. The figure counts the records up to the difference.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { diffLogs } from '@isosim/replay';
import { loadScenario, runScenario } from '@isosim/scenarios';
import { cliPeakMb } from './processes.ts';

/** Each figure is the median of this many diffs after a warm-up. */
const REPEATS = 3;

/** Runs table1-sedfdc for `durationS` into DIR/NAME; the log's path. */
function runLog(dir: string, name: string, durationS: number): string {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  runScenario(loadScenario('table1-sedfdc'), { out, durationS });
  return join(out, 'events.isolog');
}

/** Records per wall second of `diffLogs(a, b)`, counting `records(d)`; median after a warm-up. */
function diffRate(a: string, b: string, records: (d: ReturnType<typeof diffLogs>) => number): number {
  diffLogs(a, b);
  const rates = Array.from({ length: REPEATS }, () => {
    const t0 = process.hrtime.bigint();
    const d = diffLogs(a, b);
    return records(d) / (Number(process.hrtime.bigint() - t0) / 1e9);
  });
  return rates.sort((x, y) => x - y)[Math.floor(REPEATS / 2)];
}

/** Peak RSS, MB, of the built `isosim diff A B` (exit 0: the pair must be the same). */
function cliDiffPeakMb(dir: string, a: string, b: string): number {
  return cliPeakMb(['diff', a, b], join(dir, 'diff.rss'));
}

export function diffBench(dir: string, emit: (name: string, value: number, unit: string) => void): void {
  const work = join(dir, 'diff');
  try {
    const a = runLog(work, 'a', 600);
    const same = join(work, 'copy.isolog');
    copyFileSync(a, same);
    const later = runLog(work, 'b', 601);

    const whole = diffLogs(a, same);
    if (whole.at !== undefined) throw new Error('diff bench: a log and its copy differ');
    emit('replay.diffLogRecords', whole.recordsA, 'records');
    emit(
      'replay.diffEventsPerSec',
      diffRate(a, same, (d) => d.recordsA),
      'records/s',
    );

    const parted = diffLogs(a, later).at;
    // The pair must part at the end, or the figure would time something else.
    if (parted === undefined || parted < 0.99 * whole.recordsA)
      throw new Error(`diff bench: the 600 s and 601 s runs part at record ${parted}, not at the end`);
    emit(
      'replay.diffDivergentEventsPerSec',
      diffRate(a, later, (d) => d.at ?? 0),
      'records/s',
    );

    emit('replay.diffPeakRssMb', cliDiffPeakMb(work, a, same), 'MB');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
