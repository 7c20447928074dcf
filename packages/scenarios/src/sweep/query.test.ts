import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { IsosimError } from '@isosim/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckStore } from './duckStore.ts';
import {
  exportSweep,
  formatTable,
  querySweep,
  studentT,
  summary,
  summaryTable,
  sweepMetaOf,
} from './query.ts';
import type { SweepMeta } from './types.ts';

const META: SweepMeta = {
  sweepId: 'sweep-q',
  name: 'q',
  params: ['share', 'sched'],
  metrics: ['cpu', 'lat'],
  checks: ['ok'],
  totalRuns: 8,
};

let dir: string;
let path: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isosim-query-'));
  path = join(dir, 'sweep.duckdb');
  // Point (0.5, sedf): cpu 1..5 over five seeds; lat 7 once (n = 1). Point (0.25, sedf):
  // one run, failed. Point (0.75, credit): cpu 2 and 4, lat absent.
  const store = await openDuckStore(path, META);
  let i = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    await store.put({
      id: `a-s${seed}`,
      index: i++,
      params: { share: 0.5, sched: 'sedf' },
      seed,
      metrics: { cpu: seed, lat: seed === 3 ? 7 : null },
      checks: { ok: true },
      wallS: 1,
      logHash: 'h',
    });
  }
  await store.put({
    id: 'b-s1',
    index: i++,
    params: { share: 0.25, sched: 'sedf' },
    seed: 1,
    metrics: { cpu: null, lat: null },
    checks: {},
    wallS: 1,
    logHash: '',
    error: { message: 'it broke', scenario: '{}', seed: 1 },
  });
  for (const [seed, cpu] of [
    [1, 2],
    [2, 4],
  ]) {
    await store.put({
      id: `c-s${seed}`,
      index: i++,
      params: { share: 0.75, sched: 'credit' },
      seed,
      metrics: { cpu, lat: null },
      checks: { ok: false },
      wallS: 1,
      logHash: 'h',
    });
  }
  await store.close();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe("Student's t", () => {
  it('has the tabulated 97.5% quantiles', () => {
    expect(studentT(0.975, 1)).toBeCloseTo(12.7062047362, 8);
    expect(studentT(0.975, 2)).toBeCloseTo(4.30265272975, 9);
    expect(studentT(0.975, 4)).toBeCloseTo(2.7764451052, 9);
    expect(studentT(0.975, 9)).toBeCloseTo(2.2621571628, 9);
    expect(studentT(0.975, 30)).toBeCloseTo(2.0422724563, 9);
    expect(studentT(0.975, 1e7)).toBeCloseTo(1.95996398454, 6);
    expect(studentT(0.025, 4)).toBeCloseTo(-2.7764451052, 9);
    expect(studentT(0.5, 3)).toBe(0);
    expect(() => studentT(1, 3)).toThrow(RangeError);
  });
});

