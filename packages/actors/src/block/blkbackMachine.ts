/**
 * Blkback's control states: the shared NAPI-style polling loop
 * (hypervisor/pollMachine.ts, whose doc gives its events and what to provide), with the
 * machine id `blkback`.
 */
import { createPollMachine } from '../hypervisor/pollMachine.ts';

/**
 * Blkback's polling loop, machine id `blkback`: no input, context `{}`; receives
 * `evtchn.pending` and `napi.drained`; provide `poll`, `rearm` (actions) and `hasWork`
 * (guard) (`createPollMachine`).
 */
export const blkbackMachine = createPollMachine('blkback');
