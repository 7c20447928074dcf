/**
 * SEDF, the simple earliest-deadline-first scheduler the paper's experiments ran on,
 * as restated in `spec/mechanisms.md`, section "SEDF (allocate) and SEDF-DC", with
 * details from Xen's own `xen/common/sched_sedf.c` (removed in Xen 4.6; read at the
 * commit before `038c6afe08 xen: kill sched_sedf.c`).
 *
 * Design
 * - Each vCPU has a slice `s` and a period `p`: it is guaranteed `s` of CPU in every
 *   period. Per vCPU: deadline `d` (end of the current period), remaining `r` (slice
 *   left in this period), the `extratime` flag, and `debtNs`.
 * - Queues per pCPU: Qr (runnable, earliest deadline first), Qw (slice used up,
 *   waiting for the next period) and Qb (blocked). They are kept as a `queue` tag on
 *   each vCPU; picking scans the pCPU's vCPUs in (deadline, index) order. Hosts have
 *   tens of vCPUs, so a scan is cheap, and the state stays plain JSON.
 * - Periods are a fixed grid per vCPU: the first starts when the vCPU is added
 *   (`d = NOW + p`), and every later deadline is that plus a whole number of periods.
 * - SEDF-DC (spec, "SEDF (allocate) and SEDF-DC"): with debt collection on
 *   (`configureDebt`), `addDebt` adds the IDD's CPU spent for a vCPU to its `debtNs`,
 *   and the three places where debt is paid (spec steps 1, 3 and 6) are `chargeDebt`,
 *   `freshSlice` and `payMissedPeriods`; nothing else touches `r` at a period
 *   boundary. Every nanosecond of debt is either outstanding or paid, once
 *   (`debtLedger`; tested). Modes and spreading: types.ts, `DebtOptions`.
 * - Work-conserving mode: when Qr is empty, runnable vCPUs with `extratime` that wait
 *   in Qw share the slack round-robin, `EXTRA_QUANTUM_NS` at a time. Time run in
 *   extratime is not charged against `r`.
 *
 * Invariants
 * - A vCPU runs in its slice only while `d - p <= NOW < d`, for at most `r`, and no
 *   decision crosses its own deadline; `r` is refilled at most once per period. So
 *   without extratime a vCPU gets at most `s` in every period `[d - p, d)` (tested).
 * - With total utilisation <= 100% and busy vCPUs, EDF meets every deadline, so each
 *   gets exactly `s` per period (tested).
 * - Every decision's `runNs` is a positive integer.
 */
import { InvariantError, IsosimError } from '@isosim/core';
import {
  DEBT_MODES,
  type DebtLedger,
  type DebtOptions,
  type Decision,
  IDLE,
  type PrevRun,
  type SchedulerOps,
  type SedfParams,
  type VcpuSpec,
} from './types.ts';

/**
 * Slack is handed out round-robin in quanta of 1 ms: short enough that several
 * extratime vCPUs share a gap fairly, long enough that a busy host does not
 * reschedule more than 1000 times a second per pCPU for slack alone. (Xen's
 * `EXTRA_QUANTUM` was 500 µs; the exact value does not change any guarantee.)
 */
export const EXTRA_QUANTUM_NS = 1_000_000;
/** An idle pCPU with nothing waiting for a new period sleeps at most 1 s between decisions. */
export const IDLE_MAX_NS = 1_000_000_000;
/** Default period of a vCPU given no parameters: Xen's `WEIGHT_PERIOD`, 100 ms. */
export const DEFAULT_PERIOD_NS = 100_000_000;
/** Defaults for a vCPU added without SEDF parameters: best effort, as Xen's `sedf_alloc_vdata`. */
export const DEFAULT_SEDF: SedfParams = { sliceNs: 0, periodNs: DEFAULT_PERIOD_NS, extratime: true };

/** Qr, Qw or Qb. */
export type SedfQueue = 'run' | 'wait' | 'blocked';

export interface SedfVcpu {
  readonly domain: number;
  readonly pcpu: number;
  sliceNs: number;
  periodNs: number;
  extratime: boolean;
  /** End of the current period. */
  deadlineNs: number;
  /** Slice left in the current period. */
  remainingNs: number;
  /** Used this period beyond the slice, after `adjust` shrank the slice below it. */
  overNs: number;
  /** CPU the IDD spent on this vCPU's behalf, still to be paid (SEDF-DC). */
  debtNs: number;
  /** Spread-debt: most debt a period may pay (-1: no limit), and what is left of it. */
  spreadNs: number;
  spreadLeftNs: number;
  queue: SedfQueue;
}

