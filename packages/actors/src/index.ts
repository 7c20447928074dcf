export { DebtCollector, type DebtGuest, splitByShares } from './control/debtCollector.ts';
export type { FeedbackLoopContext, FeedbackLoopInput } from './control/feedbackLoop.ts';
export { FEEDBACK_DELAYS, FEEDBACK_TIMER_EVENTS, feedbackLoopMachine } from './control/feedbackLoop.ts';
export { ShareGuard } from './control/shareGuard.ts';
export { NAPI_BUDGET, Netback, RX_BUDGET, TX_BATCH } from './driver/netback.ts';
export { netbackMachine } from './driver/netbackMachine.ts';
export type {
  ConsumerCounters,
  ConsumerInput,
  PipelineOptions,
  PipelineResult,
} from './examples/packetPipeline.ts';
export { consumerMachine, PacketPipeline } from './examples/packetPipeline.ts';
export { GuestNet, type VcpuPlacement } from './guest/guestNet.ts';
export { Netfront } from './guest/netfront.ts';
export { netfrontMachine } from './guest/netfrontMachine.ts';
export { Nic } from './hardware/nic.ts';
export type { NicContext, NicEvent, NicMachineInput } from './hardware/nicMachine.ts';
export { NIC_DELAYS, NIC_TIMER_EVENTS, nicClock, nicMachine } from './hardware/nicMachine.ts';
export type {
  ActorEngine,
  ActorHostOptions,
  HostEvent,
  HostedActor,
  InspectObserver,
  PersistedActorSnapshot,
  SpawnOptions,
} from './host/actorHost.ts';
export { ActorHost, stateKey } from './host/actorHost.ts';
export type { PendingEvent } from './host/channelBridge.ts';
export { connectChannel, hasPort, pendingEvent, portsOf } from './host/channelBridge.ts';
export type { FlatProgram, FlatSnapshot } from './host/flatMachine.ts';
export { compileFlat, FlatRunner } from './host/flatMachine.ts';
export { Accounting } from './hypervisor/accounting.ts';
export type { HypervisorObserver, SchedulerPort, VcpuState } from './hypervisor/hypervisor.ts';
export { Domain, Hypervisor, Vcpu } from './hypervisor/hypervisor.ts';
export type { PollEvent } from './hypervisor/pollMachine.ts';
export { createPollMachine, DRAINED } from './hypervisor/pollMachine.ts';
export { ActorSchedulerPort } from './hypervisor/schedulerPort.ts';
export { bindVirq } from './hypervisor/virq.ts';
export type { WorkItem } from './hypervisor/work.ts';
export type {
  CreditSnapshot,
  FeedbackLoopSnapshot,
  NicSnapshot,
  PollSnapshot,
  SedfSnapshot,
  WorkloadSnapshot,
} from './machines.ts';
export { estimateError, splitByWeightedPackets } from './monitor/netAccounting.ts';
export type { DomainSample, Sample } from './monitor/xenbaked.ts';
export { Xenbaked } from './monitor/xenbaked.ts';
export type { XenMonSample } from './monitor/xenmon.ts';
export { XenMon } from './monitor/xenmon.ts';
export * as xentrace from './monitor/xentrace.ts';
export { TraceBuffer } from './monitor/xentrace.ts';
export { Network } from './net/network.ts';
export type { DropReason, Flow, Packet } from './net/packet.ts';
export { Direction, DROP_REASONS, NetStats } from './net/packet.ts';
export type { Vif } from './net/vif.ts';
export { createVif } from './net/vif.ts';
export type { HardwareProfile } from './profiles/profiles.ts';
export { P4_2_8, PROFILES, SYSTEM_1, SYSTEM_2 } from './profiles/profiles.ts';
export { credit } from './scheduler/credit.ts';
export type {
  MutableSchedulerContext,
  SchedulerContext,
  SchedulerEvent,
  SchedulerInput,
} from './scheduler/schedulerMachine.ts';
export {
  applySchedulerEvent,
  createSchedulerMachine,
  creditMachine,
  initialSchedulerContext,
  nextSchedulerContext,
  schedulerClock,
  sedfMachine,
} from './scheduler/schedulerMachine.ts';
export { sedf } from './scheduler/sedf.ts';
export type {
  CreditParams,
  DebtMode,
  DebtOptions,
  Decision,
  PrevRun,
  SchedulerOps,
  SedfParams,
  VcpuSpec,
} from './scheduler/types.ts';
export { DEBT_MODES, IDLE } from './scheduler/types.ts';
export type {
  AccountingSource,
  CustomWorkloadConfig,
  DebtConfig,
  DomainConfig,
  MechanismsConfig,
  ShareGuardConfig,
  SystemConfig,
  VcpuConfig,
  WorkloadConfig,
  WorkloadKindConfig,
  WorkloadPlacement,
} from './system/config.ts';
export type { Fig6Options } from './system/paperHosts.ts';
export { fig6Host } from './system/paperHosts.ts';
export type { WeightBenchmarkResult, WeightPoint } from './system/weightBenchmark.ts';
export { FIG4_SIZES, FIG5_RATES, measurePoint, runWeightBenchmark } from './system/weightBenchmark.ts';
export type { GuestRuntime } from './system/xenSystem.ts';
export { domainShare, vcpuShares, XenSystem } from './system/xenSystem.ts';
export { BulkTransfer } from './workload/bulk.ts';
export { CpuBound } from './workload/cpuBound.ts';
export { Endpoints } from './workload/endpoints.ts';
export type { LifecycleContext, LifecycleInput, WorkloadEngine } from './workload/lifecycle.ts';
export { WORKLOAD_DELAYS, WORKLOAD_TIMER_EVENTS, workloadMachine } from './workload/lifecycle.ts';
export { UdpStream } from './workload/udp.ts';
export { LISTEN_BACKLOG, MAX_CLIENTS, WebLoad, WebServer } from './workload/web.ts';
