/**
 * Scenario files: every built-in is valid; bad files get one line naming the file, the
 * field and the fix; `isosim run` writes metrics.json as docs/metrics.md describes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { builtinNames, loadScenario, parseScenario } from '../packages/cli/src/scenario/load.ts';

const BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'isosim.js');
const base = () =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'scenarios', 'table1-sedf.json'), 'utf8'));

function errorOf(data: unknown): IsosimError {
  try {
    parseScenario(data, 'my.json');
  } catch (err) {
    if (err instanceof IsosimError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('scenario files', () => {
  it('has the built-ins the paper needs, all valid', () => {
    expect(builtinNames()).toEqual(
      expect.arrayContaining([
        'fig6-sedf',
        'fig6-sedfdc',
        'table1-sedf',
        'table1-sedfdc',
        'table2-baseline',
        'table2-without-shareguard',
        'table2-with-shareguard',
      ]),
    );
    for (const n of builtinNames()) expect(loadScenario(n).name).toBe(n);
  });

  it('names the file, the field and the fix for bad input', () => {
    const s1 = base();
    s1.domains[1].workloads[0].rate = -5;
    let e = errorOf(s1);
    expect(e.message).toMatch(/^my\.json: domains\[1\]\.workloads\[0\]\.rate: /);
    const s2 = base();
    s2.domains[0].vcpus[0].pcpu = 3;
    expect(errorOf(s2).message).toContain(
      'domains[0].vcpus[0].pcpu: pCPU 3 does not exist; the host has pCPUs 0..0',
    );
    const s3 = base();
    s3.host.scheduler = 'bvt';
    e = errorOf(s3);
    expect(e.field).toBe('host.scheduler');
    expect(e.fix).toContain('"sedf"');
    const s4 = base();
    s4.domains[1].workloads[0].colour = 'red';
    expect(errorOf(s4).message).toContain('unknown field colour');
    const s5 = base();
    s5.domains[1].vcpus[0].sedf.sliceMs = 20;
    expect(errorOf(s5).field).toBe('domains[1].vcpus[0].sedf.sliceMs');
    const s6 = base();
    s6.domains[1].role = 'idd';
    expect(errorOf(s6).message).toContain("2 domains have role 'idd'");
    const s7 = base();
    s7.mechanisms = { shareGuard: { limitsPct: { 'Dom-9': 5 } } };
    expect(errorOf(s7).field).toBe('mechanisms.shareGuard.limitsPct.Dom-9');
  });

  it('reports a bad file from the CLI in one line, without a stack trace, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-sc-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "name": "x", ');
    const r = spawnSync(process.execPath, [BIN, 'run', bad, '--out', join(dir, 'o')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: JSON: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs a scenario and writes metrics.json with the documented fields', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-sc-'));
    const s = base();
    s.name = 'short';
    s.durationS = 3;
    const file = join(dir, 'short.json');
    writeFileSync(file, JSON.stringify(s));
    const r = spawnSync(process.execPath, [BIN, 'run', file, '--out', dir], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Dom-1');
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(Object.keys(m)).toEqual([
      'scenario',
      'seed',
      'durationS',
      'windowS',
      'events',
      'logHash',
      'logRecords',
      'domains',
      'series',
    ]);
    expect(m.windowS).toEqual([0, 3]);
    expect(Object.keys(m.domains)).toEqual(['Dom-0', 'Dom-1', 'Dom-2', 'Dom-3']);
    expect(m.domains['Dom-1']).toHaveProperty('webReqPerSec');
    expect(m.domains['Dom-1'].combinedPct).toBeCloseTo(
      m.domains['Dom-1'].cpuPct + m.domains['Dom-1'].iddPctTrue,
      2,
    );
    expect(m.series).toHaveLength(3);
    for (const plot of ['cpu.svg', 'idd.svg', 'combined.svg', 'web.svg']) {
      const svg = readFileSync(join(dir, 'plots', plot), 'utf8');
      expect(svg).toMatch(/^<svg /);
      expect(svg.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(2);
    }
    const r2 = spawnSync(process.execPath, [BIN, 'run', file, '--out', join(dir, 'again')], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    expect(readFileSync(join(dir, 'again', 'metrics.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'metrics.json'), 'utf8'),
    );
    expect(r2.status).toBe(0);
  });
});
