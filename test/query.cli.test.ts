/**
 * `isosim query` (docs/scale-out.md, "Results in DuckDB"): SQL on a sweep's results file
 * as a table or JSON, the --summary, --export parquet|csv; and every mistake as one line
 * naming the file or option, exit status 2, no stack trace.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../packages/cli/src/main.ts';
import { openDuckStore } from '../packages/scenarios/src/sweep/duckStore.ts';
import { isosim } from './isosim.ts';

/**
 * Runs `isosim ARGS` in this process (faster than a child, for all but the checks of
 * what a user sees on stderr): its exit status and standard output, or the message of
 * the error it throws, as the CLI prints it.
 */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.join(' '));
  });
  try {
    const code = await main(args);
    return { code, out: lines.map((l) => `${l}\n`).join(''), err: '' };
  } catch (err) {
    return { code: 2, out: lines.join('\n'), err: `error: ${(err as Error).message}\n` };
  } finally {
    log.mockRestore();
  }
}

let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isosim-query-cli-'));
  file = join(dir, 'sweep.duckdb');
  const store = await openDuckStore(file, {
    sweepId: 'cli-sweep',
    name: 'cli',
    params: ['host.iddShare'],
    metrics: ['dom1.cpu'],
    checks: [],
    totalRuns: 6,
  });
  let index = 0;
  for (const share of [0.2, 0.4]) {
    for (const seed of [1, 2, 3]) {
      await store.put({
        id: `p${share}-s${seed}`,
        index: index++,
        params: { 'host.iddShare': share },
        seed,
        metrics: { 'dom1.cpu': 10 * share + seed },
        checks: {},
        wallS: 0.1,
        logHash: `h${index}`,
      });
    }
  }
  await store.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A failed command: one line on stderr, exit status 2, no stack trace. */
function refused(r: { code: number; out: string; err: string }): string {
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(r.err).not.toMatch(/\n\s+at /);
  return lines[0];
}

describe('isosim query', () => {
  it('prints the result of SQL as a table, or as JSON', async () => {
    const sql =
      'SELECT host_idd_share, count(*) AS runs, avg(dom1_cpu) AS cpu FROM runs GROUP BY 1 ORDER BY 1';
    const r = await cli('query', file, sql);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(
      [
        'host_idd_share  runs  cpu',
        '--------------  ----  ---',
        '           0.2     3    4',
        '           0.4     3    6',
        '(2 rows)',
        '',
      ].join('\n'),
    );
    const j = await cli('query', file, sql, '--json');
    expect(j.code, j.err).toBe(0);
    expect(JSON.parse(j.out)).toEqual([
      { host_idd_share: 0.2, runs: 3, cpu: 4 },
      { host_idd_share: 0.4, runs: 3, cpu: 6 },
    ]);
  });

  it('prints the summary: mean and 95% CI per parameter point', async () => {
    const r = await cli('query', file, '--summary');
    expect(r.code, r.err).toBe(0);
    // 3, 4, 5 (and 5, 6, 7): s = 1, half-width t(0.975, 2)·1/√3 = 4.30265/1.73205 = 2.48414.
    expect(r.out.split('\n').slice(0, 4)).toEqual([
      'host.iddShare  metric    n  mean  sd     ±95%      low     high  failed',
      '-------------  --------  -  ----  --  -------  -------  -------  ------',
      '          0.2  dom1.cpu  3     4   1  2.48414  1.51586  6.48414       0',
      '          0.4  dom1.cpu  3     6   1  2.48414  3.51586  8.48414       0',
    ]);
    const j = await cli('query', file, '--summary', '--json');
    expect(j.code, j.err).toBe(0);
    const rows = JSON.parse(j.out) as { point: unknown; halfWidth: number }[];
    expect(rows[1].point).toEqual({ 'host.iddShare': 0.4 });
    expect(rows[1].halfWidth).toBeCloseTo(4.302652729749464 / Math.sqrt(3), 10);
  });

  it('exports the runs as CSV and Parquet', async () => {
    const csv = join(dir, 'runs.csv');
    const r = await cli('query', file, '--export', 'csv', '--out', csv);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`wrote 6 runs to ${csv} (csv)\n`);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      'id,run_index,seed,host_idd_share,dom1_cpu,wall_s,log_hash,error_message,error_scenario,error_seed',
    );
    expect(lines).toHaveLength(7);
    const parquet = join(dir, 'runs.parquet');
    expect((await cli('query', file, '--export', 'parquet', '--out', parquet)).code).toBe(0);
    const back = await cli('query', file, `SELECT count(*) AS n FROM read_parquet('${parquet}')`, '--json');
    expect(JSON.parse(back.out)).toEqual([{ n: 6 }]);
  });

  it('refuses bad SQL with DuckDB’s message, naming the file', async () => {
    // As a user sees it: one line on stderr, exit status 2, no stack trace.
    expect(refused(isosim('query', file, 'SELEC 1'))).toBe(
      `error: ${file}: SQL: Parser Error: syntax error at or near "SELEC"; fix the query; the tables are runs (a row per run) and sweep_meta, see docs/scale-out.md`,
    );
    expect(refused(await cli('query', file, 'SELECT nope FROM runs'))).toMatch(
      /^error: .*sweep\.duckdb: SQL: Binder Error: Referenced column "nope" not found/,
    );
    expect(refused(await cli('query', file, 'DROP TABLE runs'))).toMatch(/read-only/);
  });

  it('refuses a missing, non-DuckDB or foreign file and wrong arguments', async () => {
    expect(refused(isosim('query', join(dir, 'nope.duckdb'), 'SELECT 1'))).toMatch(
      /^error: .*nope\.duckdb: file: does not exist; give the \.duckdb file a sweep wrote/,
    );
    const text = join(dir, 'text.duckdb');
    writeFileSync(text, 'not a database\n'.repeat(400));
    expect(refused(await cli('query', text, '--summary'))).toMatch(
      /^error: .*text\.duckdb: file: is not a DuckDB database, or is damaged/,
    );
    expect(refused(await cli('query', dir, 'SELECT 1'))).toMatch(/is a directory, not a DuckDB file/);
    expect(refused(await cli('query'))).toMatch(
      /^error: isosim query: arguments: expected a results file; e\.g\./,
    );
    expect(refused(await cli('query', file))).toMatch(/expected SQL, --summary or --export/);
    expect(refused(await cli('query', file, 'SELECT 1', '--summary'))).toMatch(
      /give one of SQL, --summary and --export/,
    );
    expect(refused(await cli('query', file, 'SELECT', '1'))).toMatch(
      /expected one SQL argument, got 2 \(quote the query\)/,
    );
    expect(refused(await cli('query', file, '--export', 'xlsx', '--out', 'x'))).toBe(
      "error: isosim query: --export: 'xlsx' is not a format; give parquet or csv",
    );
    expect(refused(await cli('query', file, '--export', 'csv'))).toMatch(/--export: needs --out PATH/);
    expect(refused(await cli('query', file, '--summary', '--out', 'x.csv'))).toMatch(
      /--out: is only for --export/,
    );
    expect(refused(await cli('query', file, '--export', 'csv', '--out', join(dir, 'no', 'x.csv')))).toMatch(
      /does not exist; create it first/,
    );
  });

  it('is in the help', async () => {
    const r = await cli('--help');
    expect(r.out).toMatch(/\n {2}query {9}runs SQL on a sweep's results \(DuckDB\)/);
    const h = await cli('query', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('Usage: isosim query FILE.duckdb "SQL" [--json]');
    expect(h.out).toContain('--export FORMAT');
  });
});
