/**
 * `isosim charging` (docs/charging.md) from the CLI: every policy on one adversarial
 * built-in, its table, results and plot written, run as a sweep on two workers into a
 * DuckDB file; a re-run resumes from it, `isosim query` and `isosim sweep` read it; bad
 * options are clear errors.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChargingResult } from '../packages/scenarios/src/charging.ts';
import { isosim } from './isosim.ts';

describe('isosim charging', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isosim-charging-'));

  it('runs the eight policies on a scenario and scores each against the ground truth', () => {
    const out = join(dir, 'lab');
    const r = isosim('charging', 'charging-block-sizes', '--duration', '3', '--jobs', '2', '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toContain('7 runs: 0 stored before, 7 run now on 2 workers');
    expect(r.out).toContain('Made by `isosim charging charging-block-sizes --duration 3`');
    const results = JSON.parse(readFileSync(join(out, 'charging.json'), 'utf8')) as ChargingResult[];
    expect(results.map((x) => x.policy)).toEqual(['1A', '1B', '1C', '1D', '1E', '2A', '2B', '2C']);
    const by = Object.fromEntries(results.map((x) => [x.policy, x]));
    // 1A cannot run: Dom-blk serves both guests.
    expect(by['1A'].skipped).toContain('"Dom-blk" serves "Dom-1", "Dom-2"');
    // The exact policies are exact; their costs are paid.
    for (const p of ['1B', '1C', '1D', '1E']) {
      expect(by[p].error1s).toEqual({ mean: 0, max: 0 });
      expect(by[p].errorT.max).toBe(0);
    }
    expect(by['1B'].overheadPct).toBeGreaterThan(by['1D'].overheadPct);
    expect(by['1E'].overheadPct).toBeGreaterThan(0);
    // 2B counts a 512 B request like a 44 KiB one: far more wrong than XenMon's weights.
    expect(by['2B'].errorT.max).toBeGreaterThan(1);
    expect(by['2B'].errorT.max).toBeGreaterThan(3 * by['2C'].errorT.max);
    for (const p of ['2A', '2B', '2C']) expect(by[p].overheadPct).toBe(0);
    expect(readFileSync(join(out, 'charging.md'), 'utf8')).toContain('| 2B split by request counts | no |');
    expect(readFileSync(join(out, 'plots', 'charging-block-sizes.svg'), 'utf8')).toMatch(/^<svg/);
    for (const x of results.slice(1)) expect(x.logHash).toMatch(/^[0-9a-f]{16}$/);

    // Again: every run is read back from DIR/charging-block-sizes.duckdb, none is run.
    const again = isosim('charging', 'charging-block-sizes', '--duration', '3', '--out', out, '--json');
    expect(again.code).toBe(0);
    expect(again.err).toContain('7 runs: 7 stored before, nothing left to run');
    expect(JSON.parse(again.out)).toEqual(results);
    const db = join(out, 'charging-block-sizes.duckdb');
    const q = isosim(
      'query',
      db,
      "SELECT mechanisms_charging, charging_error_t_max FROM runs WHERE mechanisms_charging = '2B'",
    );
    expect(q.code).toBe(0);
    expect(q.out).toContain(String(by['2B'].errorT.max));
    // The sweep file is one isosim sweep runs: into the same DIR, nothing is left to run.
    const sw = isosim('sweep', join(out, 'charging-block-sizes.sweep.json'), '--out', out);
    expect(sw.code).toBe(0);
    expect(sw.out).toContain('7 runs; 7 recorded before, nothing left to run');
  });

  it('refuses a bad --jobs, and a scenario given twice, before writing anything', () => {
    const out = join(dir, 'bad');
    for (const jobs of ['0', 'two']) {
      const r = isosim('charging', 'gen:1', '--jobs', jobs, '--out', out);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--jobs: '${jobs}' is not allowed`);
      expect(r.err).toContain('give a whole number from 1 to 1024');
    }
    const twice = isosim('charging', 'gen:1', 'gen:1', '--out', out);
    expect(twice.code).toBe(2);
    expect(twice.err).toContain('gen-1 is given twice');
    expect(twice.err).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a scenario that does not exist before writing anything', () => {
    const out = join(dir, 'none');
    const r = isosim('charging', 'no-such-scenario', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no-such-scenario');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });
});
