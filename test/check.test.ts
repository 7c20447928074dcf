/**
 * `isosim check`: the verification suite's invariants on one scenario, from the CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isosim } from './isosim.ts';

interface Invariant {
  invariant: string;
  claimed: boolean;
  applies: boolean;
  checked?: number;
  violations?: number;
  why?: string;
}

describe('isosim check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isosim-check-'));

  it('finds SEDF-DC keeping its promise on Fig. 6, and writes the log isosim run writes', () => {
    const r = isosim('check', 'fig6-sedfdc', '--duration', '3', '--json', '--out', join(dir, 'dc'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { ok: boolean; hash: string; invariants: Invariant[] };
    expect(j.ok).toBe(true);
    const [hard, combined, guard, cons] = j.invariants;
    expect(hard).toMatchObject({ claimed: true, applies: true, violations: 0 });
    expect(hard.checked).toBeGreaterThan(500);
    expect(combined).toMatchObject({ claimed: true, applies: true, violations: 0 });
    expect(combined.checked).toBeGreaterThan(100);
    expect(guard).toMatchObject({ applies: false, why: 'no ShareGuard' });
    expect(cons).toMatchObject({ applies: true, violations: 0 });
    const run = isosim('run', 'fig6-sedfdc', '--duration', '3', '--out', join(dir, 'run'));
    expect(run.out).toContain(`log hash ${j.hash}`);
  });

  it('shows plain SEDF exceeding the combined bound without failing: SEDF does not claim it', () => {
    const r = isosim('check', 'fig6-sedf', '--duration', '30', '--out', join(dir, 'sedf'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /2 combined <= share \+ ε \(no debt collection\)\s+\d+\s+[1-9]\d*\s.*exceeded \(not claimed\)/,
    );
    expect(r.out).toMatch(/1 hard reservations\s+\d+\s+0\s+exact\s+holds/);
  });

  it('drains a host whose workloads stop, and balances its packets', () => {
    const file = join(dir, 'stops.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'stops',
        description: 'a web server and a UDP sender that stop at 1 s',
        host: { profile: 'p4-2.8', pcpus: 1, scheduler: 'sedf' },
        domains: [
          {
            name: 'Dom-0',
            role: 'idd',
            vcpus: [{ pcpu: 0, sedf: { sliceMs: 4, periodMs: 10, extratime: false } }],
          },
          {
            name: 'Dom-1',
            vcpus: [{ pcpu: 0, sedf: { sliceMs: 3, periodMs: 10, extratime: false } }],
            workloads: [{ kind: 'web', rate: 100, fileBytes: 10240, timeoutS: 1, stopS: 1 }],
          },
          {
            name: 'Dom-2',
            vcpus: [{ pcpu: 0, sedf: { sliceMs: 0.5, periodMs: 10, extratime: false } }],
            workloads: [{ kind: 'udp', direction: 'send', rate: 3000, bytes: 400, stopS: 1 }],
          },
        ],
        mechanisms: { debt: { mode: 'immediate', feedbackMs: 500 } },
        durationS: 1.5,
        seed: 4,
      }),
    );
    const r = isosim('check', file, '--out', join(dir, 'stops'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/then \d+\.\d s to drain/);
    expect(r.out).toMatch(/4 conservation\s+\d+\s+0\s+exact\s+holds/);
  });

  it('checks Credit caps on a Credit-DC host', () => {
    const file = join(dir, 'credit.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'credit',
        description: 'a capped web server and a capped CPU hog under Credit-DC',
        host: { profile: 'p4-2.8', pcpus: 1, scheduler: 'credit' },
        domains: [
          { name: 'Dom-0', role: 'idd', vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 40 } }] },
          {
            name: 'Dom-1',
            vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 30 } }],
            workloads: [{ kind: 'web', rate: 500, fileBytes: 20480, timeoutS: 2 }],
          },
          {
            name: 'Dom-2',
            vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 20 } }],
            workloads: [{ kind: 'cpu' }],
          },
        ],
        mechanisms: { debt: { mode: 'immediate', feedbackMs: 500 } },
        durationS: 3,
        seed: 1,
      }),
    );
    const r = isosim('check', file, '--out', join(dir, 'credit'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1 Credit caps\s+\d{4,}\s+0\s+\d\.\d\d of a tick\s+holds/);
    expect(r.out).toMatch(/2 combined <= share \+ ε\s+\d+\s+0\s/);
  });

  it('rejects a missing scenario and a bad option cleanly', () => {
    const a = isosim('check', join(dir, 'nope.json'));
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^error: .*nope\.json/);
    expect(a.err).not.toMatch(/\n\s+at /);
    const b = isosim('check', 'fig6-sedfdc', '--seed', 'x');
    expect(b.code).toBe(2);
    expect(b.err).toContain('--seed');
  });
});
