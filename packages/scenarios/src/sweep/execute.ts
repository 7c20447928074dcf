/**
 * One run of a sweep, as a worker runs it: the scenario built and run as `isosim run`
 * runs it (the same log, so the same hash, though no log is written: the digest is
 * computed over bytes that are dropped), the recorded metrics picked from what
 * metrics.json would hold, and the recorded checks run as `isosim check` runs them.
 */
import { CHARGING_INFO } from '@isosim/actors';
import { type LogSink, NS_PER_S } from '@isosim/core';
import {
  chargingExact,
  combinedShare,
  conservation,
  creditCaps,
  diskWaits,
  hardReservations,
  memoryAccounting,
  runChecked,
  shareGuardLimits,
} from '../invariants.ts';
import { parseScenario } from '../load.ts';
import { memoryMetrics } from '../memoryScenario.ts';
import { chargingMetrics, computeMetrics, markWindow } from '../metrics.ts';
import { buildRun, type Metrics } from '../runScenario.ts';
import type { Scenario } from '../schema.ts';
import { checkInapplicable, metricAt } from './expand.ts';
import type { SweepCheck } from './schema.ts';
import type { ParamValue, RunRecord } from './types.ts';

/** A run as the pool sends it to a worker. */
export interface RunTask {
  readonly id: string;
  readonly index: number;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly seed: number;
  /** The scenario as run (seed set), as JSON. */
  readonly scenario: string;
  readonly metrics: readonly string[];
  readonly checks: readonly SweepCheck[];
}

/** What a worker sends back: the record, and the recorded metrics the run did not have. */
export interface RunOutcome {
  readonly record: RunRecord;
  /** Per recorded metric path with no number in this run's metrics: why. */
  readonly absent: Readonly<Record<string, string>>;
}

/** A sink that keeps nothing: the writer still encodes and hashes every record. */
class DigestOnlySink implements LogSink {
  write(_bytes: Uint8Array): void {}
  close(): void {}
}

/** Runs `s` with its own seed and length, as `runScenario` does; the log is hashed, not kept. */
export function runForMetrics(s: Scenario): Metrics {
  const { sys, kernel, log, window, memory } = buildRun(s, s.seed, s.durationS, true, new DigestOnlySink());
  markWindow(sys, window, s.durationS);
  sys.start();
  const endNs = Math.round(s.durationS * NS_PER_S);
  for (let t = Math.min(NS_PER_S, endNs); ; t = Math.min(t + NS_PER_S, endNs)) {
    kernel.runUntil(t);
    if (t === endNs) break;
  }
  sys.xen.settle();
  sys.xenmon.sample();
  const summary = log?.close();
  const { domains, series } = computeMetrics(sys, window, s.durationS);
  return {
    scenario: s.name,
    seed: s.seed,
    durationS: s.durationS,
    windowS: window,
    events: kernel.dispatched,
    logHash: summary?.digest ?? '',
    logRecords: summary?.records ?? 0,
    domains,
    series,
    ...(s.mechanisms.charging === undefined ? {} : { charging: chargingMetrics(sys, s.durationS) }),
    ...(memory === undefined ? {} : { memory: memoryMetrics(memory) }),
  };
}

/** Whether every workload stops before the end, so that the host can drain (as `isosim check`). */
function stopsBeforeEnd(s: Scenario): boolean {
  return s.domains.every((d) =>
    (d.workloads ?? []).every((w) => w.stopS !== undefined && w.stopS <= s.durationS),
  );
}

/** The recorded checks on `s`, run as `isosim check` runs them: true where the invariant held. */
export function runChecks(s: Scenario, checks: readonly SweepCheck[]): Record<string, boolean> {
  if (checks.length === 0) return {};
  for (const c of checks) {
    const why = checkInapplicable(s, c);
    if (why !== undefined) throw new Error(`check ${c} does not apply: ${why}`);
  }
  const run = runChecked(s, { drain: stopsBeforeEnd(s) });
  const out: Record<string, boolean> = {};
  for (const c of checks) {
    const r =
      c === 'reservations'
        ? s.host.scheduler === 'sedf'
          ? hardReservations(run)
          : creditCaps(run)
        : c === 'combined'
          ? combinedShare(run)
          : c === 'shareguard'
            ? shareGuardLimits(run)
            : c === 'conservation'
              ? conservation(run)
              : c === 'disk'
                ? diskWaits(run)
                : c === 'memory'
                  ? memoryAccounting(run)
                  : CHARGING_INFO[run.sys.charging].exact
                    ? chargingExact(run)
                    : undefined;
    out[c] = r === undefined ? true : r.failures === 0;
  }
  return out;
}

/** Runs one task; a throw becomes a failed record with its reproducer. */
export function executeRun(task: RunTask): RunOutcome {
  const t0 = process.hrtime.bigint();
  const wall = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const base = { id: task.id, index: task.index, params: task.params, seed: task.seed };
  try {
    const s = parseScenario(JSON.parse(task.scenario), `sweep run ${task.id}`);
    const m = runForMetrics(s);
    const metrics: Record<string, number | null> = {};
    const absent: Record<string, string> = {};
    for (const path of task.metrics) {
      const { value, problem } = metricAt(m, path);
      metrics[path] = value;
      if (problem !== undefined) absent[path] = problem;
    }
    const checks = runChecks(s, task.checks);
    return { record: { ...base, metrics, checks, wallS: wall(), logHash: m.logHash }, absent };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return {
      record: {
        ...base,
        metrics: Object.fromEntries(task.metrics.map((p) => [p, null])),
        checks: {},
        wallS: wall(),
        logHash: '',
        error: { message, scenario: task.scenario, seed: task.seed },
      },
      absent: {},
    };
  }
}
