import { InvariantError, IsosimError } from '@isosim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BOOST,
  type CreditState,
  credit,
  OVER,
  peakNs,
  type ShareEntry,
  splitCredits,
  TICK_NS,
  TSLICE_NS,
  UNDER,
} from './credit.ts';
import {
  type Behaviour,
  cpuPerWindow,
  type HarnessVcpu,
  harnessViolations,
  runScheduler,
} from './testHarness.ts';
import { IDLE, type VcpuSpec } from './types.ts';

const MS = 1_000_000;
const SEED = 4_242;

function spec(pcpu: number, weight = 256, capPct = 0, domain = 0): VcpuSpec {
  return { domain, pcpu, credit: { weight, capPct } };
}
const busy: Behaviour = { kind: 'busy' };
const none = { vcpu: IDLE, ranNs: 0, runnable: false };

function ledgerHolds(st: CreditState): boolean {
  const sum = st.vcpus.reduce((t, v) => t + v.creditNs, 0);
  return sum === st.ledger.issuedNs - st.ledger.burnedNs - st.ledger.forfeitedNs;
}

describe('Credit shares', () => {
  it('splits CPU 1:2 between busy vCPUs of weight 256 and 512 over 3 s (within one 30 ms slice)', () => {
    const r = runScheduler(credit, {
      pcpus: 1,
      vcpus: [
        { spec: spec(0, 256), behaviour: busy },
        { spec: spec(0, 512), behaviour: busy },
      ],
      untilNs: 3_000 * MS,
    });
    expect(harnessViolations(r)).toEqual([]);
    expect(r.idleNs[0]).toBe(0);
    expect(Math.abs(r.cpuNs[0] - 1_000 * MS)).toBeLessThanOrEqual(TSLICE_NS);
    expect(Math.abs(r.cpuNs[1] - 2_000 * MS)).toBeLessThanOrEqual(TSLICE_NS);
  });

  it('keeps each pCPU to its own vCPUs (pinned, no stealing) and idles a pCPU with nothing to run', () => {
    const r = runScheduler(credit, {
      pcpus: 3,
      vcpus: [
        { spec: spec(0, 256), behaviour: busy },
        { spec: spec(0, 256), behaviour: busy },
        { spec: spec(0, 256), behaviour: busy },
        { spec: spec(1, 256), behaviour: busy },
      ],
      untilNs: 900 * MS,
    });
    expect(harnessViolations(r)).toEqual([]);
    for (const run of r.runs) expect(run.pcpu).toBe(run.vcpu < 3 ? 0 : 1);
    expect(r.cpuNs[3]).toBe(900 * MS);
    expect(r.idleNs[2]).toBe(900 * MS);
    for (let v = 0; v < 3; v++) expect(Math.abs(r.cpuNs[v] - 300 * MS)).toBeLessThanOrEqual(TSLICE_NS);
  });

  it('splitCredits: exact pot, never above a limit, and no drift when remainders are carried', () => {
    const entries = [
      { weight: 256, limitNs: TSLICE_NS },
      { weight: 512, limitNs: TSLICE_NS },
      { weight: 7, limitNs: TSLICE_NS },
      { weight: 300, limitNs: 4 * MS }, // saturates: its share would be ~8.4 ms
    ];
    const pot = 30_000_001; // odd on purpose
    const rem = entries.map(() => 0);
    const total = entries.map(() => 0);
    for (let k = 1; k <= 1_000; k++) {
      const { sharesNs, remainders } = splitCredits(
        pot,
        entries.map((e, i): ShareEntry => ({ ...e, remainder: rem[i] })),
      );
      expect(sharesNs.reduce((a, b) => a + b, 0)).toBe(pot);
      expect(remainders.reduce((a, b) => a + b, 0)).toBe(0);
      sharesNs.forEach((s, i) => {
        expect(s).toBeLessThanOrEqual(entries[i].limitNs);
        rem[i] = remainders[i];
        total[i] += s;
      });
      // The proportional three: within 1 ns of k * (pot - 4 ms) * w / W, at every k.
      for (let i = 0; i < 3; i++) {
        const exact = (k * (pot - 4 * MS) * entries[i].weight) / 775;
        expect(Math.abs(total[i] - exact)).toBeLessThan(1);
      }
    }
    expect(total[3]).toBe(1_000 * 4 * MS);
    // Everyone saturated: only the sum of the limits is handed out.
    expect(splitCredits(10 * MS, [{ weight: 1, limitNs: 2 * MS, remainder: 0 }]).sharesNs).toEqual([2 * MS]);
  });

  it('conserves credit exactly over a long mixed run, and burns exactly the CPU run', () => {
    let checks = 0;
    const r = runScheduler(credit, {
      pcpus: 2,
      vcpus: [
        { spec: spec(0, 256), behaviour: busy },
        { spec: spec(0, 512), behaviour: { kind: 'periodic', runNs: 3_300_001, blockNs: 7_000_003 } },
        { spec: spec(0, 7, 40), behaviour: busy },
        { spec: spec(1, 1000), behaviour: { kind: 'periodic', runNs: 123_457, blockNs: 45_679 } },
        {
          spec: spec(1, 300, 25),
          behaviour: { kind: 'periodic', runNs: 40 * MS, blockNs: 90 * MS },
          startNs: 5 * MS,
        },
      ],
      untilNs: 20_000 * MS,
      onCall: (_c, st) => {
        checks++;
        if (!ledgerHolds(st)) throw new Error(`ledger broken after call ${checks}`);
      },
    });
    expect(harnessViolations(r)).toEqual([]);
    const st = r.state;
    expect(ledgerHolds(st)).toBe(true);
    // Every vCPU was charged up to the last call; nothing after it ran yet.
    const lastCharge = Math.max(...st.pcpus.map((p) => p.chargedToNs));
    expect(lastCharge).toBe(20_000 * MS);
    expect(st.ledger.burnedNs).toBe(r.cpuNs.reduce((a, b) => a + b, 0));
    expect(st.vcpus.reduce((t, v) => t + v.earnedNs, 0)).toBe(st.ledger.issuedNs);
    expect(st.ledger.issuedNs).toBeLessThanOrEqual(st.accountings * 2 * TSLICE_NS);
    expect(st.accountings).toBe(666);
  });
});

