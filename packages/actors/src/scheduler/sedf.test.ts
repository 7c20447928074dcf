import { InvariantError, IsosimError } from '@isosim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXTRA_QUANTUM_NS, sedf } from './sedf.ts';
import {
  type Behaviour,
  cpuPerWindow,
  type HarnessVcpu,
  harnessViolations,
  runScheduler,
} from './testHarness.ts';
import { IDLE, type VcpuSpec } from './types.ts';

const MS = 1_000_000;
const SEED = 20_060_611; // fixed: the properties are reproducible; fast-check prints it on failure

function spec(pcpu: number, sliceNs: number, periodNs: number, extratime = false): VcpuSpec {
  return { domain: 0, pcpu, sedf: { sliceNs, periodNs, extratime } };
}
const busy: Behaviour = { kind: 'busy' };

/** CPU of vCPU v in each of its whole periods (its grid starts at 0, when it was added). */
function perPeriod(r: ReturnType<typeof runScheduler>, v: number, periodNs: number): number[] {
  return cpuPerWindow(r.runsByVcpu[v], 0, periodNs, r.elapsedNs);
}

describe('SEDF hard reservation (extratime off)', () => {
  const sets: { name: string; pcpus: number; vcpus: [number, number, number][] }[] = [
    {
      name: '3/10 5/20 9/20 ms (100%)',
      pcpus: 1,
      vcpus: [
        [0, 3, 10],
        [0, 5, 20],
        [0, 9, 20],
      ],
    },
    {
      name: '1/4 1/2 1/4 ms (100%)',
      pcpus: 1,
      vcpus: [
        [0, 1, 4],
        [0, 1, 2],
        [0, 1, 4],
      ],
    },
    {
      name: 'Dom-0 15/20 and 2/10 ms (95%)',
      pcpus: 1,
      vcpus: [
        [0, 15, 20],
        [0, 2, 10],
      ],
    },
    {
      name: 'co-prime 7/30 11/70 13/110 ms (51%)',
      pcpus: 1,
      vcpus: [
        [0, 7, 30],
        [0, 11, 70],
        [0, 13, 110],
      ],
    },
    {
      name: 'two pCPUs, 100% each',
      pcpus: 2,
      vcpus: [
        [0, 3, 10],
        [0, 7, 10],
        [1, 1, 3],
        [1, 1, 3],
        [1, 1, 3],
      ],
    },
  ];
  for (const set of sets) {
    it(`gives every busy vCPU exactly its slice in every period: ${set.name}`, () => {
      const vcpus: HarnessVcpu[] = set.vcpus.map(([p, s, per]) => ({
        spec: spec(p, s * MS, per * MS),
        behaviour: busy,
      }));
      const r = runScheduler(sedf, { pcpus: set.pcpus, vcpus, untilNs: 4_620 * MS });
      expect(harnessViolations(r)).toEqual([]);
      set.vcpus.forEach(([, s, per], v) => {
        const got = perPeriod(r, v, per * MS);
        expect(got.length).toBeGreaterThanOrEqual(20);
        expect(new Set(got)).toEqual(new Set([s * MS]));
      });
      // What is not reserved is idle: 4620 ms is a whole number of every period here.
      for (let p = 0; p < set.pcpus; p++) {
        const reserved = set.vcpus
          .filter(([q]) => q === p)
          .reduce((t, [, s, per]) => t + (4_620 / per) * s, 0);
        expect(r.idleNs[p]).toBe((4_620 - reserved) * MS);
      }
    });
  }

  it('never gives a vCPU more than its slice, whatever the others do (fast-check, fixed seed)', () => {
    const behaviour = fc.oneof(
      fc.constant<Behaviour>(busy),
      fc.constant<Behaviour>({ kind: 'idle' }),
      fc
        .record({
          runNs: fc.integer({ min: 10_000, max: 20 * MS }),
          blockNs: fc.integer({ min: 10_000, max: 30 * MS }),
        })
        .map((b): Behaviour => ({ kind: 'periodic', ...b })),
    );
    const vcpu = fc.record({
      pcpu: fc.integer({ min: 0, max: 1 }),
      periodNs: fc.integer({ min: 100_000, max: 50 * MS }),
      share: fc.integer({ min: 1, max: 100 }),
      behaviour,
      startNs: fc.integer({ min: 0, max: 20 * MS }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.array(vcpu, { minLength: 1, maxLength: 6 }),
        (pcpus, raw) => {
          const list = raw.map((x) => ({ ...x, pcpu: x.pcpu % pcpus }));
          // Integer slices with total utilisation <= 100% per pCPU.
          const total = (p: number) => list.filter((x) => x.pcpu === p).reduce((t, x) => t + x.share, 0);
          const slices = list.map((x) => Math.floor((x.periodNs * x.share) / Math.max(100, total(x.pcpu))));
          const vcpus = list.map((x, i) => ({
            spec: spec(x.pcpu, slices[i], x.periodNs),
            behaviour: x.behaviour,
            startNs: x.startNs,
          }));
          const r = runScheduler(sedf, { pcpus, vcpus, untilNs: 300 * MS });
          expect(harnessViolations(r)).toEqual([]);
          list.forEach((x, v) => {
            for (const got of perPeriod(r, v, x.periodNs)) expect(got).toBeLessThanOrEqual(slices[v]);
          });
        },
      ),
      { seed: SEED, numRuns: 50 },
    );
  });

  it('gives exactly the slice when all vCPUs of a pCPU are busy from the start (fast-check, fixed seed)', () => {
    const vcpu = fc.record({
      periodNs: fc.integer({ min: 100_000, max: 50 * MS }),
      share: fc.integer({ min: 1, max: 100 }),
    });
    fc.assert(
      fc.property(fc.array(vcpu, { minLength: 1, maxLength: 5 }), (list) => {
        const total = Math.max(
          100,
          list.reduce((t, x) => t + x.share, 0),
        );
        const slices = list.map((x) => Math.floor((x.periodNs * x.share) / total));
        const vcpus = list.map((x, i) => ({ spec: spec(0, slices[i], x.periodNs), behaviour: busy }));
        const r = runScheduler(sedf, { pcpus: 1, vcpus, untilNs: 300 * MS });
        expect(harnessViolations(r)).toEqual([]);
        list.forEach((x, v) => {
          for (const got of perPeriod(r, v, x.periodNs)) expect(got).toBe(slices[v]);
        });
      }),
      { seed: SEED + 1, numRuns: 50 },
    );
  });
});

describe('SEDF earliest deadline first', () => {
  it('runs the earliest deadline first, each for its slice, then idles until the next release', () => {
    const picks: [number, number, number][] = [];
    runScheduler(sedf, {
      pcpus: 1,
      vcpus: [
        { spec: spec(0, 5 * MS, 30 * MS), behaviour: busy },
        { spec: spec(0, 2 * MS, 10 * MS), behaviour: busy },
        { spec: spec(0, 3 * MS, 20 * MS), behaviour: busy },
      ],
      untilNs: 11 * MS,
      onCall: (c) => {
        if (c.op === 'doSchedule') picks.push([c.atNs / MS, c.decision.vcpu, c.decision.runNs / MS]);
      },
    });
    expect(picks).toEqual([
      [0, 1, 2],
      [2, 2, 3],
      [5, 0, 5],
      [10, 1, 2],
    ]);
  });

  it('a woken vCPU preempts only if its deadline is earlier than the running one', () => {
    const st = sedf.init(1, 0);
    const a = sedf.addVcpu(st, spec(0, 50 * MS, 100 * MS), 0);
    const b = sedf.addVcpu(st, spec(0, 1 * MS, 5 * MS), 0);
    const c = sedf.addVcpu(st, spec(0, 1 * MS, 200 * MS), 0);
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: IDLE,
      runNs: 1_000 * MS,
    });
    expect(sedf.wake(st, a, 0)).toBe(true); // pCPU idle
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: a,
      runNs: 50 * MS,
    });
    expect(sedf.wake(st, c, 3 * MS)).toBe(false); // deadline 200 ms > 100 ms
    expect(sedf.wake(st, b, 3 * MS)).toBe(true); // deadline 5 ms < 100 ms
    expect(sedf.doSchedule(st, 0, 3 * MS, { vcpu: a, ranNs: 3 * MS, runnable: true })).toEqual({
      vcpu: b,
      runNs: 1 * MS,
    });
    expect(st.vcpus[a].remainingNs).toBe(47 * MS);
  });
});