describe('summary', () => {
  it('gives mean and 95% CI per parameter point over seeds, in the sweep order', async () => {
    const rows = await summary(path);
    expect(rows.map((r) => [r.point, r.metric, r.runs, r.failed, r.n])).toEqual([
      [{ share: 0.5, sched: 'sedf' }, 'cpu', 5, 0, 5],
      [{ share: 0.5, sched: 'sedf' }, 'lat', 5, 0, 1],
      [{ share: 0.25, sched: 'sedf' }, 'cpu', 1, 1, 0],
      [{ share: 0.25, sched: 'sedf' }, 'lat', 1, 1, 0],
      [{ share: 0.75, sched: 'credit' }, 'cpu', 2, 0, 2],
      [{ share: 0.75, sched: 'credit' }, 'lat', 2, 0, 0],
    ]);
    // 1, 2, 3, 4, 5: mean 3, s = √2.5 = 1.5811, half-width t(0.975, 4)·s/√5 = 2.7764·1.5811/2.2361 = 1.9632.
    const cpu = rows[0];
    expect(cpu.mean).toBe(3);
    expect(cpu.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(cpu.halfWidth).toBeCloseTo((2.776445105 * 1.58113883) / 2.236067977, 8);
    expect(cpu.halfWidth).toBeCloseTo(1.963, 3);
    expect(cpu.low).toBeCloseTo(3 - 1.9632, 4);
    expect(cpu.high).toBeCloseTo(3 + 1.9632, 4);
    // n = 1: a mean, no interval.
    expect(rows[1]).toMatchObject({ mean: 7, sd: null, halfWidth: null, low: null, high: null });
    // n = 0 (every run failed, or no value): nothing.
    expect(rows[2]).toMatchObject({ mean: null, sd: null, halfWidth: null });
    // 2, 4: mean 3, s = √2, half-width 12.706·√2/√2 = 12.706.
    expect(rows[4].mean).toBe(3);
    expect(rows[4].halfWidth).toBeCloseTo(12.7062047362, 8);

    const table = formatTable(summaryTable(await sweepMetaOf(path), rows));
    expect(table.split('\n').slice(0, 4)).toEqual([
      'share  sched   metric  n  mean       sd     ±95%      low     high  failed',
      '-----  ------  ------  -  ----  -------  -------  -------  -------  ------',
      '  0.5  sedf    cpu     5     3  1.58114  1.96324  1.03676  4.96324       0',
      '  0.5  sedf    lat     1     7     NULL     NULL     NULL     NULL       0',
    ]);
    expect(table.split('\n').at(-1)).toBe('(6 rows)');
  });

  it('of a sweep without parameters is one point', async () => {
    const p = join(dir, 'seeds.duckdb');
    const store = await openDuckStore(p, { ...META, sweepId: 'seeds', params: [] });
    for (const seed of [1, 2, 3])
      await store.put({
        id: `s${seed}`,
        index: seed,
        params: {},
        seed,
        metrics: { cpu: seed },
        checks: {},
        wallS: 0,
        logHash: '',
      });
    await store.close();
    const rows = await summary(p);
    expect(rows.map((r) => [r.point, r.metric, r.n, r.mean])).toEqual([
      [{}, 'cpu', 3, 2],
      [{}, 'lat', 0, null],
    ]);
  });
});

describe('querySweep', () => {
  it('runs SQL on the file, read-only', async () => {
    const q = await querySweep(
      path,
      'SELECT sched, count(*) AS n, avg(cpu) AS cpu FROM runs GROUP BY sched ORDER BY sched',
    );
    expect(q).toEqual({
      columns: ['sched', 'n', 'cpu'],
      rows: [
        ['credit', 2, 3],
        ['sedf', 6, 3],
      ],
    });
    const e = await errorOf(querySweep(path, 'DELETE FROM runs'));
    expect(e).toBeInstanceOf(IsosimError);
    expect(e.message).toMatch(new RegExp(`^${path}: SQL: .*read-only`));
    expect((await querySweep(path, 'SELECT count(*) FROM runs')).rows).toEqual([[8]]);
  });

  it("turns bad SQL into DuckDB's message on one line, naming the file", async () => {
    const e = await errorOf(querySweep(path, 'SELEC * FROM runs'));
    expect(e).toBeInstanceOf(IsosimError);
    expect(e.message).toBe(
      `${path}: SQL: Parser Error: syntax error at or near "SELEC"; fix the query; the tables are runs (a row per run) and sweep_meta, see docs/scale-out.md`,
    );
    const b = await errorOf(querySweep(path, 'SELECT nope FROM runs'));
    expect(b.message).toMatch(
      /^.*: SQL: Binder Error: Referenced column "nope" not found in FROM clause!.*; fix the query/,
    );
    expect(b.message).not.toMatch(/\n/);
    expect((await errorOf(querySweep(path, '  '))).message).toBe(
      `${path}: SQL: is empty; give a query, e.g. "SELECT * FROM runs LIMIT 10"`,
    );
    expect((await errorOf(querySweep(join(dir, 'none.duckdb'), 'SELECT 1'))).message).toMatch(
      /none\.duckdb: file: does not exist; give the \.duckdb file a sweep wrote/,
    );
  });
});

describe('formatTable', () => {
  it('aligns columns, numbers to the right, NULL for null, and counts the rows', () => {
    expect(
      formatTable({
        columns: ['name', 'x', 'ok'],
        rows: [
          ['a', 1.23456789, true],
          ['bb\ncc', null, false],
          ['d', 1234567, null],
        ],
      }),
    ).toBe(
      [
        'name         x  ok',
        '-----  -------  -----',
        'a      1.23457  true',
        'bb cc     NULL  false',
        'd      1234567  NULL',
        '(3 rows)',
      ].join('\n'),
    );
    expect(formatTable({ columns: ['a'], rows: [] })).toBe('a\n-\n(0 rows)');
  });
});

describe('exportSweep', () => {
  it('writes the runs as Parquet and as CSV, which read back the same', async () => {
    const parquet = join(dir, 'runs.parquet');
    const csv = join(dir, 'runs.csv');
    expect(await exportSweep(path, 'parquet', parquet)).toBe(8);
    expect(await exportSweep(path, 'csv', csv)).toBe(8);
    const all = await querySweep(path, 'SELECT * FROM runs ORDER BY run_index');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const p = await c.runAndReadAll(`SELECT * FROM read_parquet('${parquet}')`);
      expect(p.columnNames()).toEqual(all.columns);
      expect(p.getRowsJS().map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual(
        all.rows,
      );
      const kv = await c.runAndReadAll(
        `SELECT decode(key), decode(value) FROM parquet_kv_metadata('${parquet}') ORDER BY 1`,
      );
      expect(kv.getRowsJS()).toEqual([
        ['sweep_id', 'sweep-q'],
        ['sweep_name', 'q'],
      ]);
    } finally {
      c.closeSync();
      db.closeSync();
    }
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(all.columns.join(','));
    expect(lines[1]).toBe('a-s1,0,1,0.5,sedf,1.0,,true,1.0,h,,,');
    // NULL is an empty field, the empty string a quoted one.
    expect(lines[6]).toBe('b-s1,5,1,0.25,sedf,,,,1.0,"",it broke,{},1');
    expect(lines.length).toBe(9);
    // No temporary files left beside the outputs.
    expect(readdirSync(dir).sort()).toEqual(['runs.csv', 'runs.parquet', 'sweep.duckdb']);
  });

  it('refuses a missing directory, a directory, the results file itself and an unknown format', async () => {
    expect((await errorOf(exportSweep(path, 'csv', join(dir, 'no', 'x.csv')))).message).toMatch(
      /--out .*x\.csv: the directory .*no does not exist; create it first/,
    );
    expect((await errorOf(exportSweep(path, 'csv', dir))).message).toMatch(
      /: is a directory; give a file path/,
    );
    expect((await errorOf(exportSweep(path, 'parquet', path))).message).toMatch(/is the results file itself/);
    expect((await errorOf(exportSweep(path, 'xlsx' as 'csv', join(dir, 'x')))).message).toMatch(
      /format: 'xlsx' is not one; give parquet or csv/,
    );
  });
});
