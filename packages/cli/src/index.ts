/**
 * `@isosim/cli`: the `isosim` command (`main`), and the scenario library under it, for
 * programs that want what the command does without a shell: load and check a scenario
 * file or built-in, run it and measure it as `metrics.json` does, and check the
 * isolation invariants on it. (Issue 14 moves this library into a package of its own.)
 */
export { main, runCli } from './main.ts';
export { builtinNames, loadScenario, parseScenario } from './scenario/load.ts';
export { computeMetrics, markWindow } from './scenario/metrics.ts';
export type {
  DomainMetrics,
  Metrics,
  RunOptions as ScenarioRunOptions,
  SecondSample,
} from './scenario/runScenario.ts';
export { buildRun, runScenario, runScenarioAsync } from './scenario/runScenario.ts';
export type { Scenario } from './scenario/schema.ts';
export type { CheckResult, Run as CheckedRun, RunOptions as CheckOptions } from './verify/invariants.ts';
export {
  combinedShare,
  conservation,
  creditCaps,
  hardReservations,
  runChecked,
  runHost,
  shareGuardLimits,
} from './verify/invariants.ts';
