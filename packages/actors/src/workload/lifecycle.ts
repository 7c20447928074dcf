/**
 * Every workload is an XState actor with the same lifecycle: `pending` until its start
 * time, `active` until its stop time (or for ever), then `stopped`. The timers are
 * XState `after` delays on the kernel's clock; entering `active` and `stopped` calls
 * the workload's plain engine, which does the per-packet work outside XState.
 */
import { setup } from 'xstate';

export interface WorkloadEngine {
  start(): void;
  stop(): void;
}

export interface LifecycleInput {
  /** Start time, in XState delay units (ms) from the start of the run. */
  readonly startMs: number;
  /** Stop time, ms from the start of the run; null or left out: never stops. */
  readonly stopMs?: number | null;
}

export interface LifecycleContext {
  readonly startMs: number;
  /** Null: never stops. */
  readonly stopMs: number | null;
}

/** The lifecycle's named delays (its `after` keys). */
export const WORKLOAD_DELAYS = { start: 'start', run: 'run' } as const;

/** XState's event types for the lifecycle's timers (to send where `after` is untimed). */
export const WORKLOAD_TIMER_EVENTS = {
  start: 'xstate.after.start.workload.pending',
  run: 'xstate.after.run.workload.active',
} as const;

/**
 * A workload's lifecycle.
 *
 * - Input: `{ startMs, stopMs? }` (JSON; `stopMs` null or absent: runs to the end).
 *   Context: `{ startMs, stopMs }` with `stopMs` null for never, never changed.
 * - States: `pending` → `active` → `stopped` (final), or `pending` → `forever`.
 * - Events received: only its timers, `WORKLOAD_TIMER_EVENTS`. Emits none.
 * - Delays: `WORKLOAD_DELAYS.start` (`startMs`), `.run` (`stopMs - startMs`).
 * - Provide: `start` and `stop` (actions: start and stop the workload's engine, e.g.
 *   `{ start: () => engine.start(), stop: () => engine.stop() }`; default no-ops).
 */
export const workloadMachine = setup({
  types: { input: {} as LifecycleInput, context: {} as LifecycleContext },
  actions: {
    /** Starts the workload's engine: provide it. */
    start: () => {},
    /** Stops the workload's engine: provide it. */
    stop: () => {},
  },
  guards: {
    endless: ({ context }) => context.stopMs === null,
  },
  delays: {
    start: ({ context }) => context.startMs,
    run: ({ context }) => (context.stopMs ?? context.startMs) - context.startMs,
  },
}).createMachine({
  id: 'workload',
  context: ({ input }) => ({
    startMs: input.startMs,
    // Infinity (the old way to say "never") is not JSON: it becomes null.
    stopMs:
      input.stopMs === undefined || input.stopMs === null || !Number.isFinite(input.stopMs)
        ? null
        : input.stopMs,
  }),
  initial: 'pending',
  states: {
    pending: { after: { start: [{ guard: 'endless', target: 'forever' }, { target: 'active' }] } },
    active: { entry: 'start', after: { run: 'stopped' } },
    forever: { entry: 'start' },
    stopped: { entry: 'stop', type: 'final' },
  },
});