export interface SedfPcpu {
  /** What this pCPU was told to run by the last decision (a vCPU or IDLE). */
  running: number;
  /** Whether that vCPU runs in extratime (not charged against its slice). */
  extra: boolean;
  /** The vCPU last given an extratime quantum here, for round-robin (IDLE: none yet). */
  extraLast: number;
}

export interface SedfState {
  vcpus: SedfVcpu[];
  pcpus: SedfPcpu[];
  debt: DebtOptions;
  ledger: DebtLedger;
}

// --- Where SEDF-DC pays debt (spec steps 1, 3, 6).

/** The most debt this period may still pay (spread-debt), or +Infinity. */
function allowance(v: SedfVcpu): number {
  return v.spreadNs < 0 ? Number.POSITIVE_INFINITY : Math.max(0, v.spreadLeftNs);
}

function pay(st: SedfState, v: SedfVcpu, ns: number): void {
  if (ns <= 0) return;
  v.debtNs -= ns;
  st.ledger.paidNs += ns;
  if (v.spreadNs >= 0) v.spreadLeftNs -= ns;
}

/**
 * Steps 1 and 6 (NOW < d): pay debt from the remaining slice: if `debt <= r` then
 * `r -= debt; debt = 0`, else `debt -= r; r = 0` (within the spread allowance). Only
 * in `immediate` mode: `next-quantum` leaves the current quantum alone.
 */
function chargeDebt(st: SedfState, v: SedfVcpu): void {
  if (st.debt.mode !== 'immediate' || v.debtNs === 0) return;
  const c = Math.min(v.debtNs, v.remainingNs, allowance(v));
  v.remainingNs -= c;
  pay(st, v, c);
}

/**
 * Steps 3 and 6 (new period): the slice a new period starts with, `s ∸ debt`, and the
 * debt it pays, `min(s, debt)` (within the spread allowance, which a new period renews).
 */
function freshSlice(st: SedfState, v: SedfVcpu): number {
  if (st.debt.mode === 'off') return v.sliceNs;
  v.spreadLeftNs = v.spreadNs;
  const c = Math.min(v.debtNs, v.sliceNs, allowance(v));
  pay(st, v, c);
  return v.sliceNs - c;
}

/**
 * Step 6 (NOW >= d): `bl` whole periods were missed while blocked; their unused time,
 * `r + bl * s`, pays debt before the new period starts: `debt = debt ∸ (r + bl * s)`.
 */
function payMissedPeriods(st: SedfState, v: SedfVcpu, bl: number): void {
  if (st.debt.mode === 'off' || v.debtNs === 0) return;
  pay(st, v, Math.min(v.debtNs, v.remainingNs + bl * v.sliceNs));
}

// ---

/** End of the period (on the vCPU's grid) that contains `nowNs`, given `d <= nowNs`. */
function periodEndContaining(v: SedfVcpu, nowNs: number): number {
  const bl = Math.floor((nowNs - v.deadlineNs) / v.periodNs);
  return v.deadlineNs + (bl + 1) * v.periodNs;
}

/** Starts the period ending at `deadlineNs` with a fresh slice; queues the vCPU. */
function startPeriod(st: SedfState, v: SedfVcpu, deadlineNs: number): void {
  v.remainingNs = freshSlice(st, v);
  v.overNs = 0;
  v.deadlineNs = deadlineNs;
  v.queue = v.remainingNs > 0 ? 'run' : 'wait';
}

/**
 * Step 3, and Xen's `update_queues`. A vCPU in Qw whose next period has started gets
 * a fresh slice. The spec writes `d += p`; if several periods went by (a late driver,
 * or a slice of 0 that never leaves Qw) we jump to the period that contains NOW, as
 * Xen does, so `d > NOW` afterwards. A vCPU still in Qr at its deadline has missed
 * it (possible after a late wake, below): like Xen, it loses what is left and starts
 * the period that contains NOW.
 */
function updateQueues(st: SedfState, pcpu: number, nowNs: number): void {
  for (const v of st.vcpus) {
    if (v.pcpu !== pcpu || v.queue === 'blocked' || nowNs < v.deadlineNs) continue;
    startPeriod(st, v, periodEndContaining(v, nowNs));
  }
}

function checkParams(p: SedfParams, where: string): void {
  const { sliceNs, periodNs } = p;
  if (!Number.isSafeInteger(periodNs) || periodNs <= 0) {
    throw new IsosimError(
      where,
      'periodNs',
      `${periodNs} is not a period`,
      'give a positive whole number of ns',
    );
  }
  if (!Number.isSafeInteger(sliceNs) || sliceNs < 0 || sliceNs > periodNs) {
    throw new IsosimError(
      where,
      'sliceNs',
      `${sliceNs} does not fit the period ${periodNs}`,
      'give 0 <= slice <= period',
    );
  }
}

