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
 * - The context is updated with immer's `produce` inside `assign`; the ops mutate the
 *   draft. The scheduler state is plain JSON.
 * - Time comes from the actor's input (`now`: the host passes the kernel's clock, a
 *   replay the record's time), kept beside the actor, not in its context, so the
 *   context stays serialisable. An actor restored from a persisted snapshot has no
 *   clock: re-create it from input instead.
 *
 * Invariants: `decisions[p]` is the answer of the last `sched.do_schedule` on pCPU p
 * (`{ vcpu: IDLE, runNs: 0 }` before the first); `preempt` that of the last wake.
 */
import { InvariantError } from '@isosim/core';
import { type Draft, produce } from 'immer';
import { assign, setup } from 'xstate';
import { credit } from './credit.ts';
import { sedf } from './sedf.ts';
import { type Decision, IDLE, type SchedulerOps } from './types.ts';

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
  | { readonly type: 'sched.credit'; readonly vcpu: number; readonly weight: number; readonly capPct: number }
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

export function createSchedulerMachine<S>(ops: SchedulerOps<S>) {
  type Ctx = SchedulerContext<S>;
  /** An `assign` whose recipe mutates an immer draft of the context. */
  const update = <E extends SchedulerEvent>(
    recipe: (draft: Draft<Ctx>, state: S, event: E, nowNs: number) => void,
  ) =>
    assign<Ctx, E, undefined, SchedulerEvent, never>(({ context, event, self }) =>
      produce(context, (draft) => recipe(draft, draft.state as S, event, nowOf(self))),
    );

  return setup({
    types: {
      context: {} as Ctx,
      events: {} as SchedulerEvent,
      input: {} as SchedulerInput,
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
          'sched.add': {
            actions: update<Extract<SchedulerEvent, { type: 'sched.add' }>>((_d, state, e, now) => {
              ops.addVcpu(state, { domain: e.domain, pcpu: e.pcpu }, now);
            }),
          },
          'sched.sedf': {
            actions: update<Extract<SchedulerEvent, { type: 'sched.sedf' }>>((_d, state, e, now) => {
              const params = {
                sliceNs: e.sliceNs,
                periodNs: e.periodNs,
                extratime: flag(e.extratime, 'extratime'),
              };
              ops.adjust(state, e.vcpu, { sedf: params }, now);
            }),
          },
          'sched.credit': {
            actions: update<Extract<SchedulerEvent, { type: 'sched.credit' }>>((_d, state, e, now) => {
              ops.adjust(state, e.vcpu, { credit: { weight: e.weight, capPct: e.capPct } }, now);
            }),
          },
          'sched.wake': {
            actions: update<Extract<SchedulerEvent, { type: 'sched.wake' }>>((d, state, e, now) => {
              d.preempt = ops.wake(state, e.vcpu, now);
            }),
          },
          'sched.sleep': {
            actions: update<Extract<SchedulerEvent, { type: 'sched.sleep' }>>((_d, state, e, now) => {
              ops.sleep(state, e.vcpu, now);
            }),
          },
          'sched.do_schedule': {
            actions: update<Extract<SchedulerEvent, { type: 'sched.do_schedule' }>>((d, state, e, now) => {
              if (d.decisions[e.pcpu] === undefined)
                throw new InvariantError(`scheduler has no pCPU ${e.pcpu}`);
              const prev = {
                vcpu: e.prevVcpu,
                ranNs: e.ranNs,
                runnable: flag(e.prevRunnable, 'prevRunnable'),
              };
              d.decisions[e.pcpu] = ops.doSchedule(state, e.pcpu, now, prev);
            }),
          },
        },
      },
    },
  });
}

export const sedfMachine = createSchedulerMachine(sedf);
export const creditMachine = createSchedulerMachine(credit);
