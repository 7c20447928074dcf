/**
 * Netfront's control states: the shared NAPI polling loop (hypervisor/pollMachine.ts,
 * whose doc gives its events and what to provide), with the machine id `netfront`.
 */
import { createPollMachine } from '../hypervisor/pollMachine.ts';

export const netfrontMachine = createPollMachine('netfront');
