/**
 * A periodic control loop as an XState actor: every `periodMs` (XState delay units)
 * it calls `tick`. SEDF-DC's debt feedback and ShareGuard's polling are both this
 * loop with different ticks (paper sections 4.1 and 5.1: t = 500 ms).
 */
import { setup } from 'xstate';

export interface FeedbackLoopInput {
  /** The period, in XState delay units (ms). */
  readonly periodMs: number;
}

export type FeedbackLoopContext = FeedbackLoopInput;

/** The feedback loop's named delays (its `after` keys). */
export const FEEDBACK_DELAYS = { period: 'period' } as const;

/** XState's event type for the loop's timer (to send where `after` is untimed). */
export const FEEDBACK_TIMER_EVENTS = { period: 'xstate.after.period.feedback.waiting' } as const;

/**
 * The periodic loop.
 *
 * - Input: `{ periodMs }` (JSON); the context is the same, never changed.
 * - Events received: only its own timer, `FEEDBACK_TIMER_EVENTS.period`. Emits none.
 * - Delays: `FEEDBACK_DELAYS.period` (`periodMs`).
 * - Provide: `tick` (action: one round of the control loop; default no-op).
 */
export const feedbackLoopMachine = setup({
  types: { input: {} as FeedbackLoopInput, context: {} as FeedbackLoopContext },
  actions: {
    /** One round of the control loop: provide it. */
    tick: () => {},
  },
  delays: { period: ({ context }) => context.periodMs },
}).createMachine({
  id: 'feedback',
  context: ({ input }) => ({ periodMs: input.periodMs }),
  initial: 'waiting',
  states: {
    waiting: { after: { period: { target: 'waiting', reenter: true, actions: 'tick' } } },
  },
});
