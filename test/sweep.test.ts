/**
 * Sweeps (issue 19, parts 1 and 2; docs/sweeps.md): expansion into runs with stable ids
 * and order, exact ranges, seeded draws, paths and their errors, and the worker pool
 * (the same records on 1 or 2 workers, resuming, failures recorded).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { runScenario } from '../packages/scenarios/src/runScenario.ts';
import { executeRun, runForMetrics } from '../packages/scenarios/src/sweep/execute.ts';
import {
  expandSweep,
  type LoadedSweep,
  loadSweep,
  randomValues,
  rangeValues,
} from '../packages/scenarios/src/sweep/expand.ts';
import { getPath, parsePath, setPath } from '../packages/scenarios/src/sweep/paths.ts';
import { runSweep } from '../packages/scenarios/src/sweep/pool.ts';
import type { ResultStore, RunRecord, SweepMeta } from '../packages/scenarios/src/sweep/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-sweep-'));
let files = 0;

/** Writes a sweep file and returns its path. */
function sweepFile(def: Record<string, unknown>): string {
  const path = join(dir, `sweep-${files++}.json`);
  writeFileSync(path, JSON.stringify(def));
  return path;
}

const SLICE = 'domains[name=Dom-1].vcpus[0].sedf.sliceMs';
const FEEDBACK = 'mechanisms.debt.feedbackMs';

/** A tiny sweep of Table 1 (SEDF-DC): 2 × 2 points × 2 seeds of 0.5 s. */
const tiny = (extra: Record<string, unknown> = {}) => ({
  name: 'tiny',
  base: 'table1-sedfdc',
  durationS: 0.5,
  params: [
    { path: SLICE, values: [1, 2] },
    { path: FEEDBACK, range: { from: 100, to: 200, step: 100 } },
  ],
  seeds: 2,
  record: { metrics: ['domains.Dom-1.combinedPct', 'domains.Dom-0.cpuPct'], checks: ['combined'] },
  ...extra,
});

/** A store in memory, for the runner's tests (the CLI's is DuckDB). */
class MemoryStore implements ResultStore {
  readonly records = new Map<string, RunRecord>();
  constructor(
    readonly meta: SweepMeta,
    held: RunRecord[] = [],
  ) {
    for (const r of held) this.records.set(r.id, r);
  }
  async completedIds(): Promise<Set<string>> {
    return new Set(this.records.keys());
  }
  async put(r: RunRecord): Promise<void> {
    if (this.records.has(r.id)) throw new Error(`${r.id} stored twice`);
    this.records.set(r.id, r);
  }
  async close(): Promise<void> {}
}

const metaOf = (sweepId: string): SweepMeta => ({
  sweepId,
  name: 'tiny',
  params: [SLICE, FEEDBACK],
  metrics: [],
  checks: [],
  totalRuns: 8,
});

/** A record without its wall time (the one thing that differs between runs). */
const same = (r: RunRecord) => ({ ...r, wallS: 0 });

