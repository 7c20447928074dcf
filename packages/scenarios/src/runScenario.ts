/**
 * Runs a scenario and measures it: the numbers of `metrics.json` (docs/metrics.md),
 * with the event log streamed to disk beside it.
 */
import { join } from 'node:path';
import { type ActorEngine, type SystemConfig, XenSystem } from '@isosim/actors';
import {
  type EventLog,
  IsosimError,
  Kernel,
  type LogSink,
  LogWriter,
  logHeader,
  NS_PER_S,
} from '@isosim/core';
import { FileSink, ThreadedLogWriter } from '@isosim/core/node';
import type { ChargingScores } from './charging.ts';
import {
  buildMemory,
  type MemoryRunMetrics,
  memoryMetrics,
  memoryPlan,
  type ScenarioMemory,
  trimMemory,
} from './memoryScenario.ts';
import { chargingMetrics, computeMetrics, markWindow } from './metrics.ts';
import { OutputDir, type Owned, writeDir } from './output.ts';
import { plotsFor } from './plots.ts';
import { Progress } from './progress.ts';
import type { Scenario } from './schema.ts';
import { toSystemConfig } from './toConfig.ts';
import { VERSIONS } from './versions.ts';

export interface DomainMetrics {
  cpuPct: number;
  iddPctTrue: number;
  iddPctEstimated: number;
  combinedPct: number;
  webReqPerSec?: number;
  webFailedPerSec?: number;
  packets?: {
    offeredIn: number;
    offeredOut: number;
    deliveredIn: number;
    deliveredOut: number;
    /** TCP segments the guest's full qdisc held back (not lost: `Flow.localCongestion`). */
    heldOut: number;
  };
  drops?: Record<string, number>;
  /**
   * With several driver domains (or disks): the guest's IDD time per driver domain name,
   * true and estimated, percent of one CPU over the window (`iddPctTrue` is their sum).
   */
  iddByDriver?: Record<string, { truePct: number; estimatedPct: number }>;
  /** A guest with disk jobs: their I/O over the window. */
  disk?: DiskMetrics;
  /** A guest with resource containers: web throughput per client class (docs/containers.md). */
  webByClass?: Record<string, ClassMetrics>;
}

/** One client class of a guest with resource containers: its web throughput over the window. */
export interface ClassMetrics {
  webReqPerSec: number;
  webFailedPerSec: number;
  /** The container's CPU, percent of one CPU over the whole run (scheduled and charged work; not in mode off). */
  cpuPctRun?: number;
  /** Packets for it that LRP dropped, whole run (not in mode off). */
  lrpDrops?: number;
}

/** A guest's disk I/O over the measurement window (docs/metrics.md). */
export interface DiskMetrics {
  readIops: number;
  writeIops: number;
  /** MB/s (10^6 bytes) read and written. */
  readMBps: number;
  writeMBps: number;
  /** Mean and largest latency of I/Os completed over the whole run, issue to completion, ms. */
  meanLatencyMs: number;
  maxLatencyMs: number;
  /** Block requests issued, completed and in flight at the end, over all the guest's vbds. */
  requestsIssued: number;
  requestsCompleted: number;
}

export interface SecondSample {
  readonly second: number;
  /** Only on a last, partial second: its length, seconds (the run ends inside it). */
  readonly spanS?: number;
  readonly domains: Record<
    string,
    {
      cpuPct: number;
      iddPctTrue: number;
      iddPctEstimated: number;
      webReqPerSec?: number;
      /** Disk I/Os completed per second (guests with disk jobs). */
      diskIops?: number;
      /** IDD time per driver domain name, true, percent (with several driver domains or disks). */
      iddByDriver?: Record<string, number>;
      /** Web replies per second per client class (guests with resource containers). */
      webByClass?: Record<string, number>;
    }
  >;
}

export interface Metrics {
  scenario: string;
  seed: number;
  durationS: number;
  windowS: [number, number];
  events: number;
  logHash: string;
  logRecords: number;
  domains: Record<string, DomainMetrics>;
  series: SecondSample[];
  /** When the scenario chooses a charging policy (`mechanisms.charging`): what it is and costs. */
  charging?: ChargingMetrics;
  /** When the scenario has a `memory` block: what its memory did (docs/metrics.md). */
  memory?: MemoryRunMetrics;
}

/**
 * A charging policy's cost (docs/charging.md): the CPU it adds to driver domains; and the
 * charging lab's scores of the run (`ChargingScores`, charging.ts).
 */