describe('SEDF wake (spec step 6)', () => {
  function oneVcpu() {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 4 * MS, 10 * MS), 0);
    return { st, v };
  }

  it('starts blocked, with d = NOW + p and a full slice', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 4 * MS, 10 * MS), 7 * MS);
    expect(st.vcpus[v]).toMatchObject({
      queue: 'blocked',
      deadlineNs: 17 * MS,
      remainingNs: 4 * MS,
      debtNs: 0,
    });
    expect(sedf.doSchedule(st, 0, 7 * MS, { vcpu: IDLE, ranNs: 0, runnable: false }).vcpu).toBe(IDLE);
  });

  it('NOW < d: keeps what is left of the slice and the deadline', () => {
    const { st, v } = oneVcpu();
    sedf.wake(st, v, 0);
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: v,
      runNs: 4 * MS,
    });
    sedf.doSchedule(st, 0, 1 * MS, { vcpu: v, ranNs: 1 * MS, runnable: false }); // blocks after 1 ms
    expect(sedf.wake(st, v, 5 * MS)).toBe(true);
    expect(st.vcpus[v]).toMatchObject({ queue: 'run', deadlineNs: 10 * MS, remainingNs: 3 * MS });
    expect(sedf.doSchedule(st, 0, 5 * MS, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: v,
      runNs: 3 * MS,
    });
  });

  it('NOW < d with the slice used up: waits in Qw for its next period', () => {
    const { st, v } = oneVcpu();
    sedf.wake(st, v, 0);
    sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: false });
    sedf.doSchedule(st, 0, 4 * MS, { vcpu: v, ranNs: 4 * MS, runnable: false });
    sedf.wake(st, v, 6 * MS);
    expect(st.vcpus[v]).toMatchObject({ queue: 'wait', remainingNs: 0 });
    expect(sedf.doSchedule(st, 0, 6 * MS, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: IDLE,
      runNs: 4 * MS,
    });
    expect(sedf.doSchedule(st, 0, 10 * MS, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: v,
      runNs: 4 * MS,
    });
    expect(st.vcpus[v].deadlineNs).toBe(20 * MS);
  });

  it('NOW >= d: a fresh slice and d = end of the period containing NOW, i.e. d + (bl + 1) p', () => {
    const { st, v } = oneVcpu();
    // d = 10 ms; waking at 35 ms misses bl = 2 whole periods; the paper's "d + p" would be 20 ms, in the past.
    sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: false });
    sedf.wake(st, v, 35 * MS);
    expect(st.vcpus[v]).toMatchObject({ queue: 'run', deadlineNs: 40 * MS, remainingNs: 4 * MS });
    expect(sedf.doSchedule(st, 0, 35 * MS, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: v,
      runNs: 4 * MS,
    });
    // Exactly on a boundary, NOW = d + 2p: the new period is [d + 2p, d + 3p).
    const w = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS), 0);
    sedf.wake(st, w, 30 * MS);
    expect(st.vcpus[w].deadlineNs).toBe(40 * MS);
  });

  it('a late wake that cannot finish by d runs until d, then starts afresh (Xen update_queues)', () => {
    const { st, v } = oneVcpu();
    sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: false });
    sedf.wake(st, v, 8 * MS); // r = 4 ms but only 2 ms to d
    expect(sedf.doSchedule(st, 0, 8 * MS, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: v,
      runNs: 2 * MS,
    });
    expect(sedf.doSchedule(st, 0, 10 * MS, { vcpu: v, ranNs: 2 * MS, runnable: true })).toEqual({
      vcpu: v,
      runNs: 4 * MS,
    });
    expect(st.vcpus[v]).toMatchObject({ deadlineNs: 20 * MS, remainingNs: 4 * MS });
  });
});