function vcpuOf(st: SedfState, vcpu: number): SedfVcpu {
  const v = st.vcpus[vcpu];
  if (v === undefined) throw new InvariantError(`sedf: no vCPU ${vcpu}`);
  return v;
}

/** The earliest release (`d` of a Qw vCPU) on `pcpu`, or +Infinity. After step 3 it is > NOW. */
function nextRelease(st: SedfState, pcpu: number): number {
  let t = Number.POSITIVE_INFINITY;
  for (const v of st.vcpus) if (v.pcpu === pcpu && v.queue === 'wait' && v.deadlineNs < t) t = v.deadlineNs;
  return t;
}

/** Head of Qr: earliest deadline, ties to the lower index. */
function edfHead(st: SedfState, pcpu: number): number {
  let best = IDLE;
  for (let i = 0; i < st.vcpus.length; i++) {
    const v = st.vcpus[i];
    if (v.pcpu !== pcpu || v.queue !== 'run') continue;
    if (best === IDLE || v.deadlineNs < st.vcpus[best].deadlineNs) best = i;
  }
  return best;
}

/** Next extratime vCPU after `last` in index order (wrapping), among those waiting in Qw. */
function nextExtra(st: SedfState, pcpu: number, last: number): number {
  let first = IDLE;
  for (let i = 0; i < st.vcpus.length; i++) {
    const v = st.vcpus[i];
    if (v.pcpu !== pcpu || v.queue !== 'wait' || !v.extratime) continue;
    if (i > last) return i;
    if (first === IDLE) first = i;
  }
  return first;
}

