/**
 * One XState v5 machine for any scheduler: `createSchedulerMachine(ops)` wraps a
 * `SchedulerOps` table (types.ts, after Xen's `struct scheduler`) into an actor whose
 * context holds the scheduler's plain state, the last decision per pCPU and the
 * answer of the last wake. The hypervisor talks to it through `ActorSchedulerPort`.
 *
 * Design
 * - Every operation is an event of fixed shape (a type and at most four integer
 *   fields), so the kernel's log records it and a replay can fold the log back into
 *   the same state: `sched.add`, `sched.sedf`, `sched.credit`, `sched.dc`,
 *   `sched.debt`, `sched.wake`, `sched.sleep`, `sched.do_schedule`. Booleans travel
 *   as 0/1.
 * - One transition function, `applySchedulerEvent`, updates a context in place. The
 *   machine's action (`apply`, an `assign`) runs it on a copy, so the machine changes
 *   its context only through `assign`, as XState expects. The port's fast path
 *   (hypervisor/schedulerPort.ts) and a replay (replay/world.ts) run it in place: the
 *   scheduler runs on every context switch and cannot afford a copy per event (immer's
 *   `produce` here cost ~10 us an operation and made the whole host 4x slower). Both
 *   give the same state.
 * - Time is injected, not stored: the operations need "now", which `apply` reads from
 *   the clock it was built with, `schedulerClock(ops, nowNs)`, given to the machine
 *   with `machine.provide(...)` (the host passes the kernel's clock, a replay the
 *   record's time). The context stays plain JSON; a persisted snapshot restores with
 *   `createActor(machine.provide(schedulerClock(ops, now)), { snapshot })`.
 *
 * Invariants: `decisions[p]` is the answer of the last `sched.do_schedule` on pCPU p
 * (`{ vcpu: IDLE, runNs: 0 }` before the first); `preempt` that of the last wake.
 */
import { InvariantError } from '@isosim/core';
import { assign, setup } from 'xstate';
import { credit } from './credit.ts';
import { sedf } from './sedf.ts';
import { DEBT_MODES, type Decision, IDLE, type SchedulerOps } from './types.ts';

export type SchedulerEvent =
  | { readonly type: 'sched.add'; readonly domain: number; readonly pcpu: number }
  | {
      readonly type: 'sched.sedf';
      readonly vcpu: number;
      readonly sliceNs: number;
      readonly periodNs: number;
      /** 0 or 1. */
      readonly extratime: number;
    }
  | {
      readonly type: 'sched.credit';
      readonly vcpu: number;
      readonly weight: number;
      /** The cap in hundredths of a percent (basis points): 1025 is 10.25%; 0 = none. */
      readonly capBp: number;
    }
  | {
      readonly type: 'sched.dc';
      /** Index in DEBT_MODES: 0 off, 1 immediate, 2 next-quantum. */
      readonly mode: number;
      /** 0 or 1. */
      readonly spread: number;
      readonly feedbackNs: number;
    }
  | { readonly type: 'sched.debt'; readonly vcpu: number; readonly debtNs: number }
  | { readonly type: 'sched.wake'; readonly vcpu: number }
  | { readonly type: 'sched.sleep'; readonly vcpu: number }
  | {
      readonly type: 'sched.do_schedule';
      readonly pcpu: number;
      /** The vCPU that was running, or IDLE (-1). */
      readonly prevVcpu: number;
      readonly ranNs: number;
      /** 0 if it blocked, 1 if it is still runnable. */
      readonly prevRunnable: number;
    };

export interface SchedulerContext<S> {
  readonly state: S;
  /** The last decision per pCPU. */
  readonly decisions: readonly Decision[];
  /** The result of the last wake: should the woken vCPU's pCPU reschedule now? */
  readonly preempt: boolean;
}

/** The context as the transition function writes it (one object, updated in place). */
export interface MutableSchedulerContext<S> {
  state: S;
  decisions: Decision[];
  preempt: boolean;
}

export interface SchedulerInput {
  readonly pcpus: number;
  /** The simulated time the scheduler starts at, ns (default 0). */
  readonly startNs?: number;
}

function checkedNow(t: number): number {
  if (!Number.isSafeInteger(t) || t < 0)
    throw new InvariantError(`scheduler clock gave ${t}, not a time in ns`);
  return t;
}

function flag(value: number, field: string): boolean {
  if (value !== 0 && value !== 1)
    throw new InvariantError(`scheduler event field ${field} must be 0 or 1, got ${value}`);
  return value === 1;
}

/**
 * Applies one scheduler event to a context, in place: the one transition function
 * behind both the XState machine's action and `ActorSchedulerPort`'s fast path.
 */
