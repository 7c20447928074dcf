/**
 * The flat interpreter (packages/actors/src/host/flatMachine.ts) must be XState's
 * semantics, only faster: every built-in scenario gives a byte-identical log on both
 * engines (the interpreter's own tests: packages/actors/src/host/flatMachine.test.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinNames, loadScenario } from '../packages/scenarios/src/load.ts';
import { runScenario } from '../packages/scenarios/src/runScenario.ts';

describe('flat interpreter', () => {
  it.each(builtinNames())('gives the same log as XState on %s', (name) => {
    const s = loadScenario(name);
    // Long enough for every workload to have started (disk-interference's writer at 5 s);
    // a memory built-in (an idle Dom-0, a compact log of mem.* records) runs whole.
    const durationS =
      s.memory !== undefined
        ? s.durationS
        : Math.max(1.5, ...s.domains.flatMap((d) => (d.workloads ?? []).map((w) => (w.startS ?? 0) + 1)));
    const logs = (['flat', 'xstate'] as const).map((engine) => {
      const out = mkdtempSync(join(tmpdir(), `isosim-engine-${engine}-`));
      runScenario(s, { durationS, out, engine });
      return readFileSync(join(out, 'events.isolog'));
    });
    expect(logs[0].length).toBeGreaterThan(s.memory !== undefined ? 10_000 : 100_000);
    expect(logs[0].equals(logs[1])).toBe(true);
  });
});
