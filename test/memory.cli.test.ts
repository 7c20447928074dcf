/**
 * Memory scenarios from the CLI (docs/memory.md, "Scenario files"): `isosim run` prints
 * the memory table and writes metrics.memory and the two memory plots; `isosim check`
 * checks the memory accounting beside the CPU invariants; `isosim resim` reproduces a
 * memory run from its log.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Metrics } from '../packages/scenarios/src/runScenario.ts';
import { isosim } from './isosim.ts';

describe('memory scenarios from the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isosim-memory-cli-'));

  it('runs the launch storm: a memory table, metrics.memory and the memory plots', () => {
    const out = join(dir, 'storm');
    const r = isosim('run', 'memory-launch-storm', '--duration', '2', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('memory: policy claim, 16384 MiB; launches ');
    expect(r.out).toMatch(/\nguest +kind +failures +by reason +blocked ms\n/);
    expect(r.out).toMatch(/\nworst-case +sine +\d+/);
    expect(r.out).toMatch(/\nlaunch +MiB +asked at s +outcome +waited ms +latency ms +populated MiB\n/);
    expect(r.out).toMatch(/\nbig +4096\.0 +0\.5 +building/);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics;
    expect(m.memory?.policy).toBe('claim');
    expect(m.memory?.launches.requested).toBe(13);
    expect(Object.keys(m.memory?.series.totMiB ?? {})).toEqual([
      'worst-case',
      'cache',
      'clone-1',
      'clone-2',
      'web',
      'big',
      ...Array.from({ length: 12 }, (_, k) => `vm-${k + 1}`),
    ]);
    for (const f of ['memory.svg', 'memory-domains.svg', 'cpu.svg'])
      expect(readFileSync(join(out, 'plots', f), 'utf8')).toMatch(/^<svg/);
    const domains = readFileSync(join(out, 'plots', 'memory-domains.svg'), 'utf8');
    expect(domains).toContain('>worst-case</text>');
    expect(domains).toContain('other launches (sum)</text>');

    const again = isosim('resim', join(out, 'events.isolog'));
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('identical: the run reproduces');
  });

  it('prints no memory table and draws no memory plot for a scenario without memory', () => {
    const out = join(dir, 'table1');
    const r = isosim('run', 'table1-sedf', '--duration', '0.2', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('memory:');
    expect(existsSync(join(out, 'plots', 'memory.svg'))).toBe(false);
  });

  it('checks the memory accounting of a memory scenario', () => {
    const r = isosim(
      'check',
      'memory-steady-balloon',
      '--duration',
      '2',
      '--out',
      join(dir, 'check'),
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { ok: boolean; invariants: { invariant: string; checked?: number }[] };
    expect(j.ok).toBe(true);
    const row = j.invariants.find((x) => x.invariant.startsWith('9 memory'));
    expect(row?.checked).toBeGreaterThan(40);
  });
});
