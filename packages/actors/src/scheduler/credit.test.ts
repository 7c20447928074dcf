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
