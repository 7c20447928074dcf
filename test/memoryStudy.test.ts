/**
 * The memory study (docs/memory.md, "The study"): `runMemoryStudy` runs a workload under
 * every reservation policy, all else equal, and its section answers the debate's
 * questions from the numbers; `isosim memory` writes the tables, the results, a plot
 * per workload and each run's log (which `isosim replay` reads, with the memory part of
 * the World); a scenario without memory is a clear error.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESERVATION_POLICIES } from '../packages/actors/src/index.ts';
import { hostLayout } from '../packages/replay/src/layout.ts';
import { Replay } from '../packages/replay/src/replay.ts';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { memoryPlan } from '../packages/scenarios/src/memoryScenario.ts';
import {
  type MemoryStudyRun,
  memoryAnswers,
  memoryStudyMarkdown,
  runMemoryStudy,
  underPolicy,
} from '../packages/scenarios/src/memoryStudy.ts';
import { isosim } from './isosim.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-memory-study-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the memory study', () => {
  let runs: MemoryStudyRun[] = [];

  it('runs a workload under every policy, all else equal', () => {
    runs = runMemoryStudy(['memory-worst-case'], { durationS: 4 });
    expect(runs.map((r) => r.policy)).toEqual([...RESERVATION_POLICIES]);
    const s = loadScenario('memory-worst-case');
    for (const p of RESERVATION_POLICIES) {
      const v = underPolicy(s, p);
      expect({ ...v, memory: { ...v.memory, policy: s.memory?.policy } }).toEqual(s);
    }
    const of = (p: string) => runs.find((r) => r.policy === p)?.memory;
    // The worst-case domain takes the pages the second build needs: late under none.
    expect(of('none')?.launches.failedLate).toBeGreaterThan(0);
    expect(of('none')?.wastedMiB).toBeGreaterThan(0);
    // A claim never fails late; the shortage moves to the guest.
    expect(of('claim')?.launches.failedLate).toBe(0);
    expect(of('claim')?.guestFailures).toBeGreaterThan(of('none')?.guestFailures ?? 0);
    expect(of('freeze')?.guests['worst-case'].failuresByReason['over-max']).toBeGreaterThan(0);
  });

  it("answers the debate's questions from the runs' own numbers", () => {
    const md = memoryStudyMarkdown(runs).join('\n');
    expect(md).toContain('## Memory isolation: claims against the toolstack-only freeze (beyond the paper)');
    expect(md).toContain('### `memory-worst-case`');
    expect(md).toMatch(/\| none \| \d of 2 \| 1 \|/);
    const none = runs.find((r) => r.policy === 'none')?.memory;
    const answers = memoryAnswers(runs).join('\n');
    expect(answers).toContain(
      `Under \`none\`, ${none?.launches.failedLate} builds failed after populating, wasting ${none?.wastedMiB.toFixed(1)} MiB`,
    );
    expect(answers).toContain('Under `claim`, 0 builds failed late');
  });

  it('isosim memory writes the tables, the results, the plots and each run, which replay reads', () => {
    const out = join(dir, 'study');
    const r = isosim('memory', 'memory-worst-case', '--duration', '3', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Made by `isosim memory memory-worst-case --duration 3`.');
    expect(readFileSync(join(out, 'memory.md'), 'utf8')).toContain('# What the runs say');
    const json = JSON.parse(readFileSync(join(out, 'memory.json'), 'utf8')) as MemoryStudyRun[];
    expect(json.map((x) => x.policy)).toEqual([...RESERVATION_POLICIES]);
    expect(json.every((x) => /^[0-9a-f]{16}$/.test(x.logHash))).toBe(true);
    for (const f of ['memory-worst-case.svg', 'memory-worst-case-claims.svg'])
      expect(readFileSync(join(out, 'plots', f), 'utf8')).toMatch(/^<svg /);
    const log = join(out, 'runs', 'memory-worst-case-claim', 'events.isolog');
    expect(existsSync(log)).toBe(true);
    // The log names the memory domains as the run numbered them.
    const replay = Replay.open(log);
    const plan = memoryPlan(loadScenario('memory-worst-case'), 3);
    const names = hostLayout(replay.header).memoryDomains;
    expect(plan?.domains.length).toBe(3);
    for (const d of plan?.domains ?? []) expect(names[d.id]).toBe(d.name);
    const shown = isosim('replay', log, '--time', '2');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/\nmemory: [\d.]+ MiB free of 8192 MiB, [\d.]+ MiB claimed/);
    expect(shown.out).toMatch(/\n {2}worst-case +[\d.]+ MiB of max 6144 MiB/);
  });

  it('a scenario without memory is a clear error', () => {
    const r = isosim('memory', 'table1-sedf', '--out', join(dir, 'none'));
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('table1-sedf: memory: the scenario has no memory block');
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
