/**
 * `pnpm bench [group…] [--save FILE] [--compare FILE] [--threshold P] [--fail]`: prints
 * one JSON object per line, `{"name", "value", "unit"}`; docs/performance.md says what
 * each figure measures and the target issue 15 sets for it.
 *
 * It measures the built packages on plain Node, as a user runs them: the `bench`
 * script builds them (`pnpm build`), bundles this directory with esbuild, packages left
 * as imports, and runs the bundle with `node`. So `@isosim/*` resolve to each package's
 * dist (no `isosim-source` condition), and no TypeScript loader sits on the hot path
 * (tsx on the sources cost about 15% there). Not under vitest either, which loads
 * XState's development build.
 *
 * In-process figures are the median of `REPEATS` runs after a warm-up; logs go to a
 * temporary directory on disk, as in a real run, deleted at the end. With `--compare`,
 * each line also carries its baseline, ratio and verdict (bench/compare.ts), and a
 * summary table follows the figures.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from './common.ts';
import {
  type Comparison,
  compareFigure,
  type Figure,
  figureLine,
  parseFigures,
  regressions,
  summaryTable,
} from './compare.ts';
import { actorsGroup, kernelGroup } from './kernel.ts';
import { type Group, type Options, parseOptions, USAGE } from './options.ts';
import { cliGroup, memGroup, paperFullGroup, paperGroup } from './processes.ts';
import { replayGroup } from './replay.ts';
import { simGroup } from './sim.ts';
import { sweepGroup } from './sweep.ts';

const RUN: Record<Group, (b: Bench) => void> = {
  kernel: kernelGroup,
  actors: actorsGroup,
  sim: simGroup,
  cli: cliGroup,
  paper: paperGroup,
  'paper-full': paperFullGroup,
  mem: memGroup,
  sweep: sweepGroup,
  replay: replayGroup,
};

/** Where the figures go: stdout, the `--save` file, and the comparison with `--compare`'s. */
class Reporter {
  readonly rows: Comparison[] = [];
  readonly measured = new Set<string>();

  constructor(
    private readonly options: Options,
    private readonly baseline?: Map<string, Figure>,
  ) {
    if (options.save) writeFileSync(options.save, '');
  }

  /** Figures keep 4 significant digits: more is noise on this machine. */
  readonly emit = (name: string, value: number, unit: string): void => {
    const figure: Figure = { name, value: Number(value.toPrecision(4)), unit };
    const c = this.baseline
      ? compareFigure(figure, this.baseline.get(name), this.options.threshold)
      : undefined;
    if (c) this.rows.push(c);
    this.measured.add(name);
    console.log(figureLine(figure, c));
    if (this.options.save) appendFileSync(this.options.save, `${JSON.stringify(figure)}\n`);
  };

  /** The summary table after a `--compare` run. */
  summary(): string | undefined {
    if (!this.baseline) return undefined;
    const notMeasured = [...this.baseline.keys()].filter((n) => !this.measured.has(n)).length;
    return summaryTable(this.rows, this.options.threshold, notMeasured);
  }
}

/** The baseline's figures; an error if FILE holds none (not a bench output). */
function readBaseline(file: string): Map<string, Figure> {
  const figures = parseFigures(readFileSync(file, 'utf8'));
  if (figures.size === 0) throw new Error(`--compare: ${file} holds no figures (JSON lines of pnpm bench)`);
  return figures;
}

/**
 * Runs each group; a group that fails is reported on stderr and the others still run
 * (the exit status is then 1). Returns the exit status.
 */
function main(argv: readonly string[]): number {
  let options: Options;
  let baseline: Map<string, Figure> | undefined;
  try {
    options = parseOptions(argv);
    baseline = options.compare ? readBaseline(options.compare) : undefined;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const reporter = new Reporter(options, baseline);
  const dir = mkdtempSync(join(tmpdir(), 'isosim-bench-'));
  let status = 0;
  try {
    const bench: Bench = { dir, emit: reporter.emit };
    for (const g of options.groups) {
      try {
        RUN[g](bench);
      } catch (e) {
        console.error(`bench group ${g} failed: ${(e as Error).stack ?? e}`);
        status = 1;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = reporter.summary();
  if (summary !== undefined) {
    console.log(`\n${summary}`);
    if (options.fail && regressions(reporter.rows).length > 0) status = 1;
  }
  return status;
}

process.exitCode = main(process.argv.slice(2));
