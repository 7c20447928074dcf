/**
 * Replay debugging for isosim logs: the state at any record (`Replay`, `World`,
 * `stateAt`, `stateTimeline`), the diff of two runs (`diffLogs`), record queries
 * (`parseQuery`), and exports to Perfetto, xentrace and a xenalyze-style summary. It
 * reads log files, so it runs on Node.
 *
 * @module @isosim/replay
 */
export type { LogDiff } from './diff.ts';
export { diffLogs } from './diff.ts';
export type { PerfettoOptions, PerfettoResult } from './export/perfetto.ts';
export { exportPerfetto } from './export/perfetto.ts';
export type {
  CycleSummary,
  XaDomain,
  XaDomainRow,
  XaVcpu,
  XenalyzeSummary,
} from './export/xenalyzeSummary.ts';
export {
  XA_DOMAIN_RUNSTATES,
  XA_RUNSTATES,
  xaCpuPct,
  xaDomainRows,
  xaSeconds,
  xenalyzeSummary,
} from './export/xenalyzeSummary.ts';
export type { XentraceOptions, XentraceResult } from './export/xentrace.ts';
export { exportXentrace } from './export/xentrace.ts';
export type { HostLayout } from './layout.ts';
export { domainNames, hostLayout } from './layout.ts';
export type { Predicate } from './query.ts';
export { parseQuery } from './query.ts';
export type { DecodedRecord, LogIndex, OpenOptions, Snapshot } from './replay.ts';
export { decodeRecord, INDEX_VERSION, KEEP_RECENT, Replay, SNAPSHOT_EVERY } from './replay.ts';
export type { StateChange } from './stateTimeline.ts';
export { stateAt, stateTimeline } from './stateTimeline.ts';
export type {
  DestroyedDomain,
  DiskCounts,
  DiskState,
  MemoryBuild,
  MemoryBuildState,
  MemoryDomainState,
  MemoryState,
  SchedulerCtx,
  ShareGuardBlock,
  SharingCounts,
  TmemPools,
  WorldState,
  XenMonIddRow,
  XenMonRow,
} from './world.ts';
export { diskName, emptyWorld, World, XENMON_WINDOW } from './world.ts';
