/**
 * The Xen host of isosim as XState actors, and the building blocks to assemble one:
 * the whole host (`XenSystem`, `SystemConfig`), the actor host on the kernel
 * (`ActorHost`), the hypervisor and its schedulers (SEDF, Credit), the NIC, netback
 * and netfront, XenMon, the control loops (SEDF-DC's `DebtCollector`, `ShareGuard`),
 * the workloads and the hardware profiles, the page allocator with Xen's claims
 * (`PageAllocator`), and a host's memory with its toolstack, reservation policies and
 * dynamic guests (`MemoryHost`). The machines alone, for a browser or a
 * model of your own, are `@isosim/actors/machines`.
 *
 * @module @isosim/actors
 */
export type { BlkbackOptions } from './block/blkback.ts';
export { Blkback, MAX_PENDING_REQS } from './block/blkback.ts';
export { blkbackMachine } from './block/blkbackMachine.ts';
export type { BlkfrontOptions } from './block/blkfront.ts';
export { Blkfront } from './block/blkfront.ts';
export { blkfrontMachine } from './block/blkfrontMachine.ts';
export type { BlkRequest, Vbd } from './block/blkif.ts';
export {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  createVbd,
  MAX_REQUEST_BYTES,
  SEGMENT_BYTES,
} from './block/blkif.ts';
export type { ChargingPolicyId, ChargingPolicyInfo, ProxyCosts } from './charging/policies.ts';
export {
  AFFILIATE_NS,
  CHARGING_INFO,
  CHARGING_POLICIES,
  CONTAINER_NS,
  DOMAIN_MEMORY_MIB,
  DOMAIN_TICK,
  isChargingPolicy,
  NO_PROXY_COSTS,
  PROCESS_SWITCH_NS,
  proxyCosts,
} from './charging/policies.ts';
export type { DebtGuest, DebtPort, DebtSource } from './control/debtCollector.ts';
export { DebtCollector, splitByShares } from './control/debtCollector.ts';
export type { FeedbackLoopContext, FeedbackLoopInput } from './control/feedbackLoop.ts';
export { FEEDBACK_DELAYS, FEEDBACK_TIMER_EVENTS, feedbackLoopMachine } from './control/feedbackLoop.ts';
export type { ShareGuardAction, ShareGuardLimit } from './control/shareGuard.ts';
export { ShareGuard } from './control/shareGuard.ts';
export type { NetbackOptions } from './driver/netback.ts';
export { NAPI_BUDGET, Netback, RX_BUDGET, TX_BATCH } from './driver/netback.ts';
export { netbackMachine } from './driver/netbackMachine.ts';
export type {
  ConsumerCounters,
  ConsumerInput,
  PipelineOptions,
  PipelineResult,
} from './examples/packetPipeline.ts';
export { consumerMachine, PacketPipeline } from './examples/packetPipeline.ts';
export type {
  ContainerClass,
  ContainerMode,
  ContainerStats,
  GuestContainersConfig,
} from './guest/containers.ts';
export { GuestContainers, LRP_CLASSIFY_NS, LRP_QUEUE_PACKETS, ShareScheduler } from './guest/containers.ts';
export { GuestNet, type VcpuPlacement } from './guest/guestNet.ts';
export type { NetfrontOptions } from './guest/netfront.ts';
export { Netfront } from './guest/netfront.ts';
export { netfrontMachine } from './guest/netfrontMachine.ts';
export type {
  DiskModel,
  DiskOptions,
  DiskRequest,
  DiskStats,
  ElevatorKind,
  HddModel,
  SsdModel,
} from './hardware/disk.ts';
export { Disk, DiskOp, HDD_7200, SECTOR_BYTES, SSD_SATA } from './hardware/disk.ts';
export type { DiskEvent } from './hardware/diskMachine.ts';
export { diskMachine } from './hardware/diskMachine.ts';
export type { NicOptions } from './hardware/nic.ts';
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
export type { FlatHooks, FlatProgram, FlatRestore, FlatSnapshot } from './host/flatMachine.ts';
export { compileFlat, FlatRunner } from './host/flatMachine.ts';
export { Accounting, BucketSeries } from './hypervisor/accounting.ts';
export type {
  HypervisorObserver,
  HypervisorOptions,
  SchedulerPort,
  VcpuState,
} from './hypervisor/hypervisor.ts';
export { Domain, Hypervisor, Vcpu } from './hypervisor/hypervisor.ts';
export type { PollEvent } from './hypervisor/pollMachine.ts';
export { createPollMachine, DRAINED } from './hypervisor/pollMachine.ts';
export { ActorSchedulerPort } from './hypervisor/schedulerPort.ts';
export { bindVirq } from './hypervisor/virq.ts';
export type { WorkItem, WorkQueue } from './hypervisor/work.ts';
export type {
  CreditSnapshot,
  DiskSnapshot,
  FeedbackLoopSnapshot,
  NicSnapshot,
  PollSnapshot,
  SedfSnapshot,
  WorkloadSnapshot,
} from './machines.ts';
export type {
  BalloonGuestSpec,
  Bursts,
  MemoryGuestKind,
  MemoryGuestSpec,
  SharingGuestSpec,
  SineGuestSpec,
  TmemGuestSpec,
} from './memory/guestSpecs.ts';
export {
  checkGuestSpec,
  inBurst,
  MAX_PAGES_PER_S,
  MEMORY_GUEST_KINDS,
  pagesBy,
  pagesIn,
} from './memory/guestSpecs.ts';
export type {
  BuildOutcome,
  BuildStatus,
  DynamicGuestSpec,
  GuestMemoryStats,
  LaunchSpec,
  MemoryHostOptions,
  MemoryMetrics,
  MemorySample,
  ReservationPolicy,
} from './memory/memoryHost.ts';
export {
  EXTENT_2M_PAGES,
  MemoryHost,
  PAGE_BYTES,
  POPULATE_BATCH_NS,
  RESERVATION_POLICIES,
  SWAP_NS_PER_PAGE,
} from './memory/memoryHost.ts';
export type { DynamicGuestEvent, ToolstackEvent } from './memory/memoryMachines.ts';
export { dynamicGuestMachine, toolstackMachine } from './memory/memoryMachines.ts';
export type {
  AllocRefusal,
  AllocResult,
  ClaimRc,
  DomainMemory,
  FreeRc,
  MemEvent,
  MemRecord,
  PageAllocatorOptions,
} from './memory/pageAllocator.ts';
export {
  DOMID_COW,
  DOMID_MAX,
  DOMID_XEN,
  E2BIG,
  EEXIST,
  EINVAL,
  ENOMEM,
  EPERM,
  ESRCH,
  PageAllocator,
} from './memory/pageAllocator.ts';
export type { EstimateError } from './monitor/netAccounting.ts';
export { estimateError, splitByUnits, splitByWeightedPackets } from './monitor/netAccounting.ts';
export type { DomainSample, IoCounts, Sample } from './monitor/xenbaked.ts';
export { Xenbaked } from './monitor/xenbaked.ts';
export type { BlockWeights, XenMonEstimate, XenMonOptions, XenMonSample } from './monitor/xenmon.ts';
export { XenMon } from './monitor/xenmon.ts';
export * as xentrace from './monitor/xentrace.ts';
export { TraceBuffer } from './monitor/xentrace.ts';
export { Network } from './net/network.ts';
export type { DropReason, Flow, Packet } from './net/packet.ts';
export { Direction, DROP_REASONS, NetStats } from './net/packet.ts';
export type { Vif } from './net/vif.ts';
export { createVif } from './net/vif.ts';
export type { BlockCosts, HardwareProfile } from './profiles/profiles.ts';
export { BLOCK, P4_2_8, PROFILES, SYSTEM_1, SYSTEM_2 } from './profiles/profiles.ts';
export type { CreditLedger, CreditPcpu, CreditState, CreditVcpu } from './scheduler/credit.ts';
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
export type { SedfPcpu, SedfQueue, SedfState, SedfVcpu } from './scheduler/sedf.ts';
export { sedf } from './scheduler/sedf.ts';
export type {
  CreditParams,
  DebtLedger,
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
  DiskConfig,
  DiskWorkloadConfig,
  DomainConfig,
  DriverDomainConfig,
  MechanismsConfig,
  ShareGuardConfig,
  SystemConfig,
  VbdConfig,
  VcpuConfig,
  WorkloadConfig,
  WorkloadKindConfig,
  WorkloadPlacement,
} from './system/config.ts';
export { NIC_NAME } from './system/config.ts';
export type { Fig6Options } from './system/paperHosts.ts';
export { fig6Host } from './system/paperHosts.ts';
export type {
  DiskWeightFit,
  DiskWeightPoint,
  DiskWeightResult,
  WeightBenchmarkOptions,
  WeightBenchmarkResult,
  WeightPoint,
} from './system/weightBenchmark.ts';
export {
  DISK_IODEPTH,
  DISK_WEIGHT_RECV_BYTES,
  DISK_WEIGHT_RECV_RATE,
  DISK_WEIGHT_SIZES,
  FIG4_SIZES,
  FIG5_RATES,
  fitDiskWeights,
  measureDiskPoint,
  measureDiskWeights,
  measurePoint,
  measureRecvNsPerPacket,
  runWeightBenchmark,
} from './system/weightBenchmark.ts';
export type { GuestRuntime } from './system/xenSystem.ts';
export { domainShare, servedGuests, vcpuShares, XenSystem } from './system/xenSystem.ts';
export type { BulkOptions, BulkStats } from './workload/bulk.ts';
export { BulkTransfer } from './workload/bulk.ts';
export { CpuBound } from './workload/cpuBound.ts';
export type { DiskJobStats } from './workload/disk.ts';
export { DiskJob } from './workload/disk.ts';
export { Endpoints } from './workload/endpoints.ts';
export type { EventCounter } from './workload/eventCounter.ts';
export { FixedDelayTimers } from './workload/fixedDelayTimers.ts';
export type { LifecycleContext, LifecycleInput, WorkloadEngine } from './workload/lifecycle.ts';
export { WORKLOAD_DELAYS, WORKLOAD_TIMER_EVENTS, workloadMachine } from './workload/lifecycle.ts';
export type { UdpOptions, UdpStats } from './workload/udp.ts';
export { UdpStream } from './workload/udp.ts';
export type { WebOptions, WebStats } from './workload/web.ts';
export { LISTEN_BACKLOG, MAX_CLIENTS, WebLoad, WebServer } from './workload/web.ts';
