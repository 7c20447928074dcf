/**
 * A periodic control loop as an XState actor: every `periodMs` (XState delay units)
 * it calls `tick`. SEDF-DC's debt feedback and ShareGuard's polling are both this
 * loop with different ticks (paper sections 4.1 and 5.1: t = 500 ms).
 */
import { setup } from 'xstate';

export interface FeedbackLoopInput {
  readonly periodMs: number;
  readonly tick: () => void;
}

export const feedbackLoopMachine = setup({
  types: { input: {} as FeedbackLoopInput, context: {} as FeedbackLoopInput },
  actions: { tick: ({ context }) => context.tick() },
  delays: { period: ({ context }) => context.periodMs },
}).createMachine({
  id: 'feedback',
  context: ({ input }) => input,
  initial: 'waiting',
  states: {
    waiting: { after: { period: { target: 'waiting', reenter: true, actions: 'tick' } } },
  },
});