describe('SEDF extratime (work-conserving)', () => {
  it('shares slack round-robin among extratime vCPUs only; the others keep exactly their slice', () => {
    const r = runScheduler(sedf, {
      pcpus: 1,
      vcpus: [
        { spec: spec(0, 2 * MS, 10 * MS, true), behaviour: busy },
        { spec: spec(0, 3 * MS, 10 * MS, false), behaviour: busy },
        { spec: spec(0, 1 * MS, 10 * MS, true), behaviour: busy },
      ],
      untilNs: 1_000 * MS,
    });
    expect(harnessViolations(r)).toEqual([]);
    expect(r.idleNs[0]).toBe(0);
    expect(new Set(perPeriod(r, 1, 10 * MS))).toEqual(new Set([3 * MS]));
    // 4 ms of slack per period, in 1 ms quanta alternating between vCPUs 0 and 2.
    for (const got of perPeriod(r, 0, 10 * MS)) expect(got).toBeGreaterThanOrEqual(2 * MS);
    for (const got of perPeriod(r, 2, 10 * MS)) expect(got).toBeGreaterThanOrEqual(1 * MS);
    expect(r.cpuNs[0]).toBe(400 * MS);
    expect(r.cpuNs[2]).toBe(300 * MS);
    for (const run of r.runs) expect(run.endNs - run.startNs).toBeLessThanOrEqual(3 * MS);
  });

  it('does not charge extratime against the slice, and a wake preempts it', () => {
    const st = sedf.init(1, 0);
    const a = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS, true), 0);
    const b = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS, false), 0);
    const idle = { vcpu: IDLE, ranNs: 0, runnable: false };
    sedf.wake(st, a, 0);
    expect(sedf.doSchedule(st, 0, 0, idle)).toEqual({ vcpu: a, runNs: 1 * MS });
    expect(sedf.doSchedule(st, 0, 1 * MS, { vcpu: a, ranNs: 1 * MS, runnable: true })).toEqual({
      vcpu: a,
      runNs: EXTRA_QUANTUM_NS,
    });
    expect(st.pcpus[0].extra).toBe(true);
    expect(sedf.wake(st, b, 1_500_000)).toBe(true); // preempts extratime, though b's deadline equals a's
    expect(sedf.doSchedule(st, 0, 1_500_000, { vcpu: a, ranNs: 500_000, runnable: true })).toEqual({
      vcpu: b,
      runNs: MS,
    });
    expect(st.vcpus[a]).toMatchObject({ remainingNs: 0, queue: 'wait' });
  });

  it('never runs a non-extratime vCPU in slack', () => {
    const r = runScheduler(sedf, {
      pcpus: 1,
      vcpus: [{ spec: spec(0, 2 * MS, 10 * MS, false), behaviour: busy }],
      untilNs: 100 * MS,
    });
    expect(r.cpuNs[0]).toBe(20 * MS);
    expect(r.idleNs[0]).toBe(80 * MS);
  });
});

