/**
 * Netback's control states: the shared NAPI polling loop (hypervisor/pollMachine.ts,
 * whose doc gives its events and what to provide), with the machine id `netback`.
 */
import { createPollMachine } from '../hypervisor/pollMachine.ts';

/**
 * Netback's polling loop, machine id `netback`: no input, context `{}`; receives
 * `evtchn.pending` and `napi.drained`; provide `poll`, `rearm` (actions) and `hasWork`
 * (guard) (`createPollMachine`).
 */
export const netbackMachine = createPollMachine('netback');
