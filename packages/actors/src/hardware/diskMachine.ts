/**
 * The disk controller's interrupt line as an XState machine: one interrupt per burst of
 * completions, masked while the driver handles them (as an AHCI port's interrupt and
 * Linux's interrupt handler for it behave, seen from the device).
 *
 * - `armed`: interrupts enabled, nothing signalled. A completion (`disk.done`) raises
 *   the interrupt and moves it to `masked`.
 * - `masked`: the driver is taking completions with the line quiet; further completions
 *   queue in the device (disk.ts) and are not heard here. When the driver re-enables
 *   the interrupt (`disk.enable`), the machine raises it again at once if completions
 *   are waiting (the guard `completedWaiting`), staying `masked`; otherwise it goes back
 *   to `armed`.
 *
 * No interrupt coalescing: a completion while `armed` raises at once, so there is no
 * timer and no delay to provide (unlike the NIC's throttle, nicMachine.ts). The requests
 * themselves stay in the device's plain queues (disk.ts): only these edges are XState
 * events, so the I/O path costs no XState work per request.
 */
import { setup } from 'xstate';

/** The disk machine's events: a completion at the device, the driver re-enabling. */
export type DiskEvent = { readonly type: 'disk.done' } | { readonly type: 'disk.enable' };

/**
 * The disk's interrupt line (see the module doc).
 *
 * - Input: none. Context: none (`{}`), so `getPersistedSnapshot()` is just the state.
 * - Events received: `disk.done` (a request completed; heard in `armed`), `disk.enable`
 *   (the driver re-enabled the interrupt; heard in `masked`, ignored in `armed`).
 *   Emits none: the interrupt is the `raise` action.
 * - Delays: none (no interrupt coalescing).
 * - Provide: `raise` (action: raise the physical interrupt; default no-op) and
 *   `completedWaiting` (guard: completed requests wait for the driver; default false),
 *   with `diskMachine.provide({ actions: { raise }, guards: { completedWaiting } })`.
 */
export const diskMachine = setup({
  types: {
    events: {} as DiskEvent,
  },
  actions: {
    /** Raises the physical interrupt: provide it. */
    raise: () => {},
  },
  guards: {
    /** Completed requests are waiting for the driver to take them: provide it. */
    completedWaiting: () => false,
  },
}).createMachine({
  id: 'disk',
  initial: 'armed',
  states: {
    armed: { on: { 'disk.done': { target: 'masked', actions: 'raise' } } },
    masked: {
      on: { 'disk.enable': [{ guard: 'completedWaiting', actions: 'raise' }, { target: 'armed' }] },
    },
  },
});
