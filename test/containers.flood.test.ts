/**
 * The resource-container built-ins, run briefly (docs/containers.md): a best-effort flood
 * from 5 s cuts the premium class's throughput to nothing in a stock guest
 * (containers-flood-off), to about half with containers but eager protocol work
 * (containers-flood-eager), and not at all with containers and LRP (containers-flood).
 * Mode `off` is only labels: the guest runs as one without containers. Same seed, same log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { type Metrics, runScenario } from '../packages/scenarios/src/runScenario.ts';

const DURATION_S = 8;

function run(name: string, edit?: (s: ReturnType<typeof loadScenario>) => void): Metrics {
  const s = loadScenario(name);
  s.durationS = DURATION_S;
  s.window = { startS: 6, endS: DURATION_S };
  edit?.(s);
  const out = mkdtempSync(join(tmpdir(), `isosim-${name}-`));
  return runScenario(s, { out }).metrics;
}

/** Premium replies per second: before the flood (seconds 1-4) and in the window (6-8 s). */
function premium(m: Metrics): { before: number; during: number } {
  const perSecond = m.series.map((x) => x.domains['Dom-1'].webByClass?.premium ?? Number.NaN);
  const before = perSecond.slice(1, 5).reduce((a, b) => a + b, 0) / 4;
  const during = m.domains['Dom-1'].webByClass?.premium.webReqPerSec ?? Number.NaN;
  return { before, during };
}

describe('a best-effort flood against the premium class', () => {
  const runs = new Map<string, Metrics>();
  const get = (name: string) => {
    let m = runs.get(name);
    if (m === undefined) {
      m = run(name);
      runs.set(name, m);
    }
    return m;
  };

  it('keeps the premium class at 90% or more of its no-flood throughput with containers and LRP', () => {
    const m = get('containers-flood');
    const p = premium(m);
    expect(p.before).toBeGreaterThan(290);
    expect(p.during).toBeGreaterThanOrEqual(0.9 * p.before);
    // The flood is dropped early: LRP drops hundreds of thousands of best-effort packets.
    const be = m.domains['Dom-1'].webByClass?.besteffort;
    expect(be?.lrpDrops).toBeGreaterThan(10_000);
    expect(m.domains['Dom-1'].webByClass?.premium.lrpDrops).toBe(0);
  });

  it('loses nearly all of it in the same guest without containers', () => {
    const p = premium(get('containers-flood-off'));
    expect(p.before).toBeGreaterThan(290);
    expect(p.during).toBeLessThanOrEqual(0.1 * p.before);
  });

  it('loses a lot of it with containers but eager protocol work (accounting alone)', () => {
    const p = premium(get('containers-flood-eager'));
    expect(p.during).toBeLessThanOrEqual(0.7 * p.before);
    expect(p.during).toBeGreaterThan(premium(get('containers-flood-off')).during);
  });

  it('runs mode off exactly as a guest without containers (the classes only label clients)', () => {
    const off = get('containers-flood-off');
    const plain = run('containers-flood-off', (s) => {
      const g = s.domains[1];
      delete g.containers;
      for (const w of g.workloads) if (w.kind === 'web') delete w.clientClass;
    });
    expect(plain.events).toBe(off.events);
    expect(plain.logRecords).toBe(off.logRecords);
    expect(plain.domains['Dom-1'].webReqPerSec).toBe(off.domains['Dom-1'].webReqPerSec);
    expect(plain.domains['Dom-1'].webByClass).toBeUndefined();
  });

  it('gives the same log hash for the same seed, and another for another seed', () => {
    const a = get('containers-flood');
    const b = run('containers-flood');
    expect(a.logHash).not.toBe('');
    expect(b.logHash).toBe(a.logHash);
    const c = run('containers-flood', (s) => {
      s.seed = 2;
      for (const w of s.domains[1].workloads) if (w.kind === 'web') w.arrivals = 'poisson';
    });
    expect(c.logHash).not.toBe(a.logHash);
  });
});