describe('SEDF parameters and misuse', () => {
  it('adjust keeps the period start and the CPU used; rejects bad values and migration', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, { domain: 1, pcpu: 0 }, 0);
    expect(st.vcpus[v]).toMatchObject({
      sliceNs: 0,
      periodNs: 100 * MS,
      extratime: true,
      deadlineNs: 100 * MS,
    });
    sedf.adjust(st, v, { sedf: { sliceNs: 2 * MS, periodNs: 10 * MS, extratime: false } }, 0);
    expect(st.vcpus[v]).toMatchObject({
      sliceNs: 2 * MS,
      remainingNs: 2 * MS,
      deadlineNs: 10 * MS,
      queue: 'blocked',
    });
    expect(() => sedf.adjust(st, v, { sedf: { sliceNs: 11, periodNs: 10, extratime: false } }, 0)).toThrow(
      IsosimError,
    );
    expect(() => sedf.adjust(st, v, { sedf: { sliceNs: 1, periodNs: 0, extratime: false } }, 0)).toThrow(
      /periodNs/,
    );
    expect(() => sedf.adjust(st, v, { pcpu: 1 }, 0)).toThrow(/pinned/);
    expect(() => sedf.addVcpu(st, { domain: 1, pcpu: 3 }, 0)).toThrow(/pCPU/);
  });

  it('throws when the driver reports a different vCPU than the one it was told to run', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS), 0);
    expect(() => sedf.doSchedule(st, 0, 0, { vcpu: v, ranNs: 0, runnable: true })).toThrow(InvariantError);
  });
});

