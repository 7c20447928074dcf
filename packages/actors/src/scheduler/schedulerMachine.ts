/**
 * One XState v5 machine for any scheduler: `createSchedulerMachine(ops)` wraps a
 * `SchedulerOps` table (types.ts, after Xen's `struct scheduler`) into an actor whose
 * context holds the scheduler's plain state, the last decision per pCPU and the
 * answer of the last wake. The hypervisor talks to it through `ActorSchedulerPort`.
 *
 * Design
 * - Every operation is an event of fixed shape (a type and at most four integer
 *   fields), so the kernel's log records it and a replay can fold the log back into
 *   the same state: `sched.add`, `sched.sedf`, `sched.credit`, `sched.wake`,
 *   `sched.sleep`, `sched.do_schedule`. Booleans travel as 0/1.
 * - The context is one plain-JSON object that `applySchedulerEvent` updates in place.
 *   The scheduler runs on every context switch, so it cannot afford a copy per event
 *   (immer's `produce` here cost ~10 us an operation and made the whole host 4x
 *   slower). The same function serves the machine's action and the port's fast path
 *   (hypervisor/schedulerPort.ts), so both give the same state; a replay folds the
 *   logged events through it starting from a fresh context.
 * - Time comes from the actor's input (`now`: the host passes the kernel's clock, a
 *   replay the record's time), kept beside the actor, not in its context, so the
 *   context stays serialisable. An actor restored from a persisted snapshot has no
 *   clock: re-create it from input instead.
 *
 * Invariants: `decisions[p]` is the answer of the last `sched.do_schedule` on pCPU p
 * (`{ vcpu: IDLE, runNs: 0 }` before the first); `preempt` that of the last wake.
 */
import { InvariantError } from '@isosim/core';
import { setup } from 'xstate';
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
  /** Simulated time now, ns. */
  readonly now: () => number;
}

const clocks = new WeakMap<object, () => number>();

function nowOf(self: object): number {
  const now = clocks.get(self);
  if (now === undefined) {
    throw new InvariantError(
      'scheduler actor has no clock: create it with input { pcpus, now }, not from a snapshot',
    );
  }
  const t = now();
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

export function createSchedulerMachine<S>(ops: SchedulerOps<S>) {
  type Ctx = SchedulerContext<S>;
  return setup({
    types: {
      context: {} as Ctx,
      events: {} as SchedulerEvent,
      input: {} as SchedulerInput,
    },
    actions: {
      apply: ({ context, event, self }) =>
        applySchedulerEvent(ops, context as MutableSchedulerContext<S>, event, nowOf(self)),
    },
  }).createMachine({
    id: `sched.${ops.name}`,
    context: ({ input, self }) => {
      clocks.set(self, input.now);
      const decisions: Decision[] = [];
      for (let p = 0; p < input.pcpus; p++) decisions.push({ vcpu: IDLE, runNs: 0 });
      return { state: ops.init(input.pcpus, nowOf(self)), decisions, preempt: false };
    },
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

export const sedfMachine = createSchedulerMachine(sedf);
export const creditMachine = createSchedulerMachine(credit);
