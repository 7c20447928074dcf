/**
 * Sweeps over a scenario's unstated parameters, one at a time (docs/sweeps.md): the
 * design `isosim paper`'s bands run as. The points, the values the base already has
 * skipped, a variant's run equal to `isosim paper`'s variant scenario, the sweep id of a
 * grid sweep unchanged, bad files, and the records read back from DuckDB.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DIR, loadScenario, parseScenario } from '../packages/scenarios/src/load.ts';
import { runForMetrics } from '../packages/scenarios/src/sweep/execute.ts';
import { expandSweep, parseSweep, scenarioAt, sweepMeta } from '../packages/scenarios/src/sweep/expand.ts';
import { runSweep } from '../packages/scenarios/src/sweep/pool.ts';
import { readRuns } from '../packages/scenarios/src/sweep/query.ts';
import { openResultStore } from '../packages/scenarios/src/sweep/store.ts';
import { makeVariant } from '../packages/scenarios/src/variants.ts';

const FILE = join(tmpdir(), 'design.sweep.json');

const bands = (extra: Record<string, unknown> = {}) => ({
  name: 'bands',
  base: 'table1-sedfdc',
  durationS: 0.3,
  design: 'one-at-a-time',
  params: [{ unstated: 'timeoutS' }, { unstated: 'sedfPeriodMs' }, { unstated: 'spreadDebt' }],
  record: { metrics: ['domains.Dom-1.combinedPct'] },
  ...extra,
});

const fails = (def: unknown, field: string, problem: RegExp) => {
  try {
    parseSweep(def, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(IsosimError);
    const e = err as IsosimError;
    expect(e.where).toBe(FILE);
    expect(e.field).toBe(field);
    expect(e.problem).toMatch(problem);
    return;
  }
  throw new Error(`no error for ${field}`);
};

describe('a one-at-a-time sweep over unstated parameters', () => {
  it("runs the base, then each parameter's plausible values but the base's own", () => {
    const s = loadScenario('table1-sedfdc');
    const { runs } = expandSweep(parseSweep(bands(), FILE));
    const plausible = Object.fromEntries((s.unstated ?? []).map((u) => [u.name, u.values]));
    expect(plausible).toEqual({
      timeoutS: [1, 2, 5, 10],
      sedfPeriodMs: [10, 20, 100],
      spreadDebt: [true, false],
    });
    // The scenario's own: timeouts of 10 s, a 10 ms period, debt spread.
    expect(runs.map((r) => r.params)).toEqual([
      {},
      { 'unstated:timeoutS': 1 },
      { 'unstated:timeoutS': 2 },
      { 'unstated:timeoutS': 5 },
      { 'unstated:sedfPeriodMs': 20 },
      { 'unstated:sedfPeriodMs': 100 },
      { 'unstated:spreadDebt': false },
    ]);
    // 4 + 3 + 2 plausible values, one of each the scenario's own: 6 variants and the base.
    expect(runs).toHaveLength(7);
    expect(runs.map((r) => r.id)).toEqual(runs.map((_, i) => `p000${i}-s0`));
  });

  it("sets a variant as isosim paper's variant file sets it (scale fields too)", () => {
    const loaded = parseSweep(bands(), FILE);
    const raw = JSON.parse(readFileSync(join(BUILTIN_DIR, 'table1-sedfdc.json'), 'utf8'));
    const u = loadScenario('table1-sedfdc').unstated?.find((x) => x.name === 'sedfPeriodMs');
    expect(u?.scale).toEqual(['sliceMs']);
    const variant = makeVariant(raw, u!, 20);
    const at = scenarioAt(loaded, { 'unstated:sedfPeriodMs': 20 }, 1, 'test').scenario;
    const fromFile = parseScenario({ ...variant, durationS: 0.3, window: undefined, seed: 1 }, 'variant');
    expect(at.domains).toEqual(fromFile.domains);
    const a = runForMetrics(at);
    const b = runForMetrics({
      ...fromFile,
      name: at.name,
      description: at.description,
      unstated: at.unstated,
    });
    expect(a.logHash).toBe(b.logHash);
  });

  it('takes given values instead of the plausible ones, and a grid of them', () => {
    const loaded = parseSweep(
      bands({ design: 'grid', params: [{ unstated: 'timeoutS', values: [3, 4] }] }),
      FILE,
    );
    expect(expandSweep(loaded).runs.map((r) => r.params)).toEqual([
      { 'unstated:timeoutS': 3 },
      { 'unstated:timeoutS': 4 },
    ]);
  });

  it('keeps the id of a grid sweep of paths as it was before designs existed', () => {
    // The id of this file, computed by the code before the design and unstated fields.
    const def = {
      name: 'tiny',
      base: 'table1-sedfdc',
      durationS: 0.5,
      params: [{ path: 'mechanisms.debt.feedbackMs', values: [100, 200] }],
      record: { metrics: ['domains.Dom-1.combinedPct'] },
    };
    const grid = expandSweep(parseSweep(def, FILE)).sweepId;
    expect(expandSweep(parseSweep({ ...def, design: 'grid' }, FILE)).sweepId).toBe(grid);
    expect(expandSweep(parseSweep({ ...def, design: 'one-at-a-time' }, FILE)).sweepId).not.toBe(grid);
  });

  it('refuses an unknown unstated parameter, both or neither of path and unstated, and a bad design', () => {
    fails(bands({ params: [{ unstated: 'nope' }] }), 'params[0].unstated', /no unstated parameter "nope"/);
    fails(
      bands({ base: 'table1-sedf', params: [{ unstated: 'timeoutS' }] }),
      'params[0].unstated',
      /no unstated parameter/,
    );
    fails(
      bands({ params: [{ unstated: 'timeoutS', path: 'durationS', values: [1] }] }),
      'params[0]',
      /both path and unstated/,
    );
    fails(bands({ params: [{ values: [1] }] }), 'params[0]', /neither path nor unstated/);
    fails(
      bands({ params: [{ unstated: 'timeoutS' }, { unstated: 'timeoutS' }] }),
      'params[1].unstated',
      /also/,
    );
    fails(
      bands({ params: [{ unstated: 'timeoutS', values: ['x'] }] }),
      'params[0].unstated (value "x", #0)',
      /not a number/,
    );
    fails(bands({ design: 'latin' }), 'design', /grid|one-at-a-time/);
  });

  it('records the runs in DuckDB and reads them back in order, the unset parameters left out', async () => {
    const loaded = parseSweep(bands({ params: [{ unstated: 'sedfPeriodMs' }] }), FILE);
    const expansion = expandSweep(loaded);
    const file = join(mkdtempSync(join(tmpdir(), 'isosim-design-')), 'bands.duckdb');
    const store = await openResultStore(file, sweepMeta(loaded, expansion));
    await runSweep(loaded, expansion, store, { jobs: 1 });
    await store.close();
    const back = await readRuns(file);
    expect(back.map((r) => r.id)).toEqual(expansion.runs.map((r) => r.id));
    expect(back.map((r) => r.params)).toEqual(expansion.runs.map((r) => r.params));
    const own = runForMetrics(scenarioAt(loaded, {}, 1, 'test').scenario);
    expect(back[0].metrics['domains.Dom-1.combinedPct']).toBe(own.domains['Dom-1'].combinedPct);
    expect(back[0].logHash).toBe(own.logHash);
    expect(back.every((r) => r.error === undefined && r.seed === 1)).toBe(true);
  });
});
