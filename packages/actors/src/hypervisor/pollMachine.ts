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

export const DRAINED = { type: 'napi.drained' } as const;

export type PollEvent = PendingEvent | typeof DRAINED;

/**
 * A polling loop with the machine id `id` (`netbackMachine` and `netfrontMachine` are
 * two of them).
 *
 * - Input: none. Context: `{}` (the work lives in the driver's rings and queues).
 * - Events received: `evtchn.pending` (the domain handled its interrupt; heard in
 *   `idle`), `napi.drained` (`DRAINED`: the batch queued by `poll` is done; heard in
 *   `polling`). Emits none: the effects are the actions. No delays.
 * - Provide: `poll` (action: clear the pending ports and queue one batch whose last
 *   item sends `napi.drained`), `rearm` (action: interrupts back on, the rings' event
 *   indices re-armed), `hasWork` (guard: work is waiting). Defaults: no-op actions and
 *   no work, so the bare machine polls once per interrupt and goes back to `idle`.
 */
export function createPollMachine(id: string) {
  return setup({
    types: {
      events: {} as PollEvent,
    },
    actions: {
      /** Clears the pending ports and queues one batch: provide it. */
      poll: () => {},
      /** Turns interrupts back on and re-arms the rings' event indices: provide it. */
      rearm: () => {},
    },
    guards: {
      /** Work is waiting: provide it. */
      hasWork: () => false,
    },
  }).createMachine({
    id,
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
