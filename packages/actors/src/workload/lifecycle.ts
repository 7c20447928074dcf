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
  readonly engine: WorkloadEngine;
  /** Start and stop times, in XState delay units (ms) from the start of the run. */
  readonly startMs: number;
  /** Infinity: never stops. */
  readonly stopMs: number;
}

export const workloadMachine = setup({
  types: { input: {} as LifecycleInput, context: {} as LifecycleInput },
  actions: {
    start: ({ context }) => context.engine.start(),
    stop: ({ context }) => context.engine.stop(),
  },
  guards: {
    endless: ({ context }) => !Number.isFinite(context.stopMs),
  },
  delays: {
    start: ({ context }) => context.startMs,
    run: ({ context }) => context.stopMs - context.startMs,
  },
}).createMachine({
  id: 'workload',
  context: ({ input }) => input,
  initial: 'pending',
  states: {
    pending: { after: { start: [{ guard: 'endless', target: 'forever' }, { target: 'active' }] } },
    active: { entry: 'start', after: { run: 'stopped' } },
    forever: { entry: 'start' },
    stopped: { entry: 'stop', type: 'final' },
  },
});