describe('SEDF edge cases', () => {
  it('waking a vCPU that is already runnable changes nothing and preempts nothing', () => {
    const st = sedf.init(1, 0);
    const a = sedf.addVcpu(st, spec(0, 2 * MS, 10 * MS), 0);
    const b = sedf.addVcpu(st, spec(0, 2 * MS, 5 * MS), 0);
    sedf.wake(st, a, 0);
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: true })).toEqual({
      vcpu: a,
      runNs: 2 * MS,
    });
    sedf.wake(st, b, MS);
    sedf.sleep(st, b, MS);
    const before = structuredClone(st.vcpus);
    // b is blocked again; a is running: waking a is a no-op even past its deadline.
    expect(sedf.wake(st, a, 12 * MS)).toBe(false);
    expect(st.vcpus).toEqual(before);
  });

  it('a driver that comes late finds the period containing NOW, not the next one', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 2 * MS, 10 * MS), 0);
    sedf.wake(st, v, 0);
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: true })).toEqual({
      vcpu: v,
      runNs: 2 * MS,
    });
    // The driver reschedules 35 ms later instead of at 2 ms (it ran 2 ms: its slice).
    const d = sedf.doSchedule(st, 0, 35 * MS, { vcpu: v, ranNs: 2 * MS, runnable: true });
    expect(st.vcpus[v]).toMatchObject({ deadlineNs: 40 * MS, remainingNs: 2 * MS, queue: 'run' });
    expect(d).toEqual({ vcpu: v, runNs: 2 * MS });
  });

  it('a vCPU with a zero slice never runs and sets the next release', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 0, 10 * MS), 0);
    expect(sedf.wake(st, v, 0)).toBe(true); // the pCPU idles: it is asked to decide
    expect(st.vcpus[v].queue).toBe('wait');
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: true })).toEqual({
      vcpu: IDLE,
      runNs: 10 * MS,
    });
    expect(sedf.doSchedule(st, 0, 10 * MS, { vcpu: IDLE, ranNs: 0, runnable: true })).toEqual({
      vcpu: IDLE,
      runNs: 10 * MS,
    });
    expect(st.vcpus[v]).toMatchObject({ deadlineNs: 20 * MS, queue: 'wait' });
  });

  it('idles for at most a second with nothing runnable, and is called sedf', () => {
    const st = sedf.init(2, 0);
    sedf.addVcpu(st, spec(1, 1 * MS, 10 * MS), 0);
    expect(sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: true })).toEqual({
      vcpu: IDLE,
      runNs: 1e9,
    });
    expect(sedf.name).toBe('sedf');
  });

  it('without debt collection configured, debt is recorded but never paid', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 2 * MS, 10 * MS), 0);
    sedf.addDebt?.(st, v, 5 * MS, 0);
    sedf.wake(st, v, 0);
    for (let t = 0; t < 50 * MS; t += 10 * MS) {
      // Each period: the whole slice, then idle until the next period.
      expect(sedf.doSchedule(st, 0, t, { vcpu: IDLE, ranNs: 0, runnable: true })).toEqual({
        vcpu: v,
        runNs: 2 * MS,
      });
      expect(sedf.doSchedule(st, 0, t + 2 * MS, { vcpu: v, ranNs: 2 * MS, runnable: true })).toEqual({
        vcpu: IDLE,
        runNs: 8 * MS,
      });
    }
    expect(sedf.debtLedger?.(st)).toEqual({ addedNs: 5 * MS, paidNs: 0, outstandingNs: 5 * MS });
    expect(() => sedf.addDebt?.(st, v, -1, 0)).toThrow(InvariantError);
    expect(() => sedf.addDebt?.(st, v, 0.5, 0)).toThrow(InvariantError);
    sedf.addDebt?.(st, v, 0, 0);
    expect(() => sedf.addDebt?.(st, 7, 1, 0)).toThrow(/no vCPU 7/);
    expect(() => sedf.doSchedule(st, 3, 0, { vcpu: IDLE, ranNs: 0, runnable: true })).toThrow(/no pCPU 3/);
  });
});

