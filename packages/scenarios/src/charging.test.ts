/**
 * The charging lab's scoring on hand-made hosts: a fake XenSystem whose accounting and
 * XenMon are tables of 100 ms samples, so each expected number is worked out by hand.
 */
import type { XenSystem } from '@isosim/actors';
import { describe, expect, it } from 'vitest';
import { errorStats, splitResidual, trueChargeNs } from './charging.ts';

const SAMPLE = 100_000_000;
const IDD = 0;

/** Per sample: the driver domain's CPU, its work by principal, XenMon's charge by guest (ns). */
interface Sample {
  readonly cpu: number;
  readonly work: Readonly<Record<number, number>>;
  readonly charged: Readonly<Record<number, number>>;
}

/** A host with one driver domain (id 0) and guests `guests`, over `samples` from t = 0. */
function fakeHost(guests: readonly number[], samples: readonly Sample[], charging = '2C'): XenSystem {
  const sum = (a: number, b: number, f: (s: Sample) => number) => {
    let ns = 0;
    samples.forEach((s, i) => {
      if (i * SAMPLE >= a && (i + 1) * SAMPLE <= b) ns += f(s);
    });
    return ns;
  };
  const accounting = {
    iddBetween: (p: number, a: number, b: number) => sum(a, b, (s) => s.work[p] ?? 0),
    iddOfDriverBetween: (d: number, p: number, a: number, b: number) =>
      d === IDD ? sum(a, b, (s) => s.work[p] ?? 0) : 0,
    cpuBetween: (d: number, a: number, b: number) => (d === IDD ? sum(a, b, (s) => s.cpu) : 0),
  };
  const estimatedBetween = (g: number, a: number, b: number) => sum(a, b, (s) => s.charged[g] ?? 0);
  const xenmon = {
    estimatedBetween,
    estimatedOfDriverBetween: (d: number, g: number, a: number, b: number) =>
      d === IDD ? estimatedBetween(g, a, b) : 0,
    history: samples.map((_, i) => ({ startNs: i * SAMPLE, endNs: (i + 1) * SAMPLE, estimatedNs: [] })),
  };
  return {
    charging,
    dedicated: charging === '1A' ? new Map([[IDD, guests[0]]]) : undefined,
    drivers: [{ id: IDD }],
    guests: guests.map((id) => ({ domain: { id } })),
    xen: { accounting, domains: [IDD, ...guests].map((id) => ({ id })) },
    xenmon,
  } as unknown as XenSystem;
}

/** Per sample: a split by counts `u` of the driver domain's CPU, true work `cost(g) · u`, own work `own`. */
function split(u: Readonly<Record<number, number>>, cost: (g: number) => number, own: number): Sample {
  const work: Record<number, number> = { [IDD]: own };
  let cpu = own;
  let units = 0;
  for (const [g, n] of Object.entries(u)) {
    work[Number(g)] = cost(Number(g)) * n;
    cpu += cost(Number(g)) * n;
    units += n;
  }
  const charged: Record<number, number> = {};
  for (const [g, n] of Object.entries(u)) charged[Number(g)] = (cpu * n) / units;
  return { cpu, work, charged };
}

describe('errorStats', () => {
  it('is the mean and largest |charged − true| per guest per interval, in points of one CPU', () => {
    // Two guests, four samples; over 200 ms intervals guest 1 is off by 2 ms then 6 ms
    // (1 and 3 points), guest 2 by 0 and 4 ms (0 and 2 points).
    const s = (t1: number, e1: number, t2: number, e2: number): Sample => ({
      cpu: t1 + t2,
      work: { 1: t1, 2: t2 },
      charged: { 1: e1, 2: e2 },
    });
    const sys = fakeHost(
      [1, 2],
      [s(10e6, 11e6, 5e6, 5e6), s(10e6, 11e6, 5e6, 5e6), s(10e6, 13e6, 5e6, 3e6), s(10e6, 13e6, 5e6, 3e6)],
    );
    expect(errorStats(sys, [0, 0.4], 2 * SAMPLE)).toEqual({ mean: 1.5, max: 3 });
    // Per sample: 1, 1, 3, 3 and 0, 0, 2, 2 points.
    expect(errorStats(sys, [0, 0.4], SAMPLE)).toEqual({ mean: 1.5, max: 3 });
    // Only whole intervals inside the window count: [0.1, 0.4] holds one 200 ms interval.
    expect(errorStats(sys, [0.1, 0.4], 2 * SAMPLE)).toEqual({ mean: 2.5, max: 3 });
    // No interval inside: nothing to score.
    expect(errorStats(sys, [0, 0.15], 2 * SAMPLE)).toEqual({ mean: 0, max: 0 });
  });
});

describe('trueChargeNs', () => {
  it("is the guest's principal, or under 1A all of its dedicated driver domain's work", () => {
    const samples = [{ cpu: 9e6, work: { [IDD]: 1e6, 1: 8e6 }, charged: { 1: 9e6 } }];
    expect(trueChargeNs(fakeHost([1], samples, '2C'), 1, 0, SAMPLE)).toBe(8e6);
    expect(trueChargeNs(fakeHost([1], samples, '1A'), 1, 0, SAMPLE)).toBe(9e6);
  });
});

describe('splitResidual', () => {
  it('is 0 on homogeneous traffic: each charge is the true work plus its part of the own work', () => {
    const c = 12_500;
    const samples = [
      split({ 1: 400, 2: 100 }, () => c, 2e6),
      split({ 1: 100, 2: 300 }, () => c, 1e6),
      split({ 1: 0, 2: 500 }, () => c, 3e6),
      split({ 1: 250, 2: 250 }, () => c, 0),
    ];
    const sys = fakeHost([1, 2], samples);
    expect(splitResidual(sys, [0, 0.4], 2 * SAMPLE)).toBe(0);
    // The error itself is not 0: guest 1 gets 4/5 of 2 ms and 1/4 of 1 ms in the first interval.
    expect(errorStats(sys, [0, 0.2], 2 * SAMPLE).max).toBeCloseTo((100 * (1.6e6 + 0.25e6)) / (2 * SAMPLE), 9);
  });

  it('is what the counts get wrong when one guest’s requests cost more', () => {
    // Guest 1 sends (1.1 c a packet), guest 2 receives (c); both counted as 1 (2B).
    const c = 10_000;
    const samples = [split({ 1: 1000, 2: 1000 }, (g) => (g === 1 ? 1.1 * c : c), 1e6)];
    // Split evenly: guest 1 is charged (1.1 c + c) · 1000 / 2 + 0.5 ms = 11.0 ms against
    // 11.0 ms true work + 0.5 ms its part of the own work: short by 0.5 ms, 0.5 points.
    expect(splitResidual(fakeHost([1, 2], samples), [0, 0.1], SAMPLE)).toBe(0.5);
  });
});
