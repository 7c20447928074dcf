import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckStore } from './duckStore.ts';
import { mergeShards } from './merge.ts';
import { querySweep } from './query.ts';
import { shardRuns } from './shard.ts';
import type { ParamValue, RunRecord, SweepMeta } from './types.ts';

const TOTAL = 10;
const META: SweepMeta = {
  sweepId: 'sweep-aaaa',
  name: 'share-by-feedback',
  params: ['host.idd.share', 'mode'],
  metrics: ['domains.Dom1.cpuPct', 'goodput'],
  checks: ['conservation'],
  totalRuns: TOTAL,
};

/** Run i: point i >> 1, seed i & 1; `mode` is a number on some points and text on others (a mixed column). */
function record(i: number): RunRecord {
  const mode: ParamValue = i >> 1 === 3 ? 'fast' : i >> 1;
  return {
    id: `p${String(i >> 1).padStart(4, '0')}-s${i & 1}`,
    index: i,
    params: { 'host.idd.share': 0.1 * ((i >> 1) + 1), mode },
    seed: i & 1,
    metrics: { 'domains.Dom1.cpuPct': 10 + i / 3, goodput: i === 3 ? null : 0.5 * i },
    checks: { conservation: i !== 2 },
    wallS: 0.25,
    logHash: `hash${i}`,
    ...(i === 5 ? { error: { message: 'boom', scenario: '{"a":1}', seed: 1 } } : {}),
  };
}
const RECORDS = Array.from({ length: TOTAL }, (_, i) => record(i));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isosim-merge-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<IsosimError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(IsosimError);
    return err as IsosimError;
  }
  throw new Error('expected a rejection');
}

/** Writes shard `index` of `count` of `meta`'s sweep as an array task would; its path. */
async function writeShard(
  index: number,
  count: number,
  meta: SweepMeta = META,
  records = RECORDS,
): Promise<string> {
  const path = join(dir, `shard-${index}-of-${count}-${meta.sweepId}.duckdb`);
  const store = await openDuckStore(path, { ...meta, shard: { index, count } });
  for (const r of shardRuns(records, { index, count })) await store.put(r);
  await store.close();
  return path;
}

/** The whole sweep written by one process, as a local `isosim sweep` would. */
async function writeWhole(records = RECORDS): Promise<string> {
  const path = join(dir, 'whole.duckdb');
  const store = await openDuckStore(path, META);
  for (const r of records) await store.put(r);
  await store.close();
  return path;
}

const ROWS = 'SELECT * FROM runs ORDER BY id';
const META_SQL =
  'SELECT sweep_id, name, params, metrics, checks, total_runs, shard_index, shard_count, columns FROM sweep_meta';
const TYPES_SQL =
  "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'runs' ORDER BY ordinal_position";

