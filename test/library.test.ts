/**
 * The scenario library behind the CLI, imported as a program would (`@isosim/cli`):
 * load a built-in, run it, read its metrics; run the invariant checks on it.
 */
import { combinedShare, hardReservations, loadScenario, runChecked, runScenario } from '@isosim/cli';
import { describe, expect, it } from 'vitest';

describe('the scenario library', () => {
  it('is imported without running the command line (no usage printed, no exit status set)', () => {
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('runs a built-in and measures it as metrics.json does', () => {
    const s = loadScenario('table1-sedfdc');
    const { metrics } = runScenario(s, { durationS: 2 });
    expect(metrics.durationS).toBe(2);
    expect(metrics.domains['Dom-1']?.webReqPerSec).toBeGreaterThan(0);
    // Under SEDF-DC a guest's combined use stays near its 22%.
    expect(metrics.domains['Dom-1']?.combinedPct).toBeLessThan(30);
  });

  it('checks the isolation invariants on a scenario', () => {
    const s = loadScenario('table1-sedfdc');
    const run = runChecked({ ...s, durationS: 2 });
    expect(hardReservations(run).violations).toEqual([]);
    expect(combinedShare(run).violations).toEqual([]);
  });
});
