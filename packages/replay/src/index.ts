export type { LogDiff } from './diff.ts';
export { diffLogs } from './diff.ts';
export type { PerfettoResult } from './export/perfetto.ts';
export { exportPerfetto } from './export/perfetto.ts';
export type { XaDomain, XaVcpu, XenalyzeSummary } from './export/xenalyzeSummary.ts';
export {
  XA_DOMAIN_RUNSTATES,
  XA_RUNSTATES,
  xaCpuPct,
  xaSeconds,
  xenalyzeSummary,
} from './export/xenalyzeSummary.ts';
export type { XentraceResult } from './export/xentrace.ts';
export { exportXentrace } from './export/xentrace.ts';
export type { Predicate } from './query.ts';
export { domainNames, parseQuery } from './query.ts';
export type { DecodedRecord, LogIndex, OpenOptions, Snapshot } from './replay.ts';
export { decodeRecord, INDEX_VERSION, KEEP_RECENT, Replay, SNAPSHOT_EVERY } from './replay.ts';
export type { StateChange } from './stateTimeline.ts';
export { stateAt, stateTimeline } from './stateTimeline.ts';
export type { SchedulerCtx, WorldState, XenMonRow } from './world.ts';
export { emptyWorld, World, XENMON_WINDOW } from './world.ts';
