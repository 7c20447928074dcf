/**
 * SEDF-DC (spec "SEDF (allocate) and SEDF-DC"): debt paid from slices exactly, the
 * blocked-periods rule, next-quantum charging and spread-debt.
 */
import { describe, expect, it } from 'vitest';
import { sedf } from './sedf.ts';
import { IDLE } from './types.ts';

const MS = 1_000_000;

function host(mode: 'immediate' | 'next-quantum', spread = false) {
  const st = sedf.init(1, 0);
  sedf.configureDebt?.(st, { mode, spread, feedbackNs: 500 * MS });
  const v = sedf.addVcpu(
    st,
    { domain: 1, pcpu: 0, sedf: { sliceNs: 3 * MS, periodNs: 10 * MS, extratime: false } },
    0,
  );
  return { st, v };
}

/** Runs an always-busy vCPU from `from` to `to`, returning the CPU it got per period. */
function runBusy(st: ReturnType<typeof sedf.init>, v: number, from: number, to: number): number[] {
  const got: number[] = [];
  let now = from;
  let prev = { vcpu: st.pcpus[0].running, ranNs: 0, runnable: true };
  while (now < to) {
    const d = sedf.doSchedule(st, 0, now, prev);
    const end = Math.min(to, now + d.runNs);
    if (d.vcpu === v) {
      const p = Math.floor(now / (10 * MS));
      got[p] = (got[p] ?? 0) + (end - now);
    }
    prev = { vcpu: d.vcpu, ranNs: d.vcpu === IDLE ? 0 : end - now, runnable: true };
    now = end;
  }
  return got;
}

describe('SEDF-DC', () => {
  it('pays debt from slices and neither creates nor loses time', () => {
    const { st, v } = host('immediate');
    sedf.wake(st, v, 0);
    sedf.addDebt?.(st, v, 7 * MS, 0);
    const got = runBusy(st, v, 0, 60 * MS);
    // The first slice was granted before the debt arrived and step 1 charges only what
    // is left of it after running (nothing). Then 7 ms of debt against 3 ms slices:
    // 0, 0, 2 (3 - the last 1), then 3 per period.
    expect(Array.from(got, (x) => x ?? 0)).toEqual([3 * MS, 0, 0, 2 * MS, 3 * MS, 3 * MS]);
    const l = sedf.debtLedger?.(st);
    expect(l).toEqual({ addedNs: 7 * MS, paidNs: 7 * MS, outstandingNs: 0 });
  });

  it('charges debt only to the next quantum in next-quantum mode', () => {
    const { st, v } = host('next-quantum');
    sedf.wake(st, v, 0);
    let prev = { vcpu: IDLE, ranNs: 0, runnable: false };
    const d = sedf.doSchedule(st, 0, 0, prev);
    expect(d).toEqual({ vcpu: v, runNs: 3 * MS });
    sedf.addDebt?.(st, v, 2 * MS, MS);
    prev = { vcpu: v, ranNs: MS, runnable: true };
    // The current quantum is untouched: 2 ms left.
    expect(sedf.doSchedule(st, 0, MS, prev)).toEqual({ vcpu: v, runNs: 2 * MS });
    prev = { vcpu: v, ranNs: 2 * MS, runnable: true };
    expect(sedf.doSchedule(st, 0, 3 * MS, prev).vcpu).toBe(IDLE);
    // The next period starts with 3 - 2 = 1 ms.
    expect(sedf.doSchedule(st, 0, 10 * MS, { vcpu: IDLE, ranNs: 0, runnable: false })).toEqual({
      vcpu: v,
      runNs: MS,
    });
  });

  it('lets periods missed while blocked pay the debt (spec step 6)', () => {
    const { st, v } = host('immediate');
    sedf.addDebt?.(st, v, 10 * MS, 0);
    // Blocked from 0; wakes at 35 ms: d was 10, bl = floor(25 / 10) = 2 missed periods.
    // Unused time r + bl * s = 3 + 6 = 9 pays 9 ms; the new period pays the last 1 ms.
    sedf.wake(st, v, 35 * MS);
    expect(st.vcpus[v].deadlineNs).toBe(40 * MS);
    expect(st.vcpus[v].remainingNs).toBe(2 * MS);
    expect(sedf.debtLedger?.(st)).toEqual({ addedNs: 10 * MS, paidNs: 10 * MS, outstandingNs: 0 });
  });

  it('spreads a debt over the periods of a feedback interval', () => {
    const { st, v } = host('immediate', true);
    sedf.wake(st, v, 0);
    // t / p = 50 periods: at most floor(100 ms / 50) = 2 ms of debt a period.
    sedf.addDebt?.(st, v, 100 * MS, 0);
    const got = runBusy(st, v, 0, 100 * MS);
    // The first slice predates the debt; every later one pays 2 ms and keeps 1 ms.
    expect(got[0]).toBe(3 * MS);
    for (let p = 1; p < 10; p++) expect(got[p]).toBe(MS);
    const l = sedf.debtLedger?.(st);
    expect(l?.paidNs).toBe(18 * MS);
    expect(l?.outstandingNs).toBe(82 * MS);
  });
});
