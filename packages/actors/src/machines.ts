/**
 * Every actor machine of the model with its event union and snapshot type, by name,
 * for other models to import and compose (`host.spawn(id, machine, { input })`, or
 * `machine.provide({ ... })` to re-parameterise).
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