export function applySchedulerEvent<S>(
  ops: SchedulerOps<S>,
  ctx: MutableSchedulerContext<S>,
  e: SchedulerEvent,
  now: number,
): void {
  switch (e.type) {
    case 'sched.add':
      ops.addVcpu(ctx.state, { domain: e.domain, pcpu: e.pcpu }, now);
      return;
    case 'sched.sedf': {
      const params = { sliceNs: e.sliceNs, periodNs: e.periodNs, extratime: flag(e.extratime, 'extratime') };
      ops.adjust(ctx.state, e.vcpu, { sedf: params }, now);
      return;
    }
    case 'sched.credit':
      ops.adjust(ctx.state, e.vcpu, { credit: { weight: e.weight, capPct: e.capBp / 100 } }, now);
      return;
    case 'sched.dc': {
      const mode = DEBT_MODES[e.mode];
      if (mode === undefined || ops.configureDebt === undefined) {
        throw new InvariantError(`scheduler ${ops.name} cannot collect debt in mode ${e.mode}`);
      }
      ops.configureDebt(ctx.state, { mode, spread: flag(e.spread, 'spread'), feedbackNs: e.feedbackNs });
      return;
    }
    case 'sched.debt':
      if (ops.addDebt === undefined) throw new InvariantError(`scheduler ${ops.name} has no debt`);
      ops.addDebt(ctx.state, e.vcpu, e.debtNs, now);
      return;
    case 'sched.wake':
      ctx.preempt = ops.wake(ctx.state, e.vcpu, now);
      return;
    case 'sched.sleep':
      ops.sleep(ctx.state, e.vcpu, now);
      return;
    case 'sched.do_schedule': {
      if (ctx.decisions[e.pcpu] === undefined) throw new InvariantError(`scheduler has no pCPU ${e.pcpu}`);
      const prev = { vcpu: e.prevVcpu, ranNs: e.ranNs, runnable: flag(e.prevRunnable, 'prevRunnable') };
      ctx.decisions[e.pcpu] = ops.doSchedule(ctx.state, e.pcpu, now, prev);
      return;
    }
  }
}

/** The context a scheduler machine starts with: `ops.init`, and no decision on any pCPU. */
export function initialSchedulerContext<S>(ops: SchedulerOps<S>, input: SchedulerInput): SchedulerContext<S> {
  const decisions: Decision[] = [];
  for (let p = 0; p < input.pcpus; p++) decisions.push({ vcpu: IDLE, runNs: 0 });
  return { state: ops.init(input.pcpus, checkedNow(input.startNs ?? 0)), decisions, preempt: false };
}

/** A deep copy of plain JSON data (arrays, plain objects, primitives): the scheduler's state. */
function copyJson<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyJson(v[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = copyJson((v as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * `e` applied to a copy of `context` at time `now`: the context after the event, the
 * given one untouched (what the machine's `apply` assigns).
 */
export function nextSchedulerContext<S>(
  ops: SchedulerOps<S>,
  context: SchedulerContext<S>,
  e: SchedulerEvent,
  now: number,
): SchedulerContext<S> {
  const next: MutableSchedulerContext<S> = {
    state: copyJson(context.state),
    decisions: context.decisions.slice(),
    preempt: context.preempt,
  };
  applySchedulerEvent(ops, next, e, now);
  return next;
}

/**
 * The scheduler machine's implementation that reads the time, on the clock `nowNs`
 * (simulated time, integer ns): its `apply` action. Give it to the machine with
 * `machine.provide(schedulerClock(ops, () => kernel.nowNs))`; `ops` must be the
 * machine's own (`sedf` for `sedfMachine`, `credit` for `creditMachine`).
 */
export function schedulerClock<S>(ops: SchedulerOps<S>, nowNs: () => number) {
  return {
    actions: {
      apply: assign<SchedulerContext<S>, SchedulerEvent, undefined, SchedulerEvent, never>(
        ({ context, event }) => nextSchedulerContext(ops, context, event, checkedNow(nowNs())),
      ),
    },
  };
}

/**
 * A scheduler as an actor (`sedfMachine`, `creditMachine`, or your own `ops`).
 *
 * - Input: `{ pcpus, startNs? }` (JSON). Context: `SchedulerContext` — the scheduler's
 *   state, the last decision per pCPU, the last wake's preemption answer — plain JSON,
 *   changed only by `assign` (`apply`), so `getPersistedSnapshot()` restores it.
 * - One state, `ready`. Events received: `SchedulerEvent` (`sched.*`). Emits none: the
 *   answers are in the context. No delays.
 * - Provide: the clock, `schedulerClock(ops, nowNs)` (the `apply` action). Without one
 *   every operation happens at time 0.
 */
export function createSchedulerMachine<S>(ops: SchedulerOps<S>) {
  return setup({
    types: {
      context: {} as SchedulerContext<S>,
      events: {} as SchedulerEvent,
      input: {} as SchedulerInput,
    },
    actions: {
      /** Applies the event at the clock's time (default: a clock that stands at 0). */
      apply: schedulerClock(ops, () => 0).actions.apply,
    },
  }).createMachine({
    id: `sched.${ops.name}`,
    context: ({ input }) => initialSchedulerContext(ops, input),
    initial: 'ready',
    states: {
      ready: {
        on: {
          'sched.add': { actions: 'apply' },
          'sched.sedf': { actions: 'apply' },
          'sched.credit': { actions: 'apply' },
          'sched.dc': { actions: 'apply' },
          'sched.debt': { actions: 'apply' },
          'sched.wake': { actions: 'apply' },
          'sched.sleep': { actions: 'apply' },
          'sched.do_schedule': { actions: 'apply' },
        },
      },
    },
  });
}

/**
 * SEDF (and SEDF-DC) as an actor, machine id `sched.sedf`: see `createSchedulerMachine`.
 * Provide `schedulerClock(sedf, nowNs)`.
 */
export const sedfMachine = createSchedulerMachine(sedf);
/**
 * Credit (and Credit-DC) as an actor, machine id `sched.credit`: see
 * `createSchedulerMachine`. Provide `schedulerClock(credit, nowNs)`.
 */
export const creditMachine = createSchedulerMachine(credit);
