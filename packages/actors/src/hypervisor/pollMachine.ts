/**
 * The NAPI-style polling loop of a paravirtual driver, shared by netback (in the IDD)
 * and netfront (in a guest): `idle` until the domain handles its interrupt
 * (`evtchn.pending`); `polling` while one batch of work queued on the domain's vCPU
 * runs (its last item sends `napi.drained`); then poll again while work remains, else
 * re-arm (interrupts on, ring event indices set) and go `idle`, unless the re-arm found
 * work that slipped in. The packet work itself is plain code; this machine decides when.
 */
import { setup } from 'xstate';
import type { PendingEvent } from '../host/channelBridge.ts';

export interface PollMachineInput {
  /** Clears the pending ports and queues one batch; its last item sends the drained event. */
  readonly poll: () => void;
  /** Work is waiting. */
  readonly hasWork: () => boolean;
  /** Turns interrupts back on and re-arms the rings' event indices. */
  readonly rearm: () => void;
}

export const DRAINED = { type: 'napi.drained' } as const;

export function createPollMachine(id: string) {
  return setup({
    types: {
      input: {} as PollMachineInput,
      context: {} as PollMachineInput,
      events: {} as PendingEvent | typeof DRAINED,
    },
    actions: {
      poll: ({ context }) => context.poll(),
      rearm: ({ context }) => context.rearm(),
    },
    guards: {
      hasWork: ({ context }) => context.hasWork(),
    },
  }).createMachine({
    id,
    context: ({ input }) => input,
    initial: 'idle',
    states: {
      idle: {
        // Re-arming may find work that slipped in before the event indices were set.
        always: { guard: 'hasWork', target: 'polling' },
        on: { 'evtchn.pending': 'polling' },
      },
      polling: {
        entry: 'poll',
        on: {
          'napi.drained': [
            { guard: 'hasWork', target: 'polling', reenter: true },
            { target: 'idle', actions: 'rearm' },
          ],
        },
      },
    },
  });
}
