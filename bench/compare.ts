/**
 * The regression guard behind `pnpm bench --compare FILE` (docs/performance.md,
 * "Regression guard"): pure functions over figures, so that the verdicts are unit-tested
 * without timing anything (test/benchCompare.test.ts).
 *
 * A baseline is an earlier run's output: JSON lines `{"name", "value", "unit"}`. Other
 * lines are skipped, so that a saved terminal log (pnpm's headers, the summary table)
 * is a baseline too, and so is a `--compare` run's output (its extra fields are ignored).
 */

/** One figure as `pnpm bench` prints it. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** Which way a figure should move: rates up, times and sizes down, counts either way. */
export type Direction = 'higher' | 'lower' | 'none';

/**
 * `worse`/`better`: moved more than the threshold; `ok`: within it (noise); `info`: a
 * count with no good direction, or a baseline of 0; `new`: not in the baseline;
 * `unit changed`: not comparable (the bench measures it differently now).
 */
export type Verdict = 'better' | 'ok' | 'worse' | 'info' | 'new' | 'unit changed';

export interface Comparison {
  readonly figure: Figure;
  readonly direction: Direction;
  readonly verdict: Verdict;
  /** The baseline's value, when it has the figure. */
  readonly baseline?: number;
  /** value / baseline, when both are there, the units agree and the baseline is not 0. */
  readonly ratio?: number;
}

/** Default threshold, percent: the spread of repeated runs on the project's 2-core machine. */
export const DEFAULT_THRESHOLD_PCT = 10;

/** Units of time and size: less is better. */
const LOWER_UNITS = new Set(['ns', 'us', 'ms', 's', 'B', 'bytes', 'KB', 'MB', 'GB']);

/**
 * Units of rates ("events/s", "simulated s / wall s") and of ratios ("ratio", "x"):
 * more is better. The rate test is on the unit's end, "per second".
 */
const RATE = /\/\s*(wall\s+)?s$/;

export function direction(unit: string): Direction {
  if (RATE.test(unit) || unit === 'ratio' || unit === 'x') return 'higher';
  if (LOWER_UNITS.has(unit)) return 'lower';
  return 'none';
}

/** The object on `line` if it is a figure, else undefined. */
function parseLine(line: string): Figure | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const { name, value, unit } = o as Record<string, unknown>;
  if (typeof name !== 'string' || typeof unit !== 'string') return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return { name, value, unit };
}

/** The figures in a saved output, by name; of a name given twice, the later one. */
export function parseFigures(text: string): Map<string, Figure> {
  const figures = new Map<string, Figure>();
  for (const line of text.split('\n')) {
    const f = parseLine(line);
    if (f) figures.set(f.name, f);
  }
  return figures;
}

/**
 * `figure` against its baseline: worse when it moved the wrong way by more than
 * `thresholdPct` percent of the baseline value (a rate below 90% of it, a time above
 * 110% of it, at 10), better when it moved the right way by as much.
 */
export function compareFigure(figure: Figure, base: Figure | undefined, thresholdPct: number): Comparison {
  const dir = direction(figure.unit);
  if (base === undefined) return { figure, direction: dir, verdict: 'new' };
  if (base.unit !== figure.unit) {
    return { figure, direction: dir, verdict: 'unit changed', baseline: base.value };
  }
  if (base.value === 0) return { figure, direction: dir, verdict: 'info', baseline: base.value };
  const ratio = figure.value / base.value;
  return {
    figure,
    direction: dir,
    verdict: verdictOf(ratio, dir, thresholdPct),
    baseline: base.value,
    ratio,
  };
}

/** Ratios this close to the threshold count as on it: 0.9 is not "below 0.9" after rounding. */
const EPS = 1e-9;

function verdictOf(ratio: number, dir: Direction, thresholdPct: number): Verdict {
  if (dir === 'none') return 'info';
  const t = thresholdPct / 100;
  const gain = dir === 'higher' ? ratio - 1 : 1 - ratio;
  if (gain < -t - EPS) return 'worse';
  if (gain > t + EPS) return 'better';
  return 'ok';
}

/** The comparisons that fail the guard. */
export function regressions(rows: readonly Comparison[]): Comparison[] {
  return rows.filter((r) => r.verdict === 'worse');
}

/** `figure` as its JSON line, with the baseline, ratio and verdict when comparing. */
export function figureLine(figure: Figure, comparison?: Comparison): string {
  if (!comparison) return JSON.stringify(figure);
  const { baseline, ratio, verdict } = comparison;
  return JSON.stringify({
    ...figure,
    baseline,
    ratio: ratio === undefined ? undefined : round(ratio, 3),
    verdict,
  });
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

/** A number as the table shows it: 4 significant digits, no exponent below 1e21. */
function show(x: number | undefined): string {
  if (x === undefined) return '-';
  return String(Number(x.toPrecision(4)));
}

/** The verdict with the change in percent, signed as the value moved. */
function showVerdict(r: Comparison): string {
  if (r.ratio === undefined) return r.verdict;
  const pct = (r.ratio - 1) * 100;
  const change = `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
  return `${r.verdict === 'worse' ? 'WORSE' : r.verdict} ${change}`;
}

/**
 * The table printed at the end of a `--compare` run: one row per figure measured, then
 * what failed the guard, and how many baseline figures this run did not measure (the
 * groups left out by a filter).
 */
export function summaryTable(rows: readonly Comparison[], thresholdPct: number, notMeasured = 0): string {
  const head = ['figure', 'unit', 'baseline', 'now', 'ratio', 'verdict'];
  const body = rows.map((r) => [
    r.figure.name,
    r.figure.unit,
    show(r.baseline),
    show(r.figure.value),
    r.ratio === undefined ? '-' : r.ratio.toFixed(3),
    showVerdict(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const numeric = new Set([2, 3, 4]);
  const format = (row: string[]): string =>
    row
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const worse = regressions(rows);
  const lines = [format(head), ...body.map(format), ''];
  lines.push(
    worse.length === 0
      ? `no figure worse than the baseline by more than ${thresholdPct}%`
      : `${worse.length} of ${rows.length} figures worse than the baseline by more than ${thresholdPct}%: ${worse
          .map((r) => r.figure.name)
          .join(', ')}`,
  );
  if (notMeasured > 0) lines.push(`${notMeasured} baseline figures not measured in this run`);
  return lines.join('\n');
}