describe('Credit cap', () => {
  const Q = (cap: number) => (cap * TSLICE_NS) / 100;

  /** Checks the derived bounds for capped vCPU v; returns the largest per-period CPU. */
  function checkCap(r: ReturnType<typeof runScheduler>, v: number, cap: number): number {
    const per = cpuPerWindow(r.runsByVcpu[v], 0, TSLICE_NS, r.elapsedNs);
    for (const x of per) expect(x).toBeLessThanOrEqual(Q(cap) + TICK_NS);
    for (let i = 0; i < per.length; i++) {
      let sum = 0;
      for (let j = i; j < per.length; j++) {
        sum += per[j];
        expect(sum).toBeLessThanOrEqual((j - i + 1) * Q(cap) + TICK_NS);
        if (i === 0) expect(sum).toBeLessThanOrEqual(j * Q(cap) + TICK_NS);
      }
    }
    return Math.max(...per);
  }

  const scenarios: { name: string; pcpus: number; vcpus: HarnessVcpu[]; capped: [number, number][] }[] = [
    { name: '30% alone', pcpus: 1, vcpus: [{ spec: spec(0, 256, 30), behaviour: busy }], capped: [[0, 30]] },
    {
      name: '30% against a busy uncapped vCPU',
      pcpus: 1,
      vcpus: [
        { spec: spec(0, 256, 30), behaviour: busy },
        { spec: spec(0, 256), behaviour: busy },
      ],
      capped: [[0, 30]],
    },
    {
      name: '30% with heavy weight, against a boosting I/O vCPU',
      pcpus: 1,
      vcpus: [
        { spec: spec(0, 4096, 30), behaviour: busy },
        { spec: spec(0, 256), behaviour: { kind: 'periodic', runNs: 1 * MS, blockNs: 4 * MS } },
      ],
      capped: [[0, 30]],
    },
    {
      name: '20% and 55% on two pCPUs, bursty',
      pcpus: 2,
      vcpus: [
        { spec: spec(0, 256, 20), behaviour: { kind: 'periodic', runNs: 25 * MS, blockNs: 50 * MS } },
        { spec: spec(1, 256, 55), behaviour: busy },
        { spec: spec(1, 256), behaviour: { kind: 'periodic', runNs: 2 * MS, blockNs: 9 * MS } },
      ],
      capped: [
        [0, 20],
        [1, 55],
      ],
    },
  ];
  for (const s of scenarios) {
    it(`holds per accounting period (Q + tick) and cumulatively (m Q + tick): ${s.name}`, () => {
      const r = runScheduler(credit, { pcpus: s.pcpus, vcpus: s.vcpus, untilNs: 3_000 * MS });
      expect(harnessViolations(r)).toEqual([]);
      for (const [v, cap] of s.capped) {
        checkCap(r, v, cap);
        // And a busy one does get its cap: credit is paid in arrears (the last
        // allowance cannot be spent), so over m periods it runs at least m Q - (Q + tick).
        if (s.vcpus[v].behaviour.kind === 'busy') {
          expect(r.cpuNs[v]).toBeGreaterThanOrEqual(100 * Q(cap) - Q(cap) - TICK_NS);
        }
      }
    });
  }

  it('holds for random caps, weights and behaviours (fast-check, fixed seed)', () => {
    const behaviour = fc.oneof(
      fc.constant<Behaviour>(busy),
      fc
        .record({
          runNs: fc.integer({ min: 50_000, max: 40 * MS }),
          blockNs: fc.integer({ min: 50_000, max: 40 * MS }),
        })
        .map((b): Behaviour => ({ kind: 'periodic', ...b })),
    );
    const vcpu = fc.record({
      weight: fc.integer({ min: 1, max: 2_000 }),
      capPct: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 })),
      behaviour,
      startNs: fc.integer({ min: 0, max: 50 * MS }),
    });
    fc.assert(
      fc.property(fc.array(vcpu, { minLength: 1, maxLength: 4 }), (list) => {
        const vcpus = list.map((x) => ({
          spec: spec(0, x.weight, x.capPct),
          behaviour: x.behaviour,
          startNs: x.startNs,
        }));
        const r = runScheduler(credit, { pcpus: 1, vcpus, untilNs: 600 * MS });
        expect(harnessViolations(r)).toEqual([]);
        expect(ledgerHolds(r.state)).toBe(true);
        list.forEach((x, v) => {
          if (x.capPct > 0) checkCap(r, v, x.capPct);
        });
      }),
      { seed: SEED, numRuns: 50 },
    );
  });

  it('the bound Q + tick is reached: credit exactly 0 at a tick does not park', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0, 256, 30), 0); // Q = 9 ms
    const b = credit.addVcpu(st, spec(0, 256), 0);
    credit.wake(st, a, 0);
    expect(credit.doSchedule(st, 0, 0, none)).toEqual({ vcpu: a, runNs: TICK_NS });
    credit.doSchedule(st, 0, 0, { vcpu: a, ranNs: 0, runnable: false }); // active, credit 0, blocks
    for (const t of [10, 20, 30]) expect(credit.doSchedule(st, 0, t * MS, none).vcpu).toBe(IDLE);
    expect(st.vcpus[a]).toMatchObject({ creditNs: 9 * MS, pri: UNDER, parked: false });
    credit.wake(st, b, 30 * MS);
    credit.wake(st, a, 30 * MS);
    expect(credit.doSchedule(st, 0, 30 * MS, none)).toEqual({ vcpu: b, runNs: 10 * MS });
    expect(credit.doSchedule(st, 0, 31 * MS, { vcpu: b, ranNs: MS, runnable: false })).toEqual({
      vcpu: a,
      runNs: 9 * MS,
    });
    expect(credit.doSchedule(st, 0, 40 * MS, { vcpu: a, ranNs: 9 * MS, runnable: true })).toEqual({
      vcpu: a,
      runNs: 10 * MS,
    });
    expect(st.vcpus[a]).toMatchObject({ creditNs: 0, parked: false });
    expect(credit.doSchedule(st, 0, 50 * MS, { vcpu: a, ranNs: 10 * MS, runnable: true }).vcpu).toBe(IDLE);
    expect(st.vcpus[a]).toMatchObject({ creditNs: -10 * MS, parked: true });
    // a ran 19 ms = Q + tick in the accounting period [30, 60) ms.
  });
});