describe('SEDF: slack up to the next release, adjust of a runnable vCPU, messages', () => {
  it('an extratime quantum ends at the next release if that comes first', () => {
    const st = sedf.init(1, 0);
    const a = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS, true), 0);
    const b = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS, false), 0);
    sedf.wake(st, a, 0);
    sedf.wake(st, b, 0);
    const idle = { vcpu: IDLE, ranNs: 0, runnable: true };
    expect(sedf.doSchedule(st, 0, 0, idle)).toEqual({ vcpu: a, runNs: 1 * MS });
    expect(sedf.doSchedule(st, 0, MS, { vcpu: a, ranNs: MS, runnable: true })).toEqual({
      vcpu: b,
      runNs: MS,
    });
    // Both used up; a runs in slack until b's next period, 0.3 ms away.
    const at = 10 * MS - 300_000;
    expect(sedf.doSchedule(st, 0, at, { vcpu: b, ranNs: at - MS, runnable: true })).toEqual({
      vcpu: a,
      runNs: Math.min(EXTRA_QUANTUM_NS, 300_000),
    });
  });

  it('adjust of a runnable vCPU keeps the CPU used this period: a smaller slice may leave nothing', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 4 * MS, 10 * MS), 0);
    sedf.wake(st, v, 0);
    sedf.doSchedule(st, 0, 0, { vcpu: IDLE, ranNs: 0, runnable: true });
    sedf.doSchedule(st, 0, 3 * MS, { vcpu: v, ranNs: 3 * MS, runnable: true }); // 1 ms left
    sedf.adjust(st, v, { sedf: { sliceNs: 5 * MS, periodNs: 20 * MS, extratime: false } }, 3 * MS);
    expect(st.vcpus[v]).toMatchObject({ remainingNs: 2 * MS, deadlineNs: 20 * MS, queue: 'run' });
    sedf.adjust(st, v, { sedf: { sliceNs: 2 * MS, periodNs: 20 * MS, extratime: false } }, 3 * MS);
    expect(st.vcpus[v]).toMatchObject({ remainingNs: 0, queue: 'wait' });
    sedf.adjust(st, v, { sedf: { sliceNs: 4 * MS, periodNs: 20 * MS, extratime: false } }, 3 * MS);
    expect(st.vcpus[v]).toMatchObject({ remainingNs: MS, queue: 'run' });
  });

  it('says which vCPU the driver got wrong', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 1 * MS, 10 * MS), 0);
    expect(() => sedf.doSchedule(st, 0, 0, { vcpu: v, ranNs: 0, runnable: true })).toThrow(
      'sedf: pCPU 0 was running -1, the driver says 0',
    );
  });

  it('without debt collection, periods missed while blocked pay nothing either', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 2 * MS, 10 * MS), 0);
    sedf.addDebt?.(st, v, 5 * MS, 0);
    sedf.wake(st, v, 35 * MS);
    expect(st.vcpus[v]).toMatchObject({ remainingNs: 2 * MS, deadlineNs: 40 * MS, debtNs: 5 * MS });
  });
});

describe('SEDF-DC: spread-debt switched off again', () => {
  it('a debt added after spread-debt is turned off is paid without the per-period limit', () => {
    const st = sedf.init(1, 0);
    const v = sedf.addVcpu(st, spec(0, 4 * MS, 10 * MS), 0);
    sedf.configureDebt?.(st, { mode: 'immediate', spread: true, feedbackNs: 500 * MS });
    sedf.addDebt?.(st, v, 100 * MS, 0); // 50 periods a feedback: at most 2 ms a period
    expect(st.vcpus[v]).toMatchObject({ spreadNs: 2 * MS, spreadLeftNs: 2 * MS });
    sedf.configureDebt?.(st, { mode: 'immediate', spread: false, feedbackNs: 500 * MS });
    sedf.addDebt?.(st, v, 1, 0);
    expect(st.vcpus[v].spreadNs).toBe(-1);
    sedf.wake(st, v, 0); // pays min(debt, r) = the whole 4 ms slice at once
    expect(st.vcpus[v]).toMatchObject({ remainingNs: 0, debtNs: 96 * MS + 1, queue: 'wait' });
    expect(() => sedf.addDebt?.(st, v, -5, 0)).toThrow('sedf: debt -5 for vCPU 0');
  });
});
