/** Netfront's control states: the shared NAPI polling loop (hypervisor/pollMachine.ts). */
import { createPollMachine } from '../hypervisor/pollMachine.ts';

export const netfrontMachine = createPollMachine('netfront');