export interface ChargingMetrics extends ChargingScores {
  policy: string;
  /** Whether what XenMon reports is the ground truth (1A–1E). */
  exact: boolean;
  /** Per driver domain name: the policy's own CPU there over the whole run, percent of one CPU. */
  overheadPct: Record<string, number>;
}

export interface RunOptions {
  readonly seed?: number;
  readonly durationS?: number;
  /** Directory for the log; undefined: no log written to disk. */
  readonly out?: string;
  readonly onProgress?: (fraction: number, events: number) => void;
  /** Actor interpreter (default `flat`); `xstate` gives the same log, slower. */
  readonly engine?: ActorEngine;
  /**
   * Encode and write the log on a worker thread (`ThreadedLogWriter`): the same bytes,
   * the simulation thread freed of ~12% of its work. `'auto'`: for runs of
   * `LOG_THREAD_MIN_S` simulated seconds or more, where it pays for its start. Default
   * false.
   */
  readonly logThread?: boolean | 'auto';
}

/** The shortest run `logThread: 'auto'` writes on a thread, simulated s. */
export const LOG_THREAD_MIN_S = 10;

/**
 * The host of `s` on a fresh kernel, logging to `sink` (none: no log) under the header
 * every run writes: the scenario as run (seed, length, measurement window), so that
 * `isosim resim` can run it again from the log alone. The window is the scenario's if
 * `ownWindow`, else the whole run. With a `memory` block, its `MemoryHost` on the same
 * kernel and the system's `ActorHost`, built after the system: the guests added (owning
 * their starting memory) and the launches posted.
 */
export function buildRun(
  file: Scenario,
  seed: number,
  durationS: number,
  ownWindow: boolean,
  sink?: LogSink,
  engine?: ActorEngine,
  logThread = false,
): {
  cfg: SystemConfig;
  sys: XenSystem;
  kernel: Kernel;
  log?: EventLog;
  window: [number, number];
  memory?: ScenarioMemory;
} {
  // Memory events after a shortened run's end are left out, of the run and its header.
  const s = trimMemory(file, durationS);
  const window: [number, number] = s.window && ownWindow ? [s.window.startS, s.window.endS] : [0, durationS];
  if (window[1] > durationS) {
    throw new IsosimError(
      s.name,
      'window',
      `ends at ${window[1]} s, after the run's ${durationS} s`,
      'give a longer --duration',
    );
  }
  const plan = memoryPlan(s, durationS);
  const asRun = { ...s, seed, durationS, window: { startS: window[0], endS: window[1] } };
  const header = logHeader(s.name, seed, { spec: asRun, versions: VERSIONS });
  const log =
    sink === undefined
      ? undefined
      : logThread && sink instanceof FileSink
        ? new ThreadedLogWriter(sink, header)
        : new LogWriter(sink, header);
  const kernel = new Kernel({ seed, log });
  const cfg: SystemConfig = { ...toSystemConfig(s), engine };
  const sys = new XenSystem(kernel, cfg);
  const memory = plan === undefined ? undefined : buildMemory(kernel, sys.host, plan);
  return { cfg, sys, kernel, log, window, ...(memory === undefined ? {} : { memory }) };
}

/** The times a run stops at on its way to `endNs`: every simulated second, then `endNs`. */
function* secondsTo(endNs: number): Generator<number> {
  for (let t = Math.min(NS_PER_S, endNs); ; t = Math.min(t + NS_PER_S, endNs)) {
    yield t;
    if (t === endNs) return;
  }
}

/** Runs `kernel` to `endNs` a simulated second at a time, reporting the fraction done. */
export function runSeconds(kernel: Kernel, endNs: number, onProgress?: (fraction: number) => void): void {
  for (const t of secondsTo(endNs)) {
    kernel.runUntil(t);
    onProgress?.(t / endNs);
  }
}

export type RunResult = { metrics: Metrics; wallS: number };

/** Runs `s`; `wallS` is how long it took (kept out of the metrics, which must repeat). */
export function runScenario(s: Scenario, options: RunOptions = {}): RunResult {
  const steps = scenarioSteps(s, options);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/**
 * As `runScenario`, but awaits `between(t)` after every simulated second (t: the
 * simulated time reached, ns): a caller can let the event loop run there, and stop the
 * run by throwing.
 */
export async function runScenarioAsync(
  s: Scenario,
  options: RunOptions,
  between: (tNs: number) => Promise<void>,
): Promise<RunResult> {
  const steps = scenarioSteps(s, options);
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    await between(r.value);
  }
}

