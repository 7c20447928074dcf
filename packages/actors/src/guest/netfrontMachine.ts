/**
 * Netfront's control states in a guest, the mirror of netback's: `idle` until the
 * guest handles its vif interrupt; `polling` while a batch of received packets (and
 * transmit completions) is being processed on the guest's vCPU; then re-arm the rings
 * and go idle unless more arrived.
 */
import { setup } from 'xstate';
import type { PendingEvent } from '../host/channelBridge.ts';

export interface NetfrontMachineInput {
  readonly poll: () => void;
  readonly hasWork: () => boolean;
  readonly rearm: () => void;
}

export type NetfrontEvent = PendingEvent | { readonly type: 'netfront.drained' };

export const netfrontMachine = setup({
  types: {
    input: {} as NetfrontMachineInput,
    context: {} as NetfrontMachineInput,
    events: {} as NetfrontEvent,
  },
  actions: {
    poll: ({ context }) => context.poll(),
    rearm: ({ context }) => context.rearm(),
  },
  guards: {
    hasWork: ({ context }) => context.hasWork(),
  },
}).createMachine({
  id: 'netfront',
  context: ({ input }) => input,
  initial: 'idle',
  states: {
    idle: { on: { 'evtchn.pending': 'polling' } },
    polling: {
      entry: 'poll',
      on: {
        'netfront.drained': [{ guard: 'hasWork', target: 'polling', reenter: true }, { target: 'rearming' }],
      },
    },
    rearming: {
      entry: 'rearm',
      always: [{ guard: 'hasWork', target: 'polling' }, { target: 'idle' }],
    },
  },
});