describe('Credit priorities and parking', () => {
  it('a vCPU waking with UNDER is boosted and preempts a running OVER vCPU at once, every time', () => {
    let wakes = 0;
    let last = -1;
    const r = runScheduler(credit, {
      pcpus: 1,
      vcpus: [
        { spec: spec(0), behaviour: busy },
        // Starts after the first tick, when the busy vCPU has lost its own BOOST.
        {
          spec: spec(0),
          behaviour: { kind: 'periodic', runNs: 700_000, blockNs: 4_300_000 },
          startNs: 12 * MS,
        },
      ],
      untilNs: 2_000 * MS,
      onCall: (c, st) => {
        if (c.op === 'wake' && c.vcpu === 1) {
          wakes++;
          expect(st.vcpus[1].pri).toBe(BOOST);
          expect(c.preempt).toBe(true);
          expect(st.pcpus[0].running).toBe(0);
          // The pCPU is saturated, so the busy vCPU spends more than its share: OVER.
          if (c.atNs > 100 * MS) expect(st.vcpus[0].pri).toBe(OVER);
          last = c.atNs;
        }
        if (c.op === 'doSchedule' && c.atNs === last) expect(c.decision.vcpu).toBe(1);
      },
    });
    expect(harnessViolations(r)).toEqual([]);
    // Never delayed: one 5 ms cycle per wake from 12 ms on, each fully run.
    expect(wakes).toBe(398);
    expect(r.cpuNs[1]).toBe(wakes * 700_000);
  });

  it('BOOST preempts a running UNDER vCPU, but not a running BOOST one', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    const b = credit.addVcpu(st, spec(0), 0);
    const c = credit.addVcpu(st, spec(0), 0);
    credit.wake(st, a, 0);
    expect(credit.doSchedule(st, 0, 0, none).vcpu).toBe(a);
    expect(credit.wake(st, b, 5 * MS)).toBe(false); // a is still BOOST
    expect(credit.doSchedule(st, 0, 10 * MS, { vcpu: a, ranNs: 10 * MS, runnable: true }).vcpu).toBe(a);
    expect(st.vcpus[a].pri).toBe(UNDER);
    expect(credit.wake(st, c, 15 * MS)).toBe(true); // BOOST > UNDER
    expect(credit.doSchedule(st, 0, 15 * MS, { vcpu: a, ranNs: 5 * MS, runnable: true }).vcpu).toBe(b);
    expect(st.pcpus[0].runq).toEqual([c, a]); // priority, then FIFO
  });

  it('BOOST ends at the next tick that finds it running', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    credit.wake(st, a, 0);
    expect(st.vcpus[a].pri).toBe(BOOST);
    credit.doSchedule(st, 0, 0, none);
    credit.doSchedule(st, 0, 10 * MS, { vcpu: a, ranNs: 10 * MS, runnable: true });
    expect(st.vcpus[a].pri).toBe(UNDER);
  });

  it('a parked vCPU never runs until accounting unparks it, and is not boosted then', () => {
    let parkedSince = -1;
    let parks = 0;
    const windows: [number, number][] = [];
    const r = runScheduler(credit, {
      pcpus: 1,
      vcpus: [
        { spec: spec(0, 256, 10), behaviour: busy },
        { spec: spec(0, 256), behaviour: { kind: 'periodic', runNs: 3 * MS, blockNs: 11 * MS } },
      ],
      untilNs: 3_000 * MS,
      onCall: (c, st) => {
        const v = st.vcpus[0];
        if (c.op === 'doSchedule') expect(v.parked && c.decision.vcpu === 0).toBe(false);
        if (v.parked && parkedSince < 0) {
          parkedSince = c.atNs;
          parks++;
        } else if (!v.parked && parkedSince >= 0) {
          expect(c.atNs % TSLICE_NS).toBe(0); // only accounting unparks
          expect(v.pri).toBe(UNDER);
          windows.push([parkedSince, c.atNs]);
          parkedSince = -1;
        }
      },
    });
    expect(parks).toBeGreaterThan(20);
    for (const [from, to] of windows) {
      for (const run of r.runsByVcpu[0]) expect(run.endNs <= from || run.startNs >= to).toBe(true);
    }
  });

  it('keeps a capped vCPU at most one allowance ahead, and rejects bad parameters', () => {
    const st = credit.init(1, 0);
    const v = credit.addVcpu(st, { domain: 3, pcpu: 0 }, 0);
    expect(st.vcpus[v]).toMatchObject({ weight: 256, capPct: 0, pri: UNDER, blocked: true });
    st.vcpus[v].creditNs = 20 * MS;
    st.ledger.issuedNs += 20 * MS;
    credit.adjust(st, v, { credit: { weight: 100, capPct: 30 } }, 0);
    expect(st.vcpus[v].creditNs).toBe(peakNs(st.vcpus[v]));
    expect(peakNs(st.vcpus[v])).toBe(9 * MS);
    expect(ledgerHolds(st)).toBe(true);
    expect(() => credit.adjust(st, v, { credit: { weight: 0, capPct: 0 } }, 0)).toThrow(/weight/);
    expect(() => credit.adjust(st, v, { credit: { weight: 1, capPct: -1 } }, 0)).toThrow(/capPct/);
    expect(() => credit.adjust(st, v, { pcpu: 2 }, 0)).toThrow(/pinned/);
    expect(() => credit.doSchedule(st, 0, 5, { vcpu: v, ranNs: 5, runnable: true })).toThrow(/driver says/);
  });

  it('never gives a decision that runs past the next tick', () => {
    runScheduler(credit, {
      pcpus: 2,
      vcpus: [
        { spec: spec(0), behaviour: busy },
        { spec: spec(1), behaviour: { kind: 'periodic', runNs: 13 * MS, blockNs: 3 * MS } },
      ],
      untilNs: 500 * MS,
      onCall: (c) => {
        if (c.op === 'doSchedule')
          expect(c.atNs + c.decision.runNs).toBeLessThanOrEqual((Math.floor(c.atNs / TICK_NS) + 1) * TICK_NS);
      },
    });
  });
});

