/**
 * Sharding a sweep for a cluster (docs/scale-out.md), through the CLI: the four shards
 * of `--shard i/4`, merged with `isosim sweep merge`, hold exactly the runs of a local
 * `isosim sweep` of the same file, row for row (parameters, seed, every metric, log
 * hash); merging again changes nothing; a shard spec like `5/4` and a merge of shards of
 * another sweep get clear errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { querySweep } from '../packages/scenarios/src/sweep/query.ts';
import { isosim } from './isosim.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-sweep-shard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const def = (name: string) => ({
  name,
  base: 'table1-sedfdc',
  durationS: 0.5,
  params: [{ path: 'domains[name=Dom-1].vcpus[0].sedf.sliceMs', values: [1, 1.5, 2] }],
  seeds: 2,
  record: { metrics: ['domains.Dom-1.combinedPct', 'domains.Dom-1.cpuPct'] },
});

function file(name: string): string {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(def(name)));
  return p;
}

/** Every run of a results file, ordered by id, without the wall time (not repeatable). */
async function rows(path: string): Promise<readonly unknown[]> {
  const r = await querySweep(path, 'SELECT * EXCLUDE (wall_s) FROM runs ORDER BY id');
  return r.rows;
}

describe('isosim sweep --shard and merge', () => {
  const f = file('sharded');
  const shards = join(dir, 'shards');

  it('four shards, merged, equal a local run of the same file row for row', async () => {
    const listed = [0, 1, 2, 3].map((i) => isosim('sweep', f, '--shard', `${i}/4`, '--list'));
    // 6 runs over 4 shards: run k in shard k mod 4.
    expect(listed.map((r) => r.out.split('\n').filter((l) => /^p\d{4}-s\d/.test(l)).length)).toEqual([
      2, 2, 1, 1,
    ]);
    for (const i of [0, 1, 2, 3]) {
      const r = isosim('sweep', f, '--shard', `${i}/4`, '--jobs', '1', '--out', shards);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`(shard ${i} of 4)`);
    }
    const merged = join(dir, 'merged.duckdb');
    const parts = [0, 1, 2, 3].map((i) => join(shards, `sharded.shard-${i}-of-4.duckdb`));
    const m = isosim('sweep', 'merge', merged, ...parts.slice(0, 2));
    expect(m.code, m.err).toBe(0);
    expect(m.out).toContain('merged 2 of 4 shards');
    expect(m.out).toContain('shards still missing: 2, 3');
    const all = isosim('sweep', 'merge', merged, ...parts);
    expect(all.code, all.err).toBe(0);
    expect(all.out).toContain('merged 4 of 4 shards of sweep sharded');
    expect(all.out).toContain(': 6 runs, 0 failed');
    const local = isosim('sweep', f, '--jobs', '2', '--out', join(dir, 'local'));
    expect(local.code, local.err).toBe(0);
    const want = await rows(join(dir, 'local', 'sharded.duckdb'));
    expect(want).toHaveLength(6);
    expect(await rows(merged)).toEqual(want);
    // Idempotent: merging the same shards again leaves the same rows.
    expect(isosim('sweep', 'merge', merged, ...parts).code).toBe(0);
    expect(await rows(merged)).toEqual(want);
  });

  it('a shard spec out of range and shards of another sweep are clear errors', () => {
    const emitted = isosim(
      'sweep',
      f,
      '--emit',
      'slurm',
      '--shards',
      '2',
      '--merge-after',
      'afterany',
      '--out',
      join(dir, 'emit'),
    );
    expect(emitted.code, emitted.err).toBe(0);
    expect(readFileSync(join(dir, 'emit', 'submit.sh'), 'utf8')).toContain(
      '--dependency=afterany:"$ARRAY_JOB_ID"',
    );
    const when = isosim('sweep', f, '--emit', 'slurm', '--shards', '2', '--merge-after', 'sometimes');
    expect(when.code).toBe(2);
    expect(when.err).toContain("--merge-after: 'sometimes' is not allowed");
    const bad = isosim('sweep', f, '--shard', '5/4');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--shard');
    expect(bad.err).not.toMatch(/\n\s+at /);
    const other = file('other');
    const o = isosim('sweep', other, '--shard', '1/4', '--jobs', '1', '--out', shards);
    expect(o.code, o.err).toBe(0);
    const mix = isosim(
      'sweep',
      'merge',
      join(dir, 'mixed.duckdb'),
      join(shards, 'sharded.shard-0-of-4.duckdb'),
      join(shards, 'other.shard-1-of-4.duckdb'),
    );
    expect(mix.code).toBe(2);
    expect(mix.err).toMatch(/sweep/);
    expect(mix.err).not.toMatch(/\n\s+at /);
  });
});
