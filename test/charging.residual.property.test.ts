/**
 * The equality behind 2B's and 2C's error bound (docs/charging.md, "How wrong 2B and 2C
 * can be"): on homogeneous traffic a guest's charge over a feedback interval is its true
 * driver-domain work plus its part of the driver domain's own work, sample by sample, so
 * the lab's residual (`splitResidual`) is 0 up to the request in progress at each end of
 * the interval (2 × 13,738 ns, 0.0055 points of 500 ms) and rounding. On the generated
 * hosts of `isosim charging gen:N`, drawn by fast-check; and the adversarial built-in
 * where 2B's loose bound still holds shows the equality fail.
 */
import { NS_PER_S } from '@isosim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargingRun } from '../packages/scenarios/src/charging.ts';
import { generatedChargingHost } from '../packages/scenarios/src/chargingHosts.ts';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { RUNS, SEED } from './verify/bundle.ts';

/** The request in progress at each end of a 500 ms interval, and rounding: points of one CPU. */
const SLACK_PTS = (100 * (2 * 13_738 + 1_000)) / (0.5 * NS_PER_S);

describe('2B and 2C on homogeneous traffic: the error is exactly each guest’s part of the own work', () => {
  it('holds on generated hosts (residual within the slack), and the own work is there to split', () => {
    let errorSeen = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom('2B', '2C'), (seed, policy) => {
        const r = chargingRun(generatedChargingHost(seed), policy as '2B' | '2C', 2);
        errorSeen = Math.max(errorSeen, r.errorT.max);
        return r.residualT !== undefined && r.residualT <= SLACK_PTS;
      }),
      { seed: SEED, numRuns: Math.max(4, Math.ceil(RUNS / 2)) },
    );
    // Not vacuous: the policies were wrong, by the own work they split.
    expect(errorSeen).toBeGreaterThan(10 * SLACK_PTS);
  });

  it('fails for 2B on a sender beside a receiver, and holds for 2C there', () => {
    const s = loadScenario('charging-send-receive');
    const b = chargingRun(s, '2B', 2);
    const c = chargingRun(s, '2C', 2);
    expect(b.residualT).toBeGreaterThan(0.3);
    expect(c.residualT).toBeLessThanOrEqual(SLACK_PTS);
  });
});
