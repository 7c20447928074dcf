/**
 * `isosim goodput` end to end, short: two rates, half a simulated second each, under
 * both schedulers; the table, goodput.json and the plot (and its copy by --svg).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedRateScenario, loadScenario, parseScenario, runForMetrics } from '@isosim/scenarios';
import { describe, expect, it } from 'vitest';
import { isosim } from './isosim.ts';

describe('isosim goodput', () => {
  it('runs each rate under SEDF and SEDF-DC and writes the table, goodput.json and the plot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-goodput-'));
    const out = join(dir, 'out');
    const svg = join(dir, 'goodput.svg');
    const r = isosim(
      'goodput',
      '--rates',
      '200,400',
      '--duration',
      '0.5',
      '--out',
      out,
      '--svg',
      svg,
      '--jobs',
      '2',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\s+offered goodput\s+failed\/s\s+Dom-1 comb\.%/m);
    expect(r.out).toMatch(/^\s+200\s/m);
    expect(r.out).toMatch(/^SEDF: peak .* req\/s at (200|400) req\/s offered/m);
    expect(r.out).toMatch(/^SEDF-DC: peak /m);
    const json = JSON.parse(readFileSync(join(out, 'goodput.json'), 'utf8'));
    expect(json.windowS).toEqual([0.25, 0.5]);
    expect(json.curves.map((c: { label: string }) => c.label)).toEqual(['SEDF', 'SEDF-DC']);
    for (const c of json.curves) {
      expect(c.points.map((p: { rate: number }) => p.rate)).toEqual([200, 400]);
      for (const p of c.points) expect(p.goodput).toBeGreaterThanOrEqual(0);
    }
    expect(readFileSync(svg, 'utf8')).toBe(readFileSync(join(out, 'goodput.svg'), 'utf8'));
    // A sweep per scheduler, its base scenario, its file and its results beside the curve.
    expect(readdirSync(join(out, 'scenarios')).sort()).toEqual([
      'fig6-sedf-fixed-rate.json',
      'fig6-sedfdc-fixed-rate.json',
    ]);
    expect(readdirSync(out).sort()).toEqual([
      'goodput-sedf-dc.duckdb',
      'goodput-sedf-dc.sweep.json',
      'goodput-sedf.duckdb',
      'goodput-sedf.sweep.json',
      'goodput.json',
      'goodput.svg',
      'scenarios',
    ]);
    // Each point is the run of the fixed-rate scenario itself (as the runs in their own
    // processes gave it before the curve became a sweep).
    const base = loadScenario('fig6-sedfdc');
    const alone = runForMetrics(parseScenario(fixedRateScenario(base, 400, 0.5), 'test')).domains['Dom-1'];
    const point = json.curves[1].points[1];
    expect(point.goodput).toBe(alone.webReqPerSec ?? 0);
    expect(point.failedPerSec).toBe(alone.webFailedPerSec ?? 0);
    expect(point.combinedPct).toBe(alone.combinedPct);
    // The results file is a sweep's: query it, and the sweep file runs nothing more.
    const q = isosim('query', join(out, 'goodput-sedf.duckdb'), 'SELECT count(*) AS n FROM runs');
    expect(q.code, q.err).toBe(0);
    expect(q.out).toMatch(/^2$/m);
    const again = isosim('sweep', join(out, 'goodput-sedf.sweep.json'), '--out', out, '--jobs', '1');
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('2 recorded before, nothing left to run');
  });

  it('says what it does and how docs/img/goodput.svg is made; paper says how to skip it', () => {
    const r = isosim('goodput', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: isosim goodput');
    expect(r.out).toContain('--rates R');
    expect(r.out).toContain("'isosim goodput --svg docs/img/goodput.svg'");
    const paper = isosim('paper', '--help');
    expect(paper.out).toContain('--no-bands');
    expect(paper.out).toContain('--no-goodput');
  });
});