describe('mergeShards', () => {
  it('gives the table one process writes: meta without a shard, the same rows and column types', async () => {
    const files = [];
    for (const i of [2, 0, 3, 1]) files.push(await writeShard(i, 4));
    const out = join(dir, 'merged', 'share-by-feedback.duckdb');
    const r = await mergeShards(out, files);
    expect(r).toEqual({
      out,
      sweepId: 'sweep-aaaa',
      name: 'share-by-feedback',
      count: 4,
      rows: TOTAL,
      failed: 1,
      shards: 4,
      merged: [0, 1, 2, 3],
      missing: [],
    });
    const whole = await writeWhole();
    for (const sql of [ROWS, META_SQL, TYPES_SQL]) {
      expect(await querySweep(out, sql), sql).toEqual(await querySweep(whole, sql));
    }
    const types = await querySweep(out, TYPES_SQL);
    expect(types.rows).toContainEqual(['mode', 'VARCHAR']);
    expect(types.rows).toContainEqual(['host_idd_share', 'DOUBLE']);
    expect((await querySweep(out, META_SQL)).rows[0].slice(6, 8)).toEqual([null, null]);
    expect((await querySweep(out, 'SELECT * FROM merged_shards ORDER BY shard_index')).rows).toEqual([
      [0, 4, 3],
      [1, 4, 3],
      [2, 4, 2],
      [3, 4, 2],
    ]);
    // The merged file is a results file of the whole sweep: a resumed local run can open it.
    const store = await openDuckStore(out, META);
    expect((await store.completedIds()).size).toBe(TOTAL - 1);
    await store.close();
    // No temporary file or log is left behind.
    expect(readdirSync(join(dir, 'merged'))).toEqual(['share-by-feedback.duckdb']);
  });

  it('is idempotent: merging again, or a shard already merged, leaves the rows as they were', async () => {
    const files = [];
    for (let i = 0; i < 3; i++) files.push(await writeShard(i, 3));
    const out = join(dir, 'merged.duckdb');
    await mergeShards(out, files);
    const once = await querySweep(out, ROWS);
    const again = await mergeShards(out, files);
    expect(again.rows).toBe(TOTAL);
    expect(await querySweep(out, ROWS)).toEqual(once);
    await mergeShards(out, [files[1]]);
    expect(await querySweep(out, ROWS)).toEqual(once);
    expect(await querySweep(out, 'SELECT count(*) FROM merged_shards')).toEqual({
      columns: ['count_star()'],
      rows: [[3]],
    });
  });

  it('merges what has finished, reporting the missing shards, and adds the rest later', async () => {
    const files = [];
    for (let i = 0; i < 4; i++) files.push(await writeShard(i, 4));
    const out = join(dir, 'merged.duckdb');
    const part = await mergeShards(out, [files[3], files[1]]);
    expect(part).toMatchObject({ rows: 5, shards: 2, merged: [1, 3], missing: [0, 2] });
    const rest = await mergeShards(out, [files[0], files[2]]);
    expect(rest).toMatchObject({ rows: TOTAL, shards: 4, merged: [0, 1, 2, 3], missing: [] });
    expect(await querySweep(out, ROWS)).toEqual(await querySweep(await writeWhole(), ROWS));
  });

  it('takes a shard resumed since its last merge: its rows replace the merged ones', async () => {
    const out = join(dir, 'merged.duckdb');
    const s1 = await writeShard(1, 2);
    await mergeShards(out, [await writeShard(0, 2), s1]);
    // Run 5 (shard 1) failed; the shard is resumed and the run succeeds.
    const store = await openDuckStore(s1, { ...META, shard: { index: 1, count: 2 } });
    const { error: _, ...fixed } = record(5);
    await store.put({ ...fixed, logHash: 'hash5-again' });
    await store.close();
    expect(await mergeShards(out, [s1])).toMatchObject({ rows: TOTAL, failed: 0, missing: [] });
    expect(
      (await querySweep(out, 'SELECT log_hash, error_message FROM runs WHERE run_index = 5')).rows,
    ).toEqual([['hash5-again', null]]);
  });

  it('types a parameter column by the values across shards: numbers in one, text in another gives text', async () => {
    // With 5 shards, shard 1 has runs 1 and 6 (mode 0 and 3 → 'fast'), shard 0 runs 0 and 5 (numbers only).
    const files = [];
    for (let i = 0; i < 5; i++) files.push(await writeShard(i, 5));
    const out = join(dir, 'merged.duckdb');
    await mergeShards(out, files);
    expect(await querySweep(out, ROWS)).toEqual(await querySweep(await writeWhole(), ROWS));
    expect(
      (await querySweep(out, 'SELECT mode FROM runs WHERE run_index IN (0, 6) ORDER BY 1')).rows,
    ).toEqual([['0'], ['fast']]);
  });

  it('refuses shards of another sweep, naming the file and the fix', async () => {
    const a = await writeShard(0, 2);
    const b = await writeShard(1, 2, { ...META, sweepId: 'sweep-bbbb', name: 'other' });
    const out = join(dir, 'merged.duckdb');
    const e = await errorOf(mergeShards(out, [a, b]));
    expect(e.message).toBe(
      `${b}: sweep: holds a shard of sweep 'other' (id sweep-bbbb), but ${a} one of 'share-by-feedback' (id sweep-aaaa); merge the shards of one sweep at a time (the shards of a changed sweep file are another sweep: re-run them)`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses two files claiming the same shard, and one file given twice', async () => {
    const a = await writeShard(1, 4);
    const b = await writeShard(1, 4, { ...META }, RECORDS);
    const copy = join(dir, 'copy.duckdb');
    const store = await openDuckStore(copy, { ...META, shard: { index: 1, count: 4 } });
    await store.close();
    const out = join(dir, 'merged.duckdb');
    expect((await errorOf(mergeShards(out, [a, copy]))).message).toBe(
      `${copy}: shard: claims shard 1/4, as ${a} does; give one file per shard; check which of the two is the real one`,
    );
    expect((await errorOf(mergeShards(out, [a, b]))).message).toMatch(
      /is given twice \(shard 1\/4\); give each shard file once/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses shards of different counts', async () => {
    const a = await writeShard(0, 2);
    const b = await writeShard(1, 3);
    const e = await errorOf(mergeShards(join(dir, 'm.duckdb'), [a, b]));
    expect(e.message).toBe(
      `${b}: shard: is shard 1/3, but ${a} is one of 2 shards; merge the shards of one --shard i/n split: every file with the same n`,
    );
  });

  it('refuses a file that is not a shard of a sweep: missing, not DuckDB, no tables, a whole sweep', async () => {
    const a = await writeShard(0, 2);
    const out = join(dir, 'm.duckdb');
    const missing = join(dir, 'nope.duckdb');
    expect((await errorOf(mergeShards(out, [a, missing]))).message).toMatch(
      new RegExp(`^${missing}: file: does not exist; give the files the shards wrote`),
    );
    const text = join(dir, 'text.duckdb');
    writeFileSync(
      text,
      'not a database at all, just some text that is long enough to have a header\n'.repeat(100),
    );
    expect((await errorOf(mergeShards(out, [a, text]))).message).toMatch(
      new RegExp(`^${text}: file: is not a DuckDB database`),
    );
    const whole = await writeWhole();
    expect((await errorOf(mergeShards(out, [whole]))).message).toMatch(
      /whole\.duckdb: shard: holds the whole of sweep 'share-by-feedback', not a shard of it; give the files the shards wrote/,
    );
    expect((await errorOf(mergeShards(out, []))).message).toMatch(/^sweep merge: shard files: none given/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an out that holds another sweep, a shard, or a merge of another count, leaving it as it was', async () => {
    const a = await writeShard(0, 2);
    const other = join(dir, 'other.duckdb');
    const s = await openDuckStore(other, { ...META, sweepId: 'sweep-cccc', name: 'other' });
    await s.close();
    const before = statSync(other).size;
    expect((await errorOf(mergeShards(other, [a]))).message).toBe(
      `${other}: sweep: holds the results of sweep 'other' (id sweep-cccc), not of 'share-by-feedback' (id sweep-aaaa); give another path for the merged file, or delete it`,
    );
    expect(statSync(other).size).toBe(before);
    const b = await writeShard(1, 2);
    expect((await errorOf(mergeShards(b, [a]))).message).toMatch(/shard: holds shard 1\/2 of sweep/);
    expect((await errorOf(mergeShards(a, [a]))).message).toMatch(/out: is one of the shard files/);
    const out = join(dir, 'm.duckdb');
    await mergeShards(out, [a, b]);
    const c = await writeShard(0, 3);
    expect((await errorOf(mergeShards(out, [c]))).message).toMatch(
      /shard: holds a merge of 2 shards, not of 3/,
    );
  });

  it('refuses a shard holding runs of another shard', async () => {
    const path = join(dir, 'bad.duckdb');
    const store = await openDuckStore(path, { ...META, shard: { index: 0, count: 2 } });
    await store.put(RECORDS[0]);
    await store.put(RECORDS[3]);
    await store.close();
    const out = join(dir, 'm.duckdb');
    expect((await errorOf(mergeShards(out, [path]))).message).toMatch(
      /runs: shard 0\/2 holds 1 run\(s\) of other shards \(e\.g\. p0001-s1\): run k belongs to shard k mod 2/,
    );
    expect(readdirSync(dir).sort()).toEqual(['bad.duckdb']);
  });
});
