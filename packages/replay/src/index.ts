export type { DecodedRecord, LogIndex, OpenOptions, Snapshot } from './replay.ts';
export { decodeRecord, fieldText, INDEX_VERSION, Replay, SNAPSHOT_EVERY } from './replay.ts';
export type { StateChange } from './stateTimeline.ts';
export { stateAt, stateTimeline } from './stateTimeline.ts';
export type { SchedulerCtx, WorldState, XenMonRow } from './world.ts';
export { emptyWorld, World, XENMON_WINDOW } from './world.ts';
