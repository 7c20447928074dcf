/**
 * `isosim goodput` end to end, short: two rates, half a simulated second each, under
 * both schedulers; the table, goodput.json and the plot (and its copy by --svg).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // Each finished run on stderr, as isosim paper prints them.
    expect(r.err).toMatch(/fig6-sedfdc-at-400: [\d.]+ s wall/);
    const json = JSON.parse(readFileSync(join(out, 'goodput.json'), 'utf8'));
    expect(json.windowS).toEqual([0.25, 0.5]);
    expect(json.curves.map((c: { label: string }) => c.label)).toEqual(['SEDF', 'SEDF-DC']);
    for (const c of json.curves) {
      expect(c.points.map((p: { rate: number }) => p.rate)).toEqual([200, 400]);
      for (const p of c.points) expect(p.goodput).toBeGreaterThanOrEqual(0);
    }
    expect(readFileSync(svg, 'utf8')).toBe(readFileSync(join(out, 'goodput.svg'), 'utf8'));
    expect(readdirSync(join(out, 'scenarios')).sort()).toEqual([
      'fig6-sedf-at-200.json',
      'fig6-sedf-at-400.json',
      'fig6-sedfdc-at-200.json',
      'fig6-sedfdc-at-400.json',
    ]);
    expect(readdirSync(join(out, 'fig6-sedf-at-200'))).toContain('metrics.json');
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
