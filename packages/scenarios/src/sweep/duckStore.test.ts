import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IsosimError } from '@isosim/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnName, openDuckStore, sweepColumns } from './duckStore.ts';
import { querySweep } from './query.ts';
import type { RunRecord, SweepMeta } from './types.ts';

const META: SweepMeta = {
  sweepId: 'sweep-aaaa',
  name: 'share-by-feedback',
  params: ['host.idd.share', 'feedbackMs'],
  metrics: ['domains.Dom1.cpuPct', 'goodput'],
  checks: ['conservation'],
  totalRuns: 4,
};

function record(i: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: `p${i >> 1}-s${i & 1}`,
    index: i,
    params: { 'host.idd.share': 0.1 * ((i >> 1) + 1), feedbackMs: 100 },
    seed: i & 1,
    metrics: { 'domains.Dom1.cpuPct': 10 + i, goodput: i === 3 ? null : 0.5 * i },
    checks: { conservation: i !== 2 },
    wallS: 0.25,
    logHash: `hash${i}`,
    ...over,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isosim-duck-'));
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

describe('column names', () => {
  it('come from the paths: camelCase split, lower case, other characters as _', () => {
    expect(columnName('host.idd.share')).toBe('host_idd_share');
    expect(columnName('domains.Dom1.cpuPct')).toBe('domains_dom1_cpu_pct');
    expect(columnName('domains[0].weight')).toBe('domains_0_weight');
    expect(columnName('0.x')).toBe('c_0_x');
    expect(columnName('..')).toBe('c');
  });

  it('never repeat one another or a fixed column (names ignore case)', () => {
    const c = sweepColumns({ params: ['seed', 'a.b', 'a_b'], metrics: ['A.B', 'id'], checks: ['wallS'] });
    expect(c).toEqual({
      params: { seed: 'seed_2', 'a.b': 'a_b', a_b: 'a_b_2' },
      metrics: { 'A.B': 'a_b_3', id: 'id_2' },
      checks: { wallS: 'wall_s_2' },
    });
  });
});

describe('openDuckStore', () => {
  it('round-trips runs: put, replace, completedIds leaves out failed runs', async () => {
    const path = join(dir, 'sweep.duckdb');
    const store = await openDuckStore(path, META);
    expect(store.columns.params).toEqual({ 'host.idd.share': 'host_idd_share', feedbackMs: 'feedback_ms' });
    expect(await store.completedIds()).toEqual(new Set());
    await Promise.all([0, 1, 2, 3].map((i) => store.put(record(i))));
    const failed = record(1, {
      metrics: {},
      checks: {},
      logHash: '',
      error: { message: 'boom', scenario: '{"a":1}', seed: 1 },
    });
    await store.put(failed);
    expect(await store.completedIds()).toEqual(new Set(['p0-s0', 'p1-s0', 'p1-s1']));
    await store.close();

    const q = await querySweep(path, 'SELECT * FROM runs ORDER BY run_index');
    expect(q.columns).toEqual([
      'id',
      'run_index',
      'seed',
      'host_idd_share',
      'feedback_ms',
      'domains_dom1_cpu_pct',
      'goodput',
      'conservation',
      'wall_s',
      'log_hash',
      'error_message',
      'error_scenario',
      'error_seed',
    ]);
    expect(q.rows).toEqual([
      ['p0-s0', 0, 0, 0.1, 100, 10, 0, true, 0.25, 'hash0', null, null, null],
      ['p0-s1', 1, 1, 0.1, 100, null, null, null, 0.25, '', 'boom', '{"a":1}', 1],
      ['p1-s0', 2, 0, 0.2, 100, 12, 1, false, 0.25, 'hash2', null, null, null],
      ['p1-s1', 3, 1, 0.2, 100, 13, null, true, 0.25, 'hash3', null, null, null],
    ]);

    // The failed run re-run later replaces its row; now every run is complete.
    const again = await openDuckStore(path, META);
    expect(await again.completedIds()).toEqual(new Set(['p0-s0', 'p1-s0', 'p1-s1']));
    await again.put(record(1));
    expect((await again.completedIds()).size).toBe(4);
    await again.close();
    const one = await querySweep(path, "SELECT count(*), max(error_message) FROM runs WHERE id = 'p0-s1'");
    expect(one.rows).toEqual([[1, null]]);
  });

  it('keeps sweep_meta: paths, the column of each, counts, shard and versions', async () => {
    const path = join(dir, 'shard.duckdb');
    const store = await openDuckStore(path, { ...META, shard: { index: 2, count: 4 } });
    await store.close();
    const q = await querySweep(path, 'SELECT * FROM sweep_meta');
    const row = Object.fromEntries(q.columns.map((c, i) => [c, q.rows[0][i]]));
    expect(row).toMatchObject({
      sweep_id: 'sweep-aaaa',
      name: 'share-by-feedback',
      params: '["host.idd.share","feedbackMs"]',
      metrics: '["domains.Dom1.cpuPct","goodput"]',
      checks: '["conservation"]',
      total_runs: 4,
      shard_index: 2,
      shard_count: 4,
    });
    expect(JSON.parse(String(row.columns))).toEqual(sweepColumns(META));
    expect(row.isosim_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(row.duckdb_version).toMatch(/^v\d+\.\d+/);
  });

  it('types a parameter column by its values: numbers, text, booleans; mixed becomes text', async () => {
    const path = join(dir, 'types.duckdb');
    const meta: SweepMeta = { ...META, params: ['sched', 'on', 'mix'], metrics: [], checks: [] };
    const store = await openDuckStore(path, meta);
    const put = (i: number, mix: number | string): Promise<void> =>
      store.put({ ...record(i), params: { sched: 'sedf', on: i % 2 === 0, mix }, metrics: {}, checks: {} });
    await put(0, 3);
    await put(1, 0.5);
    await put(2, 'auto');
    await store.close();
    const q = await querySweep(
      path,
      'SELECT sched, "on", mix, typeof(sched), typeof("on"), typeof(mix) FROM runs ORDER BY run_index',
    );
    expect(q.rows).toEqual([
      ['sedf', true, '3', 'VARCHAR', 'BOOLEAN', 'VARCHAR'],
      ['sedf', false, '0.5', 'VARCHAR', 'BOOLEAN', 'VARCHAR'],
      ['sedf', true, 'auto', 'VARCHAR', 'BOOLEAN', 'VARCHAR'],
    ]);
  });

  it('keeps every row whose put resolved: a new process sees them, unclosed store or not', async () => {
    const path = join(dir, 'durable.duckdb');
    const storeUrl = JSON.stringify(pathToFileURL(join(import.meta.dirname, 'duckStore.ts')).href);
    // A process that puts four rows and exits without closing the store (no checkpoint).
    await runChild(
      `const { openDuckStore } = await import(${storeUrl});
       const store = await openDuckStore(${JSON.stringify(path)}, ${JSON.stringify(META)});
       for (const r of ${JSON.stringify([0, 1, 2, 3].map((i) => record(i)))}) await store.put(r);
       process.exit(0);`,
    );
    const store = await openDuckStore(path, META);
    expect(await store.completedIds()).toEqual(new Set(['p0-s0', 'p0-s1', 'p1-s0', 'p1-s1']));
    await store.put(record(0, { wallS: 9 }));
    // While this process has the file open for writing, another cannot open it.
    const queryUrl = JSON.stringify(pathToFileURL(join(import.meta.dirname, 'query.ts')).href);
    const child = await runChild(
      `const { querySweep } = await import(${queryUrl});
       await querySweep(${JSON.stringify(path)}, 'SELECT 1').catch((e) => console.log(e.message));`,
    );
    expect(child).toMatch(
      new RegExp(
        `^${path}: file: is open for writing by process ${process.pid} \\(.*\\); wait for that sweep to finish`,
      ),
    );
    await store.close();
    const q = await querySweep(path, 'SELECT id, wall_s FROM runs ORDER BY run_index');
    expect(q.rows).toEqual([
      ['p0-s0', 9],
      ['p0-s1', 0.25],
      ['p1-s0', 0.25],
      ['p1-s1', 0.25],
    ]);
  });

  it('loses no put that resolved when its process is killed (SIGKILL) mid-loop', async () => {
    const path = join(dir, 'crash.duckdb');
    const script = join(dir, 'child.mts');
    writeFileSync(
      script,
      `import { openDuckStore } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'duckStore.ts')).href)};
       const meta = ${JSON.stringify(META)};
       const store = await openDuckStore(${JSON.stringify(path)}, meta);
       for (let i = 0; ; i++) {
         await store.put({ id: 'r' + i, index: i, params: { 'host.idd.share': i / 10, feedbackMs: 100 }, seed: i,
           metrics: { 'domains.Dom1.cpuPct': i, goodput: null }, checks: { conservation: true }, wallS: 0, logHash: 'h'.repeat(64) });
         process.stdout.write('r' + i + '\\n');
       }`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const printed: string[] = [];
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      printed.push(...lines);
      if (printed.length >= 25) child.kill('SIGKILL');
    });
    const signal = await new Promise<NodeJS.Signals | null>((res) =>
      child.on('exit', (_code, sig) => res(sig)),
    );
    expect(signal).toBe('SIGKILL');
    expect(printed.length).toBeGreaterThanOrEqual(25);
    const store = await openDuckStore(path, META);
    const ids = await store.completedIds();
    await store.close();
    for (const id of printed) expect(ids.has(id), id).toBe(true);
    // At most the row in flight beyond those printed.
    expect(ids.size).toBeLessThanOrEqual(printed.length + 1);
  });

  it('refuses a file of another sweep or another shard, naming the file, the sweep and the fix', async () => {
    const path = join(dir, 'other.duckdb');
    await (await openDuckStore(path, META)).close();
    const e = await errorOf(openDuckStore(path, { ...META, sweepId: 'sweep-bbbb', name: 'other' }));
    expect(e).toBeInstanceOf(IsosimError);
    expect(e.message).toBe(
      `${path}: sweep: the file holds the results of sweep 'share-by-feedback' (id sweep-aaaa), not of 'other' (id sweep-bbbb); give another --out, or delete the file to start this sweep afresh`,
    );
    const s = await errorOf(openDuckStore(path, { ...META, shard: { index: 1, count: 4 } }));
    expect(s.message).toBe(
      `${path}: shard: the file holds the whole of sweep 'share-by-feedback', not shard 1/4; give each shard its own --out`,
    );
    // The refusal left the file as it was, and open.
    const again = await openDuckStore(path, META);
    // One writer per file in this process too (DuckDB's lock keeps out other processes).
    const twice = await errorOf(openDuckStore(join(dir, '.', 'other.duckdb'), META));
    expect(twice.message).toBe(
      `${join(dir, '.', 'other.duckdb')}: file: is already open for writing in this process; close that store first`,
    );
    await again.close();
    await (await openDuckStore(path, META)).close();
  });

  it('refuses a file that is not a DuckDB database, a damaged one, and one of other tables', async () => {
    const text = join(dir, 'notes.duckdb');
    writeFileSync(text, 'these are not the results you are looking for\n'.repeat(200));
    const e1 = await errorOf(openDuckStore(text, META));
    expect(e1).toBeInstanceOf(IsosimError);
    expect(e1.message).toMatch(
      new RegExp(
        `^${text}: file: is not a DuckDB database, or is damaged \\(.*\\); give a results file written by isosim sweep`,
      ),
    );

    const damaged = join(dir, 'damaged.duckdb');
    const store = await openDuckStore(damaged, META);
    for (let i = 0; i < 4; i++) await store.put(record(i));
    await store.close();
    const fd = openSync(damaged, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x41), 0, 8192, 12288 + 64);
    closeSync(fd);
    const e2 = await errorOf(openDuckStore(damaged, META));
    expect(e2).toBeInstanceOf(IsosimError);
    expect(e2.message).toMatch(/: file: is not a DuckDB database, or is damaged \(.*checksum/);
    const e3 = await errorOf(querySweep(damaged, 'SELECT 1'));
    expect(e3).toBeInstanceOf(IsosimError);

    const empty = join(dir, 'empty.duckdb');
    writeFileSync(empty, '');
    expect((await errorOf(openDuckStore(empty, META))).message).toMatch(/is not a DuckDB database/);

    const other = join(dir, 'other.duckdb');
    const foreign = await openDuckStore(join(dir, 'x.duckdb'), META);
    await foreign.close();
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(other);
    const c = await db.connect();
    await c.run('CREATE TABLE t (x INTEGER)');
    c.closeSync();
    db.closeSync();
    expect((await errorOf(openDuckStore(other, META))).message).toBe(
      `${other}: file: is a DuckDB database but not a sweep's results (it has no runs table); give a results file written by isosim sweep, or another --out`,
    );
    expect((await errorOf(openDuckStore(dir, META))).message).toMatch(/is a directory/);
    expect((await errorOf(openDuckStore(join(dir, 'no', 'such.duckdb'), META))).message).toMatch(
      /cannot open it as a DuckDB database/,
    );
  });
});

/** Runs `code` (TypeScript, through the tsx loader the tests give children) in a new Node process; its stdout. */
async function runChild(code: string): Promise<string> {
  const script = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(script, code);
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise((res) => child.on('exit', res));
  return out;
}
