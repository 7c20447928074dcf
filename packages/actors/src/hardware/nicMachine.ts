/**
 * The NIC's interrupt logic as an XState machine: interrupt throttling and NAPI-style
 * masking (as e1000 with InterruptThrottleRate, and Linux's NAPI, behave).
 *
 * - `armed`: interrupts enabled, nothing signalled. A received packet moves it to
 *   `throttled`.
 * - `throttled`: an interrupt is due; it is raised when at least `itrNs` has passed
 *   since the previous one (immediately if it has). Raising moves it to `masked`.
 * - `masked`: the driver is polling with the NIC's interrupts off. When it re-enables
 *   them (`nic.enable`), the NIC goes back to `throttled` if packets are waiting, else
 *   to `armed`.
 *
 * Only these edges are XState events; the packets themselves stay in the device's
 * plain queues (see nic.ts), so the hot path costs no XState work.
 */
import { setup } from 'xstate';

export interface NicMachineInput {
  /** Minimum gap between interrupts, in XState delay units (ms). */
  readonly itrMs: number;
  /** Simulated time now, ms (the host's clock). */
  readonly nowMs: () => number;
  /** Raises the physical interrupt. */
  readonly raise: () => void;
  /** Packets waiting in the receive queue. */
  readonly waiting: () => number;
}

export type NicEvent = { readonly type: 'nic.rx' } | { readonly type: 'nic.enable' };

export const nicMachine = setup({
  types: {
    input: {} as NicMachineInput,
    context: {} as NicMachineInput & { lastIrqMs: number },
    events: {} as NicEvent,
  },
  actions: {
    raise: ({ context }) => {
      context.lastIrqMs = context.nowMs();
      context.raise();
    },
  },
  guards: {
    waiting: ({ context }) => context.waiting() > 0,
  },
  delays: {
    throttle: ({ context }) => Math.max(0, context.lastIrqMs + context.itrMs - context.nowMs()),
  },
}).createMachine({
  id: 'nic',
  context: ({ input }) => ({ ...input, lastIrqMs: Number.NEGATIVE_INFINITY }),
  initial: 'armed',
  states: {
    armed: { on: { 'nic.rx': 'throttled' } },
    throttled: { after: { throttle: { target: 'masked', actions: 'raise' } } },
    masked: {
      on: { 'nic.enable': [{ guard: 'waiting', target: 'throttled' }, { target: 'armed' }] },
    },
  },
});
