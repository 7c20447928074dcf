/**
 * The paper's Fig. 6 claim and the mechanisms past the paper, end to end:
 * SEDF-DC on one and on two pCPUs, Credit-DC, next-quantum charging.
 */
import { ActorSchedulerPort, fig6Host, P4_2_8, SYSTEM_2, type SystemConfig, XenSystem } from '@isosim/actors';
import { Kernel, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';

const sedfPct = (pct: number) => ({ sliceNs: pct * 100_000, periodNs: 10_000_000, extratime: false });
const T = NS_PER_S / 2;
const web = { kind: 'web', rate: 1_200, fileBytes: 20_480, timeoutNs: 2 * NS_PER_S } as const;

/** Dom-1's own, IDD-for and combined CPU (percent of one pCPU) over [from, to). */
function measure(cfg: SystemConfig, from: number, to: number) {
  const kernel = new Kernel({ seed: 1 });
  const sys = new XenSystem(kernel, cfg);
  sys.start();
  kernel.runUntil(to);
  sys.xen.settle();
  const a = sys.xen.accounting;
  const w = (to - from) / 100;
  const own = a.cpuBetween(1, from, to) / w;
  const idd = a.iddBetween(1, from, to) / w;
  return { own, idd, combined: own + idd, sys };
}

function fig6(debt?: SystemConfig['mechanisms']): SystemConfig {
  return {
    profile: P4_2_8,
    scheduler: 'sedf',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedfPct(40) }] },
    guests: [{ name: 'Dom-1', vcpus: [{ pcpu: 0, sedf: sedfPct(60) }], workloads: [web] }],
    mechanisms: debt,
  };
}

describe('debt collection end to end', () => {
  it('Fig. 6: SEDF lets the combined use climb far past 60%; SEDF-DC holds it to 60% + 1', () => {
    const plain = measure(fig6(), 2 * NS_PER_S, 6 * NS_PER_S);
    expect(plain.own).toBeGreaterThan(59);
    expect(plain.combined).toBeGreaterThan(85);
    const dc = measure(
      fig6({ debt: { mode: 'immediate', spread: false, feedbackNs: T, source: 'truth' } }),
      2 * NS_PER_S,
      6 * NS_PER_S,
    );
    expect(dc.combined).toBeLessThanOrEqual(61);
    expect(dc.combined).toBeGreaterThan(50);
  });

  it('spread-debt and next-quantum charging also hold the combined use near the share', () => {
    for (const debt of [
      { mode: 'immediate', spread: true, feedbackNs: T, source: 'truth' },
      { mode: 'next-quantum', spread: false, feedbackNs: T, source: 'truth' },
    ] as const) {
      const r = measure(fig6({ debt }), 2 * NS_PER_S, 6 * NS_PER_S);
      expect(r.combined).toBeLessThanOrEqual(62);
    }
  });

  it('works across pCPUs: an IDD alone on pCPU 0 charging a guest on pCPU 1 (Table 2 layout)', () => {
    const cfg = (dc: boolean): SystemConfig => ({
      profile: SYSTEM_2,
      scheduler: 'sedf',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedfPct(60) }] },
      guests: [{ name: 'Dom-1', vcpus: [{ pcpu: 1, sedf: sedfPct(33) }], workloads: [web] }],
      mechanisms: dc
        ? { debt: { mode: 'immediate', spread: false, feedbackNs: T, source: 'truth' } }
        : undefined,
    });
    expect(measure(cfg(false), 2 * NS_PER_S, 6 * NS_PER_S).combined).toBeGreaterThan(45);
    expect(measure(cfg(true), 2 * NS_PER_S, 6 * NS_PER_S).combined).toBeLessThanOrEqual(34);
  });

  it('Credit-DC holds a capped guest near its cap, combined', () => {
    const cfg = (dc: boolean): SystemConfig => ({
      profile: P4_2_8,
      scheduler: 'credit',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 40 } }] },
      guests: [
        { name: 'Dom-1', vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 60 } }], workloads: [web] },
      ],
      mechanisms: dc
        ? { debt: { mode: 'immediate', spread: false, feedbackNs: T, source: 'truth' } }
        : undefined,
    });
    const plain = measure(cfg(false), 2 * NS_PER_S, 6 * NS_PER_S);
    const dc = measure(cfg(true), 2 * NS_PER_S, 6 * NS_PER_S);
    expect(plain.combined).toBeGreaterThan(80);
    expect(dc.combined).toBeLessThanOrEqual(64);
  });

  it('accounts debt exactly: added = paid + outstanding, and added = IDD time charged', () => {
    const r = measure(
      fig6({ debt: { mode: 'immediate', spread: false, feedbackNs: T, source: 'truth' } }),
      0,
      3 * NS_PER_S,
    );
    const port = r.sys.scheduler;
    if (!(port instanceof ActorSchedulerPort)) throw new Error('not the scheduler actor');
    const l = port.debtLedger();
    if (l === undefined) throw new Error('no ledger');
    expect(l.addedNs).toBe(l.paidNs + l.outstandingNs);
    expect(l.addedNs).toBe(r.sys.debtCollector?.chargedNs[1]);
    expect(l.addedNs).toBeGreaterThan(0);
  });
});

describe('Fig. 6 with the load rising in steps', () => {
  const stepNs = NS_PER_S;
  const run = (mechanisms?: SystemConfig['mechanisms']) => {
    const kernel = new Kernel({ seed: 6 });
    const sys = new XenSystem(kernel, fig6Host({ steps: 8, stepRate: 150, stepNs, mechanisms }));
    sys.start();
    kernel.runUntil(10 * NS_PER_S);
    sys.xen.settle();
    const a = sys.xen.accounting;
    // Combined use of Dom-1 in each second, percent of the CPU.
    return Array.from({ length: 10 }, (_, s) => {
      const w = [s * NS_PER_S, (s + 1) * NS_PER_S] as const;
      return (a.cpuBetween(1, ...w) + a.iddBetween(1, ...w)) / 1e7;
    });
  };

  it('climbs to about 90% combined under SEDF and stays at 60% (+1) under SEDF-DC', () => {
    const sedf = run();
    expect(Math.max(...sedf)).toBeGreaterThan(85);
    expect(sedf[0]).toBeLessThan(sedf[9]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const source of ['truth', 'estimate'] as const) {
      const dc = run({ debt: { mode: 'immediate', spread: false, feedbackNs: T, source } });
      // Once the load has stopped rising (last step at 7 s), at or below 60% + 1.
      expect(mean(dc.slice(7))).toBeLessThanOrEqual(61);
      // While it rises, debt is charged one interval late: 2-second windows overshoot
      // by up to ~2 points (seed 6 measured 62.1% at most; the paper's Fig. 8 shows the
      // same oscillation "from discretization").
      for (let s = 1; s + 2 <= 10; s++) expect(mean(dc.slice(s, s + 2))).toBeLessThanOrEqual(63);
      expect(Math.max(...dc)).toBeGreaterThan(55);
    }
  });
});