/** The body of a run: yields the simulated time after each second, returns the measurements. */
function* scenarioSteps(s: Scenario, options: RunOptions): Generator<number, RunResult> {
  const seed = options.seed ?? s.seed;
  const durationS = options.durationS ?? s.durationS;
  const t0 = process.hrtime.bigint();
  const sink = options.out ? new FileSink(join(options.out, 'events.isolog')) : undefined;
  const thread = options.logThread === 'auto' ? durationS >= LOG_THREAD_MIN_S : options.logThread === true;
  const run = buildRun(s, seed, durationS, options.durationS === undefined, sink, options.engine, thread);
  const { sys, kernel, log, window, memory } = run;
  markWindow(sys, window, durationS);
  sys.start();
  const endNs = Math.round(durationS * NS_PER_S);
  for (const t of secondsTo(endNs)) {
    kernel.runUntil(t);
    options.onProgress?.(t / endNs, kernel.dispatched);
    yield t;
  }
  sys.xen.settle();
  sys.xenmon.sample();
  const summary = log?.close();
  const { domains, series } = computeMetrics(sys, window, durationS);
  const metrics: Metrics = {
    scenario: s.name,
    seed,
    durationS,
    windowS: window,
    events: kernel.dispatched,
    logHash: summary?.digest ?? '',
    logRecords: summary?.records ?? 0,
    domains,
    series,
    ...(s.mechanisms.charging === undefined ? {} : { charging: chargingMetrics(sys, durationS) }),
    ...(memory === undefined ? {} : { memory: memoryMetrics(memory) }),
  };
  return { metrics, wallS: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** The files of a run that a later run into the same directory replaces or removes. */
const RUN_FILES: readonly Owned[] = [{ dir: 'plots', ext: '.svg' }];

function writeResults(dir: OutputDir, s: Scenario, metrics: Metrics): void {
  dir.write('metrics.json', `${JSON.stringify(metrics, null, 2)}\n`);
  const idd = s.domains.find((d) => d.role === 'idd')?.name ?? 'Dom-0';
  for (const [file, svg] of Object.entries(plotsFor(metrics, idd))) dir.write(join('plots', file), svg);
}

/**
 * What `isosim run` does for one scenario: run it with a progress bar, then write
 * DIR/metrics.json and DIR/plots/*.svg beside the log. DIR is locked while it runs and
 * everything is written to a staging directory, moved into place at the end; an earlier
 * run's plots that this one did not draw are removed (src/output.ts).
 */
export function runAndWrite(
  s: Scenario,
  out: string,
  seed?: number,
  durationS?: number,
  engine?: ActorEngine,
  logThread: RunOptions['logThread'] = 'auto',
): RunResult {
  const dir = OutputDir.open('isosim run', out);
  try {
    const progress = new Progress(s.name);
    const result = runScenario(s, {
      seed,
      durationS,
      out: dir.stage,
      engine,
      logThread,
      onProgress: (f, e) => progress.update(f, `${e} events`),
    });
    progress.done();
    writeResults(dir, s, result.metrics);
    dir.commit(RUN_FILES);
    return result;
  } finally {
    dir.abandon();
  }
}

/**
 * `runAndWrite` that Ctrl-C (SIGINT) or SIGTERM stops between simulated seconds: then
 * nothing is kept, DIR is left as it was, and it throws `Interrupted` saying so.
 */
export function runAndWriteInterruptible(
  s: Scenario,
  out: string,
  seed?: number,
  durationS?: number,
  engine?: ActorEngine,
  logThread: RunOptions['logThread'] = 'auto',
): Promise<RunResult> {
  const total = durationS ?? s.durationS;
  return writeDir('isosim run', out, RUN_FILES, async (dir, checkpoint) => {
    const progress = new Progress(s.name);
    try {
      const result = await runScenarioAsync(
        s,
        {
          seed,
          durationS,
          out: dir.stage,
          engine,
          logThread,
          onProgress: (f, e) => progress.update(f, `${e} events`),
        },
        (t) => checkpoint(() => `${(t / NS_PER_S).toFixed(1)} s of ${total} s simulated`),
      );
      writeResults(dir, s, result.metrics);
      return result;
    } finally {
      progress.done();
    }
  });
}