export const sedf: SchedulerOps<SedfState> = {
  name: 'sedf',

  init(pcpus: number): SedfState {
    if (!Number.isSafeInteger(pcpus) || pcpus < 1) {
      throw new IsosimError('sedf', 'pcpus', `${pcpus} is not a CPU count`, 'give a whole number >= 1');
    }
    const cpus: SedfPcpu[] = [];
    for (let p = 0; p < pcpus; p++) cpus.push({ running: IDLE, extra: false, extraLast: IDLE });
    return {
      vcpus: [],
      pcpus: cpus,
      debt: { mode: 'off', spread: false, feedbackNs: 500_000_000 },
      ledger: { addedNs: 0, paidNs: 0 },
    };
  },

  addVcpu(st: SedfState, spec: VcpuSpec, nowNs: number): number {
    if (!(spec.pcpu >= 0 && spec.pcpu < st.pcpus.length && Number.isInteger(spec.pcpu))) {
      throw new IsosimError(
        'sedf',
        'pcpu',
        `${spec.pcpu} is not a pCPU of this host`,
        `give 0..${st.pcpus.length - 1}`,
      );
    }
    const params = spec.sedf ?? DEFAULT_SEDF;
    checkParams(params, 'sedf');
    st.vcpus.push({
      domain: spec.domain,
      pcpu: spec.pcpu,
      sliceNs: params.sliceNs,
      periodNs: params.periodNs,
      extratime: params.extratime,
      deadlineNs: nowNs + params.periodNs,
      remainingNs: params.sliceNs,
      overNs: 0,
      debtNs: 0,
      spreadNs: -1,
      spreadLeftNs: 0,
      queue: 'blocked',
    });
    return st.vcpus.length - 1;
  },

  // Step 6.
  wake(st: SedfState, vcpu: number, nowNs: number): boolean {
    const v = vcpuOf(st, vcpu);
    if (v.queue !== 'blocked') return false; // Already runnable: nothing changes.
    if (nowNs < v.deadlineNs) {
      chargeDebt(st, v);
      v.queue = v.remainingNs > 0 ? 'run' : 'wait';
    } else {
      // The paper writes the new deadline as `d + p`; with `bl` whole periods missed
      // that lands in the past. We take the consistent reading, `d + (bl + 1) p`: the
      // end of the period that contains NOW, on the vCPU's grid.
      const bl = Math.floor((nowNs - v.deadlineNs) / v.periodNs);
      payMissedPeriods(st, v, bl);
      startPeriod(st, v, v.deadlineNs + (bl + 1) * v.periodNs);
    }
    const pc = st.pcpus[v.pcpu];
    if (pc.running === IDLE) return true;
    if (v.queue !== 'run') return false; // It can only run in slack; it joins the round-robin.
    return pc.extra || v.deadlineNs < st.vcpus[pc.running].deadlineNs;
  },

  sleep(st: SedfState, vcpu: number): void {
    // If it is running, its time is accounted at the next doSchedule on its pCPU.
    vcpuOf(st, vcpu).queue = 'blocked';
  },

  doSchedule(st: SedfState, pcpu: number, nowNs: number, prev: PrevRun): Decision {
    const pc = st.pcpus[pcpu];
    if (pc === undefined) throw new InvariantError(`sedf: no pCPU ${pcpu}`);
    if (prev.vcpu !== pc.running) {
      throw new InvariantError(`sedf: pCPU ${pcpu} was running ${pc.running}, the driver says ${prev.vcpu}`);
    }
    if (prev.vcpu !== IDLE) {
      const v = st.vcpus[prev.vcpu];
      if (!pc.extra) {
        // Step 1 (and Xen's `desched_edf_dom`).
        v.remainingNs = Math.max(0, v.remainingNs - prev.ranNs);
        chargeDebt(st, v);
      }
      if (!prev.runnable) v.queue = 'blocked';
      else if (v.queue === 'run' && v.remainingNs === 0) v.queue = 'wait'; // Step 2.
    }
    updateQueues(st, pcpu, nowNs); // Step 3.
    const release = nextRelease(st, pcpu);
    // Steps 4 and 5: run the head of Qr until its slice is used up, its deadline, or
    // the next release of a Qw vCPU here (which may have an earlier deadline).
    const head = edfHead(st, pcpu);
    if (head !== IDLE) {
      const v = st.vcpus[head];
      const untilNs = Math.min(nowNs + v.remainingNs, v.deadlineNs, release);
      pc.running = head;
      pc.extra = false;
      return { vcpu: head, runNs: untilNs - nowNs };
    }
    const extra = nextExtra(st, pcpu, pc.extraLast);
    if (extra !== IDLE) {
      pc.running = extra;
      pc.extra = true;
      pc.extraLast = extra;
      return { vcpu: extra, runNs: Math.min(EXTRA_QUANTUM_NS, release - nowNs) };
    }
    pc.running = IDLE;
    pc.extra = false;
    return { vcpu: IDLE, runNs: release === Number.POSITIVE_INFINITY ? IDLE_MAX_NS : release - nowNs };
  },

  adjust(st: SedfState, vcpu: number, spec: Partial<VcpuSpec>): void {
    const v = vcpuOf(st, vcpu);
    if (spec.pcpu !== undefined && spec.pcpu !== v.pcpu) {
      throw new IsosimError(
        'sedf.adjust',
        'pcpu',
        `vCPU ${vcpu} is pinned to pCPU ${v.pcpu}`,
        'migration is not modelled',
      );
    }
    const p = spec.sedf;
    if (p === undefined) return;
    checkParams(p, 'sedf.adjust');
    // Keep the current period's start and the CPU already used in it; the period
    // takes its new length and the slice its new size (used time stays used, also
    // past a smaller slice: a later larger one gives back only what was not used).
    const usedNs = v.sliceNs - v.remainingNs + v.overNs;
    const startNs = v.deadlineNs - v.periodNs;
    v.sliceNs = p.sliceNs;
    v.periodNs = p.periodNs;
    v.extratime = p.extratime;
    v.deadlineNs = startNs + p.periodNs;
    v.remainingNs = Math.max(0, p.sliceNs - usedNs);
    v.overNs = Math.max(0, usedNs - p.sliceNs);
    if (v.queue !== 'blocked') v.queue = v.remainingNs > 0 ? 'run' : 'wait';
  },

  configureDebt(st: SedfState, options: DebtOptions): void {
    if (!DEBT_MODES.includes(options.mode)) {
      throw new IsosimError(
        'sedf',
        'debt.mode',
        `'${options.mode}' is not a mode`,
        `use ${DEBT_MODES.join(', ')}`,
      );
    }
    if (!Number.isSafeInteger(options.feedbackNs) || options.feedbackNs <= 0) {
      throw new IsosimError(
        'sedf',
        'debt.feedbackNs',
        `${options.feedbackNs} is not an interval`,
        'give ns > 0',
      );
    }
    st.debt = { ...options };
  },

  addDebt(st: SedfState, vcpu: number, debtNs: number): void {
    if (!Number.isSafeInteger(debtNs) || debtNs < 0)
      throw new InvariantError(`sedf: debt ${debtNs} for vCPU ${vcpu}`);
    const v = vcpuOf(st, vcpu);
    v.debtNs += debtNs;
    st.ledger.addedNs += debtNs;
    // Spread-debt: period_freq = floor(t / p); if > 1, at most floor(debt / period_freq) a period.
    const freq = Math.floor(st.debt.feedbackNs / v.periodNs);
    if (st.debt.spread && freq > 1) {
      v.spreadNs = Math.max(1, Math.floor(v.debtNs / freq));
      v.spreadLeftNs = v.spreadNs;
    } else {
      v.spreadNs = -1;
    }
  },

  debtLedger(st: SedfState) {
    let outstandingNs = 0;
    for (const v of st.vcpus) outstandingNs += v.debtNs;
    return { ...st.ledger, outstandingNs };
  },
};