describe('splitCredits: limits, carried remainders and rounding, exactly', () => {
  const e = (weight: number, limitNs: number, remainder = 0): ShareEntry => ({ weight, limitNs, remainder });

  it('an entry whose share is exactly its limit is full and comes back with remainder 0', () => {
    // 20 * 1 >= 10 * 2: full at 10. The other gets 10 - 1 (carried) = 9, plus the last ns.
    expect(splitCredits(20, [e(1, 10, 1), e(1, 100, -1)])).toEqual({
      sharesNs: [10, 10],
      remainders: [0, -1],
    });
    // Every entry full: only the limits are handed out, remainders all 0.
    expect(splitCredits(50, [e(1, 10, 1), e(3, 20, -1)])).toEqual({ sharesNs: [10, 20], remainders: [0, 0] });
  });

  it('carries remainders in, unless one would exceed its tiny share: then it drops them all', () => {
    // pot 0: 0 - 1 < 0, carry dropped: nothing for anyone, remainders 0.
    expect(splitCredits(0, [e(1, 10, -1), e(1, 10, 1)])).toEqual({ sharesNs: [0, 0], remainders: [0, 0] });
    // pot 1: 1 - 1 = 0 is not below zero, carry kept: (0, 2) / 2 = (0, 1).
    expect(splitCredits(1, [e(1, 100, -1), e(1, 100, 1)])).toEqual({ sharesNs: [0, 1], remainders: [0, 0] });
    // pot 1, W 3: 1 - 2 < 0, carry dropped: 1/3 each, the last ns to the first of equals.
    expect(splitCredits(1, [e(1, 100, -2), e(1, 100, 1), e(1, 100, 1)])).toEqual({
      sharesNs: [1, 0, 0],
      remainders: [-2, 1, 1],
    });
    // pot 2, W 4: 2 * 2 - 3 = 1 >= 0, carry kept: a = (1, 7), q = (0, 1), r = (1, 3).
    expect(splitCredits(2, [e(2, 100, -3), e(2, 100, 3)])).toEqual({ sharesNs: [0, 2], remainders: [1, -1] });
  });

  it('hands the last ns to the largest remainders, ties to the lower index, never past a limit', () => {
    expect(splitCredits(1, [e(1, 100), e(2, 100)])).toEqual({ sharesNs: [0, 1], remainders: [1, -1] });
    expect(splitCredits(2, [e(1, 100), e(1, 100), e(1, 100)])).toEqual({
      sharesNs: [1, 1, 0],
      remainders: [-1, -1, 2],
    });
    // W 7, a = 3 w = (3, 9, 6, 3): q = (0, 1, 0, 0), r = (3, 2, 6, 3); 2 ns left: entries 2 and 0.
    expect(splitCredits(3, [e(1, 100), e(3, 100), e(2, 100), e(1, 100)])).toEqual({
      sharesNs: [1, 1, 1, 0],
      remainders: [-4, 2, -1, 3],
    });
    // W 3, a = (31, 28, 28): q = (10, 9, 9), r = 1 each; entry 0 is at its limit 10: skipped.
    expect(splitCredits(29, [e(1, 10, 2), e(1, 100, -1), e(1, 100, -1)])).toEqual({
      sharesNs: [10, 10, 9],
      remainders: [1, -2, 1],
    });
  });

  it('throws an InvariantError when carried remainders out of range leave ns it cannot place', () => {
    // a = 4 - 3 = 1: 1 ns, then one more for the only entry; 2 ns left over.
    expect(() => splitCredits(4, [e(1, 5, -3)])).toThrow(InvariantError);
    expect(() => splitCredits(4, [e(1, 5, -3)])).toThrow(
      'splitCredits: 2 ns left with every entry at its limit',
    );
  });
});

