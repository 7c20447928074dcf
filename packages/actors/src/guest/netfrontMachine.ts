/**
 * Netfront's control states: the shared NAPI polling loop (hypervisor/pollMachine.ts,
 * whose doc gives its events and what to provide), with the machine id `netfront`.
 */
import { createPollMachine } from '../hypervisor/pollMachine.ts';

/**
 * Netfront's polling loop, machine id `netfront`: no input, context `{}`; receives
 * `evtchn.pending` and `napi.drained`; provide `poll`, `rearm` (actions) and `hasWork`
 * (guard) (`createPollMachine`).
 */
export const netfrontMachine = createPollMachine('netfront');
