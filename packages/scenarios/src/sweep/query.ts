/**
 * Reading a sweep's results file (`duckStore.ts`): any SQL on it (`querySweep`), the
 * ready summary of every metric per parameter point over seeds (`summary`: mean and 95%
 * confidence interval), an export of its runs as Parquet or CSV (`exportSweep`), and a
 * plain-text table for the command line (`formatTable`). Each opens the file read-only.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { IsosimError } from '@isosim/core';
import {
  duckMessage,
  FIXED_COLUMNS,
  ident,
  literal,
  openDuck,
  requireMeta,
  type StoredMeta,
  sameFile,
  statOrUndefined,
} from './duckStore.ts';
import type { ParamValue, RunRecord } from './types.ts';

export type { StoredMeta, SweepColumns } from './duckStore.ts';

/** A query's result: column names, and rows of JSON values (bigints as numbers where exact). */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** Runs `f` on a read-only connection to `path`, then closes it. */
async function withReadOnly<T>(path: string, f: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance: DuckDBInstance = await openDuck(path, true);
  const c = await instance.connect();
  try {
    return await f(c);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** A value DuckDB returned as something JSON can hold. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/**
 * Runs `sql` on the results file `path`, opened read-only (a statement that would write
 * to it fails). Bad SQL is an `IsosimError` with DuckDB's message, naming the file.
 */
export async function querySweep(path: string, sql: string): Promise<QueryResult> {
  if (sql.trim() === '') {
    throw new IsosimError(path, 'SQL', 'is empty', 'give a query, e.g. "SELECT * FROM runs LIMIT 10"');
  }
  return withReadOnly(path, async (c) => {
    try {
      const r = await c.runAndReadAll(sql);
      return { columns: r.columnNames(), rows: r.getRowsJS().map((row) => row.map(plain)) };
    } catch (err) {
      throw new IsosimError(
        path,
        'SQL',
        duckMessage(err),
        'fix the query; the tables are runs (a row per run) and sweep_meta, see docs/scale-out.md',
      );
    }
  });
}

/** The `sweep_meta` of the results file `path` (an `IsosimError` if it is not one). */
export async function sweepMetaOf(path: string): Promise<StoredMeta> {
  return withReadOnly(path, async (c) => {
    const meta = await requireMeta(c, path);
    return meta;
  });
}

/**
 * Every run recorded in the results file `path` as a `RunRecord`, in the sweep's order
 * (`run_index`): the parameters a run did not set (a one-at-a-time sweep's) left out, a
 * metric with no value `null`. What a program that ran a sweep reads back to make its
 * own tables (`isosim paper`'s bands and goodput curve do).
 */
export async function readRuns(path: string): Promise<RunRecord[]> {
  return withReadOnly(path, async (c) => {
    const meta = await requireMeta(c, path);
    const { params, metrics, checks } = meta.columns;
    const cols = [
      ...FIXED_COLUMNS,
      ...Object.values(params),
      ...Object.values(metrics),
      ...Object.values(checks),
    ];
    const r = await c.runAndReadAll(`SELECT ${cols.map(ident).join(', ')} FROM runs ORDER BY run_index`);
    return r.getRowsJS().map((raw): RunRecord => {
      const row = raw.map(plain);
      let at = FIXED_COLUMNS.length;
      const take = <T>(keys: readonly string[]): [string, T][] => keys.map((k) => [k, row[at++] as T]);
      const ps = take<ParamValue | null>(Object.keys(params)).filter(([, v]) => v !== null);
      const ms = take<number | null>(Object.keys(metrics));
      const cs = take<boolean | null>(Object.keys(checks)).filter(([, v]) => v !== null);
      const [id, index, seed, wallS, logHash, message, scenario, errorSeed] = row;
      return {
        id: String(id),
        index: Number(index),
        params: Object.fromEntries(ps) as Record<string, ParamValue>,
        seed: Number(seed),
        metrics: Object.fromEntries(ms),
        checks: Object.fromEntries(cs) as Record<string, boolean>,
        wallS: Number(wallS),
        logHash: String(logHash ?? ''),
        ...(message === null
          ? {}
          : { error: { message: String(message), scenario: String(scenario), seed: Number(errorSeed) } }),
      };
    });
  });
}

/** One metric at one parameter point, over the seeds run there. */
export interface SummaryRow {
  /** The value of every swept parameter, by path. */
  readonly point: Readonly<Record<string, ParamValue | null>>;
  /** The metric's path. */
  readonly metric: string;
  /** Runs recorded at this point, failed ones included. */
  readonly runs: number;
  /** Of those, the failed runs. */
  readonly failed: number;
  /** Values of the metric averaged: runs that did not fail and have a value. */
  readonly n: number;
  /** The mean, null when n = 0. */
  readonly mean: number | null;
  /** The sample standard deviation (n − 1 in the denominator), null when n < 2. */
  readonly sd: number | null;
  /** Half the width of the 95% confidence interval, null when n < 2. */
  readonly halfWidth: number | null;
  /** The interval's ends, mean ∓ halfWidth; null when n < 2. */
  readonly low: number | null;
  readonly high: number | null;
}

/**
 * The mean and 95% confidence interval of every metric at every parameter point of the
 * results file `path`, over its seeds, the points in the sweep's order (of their first
 * run). Only runs that did not fail count. For n values x₁…xₙ: mean x̄ = Σxᵢ/n, sample
 * standard deviation s = √(Σ(xᵢ − x̄)²/(n − 1)), and the interval x̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n,
 * with t₀.₉₇₅,ₙ₋₁ the 97.5% quantile of Student's t with n − 1 degrees of freedom
 * (`studentT`). For n = 1 there is no interval (null).
 */
export async function summary(path: string): Promise<SummaryRow[]> {
  return withReadOnly(path, async (c) => {
    const meta = await requireMeta(c, path);
    const params = Object.entries(meta.columns.params);
    const metrics = Object.entries(meta.columns.metrics);
    const ok = 'error_message IS NULL';
    const select = [
      ...params.map(([, col]) => ident(col)),
      'count(*)',
      `count(*) FILTER (WHERE NOT (${ok}))`,
      ...metrics.flatMap(([, col]) => {
        const q = ident(col);
        return [
          `count(${q}) FILTER (WHERE ${ok})`,
          `avg(${q}) FILTER (WHERE ${ok})`,
          `stddev_samp(${q}) FILTER (WHERE ${ok})`,
        ];
      }),
    ];
    const group = params.length === 0 ? '' : ` GROUP BY ${params.map(([, col]) => ident(col)).join(', ')}`;
    const r = await c.runAndReadAll(`SELECT ${select.join(', ')} FROM runs${group} ORDER BY min(run_index)`);
    const rows: SummaryRow[] = [];
    for (const raw of r.getRowsJS()) {
      const row = raw.map(plain);
      const point = Object.fromEntries(params.map(([path], i) => [path, row[i] as ParamValue | null]));
      const runs = Number(row[params.length]);
      const failed = Number(row[params.length + 1]);
      metrics.forEach(([metric], k) => {
        const at = params.length + 2 + 3 * k;
        const n = Number(row[at]);
        const mean = n === 0 ? null : (row[at + 1] as number);
        const sd = n < 2 ? null : (row[at + 2] as number);
        const halfWidth = sd === null ? null : (studentT(0.975, n - 1) * sd) / Math.sqrt(n);
        rows.push({
          point,
          metric,
          runs,
          failed,
          n,
          mean,
          sd,
          halfWidth,
          low: halfWidth === null || mean === null ? null : mean - halfWidth,
          high: halfWidth === null || mean === null ? null : mean + halfWidth,
        });
      });
    }
    return rows;
  });
}

/** Summary rows as a table: a column per parameter, then metric, n, mean, sd, ±95%, low, high, failed. */
export function summaryTable(meta: Pick<StoredMeta, 'params'>, rows: readonly SummaryRow[]): QueryResult {
  return {
    columns: [...meta.params, 'metric', 'n', 'mean', 'sd', '±95%', 'low', 'high', 'failed'],
    rows: rows.map((r) => [
      ...meta.params.map((p) => r.point[p] ?? null),
      r.metric,
      r.n,
      r.mean,
      r.sd,
      r.halfWidth,
      r.low,
      r.high,
      r.failed,
    ]),
  };
}

/** Formats of `exportSweep`. */
export type ExportFormat = 'parquet' | 'csv';

/**
 * Writes the `runs` table of the results file `path`, in run order, to `out` as Parquet
 * (with the sweep's id and name in the file's key-value metadata) or CSV with a header,
 * through DuckDB's COPY. The file is written beside `out` under a temporary name and
 * renamed into place when whole. Returns the number of rows written.
 */
export async function exportSweep(path: string, format: ExportFormat, out: string): Promise<number> {
  const where = `${path}: export`;
  if (format !== 'parquet' && format !== 'csv') {
    throw new IsosimError(where, 'format', `'${String(format)}' is not one`, 'give parquet or csv');
  }
  if (out === '') throw new IsosimError(where, '--out', 'is empty', `give a file path, e.g. runs.${format}`);
  const outDir = dirname(resolve(out));
  const d = statOrUndefined(outDir);
  if (d === undefined || !d.isDirectory()) {
    throw new IsosimError(
      where,
      `--out ${out}`,
      `the directory ${outDir} does not exist`,
      `create it first (mkdir -p ${outDir}) or give another path`,
    );
  }
  if (statOrUndefined(out)?.isDirectory()) {
    throw new IsosimError(
      where,
      `--out ${out}`,
      'is a directory',
      `give a file path, e.g. ${join(out, `runs.${format}`)}`,
    );
  }
  if (sameFile(path, out)) {
    throw new IsosimError(where, `--out ${out}`, 'is the results file itself', 'give another output path');
  }
  return withReadOnly(path, async (c) => {
    const meta = await requireMeta(c, path);
    const options =
      format === 'parquet'
        ? `FORMAT parquet, KV_METADATA {sweep_id: ${literal(meta.sweepId)}, sweep_name: ${literal(meta.name)}}`
        : 'FORMAT csv, HEADER true';
    const tmp = join(outDir, `.${basename(out)}.isosim-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      const r = await c.runAndReadAll(
        `COPY (SELECT * FROM runs ORDER BY run_index, id) TO ${literal(tmp)} (${options})`,
      );
      renameSync(tmp, out);
      return Number(r.getRowsJS()[0]?.[0] ?? 0);
    } catch (err) {
      rmSync(tmp, { force: true, recursive: true });
      if (err instanceof Error && 'code' in err) throw err;
      throw new IsosimError(
        where,
        `--out ${out}`,
        `cannot write it: ${duckMessage(err)}`,
        'give another path',
      );
    }
  });
}

/**
 * The `p` quantile (0 < p < 1) of Student's t distribution with `df` > 0 degrees of
 * freedom: the t with P(T ≤ t) = p, by bisection on the distribution function
 * (`studentTCdf`) to a relative 1e-12. t(0.975, 4) = 2.7764451…
 */
export function studentT(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0))
    throw new RangeError(`studentT(${p}, ${df}): need 0 < p < 1 and df > 0`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentT(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom: 1 − I_{df/(df+t²)}(df/2, 1/2)/2 for t ≥ 0. */
export function studentTCdf(t: number, df: number): number {
  const tail = betaRegularized(df / (df + t * t), df / 2, 0.5) / 2;
  return t >= 0 ? 1 - tail : tail;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 15 digits). */
function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz). */
function betaRegularized(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - betaRegularized(1 - x, b, a);
  const tiny = 1e-300;
  let f = 1;
  let cc = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    cc = 1 + num / cc;
    if (Math.abs(cc) < tiny) cc = tiny;
    d = 1 / d;
    f *= d * cc;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    cc = 1 + num / cc;
    if (Math.abs(cc) < tiny) cc = tiny;
    d = 1 / d;
    const delta = d * cc;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return (front * f) / a;
}

/** A value as a table cell: NULL, numbers to 6 significant digits, text on one line. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(6)));
  }
  if (typeof v === 'string') return v.replace(/[\r\n\t]+/g, ' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * A query result as a plain-text table: a header, a rule, a row per row with numbers
 * right-aligned (to 6 significant digits; `--json` gives them whole), then the row count.
 */
export function formatTable(result: QueryResult): string {
  const { columns, rows } = result;
  const cells = rows.map((row) => row.map(cell));
  const numeric = columns.map(
    (_, j) => rows.length > 0 && rows.every((r) => r[j] === null || typeof r[j] === 'number'),
  );
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const line = (r: readonly string[]): string =>
    r
      .map((s, j) => (numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}
