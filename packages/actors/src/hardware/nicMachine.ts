/**
 * The NIC's interrupt logic as an XState machine: interrupt throttling and NAPI-style
 * masking (as e1000 with InterruptThrottleRate, and Linux's NAPI, behave).
 *
 * - `armed`: interrupts enabled, nothing signalled. A received packet moves it to
 *   `throttled`.
 * - `throttled`: an interrupt is due; it is raised when at least `itrMs` has passed
 *   since the previous one (immediately if it has). Raising moves it to `masked`.
 * - `masked`: the driver is polling with the NIC's interrupts off. When it re-enables
 *   them (`nic.enable`), the NIC goes back to `throttled` if packets are waiting, else
 *   to `armed`.
 *
 * Only these edges are XState events; the packets themselves stay in the device's
 * plain queues (see nic.ts), so the hot path costs no XState work.
 */
import { assign, setup } from 'xstate';

export interface NicMachineInput {
  /** Minimum gap between interrupts, in XState delay units (ms). */
  readonly itrMs: number;
}

export interface NicContext {
  /** Minimum gap between interrupts, ms. */
  readonly itrMs: number;
  /** When the last interrupt was raised, ms on the provided clock; null before the first. */
  readonly lastIrqMs: number | null;
}

export type NicEvent = { readonly type: 'nic.rx' } | { readonly type: 'nic.enable' };

/** The NIC machine's named delays (its `after` keys). */
export const NIC_DELAYS = { throttle: 'throttle' } as const;

/**
 * XState's event types for the NIC's timers (`xstate.after.<delay>.<machine>.<state>`),
 * to send in model-based tests or @xstate/graph traversals, where `after` is untimed.
 */
export const NIC_TIMER_EVENTS = { throttle: 'xstate.after.throttle.nic.throttled' } as const;

/** How long `throttled` waits, ms: what is left of `itrMs` since the last interrupt, at least 0. */
function throttleMs(context: NicContext, nowMs: number): number {
  return context.lastIrqMs === null ? 0 : Math.max(0, context.lastIrqMs + context.itrMs - nowMs);
}

/**
 * The NIC's implementations that read the time, on the clock `nowMs` (simulated time,
 * ms): the `throttle` delay and the `recordIrq` action. Give them to the machine with
 * `nicMachine.provide(nicClock(() => kernel.nowNs / NS_PER_MS))`.
 */
export function nicClock(nowMs: () => number) {
  return {
    actions: {
      recordIrq: assign<NicContext, NicEvent, undefined, NicEvent, never>({ lastIrqMs: () => nowMs() }),
    },
    delays: {
      throttle: ({ context }: { context: NicContext }) => throttleMs(context, nowMs()),
    },
  };
}

const standstill = nicClock(() => 0);

/**
 * The NIC's interrupt throttling (see the module doc).
 *
 * - Input: `{ itrMs }` (JSON). Context: `{ itrMs, lastIrqMs }` (`lastIrqMs` null until
 *   the first interrupt), changed only by `assign`; JSON-safe, so
 *   `getPersistedSnapshot()` restores it.
 * - Events received: `nic.rx` (a packet arrived; heard in `armed`), `nic.enable` (the
 *   driver re-enabled interrupts; heard in `masked`), and its timer's
 *   `NIC_TIMER_EVENTS.throttle`. Emits none: the interrupt is the `raise` action.
 * - Delays: `NIC_DELAYS.throttle`, in `throttled`.
 * - Provide: `raise` (action: raise the physical interrupt; default no-op), `waiting`
 *   (guard: packets wait in the receive queue; default false), and the clock,
 *   `nicClock(nowMs)` (`recordIrq`, `throttle`). Without one, time stands at 0: the
 *   first interrupt is raised at once and every later one waits a whole `itrMs`.
 */
export const nicMachine = setup({
  types: {
    input: {} as NicMachineInput,
    context: {} as NicContext,
    events: {} as NicEvent,
  },
  actions: {
    /** Remembers when this interrupt was raised (on the provided clock). */
    recordIrq: standstill.actions.recordIrq,
    /** Raises the physical interrupt: provide it. */
    raise: () => {},
  },
  guards: {
    /** Packets are waiting in the receive queue: provide it. */
    waiting: () => false,
  },
  delays: {
    throttle: standstill.delays.throttle,
  },
}).createMachine({
  id: 'nic',
  context: ({ input }) => ({ itrMs: input.itrMs, lastIrqMs: null }),
  initial: 'armed',
  states: {
    armed: { on: { 'nic.rx': 'throttled' } },
    throttled: { after: { throttle: { target: 'masked', actions: ['recordIrq', 'raise'] } } },
    masked: {
      on: { 'nic.enable': [{ guard: 'waiting', target: 'throttled' }, { target: 'armed' }] },
    },
  },
});
