/**
 * `isosim sweep` from the CLI (docs/sweeps.md): bad sweep files get one line naming the
 * file, the field and the fix, a non-zero exit and no stack trace; a tiny sweep runs into
 * its DuckDB file, resumes after `kill -9`, and --list prints its runs; the published
 * JSON Schema is `isosim schema --sweep`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, isosim } from './isosim.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-sweep-cli-'));
let files = 0;

function sweepFile(def: unknown, text?: string): string {
  const path = join(dir, `sweep-${files++}.json`);
  writeFileSync(path, text ?? JSON.stringify(def));
  return path;
}

const tiny = (extra: Record<string, unknown> = {}) => ({
  name: 'tiny',
  base: 'table1-sedfdc',
  durationS: 0.5,
  params: [{ path: 'domains[name=Dom-1].vcpus[0].sedf.sliceMs', values: [1, 2] }],
  seeds: 2,
  record: { metrics: ['domains.Dom-1.combinedPct'] },
  ...extra,
});

describe('isosim sweep: bad sweep files', () => {
  const rows: [string, Record<string, unknown> | string, string, string][] = [
    ['not JSON', '{ "name": ', 'JSON: ', 'fix the JSON syntax'],
    ['a bad name', tiny({ name: 'Tiny Sweep' }), 'name: ', 'use 1–64 lower-case letters'],
    [
      'a path to no field',
      tiny({ params: [{ path: 'domains[name=Dom-1].vcpu[0].sedf.sliceMs', values: [1] }] }),
      'params[0].values[0]: domains[name=Dom-1].vcpu[0].sedf.sliceMs: domains[name=Dom-1] has no field "vcpu"',
      'it has name, vcpus, workloads',
    ],
    [
      'an empty values list',
      tiny({ params: [{ path: 'mechanisms.debt.feedbackMs', values: [] }] }),
      'params[0].values: ',
      'docs/sweeps.md',
    ],
    [
      'a range with a step of 0',
      tiny({ params: [{ path: 'mechanisms.debt.feedbackMs', range: { from: 100, to: 200, step: 0 } }] }),
      'params[0].range.step: 0 is not above 0',
      'give a step above 0',
    ],
    [
      'a range from > to',
      tiny({ params: [{ path: 'mechanisms.debt.feedbackMs', range: { from: 300, to: 100, step: 100 } }] }),
      'params[0].range: from 300 is after to 100',
      'give from <= to',
    ],
    [
      'a value the scenario rejects',
      tiny({ params: [{ path: 'mechanisms.debt.feedbackMs', values: [100, 0.5] }] }),
      'params[0].values[1]: mechanisms.debt.feedbackMs = 0.5 gives a bad scenario: mechanisms.debt.feedbackMs: ',
      'give 1 to 10000 ms',
    ],
    [
      'a bad path syntax',
      tiny({ params: [{ path: 'domains[x].name', values: ['a'] }] }),
      'params[0].path: "domains[x].name": [x] is not an index',
      'write keys joined by dots',
    ],
    [
      'a metric not in metrics.json',
      tiny({ record: { metrics: ['domain.Dom-1.cpuPct'] } }),
      'record.metrics[0]: "domain.Dom-1.cpuPct" is not in metrics.json',
      'start it with one of',
    ],
    [
      'a check that does not apply',
      tiny({ record: { checks: ['disk'] } }),
      'record.checks[0]: "disk" does not apply: the scenario has no disks',
      'remove it',
    ],
    [
      'an unknown base',
      tiny({ base: 'table9' }),
      'base: cannot read "table9" (ENOENT)',
      'give a built-in name',
    ],
  ];
  it.each(rows)('%s', (_what, def, problem, fix) => {
    const file = typeof def === 'string' ? sweepFile(null, def) : sweepFile(def);
    const out = join(dir, `out-${files}`);
    const r = isosim('sweep', file, '--out', out);
    expect(r.code, r.err).toBe(2);
    expect(r.err.startsWith(`error: ${file}: `), r.err).toBe(true);
    expect(r.err).toContain(problem);
    expect(r.err).toContain(fix);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err, 'a stack trace').not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('stops at the first run when a metric path reaches no number there', () => {
    const file = sweepFile(tiny({ record: { metrics: ['domains.Dom-1.packets'] } }));
    const r = isosim('sweep', file, '--out', join(dir, 'metric'), '--jobs', '1');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `error: ${file}: record.metrics[0]: "domains.Dom-1.packets": is an object, not a number in the metrics.json of run p0000-s0; give a path to a number of metrics.json`,
    );
    expect(r.err, 'a stack trace').not.toMatch(/\n\s+at /);
  });

  it('says what is wrong with the options', () => {
    const r = isosim('sweep', sweepFile(tiny()), '--jobs', '0');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "error: isosim sweep: --jobs: '0' is not allowed; give a whole number from 1 to 1024",
    );
    expect(isosim('sweep', join(dir, 'none.json')).err).toContain(
      'none.json: sweep: cannot read it (ENOENT)',
    );
  });
});

describe('isosim sweep: running', () => {
  it('lists the runs in order with their seeds and parameters', () => {
    const r = isosim('sweep', sweepFile(tiny()), '--list');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^sweep tiny: id [0-9a-f]{16}, 4 runs$/);
    expect(lines.slice(1)).toEqual([
      'p0000-s0  seed 1  domains[name=Dom-1].vcpus[0].sedf.sliceMs=1',
      'p0000-s1  seed 2  domains[name=Dom-1].vcpus[0].sedf.sliceMs=1',
      'p0001-s0  seed 1  domains[name=Dom-1].vcpus[0].sedf.sliceMs=2',
      'p0001-s1  seed 2  domains[name=Dom-1].vcpus[0].sedf.sliceMs=2',
    ]);
  });

  it('runs under Node given V8 flags (a worker inherits them; given them, it would refuse to start)', () => {
    const out = join(dir, 'v8-flags');
    const r = spawnSync(
      process.execPath,
      [
        '--max-semi-space-size=16',
        '--stack-size=2000',
        BIN,
        'sweep',
        sweepFile(tiny()),
        '--jobs',
        '2',
        '--out',
        out,
      ],
      { encoding: 'utf8', env: { ...process.env, CI: '1' } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('0 recorded before, ran 4');
  });

  it('resumes after kill -9, losing only the runs in flight', async () => {
    const file = sweepFile(
      tiny({
        durationS: 10,
        params: [{ path: 'mechanisms.debt.feedbackMs', range: { from: 100, to: 800, step: 100 } }],
      }),
    );
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [BIN, 'sweep', file, '--out', out, '--jobs', '1'], {
      env: { ...process.env, CI: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    // Killed a few runs in (each is ~0.5 s; the first starts 1-3 s after launch).
    await Promise.race([exited, new Promise((r) => setTimeout(r, 4000))]);
    child.kill('SIGKILL');
    await exited;
    const r = isosim('sweep', file, '--out', out, '--jobs', '2');
    expect(r.code, r.err).toBe(0);
    const m = /16 runs; (\d+) recorded before, (?:ran (\d+) in|nothing left to run)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(Number(m![1]) + Number(m![2] ?? 0)).toBe(16);
    const q = isosim(
      'query',
      join(out, 'tiny.duckdb'),
      'SELECT count(*) AS n, count(DISTINCT id) AS ids, count(error_message) AS failed FROM runs',
      '--json',
    );
    expect(q.code, q.err).toBe(0);
    expect(JSON.parse(q.out)).toEqual([{ n: 16, ids: 16, failed: 0 }]);
  }, 120_000);

  it('stops on Ctrl-C, keeping what it recorded (exit 130), and goes on from there', async () => {
    const file = sweepFile(
      tiny({
        name: 'stopped',
        durationS: 10,
        params: [{ path: 'mechanisms.debt.feedbackMs', range: { from: 100, to: 800, step: 100 } }],
      }),
    );
    const out = join(dir, 'stopped');
    const child = spawn(process.execPath, [BIN, 'sweep', file, '--out', out, '--jobs', '1'], {
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 4000))]);
    child.kill('SIGINT');
    const code = await exited;
    if (code === 130) {
      expect(err).toMatch(
        /^interrupted after \d+ of 16 runs; kept them in .*stopped\.duckdb; run the same command to go on\n$/,
      );
    } else {
      // It finished before the signal came (a slow start or a fast machine).
      expect(code).toBe(0);
    }
    const r = isosim('sweep', file, '--out', out, '--jobs', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/16 runs; \d+ recorded before, (ran \d+ in|nothing left to run)/);
  }, 120_000);
});

describe('the published JSON Schema', () => {
  it('is `isosim schema --sweep` (docs/sweep.schema.json)', () => {
    const doc = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'docs', 'sweep.schema.json'), 'utf8'),
    );
    const printed = isosim('schema', '--sweep');
    expect(printed.code).toBe(0);
    expect(doc).toEqual(JSON.parse(printed.out));
  });
});
