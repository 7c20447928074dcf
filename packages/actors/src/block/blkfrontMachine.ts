/**
 * Blkfront's control states: the shared NAPI-style polling loop
 * (hypervisor/pollMachine.ts, whose doc gives its events and what to provide), with the
 * machine id `blkfront`.
 */
import { createPollMachine } from '../hypervisor/pollMachine.ts';

/**
 * Blkfront's polling loop, machine id `blkfront`: no input, context `{}`; receives
 * `evtchn.pending` and `napi.drained`; provide `poll`, `rearm` (actions) and `hasWork`
 * (guard) (`createPollMachine`).
 */
export const blkfrontMachine = createPollMachine('blkfront');
