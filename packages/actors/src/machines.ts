/**
 * Every actor machine of the model with its snapshot type, by name, for other models
 * to import and compose. This module is the package's `@isosim/actors/machines` entry
 * point: pure XState machines and what they need, no Node built-ins, so it bundles
 * for a browser (test/entryPoints.test.ts checks).
 *
 * The conventions they follow, so that they fit in an XState model of your own:
 * - Inputs and contexts are plain JSON (no functions, no non-finite numbers), and
 *   contexts change only through `assign`: `getPersistedSnapshot()` and
 *   `createActor(machine.provide(...), { snapshot })` restore any of them.
 * - Effects and environment are implementations in `setup` (actions, guards, delays)
 *   with safe defaults (no-op actions, guards that say "nothing waiting"), so the bare
 *   machine runs in a visualiser, in @xstate/graph, or inside another machine; give
 *   the real ones with `machine.provide({ actions, guards })`. Each machine's TSDoc
 *   says what to provide.
 * - Time is injected the same way: a machine that needs "now" (the NIC's throttle, the
 *   schedulers) takes it from implementations built around a clock function,
 *   `nicClock(nowMs)` and `schedulerClock(ops, nowNs)`, given with `provide`. Without
 *   one, time stands at 0.
 * - Timers are `after` delays with exported names (`*_DELAYS`), and the event types
 *   XState gives them (`*_TIMER_EVENTS`), to send in model-based tests.
 * - No machine invokes or spawns children (`ActorHost` refuses those: their events
 *   would bypass the kernel's log).
 *
 * Hosting one on isosim's kernel: `host.spawn(id, machine.provide({...}), { input })`,
 * or `{ snapshot }` to restore (host/actorHost.ts).
 *
 * @module @isosim/actors/machines
 */
import type { SnapshotFrom } from 'xstate';
import type { feedbackLoopMachine } from './control/feedbackLoop.ts';
import type { diskMachine } from './hardware/diskMachine.ts';
import type { nicMachine } from './hardware/nicMachine.ts';
import type { createPollMachine } from './hypervisor/pollMachine.ts';
import type { dynamicGuestMachine, toolstackMachine } from './memory/memoryMachines.ts';
import type { creditMachine, sedfMachine } from './scheduler/schedulerMachine.ts';
import type { workloadMachine } from './workload/lifecycle.ts';

export type NicSnapshot = SnapshotFrom<typeof nicMachine>;
export type DiskSnapshot = SnapshotFrom<typeof diskMachine>;
export type PollSnapshot = SnapshotFrom<ReturnType<typeof createPollMachine>>;
export type SedfSnapshot = SnapshotFrom<typeof sedfMachine>;
export type CreditSnapshot = SnapshotFrom<typeof creditMachine>;
export type WorkloadSnapshot = SnapshotFrom<typeof workloadMachine>;
export type FeedbackLoopSnapshot = SnapshotFrom<typeof feedbackLoopMachine>;
export type ToolstackSnapshot = SnapshotFrom<typeof toolstackMachine>;
export type DynamicGuestSnapshot = SnapshotFrom<typeof dynamicGuestMachine>;

export { blkbackMachine } from './block/blkbackMachine.ts';
export { blkfrontMachine } from './block/blkfrontMachine.ts';
export type { FeedbackLoopContext, FeedbackLoopInput } from './control/feedbackLoop.ts';
export { FEEDBACK_DELAYS, FEEDBACK_TIMER_EVENTS, feedbackLoopMachine } from './control/feedbackLoop.ts';
export { netbackMachine } from './driver/netbackMachine.ts';
export { netfrontMachine } from './guest/netfrontMachine.ts';
export type { DiskEvent } from './hardware/diskMachine.ts';
export { diskMachine } from './hardware/diskMachine.ts';
export type { NicContext, NicEvent, NicMachineInput } from './hardware/nicMachine.ts';
export { NIC_DELAYS, NIC_TIMER_EVENTS, nicClock, nicMachine } from './hardware/nicMachine.ts';
export type { PollEvent } from './hypervisor/pollMachine.ts';
export { createPollMachine, DRAINED } from './hypervisor/pollMachine.ts';
export type { DynamicGuestEvent, ToolstackEvent } from './memory/memoryMachines.ts';
export { dynamicGuestMachine, toolstackMachine } from './memory/memoryMachines.ts';
export type { CreditLedger, CreditPcpu, CreditState, CreditVcpu } from './scheduler/credit.ts';
export { credit } from './scheduler/credit.ts';
export type { SchedulerContext, SchedulerEvent, SchedulerInput } from './scheduler/schedulerMachine.ts';
export {
  createSchedulerMachine,
  creditMachine,
  schedulerClock,
  sedfMachine,
} from './scheduler/schedulerMachine.ts';
export type { SedfPcpu, SedfQueue, SedfState, SedfVcpu } from './scheduler/sedf.ts';
export { sedf } from './scheduler/sedf.ts';
export type { LifecycleContext, LifecycleInput } from './workload/lifecycle.ts';
export { WORKLOAD_DELAYS, WORKLOAD_TIMER_EVENTS, workloadMachine } from './workload/lifecycle.ts';