function errorOf(f: () => unknown): IsosimError {
  try {
    f();
  } catch (err) {
    if (err instanceof IsosimError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('expanding a sweep (docs/sweeps.md, "Expansion")', () => {
  it('gives the same runs in the same order for the same file: points nested in file order, seeds innermost', () => {
    const file = sweepFile(tiny());
    const a = expandSweep(file);
    const b = expandSweep(loadSweep(file));
    expect(b).toEqual(a);
    expect(a.sweepId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.runs.map((r) => r.id)).toEqual([
      'p0000-s0',
      'p0000-s1',
      'p0001-s0',
      'p0001-s1',
      'p0002-s0',
      'p0002-s1',
      'p0003-s0',
      'p0003-s1',
    ]);
    expect(a.runs.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.runs.map((r) => [r.params[SLICE], r.params[FEEDBACK], r.seed])).toEqual([
      [1, 100, 1],
      [1, 100, 2],
      [1, 200, 1],
      [1, 200, 2],
      [2, 100, 1],
      [2, 100, 2],
      [2, 200, 1],
      [2, 200, 2],
    ]);
  });

  it('gives another sweep id when anything that decides the results changes', () => {
    const id = expandSweep(sweepFile(tiny())).sweepId;
    const changed = [
      tiny({ name: 'tiny2' }),
      tiny({ durationS: 0.6 }),
      tiny({ seeds: 3 }),
      tiny({ seed: 7 }),
      tiny({ base: 'table1-sedf', params: [{ path: SLICE, values: [1, 2] }] }),
      tiny({ params: [{ path: SLICE, values: [1, 2.1] }, tiny().params[1]] }),
      tiny({ record: { metrics: ['domains.Dom-1.combinedPct'] } }),
    ];
    const ids = changed.map((d) => expandSweep(sweepFile(d)).sweepId);
    expect(new Set([id, ...ids]).size).toBe(changed.length + 1);
    // A description is not part of it.
    expect(expandSweep(sweepFile(tiny({ description: 'the same sweep' }))).sweepId).toBe(id);
  });

  it('takes the seeds from the base scenario unless given, and pads ids to the number of points', () => {
    const s = loadSweep(sweepFile(tiny({ seeds: 3, seed: 40 })));
    expect(s.seeds).toEqual([40, 41, 42]);
    const big = expandSweep(
      sweepFile(
        tiny({ params: [{ path: FEEDBACK, range: { from: 1, to: 10_000, step: 1 } }], seeds: undefined }),
      ),
    );
    expect(big.runs).toHaveLength(10_000);
    expect(big.runs[0].id).toBe('p0000-s0');
    expect(big.runs[9999]).toMatchObject({ id: 'p9999-s0', seed: 1 });
  });

  it('computes ranges exactly: from + k × step, never accumulated', () => {
    expect(rangeValues({ from: 0.1, to: 0.5, step: 0.1 })).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(rangeValues({ from: 0, to: 1, step: 0.1 })).toEqual([
      0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
    ]);
    expect(rangeValues({ from: 100, to: 1000, step: 100 })).toHaveLength(10);
    expect(rangeValues({ from: 1, to: 2, step: 0.3 })).toEqual([1, 1.3, 1.6, 1.9]);
    expect(rangeValues({ from: 5, to: 5, step: 1 })).toEqual([5]);
  });

  it("draws random values from the sweep's seed: repeatable, per path, within bounds", () => {
    const r = { min: 0.5, max: 2, count: 50 };
    const a = randomValues(1, FEEDBACK, r);
    expect(randomValues(1, FEEDBACK, r)).toEqual(a);
    expect(randomValues(2, FEEDBACK, r)).not.toEqual(a);
    expect(randomValues(1, SLICE, r)).not.toEqual(a);
    expect(a.every((v) => v >= 0.5 && v < 2)).toBe(true);
    const ints = randomValues(1, FEEDBACK, { min: 100, max: 104, count: 200, int: true });
    expect(new Set(ints)).toEqual(new Set([100, 101, 102, 103, 104]));
    // Through a file: another parameter beside it does not move its draws.
    const draws = { path: FEEDBACK, random: { min: 100, max: 1000, count: 3, int: true } };
    const alone = loadSweep(sweepFile(tiny({ params: [draws] }))).params[0].values;
    const beside = loadSweep(sweepFile(tiny({ params: [{ path: SLICE, values: [1, 2] }, draws] }))).params[1]
      .values;
    expect(beside).toEqual(alone);
    expect(alone).toEqual(randomValues(1, FEEDBACK, draws.random));
  });
});

describe('paths (docs/sweeps.md, "Paths")', () => {
  const doc = {
    domains: [
      { name: 'Dom-0', vcpus: [{ sedf: { sliceMs: 2 } }] },
      { name: 'Dom-1', vcpus: [{ sedf: { sliceMs: 3 } }, { sedf: { sliceMs: 4 } }] },
    ],
    'odd.key': { x: 1 },
  };

  it('parses keys, indices, [field=value], wildcards and quoted keys', () => {
    expect(parsePath('domains[name=Dom-1].vcpus[1].sedf.sliceMs')).toEqual([
      { kind: 'key', key: 'domains' },
      { kind: 'match', field: 'name', value: 'Dom-1' },
      { kind: 'key', key: 'vcpus' },
      { kind: 'index', index: 1 },
      { kind: 'key', key: 'sedf' },
      { kind: 'key', key: 'sliceMs' },
    ]);
    expect(parsePath('["odd.key"].x')).toEqual([
      { kind: 'key', key: 'odd.key' },
      { kind: 'key', key: 'x' },
    ]);
    expect(parsePath('domains[name="a ]b"]')[1]).toEqual({ kind: 'match', field: 'name', value: 'a ]b' });
    expect(parsePath('domains.*.name')[1]).toEqual({ kind: 'all' });
  });

  it('gets and sets what the path reaches, without touching the original', () => {
    expect(getPath(doc, 'domains[name=Dom-1].vcpus[1].sedf.sliceMs')).toEqual([4]);
    expect(getPath(doc, 'domains[*].vcpus[0].sedf.sliceMs')).toEqual([2, 3]);
    expect(getPath(doc, '["odd.key"].x')).toEqual([1]);
    const set = setPath(doc, 'domains[*].vcpus[*].sedf.sliceMs', 1);
    expect(getPath(set, 'domains[*].vcpus[*].sedf.sliceMs')).toEqual([1, 1, 1]);
    expect(doc.domains[1].vcpus[1].sedf.sliceMs).toBe(4);
  });

  it.each([
    ['domains[name=Dom-9].name', 'domains has no element(s) with name "Dom-9"', 'give one of: Dom-0, Dom-1'],
    ['domains[5].name', 'domains has 2 element(s), no [5]', 'give an index from 0 to 1'],
    ['domains.name', 'domains is a list, not an object with "name"', 'pick an element first'],
    ['domains[0].cpus.pcpu', 'domains[0] has no field "cpus"', 'it has name, vcpus'],
    ['domains[0]name', 'a bad', ''],
    ['domains[x]', '[x] is not an index, [field=value] or [*]', 'write keys joined by dots'],
    ['domains..name', 'an empty key at character 8', 'write keys joined by dots'],
    ['domains[0', 'an unclosed [ at character 8', 'write keys joined by dots'],
  ])('says what is wrong with %s', (path, problem, fix) => {
    if (problem === 'a bad') {
      // A key straight after ] is read as a key: the same as domains[0].name.
      expect(getPath(doc, path)).toEqual(['Dom-0']);
      return;
    }
    let message = '';
    try {
      setPath(doc, path, 1);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(problem);
    expect(message).toContain(fix);
  });
});

describe('bad sweep files (each error names the file, the field and the fix)', () => {
  const cases: [string, Record<string, unknown>, string, RegExp, RegExp][] = [
    [
      'a path to no field',
      tiny({ params: [{ path: 'mechanisms.debts.feedbackMs', values: [100] }] }),
      'params[0].values[0]',
      /mechanisms has no field "debts"/,
      /it has debt/,
    ],
    [
      'a field the scenario does not have',
      tiny({ params: [{ path: 'mechanisms.debt.feedbakMs', values: [100] }] }),
      'params[0].values[0]',
      /gives a bad scenario: mechanisms.debt: .*feedbakMs/,
      /./,
    ],
    [
      'a value the scenario rejects',
      tiny({ params: [{ path: SLICE, values: [1, 20] }] }),
      'params[0].values[1]',
      /sliceMs = 20 gives a bad scenario: domains\[1\]\.vcpus\[0\]\.sedf\.sliceMs: 20 ms is longer than periodMs 10/,
      /give a slice of at most its period/,
    ],
    [
      'an empty values list',
      tiny({ params: [{ path: SLICE, values: [] }] }),
      'params[0].values',
      /./,
      /docs\/sweeps.md/,
    ],
    [
      'a range with step 0',
      tiny({ params: [{ path: FEEDBACK, range: { from: 100, to: 200, step: 0 } }] }),
      'params[0].range.step',
      /0 is not above 0/,
      /give a step above 0/,
    ],
    [
      'a range from > to',
      tiny({ params: [{ path: FEEDBACK, range: { from: 300, to: 200, step: 100 } }] }),
      'params[0].range',
      /from 300 is after to 200/,
      /give from <= to/,
    ],
    [
      'no values at all',
      tiny({ params: [{ path: FEEDBACK }] }),
      'params[0]',
      /has no values/,
      /give exactly one of values/,
    ],
    [
      'the seed as a parameter',
      tiny({ params: [{ path: 'seed', values: [1, 2] }] }),
      'params[0].path',
      /sweeps the scenario seed, which every run sets/,
      /give seeds \(how many\) and seed \(the first\)/,
    ],
    [
      'the same path twice',
      tiny({ params: [tiny().params[0], tiny().params[0]] }),
      'params[1].path',
      /is also params\[0\]'s/,
      /sweep each path once/,
    ],
    [
      'a metric outside metrics.json',
      tiny({ record: { metrics: ['domain.Dom-1.cpuPct'] } }),
      'record.metrics[0]',
      /"domain.Dom-1.cpuPct" is not in metrics.json/,
      /start it with one of seed, durationS, events/,
    ],
    [
      'a metric of a domain the base does not have',
      tiny({ record: { metrics: ['domains.Dom-7.cpuPct'] } }),
      'record.metrics[0]',
      /the base scenario has no domain "Dom-7"/,
      /give one of Dom-0, Dom-1, Dom-2, Dom-3/,
    ],
    [
      'a check that does not apply',
      tiny({ record: { checks: ['shareguard'] } }),
      'record.checks[0]',
      /"shareguard" does not apply: the scenario has no mechanisms.shareGuard/,
      /remove it/,
    ],
    [
      'an unknown check',
      tiny({ record: { checks: ['fairness'] } }),
      'record.checks[0]',
      /./,
      /give reservations/,
    ],
    [
      'an unknown field',
      tiny({ seed_: 3 }),
      '(top level)',
      /unknown field "seed_"/,
      /remove it: a sweep has/,
    ],
    [
      'a base that is not there',
      tiny({ base: 'nope.json' }),
      'base',
      /cannot read "nope.json" \(ENOENT\)/,
      /give a built-in name/,
    ],
  ];
  it.each(cases)('%s', (_what, def, field, problem, fix) => {
    const file = sweepFile(def);
    const err = errorOf(() => loadSweep(file));
    expect(err.where).toBe(file);
    expect(err.field).toBe(field);
    expect(err.problem).toMatch(problem);
    expect(err.fix).toMatch(fix);
  });
});

describe('combinations', () => {
  it('checks every point before running: a combination can fail where each value alone passes', async () => {
    // A base (relative to the sweep file) with 10% of the pCPU unreserved.
    const base = loadScenario('table1-sedfdc') as unknown as {
      domains: { vcpus: { sedf: { sliceMs: number } }[] }[];
    };
    base.domains[3].vcpus[0].sedf.sliceMs = 2.4;
    writeFileSync(join(dir, 'slack.json'), JSON.stringify({ ...base, name: 'slack' }));
    const file = sweepFile(
      tiny({
        base: 'slack.json',
        params: [
          { path: SLICE, values: [2.2, 3] },
          { path: 'domains[name=Dom-2].vcpus[0].sedf.sliceMs', values: [2.2, 3] },
        ],
        record: {},
      }),
    );
    const sweep = loadSweep(file);
    const expansion = expandSweep(sweep);
    const store = new MemoryStore(metaOf(expansion.sweepId));
    const err = await runSweep(sweep, expansion, store, { jobs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IsosimError);
    expect((err as IsosimError).where).toBe(file);
    expect((err as IsosimError).field).toBe('params (run p0003-s0)');
    expect((err as IsosimError).problem).toMatch(
      /^domains\[name=Dom-1\]\.vcpus\[0\]\.sedf\.sliceMs = 3, domains\[name=Dom-2\]\.vcpus\[0\]\.sedf\.sliceMs = 3 gives a bad scenario: .*add up to 106%/,
    );
    expect(store.records.size).toBe(0);
    // The points that are valid run.
    const s = await runSweep(sweep, expansion, store, { jobs: 1, runs: expansion.runs.slice(0, 6) });
    expect(s).toMatchObject({ ran: 6, failed: 0 });
  });
});

describe('running a sweep on worker threads (docs/sweeps.md, "The pool")', () => {
  const file = sweepFile(tiny());
  const sweep = loadSweep(file);
  const expansion = expandSweep(sweep);

  it('hashes the log it does not write: the hash of isosim run for the same scenario and seed', () => {
    const s = { ...loadScenario('table1-sedfdc'), durationS: 0.5, window: undefined, seed: 3 };
    const out = mkdtempSync(join(dir, 'run-'));
    const written = runScenario(s, { out }).metrics;
    const hashed = runForMetrics(s);
    expect(hashed.logHash).toBe(written.logHash);
    expect(hashed.logHash).not.toBe('');
    expect({ ...hashed, logHash: '' }).toEqual({ ...written, logHash: '' });
  });

  it('gives the same records on 2 workers as on 1, and skips what the store holds', async () => {
    const one = new MemoryStore(metaOf(expansion.sweepId));
    const s1 = await runSweep(sweep, expansion, one, { jobs: 1 });
    expect(s1).toMatchObject({ runs: 8, skipped: 0, ran: 8, failed: 0, jobs: 1 });
    const two = new MemoryStore(metaOf(expansion.sweepId));
    const progress: number[] = [];
    const s2 = await runSweep(sweep, expansion, two, { jobs: 2, onProgress: (p) => progress.push(p.done) });
    expect(s2).toMatchObject({ ran: 8, failed: 0, jobs: 2 });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const sorted = (s: MemoryStore) => [...s.records.values()].sort((a, b) => a.index - b.index).map(same);
    expect(sorted(two)).toEqual(sorted(one));
    const first = one.records.get('p0000-s0')!;
    expect(first.logHash).toMatch(/^[0-9a-f]{16}$/);
    expect(first.checks).toEqual({ combined: true });
    expect(first.metrics['domains.Dom-1.combinedPct']).toBeTypeOf('number');
    // Seeds differ: so do their logs.
    expect(one.records.get('p0000-s1')!.logHash).not.toBe(first.logHash);

    // Resuming: a store holding 5 of the 8 runs gets the other 3, the same as before.
    const held = sorted(one).slice(0, 5);
    const resumed = new MemoryStore(metaOf(expansion.sweepId), held);
    const s3 = await runSweep(sweep, expansion, resumed, { jobs: 2 });
    expect(s3).toMatchObject({ runs: 8, skipped: 5, ran: 3 });
    expect(sorted(resumed)).toEqual(sorted(one));
    // Nothing left: nothing runs.
    expect(await runSweep(sweep, expansion, resumed, { jobs: 2 })).toMatchObject({ skipped: 8, ran: 0 });
  });

  it('refuses a store of another sweep', async () => {
    const other = new MemoryStore(metaOf('0123456789abcdef'));
    await expect(runSweep(sweep, expansion, other)).rejects.toThrow(/the store holds sweep 0123456789abcdef/);
  });

  it('records a run that throws with its reproducer, and goes on', async () => {
    // A check forced on a host it does not apply to (loadSweep would refuse it): every run throws.
    const bad: LoadedSweep = { ...sweep, checks: ['memory'] };
    const store = new MemoryStore(metaOf(expansion.sweepId));
    const s = await runSweep(bad, expansion, store, { jobs: 2 });
    expect(s).toMatchObject({ ran: 8, failed: 8 });
    const r = store.records.get('p0001-s1')!;
    expect(r.error?.message).toBe('Error: check memory does not apply: the scenario has no memory block');
    expect(r.error?.seed).toBe(2);
    const scenario = JSON.parse(r.error!.scenario);
    expect(scenario.seed).toBe(2);
    expect(scenario.mechanisms.debt.feedbackMs).toBe(200);
    expect(scenario.durationS).toBe(0.5);
    expect(r.metrics).toEqual({ 'domains.Dom-1.combinedPct': null, 'domains.Dom-0.cpuPct': null });
  });

  it.each([
    ['exits', 'exit', 'the worker died: the worker thread exited with code 3'],
    ['throws', 'throw', 'the worker died: killed in run p0002-s1'],
  ])(
    'records the run of a worker that %s mid-run, replaces the worker and loses nothing',
    async (_how, mode, message) => {
      process.env.ISOSIM_SWEEP_TEST_DIE = `p0002-s1:${mode}`;
      try {
        const store = new MemoryStore(metaOf(expansion.sweepId));
        const s = await runSweep(sweep, expansion, store, { jobs: 2 });
        expect(s).toMatchObject({ ran: 8, failed: 1 });
        expect(store.records.size).toBe(8);
        const r = store.records.get('p0002-s1')!;
        expect(r.error?.message).toBe(message);
        expect(JSON.parse(r.error!.scenario)).toMatchObject({ seed: 2, durationS: 0.5 });
        for (const [id, rec] of store.records) if (id !== 'p0002-s1') expect(rec.error).toBeUndefined();
      } finally {
        delete process.env.ISOSIM_SWEEP_TEST_DIE;
      }
    },
  );

  it('records a scenario that does not load as a failure (executeRun)', () => {
    const out = executeRun({
      id: 'p0000-s0',
      index: 0,
      params: {},
      seed: 1,
      scenario: '{"name": "x"}',
      metrics: ['events'],
      checks: [],
    });
    expect(out.record.error?.message).toMatch(/^IsosimError: sweep run p0000-s0: /);
    expect(out.record.metrics).toEqual({ events: null });
  });

  it('stops at the first run when a recorded metric is not in metrics.json', async () => {
    const bad: LoadedSweep = { ...sweep, metrics: ['domains.Dom-1.disk.readIops'] };
    const store = new MemoryStore(metaOf(expansion.sweepId));
    const err = await runSweep(bad, expansion, store, { jobs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IsosimError);
    expect((err as IsosimError).field).toBe('record.metrics[0]');
    expect((err as IsosimError).message).toMatch(
      /"domains.Dom-1.disk.readIops": domains.Dom-1 has no field "disk" \(it has cpuPct, .*\) in the metrics.json of run p0000-s0/,
    );
    expect(store.records.size).toBe(0);
  });
});