describe('Credit accounting, queues and driver checks, exactly', () => {
  /** Runs ticks and accountings due by `t` (adjust with no change does nothing else). */
  const tickTo = (st: CreditState, t: number) => credit.adjust(st, 0, {}, t);
  /** Puts `v` on the active list at `t` without using CPU (dispatched, blocks after 0 ns). */
  const activate = (st: CreditState, v: number, t: number) => {
    expect(credit.wake(st, v, t)).toBe(true);
    expect(credit.doSchedule(st, 0, t, none).vcpu).toBe(v);
    expect(credit.doSchedule(st, 0, t, { vcpu: v, ranNs: 0, runnable: false }).vcpu).toBe(IDLE);
  };

  it('starts from a fresh, well-defined state', () => {
    expect(credit.name).toBe('credit');
    const st = credit.init(2, 7);
    const pc = { running: IDLE, dispatchedNs: 7, chargedToNs: 7, sliceEndNs: 7, tickled: false, runq: [] };
    expect(st).toEqual({
      vcpus: [],
      pcpus: [pc, pc],
      nextTickNs: 7 + TICK_NS,
      ticks: 0,
      accountings: 0,
      shareKey: '',
      ledger: { issuedNs: 0, burnedNs: 0, forfeitedNs: 0, debtNs: 0 },
      debt: { mode: 'off', spread: false, feedbackNs: 500 * MS },
      debtLedger: { addedNs: 0, paidNs: 0 },
    });
    expect(credit.addVcpu(st, spec(1, 5, 20, 4), 7)).toBe(0);
    expect(st.vcpus[0]).toEqual({
      domain: 4,
      pcpu: 1,
      weight: 5,
      capPct: 20,
      creditNs: 0,
      pri: UNDER,
      blocked: true,
      parked: false,
      active: false,
      shareRemainder: 0,
      earnedNs: 0,
      debtNs: 0,
    });
    expect(() => credit.addVcpu(st, spec(0.5), 7)).toThrow(/^credit: pcpu: 0.5 is not a pCPU/);
  });

  it('shares only among active vCPUs: one never charged earns nothing', () => {
    const st = credit.init(2, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    const b = credit.addVcpu(st, spec(0), 0);
    activate(st, a, 0);
    tickTo(st, 30 * MS);
    expect(st.ticks).toBe(3);
    expect(st.accountings).toBe(1);
    // Pot 2 x 30 ms, but one period is a's peak: the rest is not handed out.
    expect(st.vcpus[a]).toMatchObject({ creditNs: TSLICE_NS, earnedNs: TSLICE_NS, active: true });
    expect(st.vcpus[b]).toMatchObject({ creditNs: 0, earnedNs: 0, active: false });
    expect(st.ledger.issuedNs).toBe(TSLICE_NS);
  });

  it('carries share remainders while the sharing set is unchanged; above its peak a vCPU is halved', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0, 1), 0);
    const b = credit.addVcpu(st, spec(0, 6), 0);
    activate(st, a, 0);
    activate(st, b, 0);
    // W 7: a = 30e6 -> 4285714 r 2; b = 180e6 -> 25714285 r 5, plus the last ns: r -2.
    tickTo(st, 30 * MS);
    expect([st.vcpus[a].creditNs, st.vcpus[b].creditNs]).toEqual([4_285_714, 25_714_286]);
    expect([st.vcpus[a].shareRemainder, st.vcpus[b].shareRemainder]).toEqual([2, -2]);
    // Same set: carried. a = 30e6 + 2 -> r 4 gets the last ns; b = 180e6 - 2 -> r 3.
    tickTo(st, 60 * MS);
    expect(st.vcpus[a]).toMatchObject({ earnedNs: 8_571_429, shareRemainder: -3 });
    expect(st.vcpus[b]).toMatchObject({ earnedNs: 51_428_571, shareRemainder: 3 });
    // b is above its peak: halved (floor) and off the active list.
    expect(st.vcpus[b]).toMatchObject({ creditNs: 25_714_285, active: false });
    expect(st.ledger.forfeitedNs).toBe(25_714_286);
    expect(ledgerHolds(st)).toBe(true);
  });

  it('resets carried remainders when weights change, even with the same number of sharers', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0, 1), 0);
    const b = credit.addVcpu(st, spec(0, 6), 0);
    activate(st, a, 0);
    activate(st, b, 0);
    tickTo(st, 30 * MS);
    expect([st.vcpus[a].shareRemainder, st.vcpus[b].shareRemainder]).toEqual([2, -2]);
    credit.adjust(st, a, { credit: { weight: 6, capPct: 0 } }, 30 * MS);
    credit.adjust(st, b, { credit: { weight: 1, capPct: 0 } }, 30 * MS);
    // Fresh: a = 180e6 -> r 5, gets the last ns (r -2); b = 30e6 -> r 2.
    tickTo(st, 60 * MS);
    expect([st.vcpus[a].creditNs, st.vcpus[b].creditNs]).toEqual([TSLICE_NS, TSLICE_NS]);
    expect([st.vcpus[a].shareRemainder, st.vcpus[b].shareRemainder]).toEqual([-2, 2]);
  });

  it('re-sorts runqueues after accounting: FIFO among equals, then by the new priorities', () => {
    const st = credit.init(1, 0);
    credit.configureDebt?.(st, { mode: 'immediate', spread: false, feedbackNs: 500 * MS });
    const x = credit.addVcpu(st, spec(0, 1), 0);
    const y = credit.addVcpu(st, spec(0, 1000), 0);
    credit.addDebt?.(st, x, 30 * MS, 0);
    credit.addDebt?.(st, y, 30 * MS, 0);
    // W 1001: x earns 29970 (r 30), y 29970029 + the last ns (r 971 - 1001): both still OVER.
    tickTo(st, 30 * MS);
    expect(st.vcpus[x]).toMatchObject({ creditNs: -29_970_030, pri: OVER });
    expect(st.vcpus[y]).toMatchObject({ creditNs: -29_970, pri: OVER });
    // Waking OVER: no BOOST, FIFO.
    expect(credit.wake(st, x, 31 * MS)).toBe(true);
    expect(credit.wake(st, y, 32 * MS)).toBe(true);
    expect([st.vcpus[x].pri, st.vcpus[y].pri]).toEqual([OVER, OVER]);
    expect(st.pcpus[0].runq).toEqual([x, y]);
    // 60 ms: x stays OVER, y goes UNDER (-29970 + 29970030): y now first.
    tickTo(st, 60 * MS);
    expect(st.vcpus[x]).toMatchObject({ creditNs: -29_940_060, pri: OVER });
    expect(st.vcpus[y]).toMatchObject({ creditNs: 29_940_060, pri: UNDER });
    expect(st.pcpus[0].runq).toEqual([y, x]);
    expect(credit.doSchedule(st, 0, 60 * MS, none)).toEqual({ vcpu: y, runNs: TICK_NS });
  });

  it('sleep takes a vCPU off its runqueue (head or middle); waking it again puts it back', () => {
    const st = credit.init(1, 0);
    const [a, b, c] = [0, 1, 2].map(() => credit.addVcpu(st, spec(0), 0));
    for (const v of [a, b, c]) credit.wake(st, v, 0);
    expect(st.pcpus[0].runq).toEqual([a, b, c]);
    credit.sleep(st, b, 0);
    expect(st.pcpus[0].runq).toEqual([a, c]);
    credit.sleep(st, a, 0);
    expect(st.pcpus[0].runq).toEqual([c]);
    credit.sleep(st, a, 0); // not queued: nothing to remove
    expect(st.pcpus[0].runq).toEqual([c]);
    expect(st.vcpus[a].blocked).toBe(true);
    expect(credit.doSchedule(st, 0, 0, none).vcpu).toBe(c);
    expect(credit.wake(st, b, MS)).toBe(false); // BOOST does not preempt BOOST
    expect(st.pcpus[0].runq).toEqual([b]);
  });

  it('wake: a second wake, or waking the vCPU still on the pCPU, queues nothing', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    expect(credit.wake(st, a, 0)).toBe(true);
    expect(credit.wake(st, a, 0)).toBe(false);
    expect(st.pcpus[0].runq).toEqual([a]);
    expect(credit.doSchedule(st, 0, 0, none).vcpu).toBe(a);
    credit.sleep(st, a, MS); // paused while on the pCPU, then woken before it is descheduled
    expect(credit.wake(st, a, 2 * MS)).toBe(false);
    expect(st.vcpus[a].blocked).toBe(false);
    expect(st.pcpus[0].runq).toEqual([]);
    expect(credit.doSchedule(st, 0, 3 * MS, { vcpu: a, ranNs: 3 * MS, runnable: true })).toEqual({
      vcpu: a,
      runNs: 7 * MS,
    });
  });

  it('a decision ends at the end of the 30 ms slice when that comes before the next tick', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    credit.wake(st, a, 5 * MS);
    expect(credit.doSchedule(st, 0, 5 * MS, none)).toEqual({ vcpu: a, runNs: 5 * MS });
    const ran = (t: number, ns: number) =>
      credit.doSchedule(st, 0, t, { vcpu: a, ranNs: ns, runnable: true });
    expect(ran(10 * MS, 5 * MS)).toEqual({ vcpu: a, runNs: 10 * MS });
    expect(ran(20 * MS, 10 * MS)).toEqual({ vcpu: a, runNs: 10 * MS });
    expect(ran(30 * MS, 10 * MS)).toEqual({ vcpu: a, runNs: 5 * MS }); // slice ends at 35 ms
    expect(ran(35 * MS, 5 * MS)).toEqual({ vcpu: a, runNs: 5 * MS }); // new slice, to the tick
    expect(st.pcpus[0].sliceEndNs).toBe(65 * MS);
  });

  it('adjust parks a vCPU capped while in debt, keeps it parked under a new cap, unparks it uncapped', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    const b = credit.addVcpu(st, spec(0), 0);
    credit.wake(st, a, 0);
    credit.wake(st, b, 0);
    expect(credit.doSchedule(st, 0, 0, none).vcpu).toBe(a);
    expect(credit.doSchedule(st, 0, 10 * MS, { vcpu: a, ranNs: 10 * MS, runnable: true }).vcpu).toBe(a);
    credit.adjust(st, a, { credit: { weight: 256, capPct: 50 } }, 12 * MS);
    expect(st.vcpus[a]).toMatchObject({ creditNs: -10 * MS, parked: true });
    expect(credit.doSchedule(st, 0, 12 * MS, { vcpu: a, ranNs: 2 * MS, runnable: true }).vcpu).toBe(b);
    expect(st.pcpus[0].runq).toEqual([]);
    credit.adjust(st, a, { pcpu: 0, credit: { weight: 256, capPct: 40 } }, 13 * MS); // its own pCPU: fine
    expect(st.vcpus[a].parked).toBe(true);
    expect(st.pcpus[0].runq).toEqual([]);
    credit.adjust(st, a, { credit: { weight: 256, capPct: 0 } }, 14 * MS);
    expect(st.vcpus[a]).toMatchObject({ creditNs: -12 * MS, parked: false });
    expect(st.pcpus[0].runq).toEqual([a]);
  });

  it('refuses an unknown vCPU or pCPU, a driver that misreports the run, and time going backwards', () => {
    const st = credit.init(1, 0);
    const a = credit.addVcpu(st, spec(0), 0);
    expect(() => credit.wake(st, 5, 0)).toThrow(InvariantError);
    expect(() => credit.wake(st, 5, 0)).toThrow('credit: no vCPU 5');
    expect(() => credit.sleep(st, 5, 0)).toThrow('credit: no vCPU 5');
    expect(() => credit.doSchedule(st, 3, 0, none)).toThrow('credit: no pCPU 3');
    credit.wake(st, a, 0);
    expect(credit.doSchedule(st, 0, 0, none).vcpu).toBe(a);
    expect(() => credit.doSchedule(st, 0, 5 * MS, { vcpu: a, ranNs: 4 * MS, runnable: true })).toThrow(
      'credit: pCPU 0 runs 0 since 0 ns; the driver says 0 ran 4000000 ns at 5000000',
    );
    expect(credit.doSchedule(st, 0, 6 * MS, { vcpu: a, ranNs: 6 * MS, runnable: true }).vcpu).toBe(a);
    expect(() => credit.doSchedule(st, 0, 5 * MS, { vcpu: a, ranNs: -MS, runnable: true })).toThrow(
      'credit: charging vCPU 0 -1000000 ns',
    );
    expect(() => credit.addVcpu(st, { domain: 1, pcpu: 1 }, 6 * MS)).toThrow(IsosimError);
  });
});
