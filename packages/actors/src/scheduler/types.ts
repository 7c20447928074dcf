/**
 * The scheduler interface, after Xen's `struct scheduler` (xen/common/sched/private.h):
 * a table of operations over the scheduler's own state, so schedulers plug in the same
 * way. Each scheduler is pure logic over plain, JSON-serialisable data (`State`); the
 * XState machine in `schedulerMachine.ts` wraps any of them into an actor whose
 * context is that state, updated in place by one transition function (not with immer:
 * a copy per scheduler call cost 4x, `schedulerMachine.ts`), so the log can be folded
 * back into it.
 *
 * Units: all times are integer nanoseconds. vCPUs are numbered globally from 0 in the
 * order they were added; pCPUs from 0. `IDLE` stands for the idle vCPU.
 */
export const IDLE = -1;

export interface SedfParams {
  /** Guaranteed CPU per period, ns. */
  readonly sliceNs: number;
  readonly periodNs: number;
  /** Work-conserving: may run in slack time beyond its slice (Xen's `extratime`). */
  readonly extratime: boolean;
}

export interface CreditParams {
  /** Relative share (Xen default 256). */
  readonly weight: number;
  /** Upper bound in percent of one pCPU; 0 = no cap. */
  readonly capPct: number;
}

export interface VcpuSpec {
  /** Domain id (0 = Domain-0). */
  readonly domain: number;
  /** The pCPU this vCPU is pinned to. */
  readonly pcpu: number;
  readonly sedf?: SedfParams;
  readonly credit?: CreditParams;
}

/** What the previous vCPU on a pCPU did since the last decision. */
export interface PrevRun {
  readonly vcpu: number;
  /** Time it ran since it was dispatched, ns (0 for IDLE). */
  readonly ranNs: number;
  /** False if it blocked (or was put to sleep) while running. */
  readonly runnable: boolean;
}

export interface Decision {
  /** The vCPU to run next, or IDLE. */
  readonly vcpu: number;
  /** Run it for at most this long before calling `doSchedule` again, ns (> 0). */
  readonly runNs: number;
}

/**
 * Debt collection (the paper's SEDF-DC, section 4, and its extensions here):
 * - `off`: plain scheduler; debt added is recorded as outstanding and never paid.
 * - `immediate`: debt is paid from the remaining slice at every scheduler invocation
 *   and on wake (spec steps 1 and 6), and from the fresh slice of a new period (step 3).
 * - `next-quantum`: debt is paid only from the next quantum: a fresh slice, or the time
 *   of periods missed while blocked (seed 000: work done for a guest that has already
 *   used its quantum is charged to its next one).
 * `spread`: charge at most debt / floor(t / p) per period when that is more than one
 * period per feedback interval `t` (the paper's spread-debt optimisation).
 */
export type DebtMode = 'off' | 'immediate' | 'next-quantum';
export const DEBT_MODES: readonly DebtMode[] = ['off', 'immediate', 'next-quantum'];

export interface DebtOptions {
  readonly mode: DebtMode;
  readonly spread: boolean;
  /** The feedback interval `t`, ns. */
  readonly feedbackNs: number;
}

export interface DebtLedger {
  /** Debt added by feedback, ns. */
  addedNs: number;
  /** Debt paid from slices, credits or missed periods, ns. */
  paidNs: number;
}

export interface SchedulerOps<State> {
  readonly name: string;
  /** Fresh state for a host with `pcpus` physical CPUs. */
  init(pcpus: number, nowNs: number): State;
  /** Adds a vCPU (Xen's `insert_unit`); it starts blocked. Returns its index. */
  addVcpu(state: State, spec: VcpuSpec, nowNs: number): number;
  /** The vCPU became runnable. Returns true if its pCPU should reschedule now (preempt). */
  wake(state: State, vcpu: number, nowNs: number): boolean;
  /** The vCPU blocked or was paused while not running (a running one blocks via doSchedule). */
  sleep(state: State, vcpu: number, nowNs: number): void;
  /** Accounts `prev` and picks what `pcpu` runs next (Xen's `do_schedule`). */
  doSchedule(state: State, pcpu: number, nowNs: number, prev: PrevRun): Decision;
  /** Changes a vCPU's parameters (Xen's `adjust`). */
  adjust(state: State, vcpu: number, spec: Partial<VcpuSpec>, nowNs: number): void;
  /** Turns debt collection on or off (schedulers without it leave this out). */
  configureDebt?(state: State, options: DebtOptions): void;
  /** Adds IDD CPU spent on the vCPU's behalf to its debt, ns. */
  addDebt?(state: State, vcpu: number, debtNs: number, nowNs: number): void;
  /** Debt added, paid and outstanding so far. */
  debtLedger?(state: State): DebtLedger & { outstandingNs: number };
}
