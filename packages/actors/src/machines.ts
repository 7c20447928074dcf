/**
 * Every actor machine of the model with its snapshot type, by name, for other models
 * to import and compose (`host.spawn(id, machine, { input })`, or
 * `machine.provide({ ... })` to re-parameterise). This module is the package's
 * `@isosim/actors/machines` entry point: pure XState machines and what they need, no
 * Node built-ins, so it bundles for a browser (test/entryPoints.test.ts checks).
 */
import type { SnapshotFrom } from 'xstate';
import type { feedbackLoopMachine } from './control/feedbackLoop.ts';
import type { nicMachine } from './hardware/nicMachine.ts';
import type { createPollMachine } from './hypervisor/pollMachine.ts';
import type { creditMachine, sedfMachine } from './scheduler/schedulerMachine.ts';
import type { workloadMachine } from './workload/lifecycle.ts';

export type NicSnapshot = SnapshotFrom<typeof nicMachine>;
export type PollSnapshot = SnapshotFrom<ReturnType<typeof createPollMachine>>;
export type SedfSnapshot = SnapshotFrom<typeof sedfMachine>;
export type CreditSnapshot = SnapshotFrom<typeof creditMachine>;
export type WorkloadSnapshot = SnapshotFrom<typeof workloadMachine>;
export type FeedbackLoopSnapshot = SnapshotFrom<typeof feedbackLoopMachine>;

export { feedbackLoopMachine } from './control/feedbackLoop.ts';
export { netbackMachine } from './driver/netbackMachine.ts';
export { netfrontMachine } from './guest/netfrontMachine.ts';
export { nicMachine } from './hardware/nicMachine.ts';
export { createPollMachine, DRAINED } from './hypervisor/pollMachine.ts';
export { createSchedulerMachine, creditMachine, sedfMachine } from './scheduler/schedulerMachine.ts';
export { workloadMachine } from './workload/lifecycle.ts';
