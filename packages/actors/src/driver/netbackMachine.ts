/**
 * Netback's control states, NAPI-style: `idle` until an interrupt (the NIC's, or a
 * guest's transmit notification) is handled; then `polling`: each poll queues one
 * batch of per-packet work on the IDD's vCPU; when the batch has run (`netback.drained`)
 * it polls again while work remains, else re-arms (NIC interrupts on, ring event
 * indices set) and goes `idle`, unless the re-arm found work that slipped in.
 *
 * The packet work itself is plain code in netback.ts; this machine decides when.
 */
import { setup } from 'xstate';
import type { PendingEvent } from '../host/channelBridge.ts';

export interface NetbackMachineInput {
  /** Clears the pending ports and queues one batch of work; its last item sends `netback.drained`. */
  readonly poll: () => void;
  /** Work is waiting (NIC receive queue or a guest's transmit ring). */
  readonly hasWork: () => boolean;
  /** Turns NIC interrupts back on and re-arms the rings' event indices. */
  readonly rearm: () => void;
}

export type NetbackEvent = PendingEvent | { readonly type: 'netback.drained' };

export const netbackMachine = setup({
  types: {
    input: {} as NetbackMachineInput,
    context: {} as NetbackMachineInput,
    events: {} as NetbackEvent,
  },
  actions: {
    poll: ({ context }) => context.poll(),
    rearm: ({ context }) => context.rearm(),
  },
  guards: {
    hasWork: ({ context }) => context.hasWork(),
  },
}).createMachine({
  id: 'netback',
  context: ({ input }) => input,
  initial: 'idle',
  states: {
    idle: {
      on: { 'evtchn.pending': 'polling' },
    },
    polling: {
      entry: 'poll',
      on: {
        'netback.drained': [{ guard: 'hasWork', target: 'polling', reenter: true }, { target: 'rearming' }],
      },
    },
    rearming: {
      entry: 'rearm',
      always: [{ guard: 'hasWork', target: 'polling' }, { target: 'idle' }],
    },
  },
});
