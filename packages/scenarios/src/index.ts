/**
 * `@isosim/scenarios`: what the `isosim` command does, as a library. Load and check a
 * scenario file or built-in (`loadScenario`, `parseScenario`), turn it into a host
 * (`toSystemConfig`), run it and measure it as `metrics.json` does (`runScenario`,
 * `computeMetrics`), check the isolation invariants on it (`runChecked` and the
 * checks), derive variants over the paper's unstated parameters (`makeVariant`), and
 * write run directories safely (`OutputDir`, `writeDir`). Node only: it reads and
 * writes files. The command line (`@isosim/cli`) is a thin shell over it.
 *
 * @module @isosim/scenarios
 */
export * from './charging.ts';
export * from './chargingHosts.ts';
export * from './experiments.ts';
export * from './goodput.ts';
export type { CheckResult, DiskLoad, Run as CheckedRun, RunOptions as CheckOptions } from './invariants.ts';
export {
  CREDIT_PERIOD_NS,
  CREDIT_TICK_NS,
  chargingExact,
  combinedShare,
  conservation,
  creditCaps,
  DRAIN_LIMIT_NS,
  diskWaitBoundNs,
  diskWaits,
  ELEVATOR_LIMITS,
  FEEDBACK_NS,
  guestBound,
  hardReservations,
  MAX_KEPT,
  memoryAccounting,
  runChecked,
  runHost,
  shareGuardLimits,
} from './invariants.ts';
export * from './load.ts';
export * from './memoryScenario.ts';
export * from './memoryStudy.ts';
export * from './metrics.ts';
export * from './output.ts';
export * from './plots.ts';
export * from './progress.ts';
export * from './report.ts';
export type {
  ChargingMetrics,
  ClassMetrics,
  DiskMetrics,
  DomainMetrics,
  Metrics,
  RunOptions as ScenarioRunOptions,
  RunResult,
  SecondSample,
} from './runScenario.ts';
export {
  buildRun,
  LOG_THREAD_MIN_S,
  runAndWrite,
  runAndWriteInterruptible,
  runScenario,
  runScenarioAsync,
  runSeconds,
} from './runScenario.ts';
export * from './schema.ts';
export * from './sweep/index.ts';
export * from './toConfig.ts';
export * from './variants.ts';
export { VERSIONS } from './versions.ts';
