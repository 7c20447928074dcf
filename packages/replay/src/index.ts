export type { StateChange } from './stateTimeline.ts';
export { stateAt, stateTimeline } from './stateTimeline.ts';
