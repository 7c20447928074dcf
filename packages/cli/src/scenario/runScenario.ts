/**
 * Runs a scenario and measures it: the numbers of `metrics.json` (docs/metrics.md),
 * with the event log streamed to disk beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActorEngine, DROP_REASONS, type SystemConfig, XenSystem } from '@isosim/actors';
import { FileSink, IsosimError, Kernel, type LogSink, LogWriter, logHeader, NS_PER_S } from '@isosim/core';
import { Progress } from '../progress.ts';
import { VERSIONS } from '../versions.ts';
import { plotsFor } from './plots.ts';
import type { Scenario } from './schema.ts';
import { toSystemConfig } from './toConfig.ts';

export interface DomainMetrics {
  cpuPct: number;
  iddPctTrue: number;
  iddPctEstimated: number;
  combinedPct: number;
  webReqPerSec?: number;
  webFailedPerSec?: number;
  packets?: { offeredIn: number; offeredOut: number; deliveredIn: number; deliveredOut: number };
  drops?: Record<string, number>;
}

export interface SecondSample {
  readonly second: number;
  readonly domains: Record<
    string,
    { cpuPct: number; iddPctTrue: number; iddPctEstimated: number; webReqPerSec?: number }
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
}

export interface RunOptions {
  readonly seed?: number;
  readonly durationS?: number;
  /** Directory for the log; undefined: no log written to disk. */
  readonly out?: string;
  readonly onProgress?: (fraction: number, events: number) => void;
  /** Actor interpreter (default `flat`); `xstate` gives the same log, slower. */
  readonly engine?: ActorEngine;
}

/**
 * The host of `s` on a fresh kernel, logging to `sink` (none: no log) under the header
 * every run writes: the scenario as run (seed, length, measurement window), so that
 * `isosim resim` can run it again from the log alone. The window is the scenario's if
 * `ownWindow`, else the whole run.
 */
export function buildRun(
  s: Scenario,
  seed: number,
  durationS: number,
  ownWindow: boolean,
  sink?: LogSink,
  engine?: ActorEngine,
): { cfg: SystemConfig; sys: XenSystem; kernel: Kernel; log?: LogWriter; window: [number, number] } {
  const window: [number, number] = s.window && ownWindow ? [s.window.startS, s.window.endS] : [0, durationS];
  if (window[1] > durationS) {
    throw new IsosimError(
      s.name,
      'window',
      `ends at ${window[1]} s, after the run's ${durationS} s`,
      'give a longer --duration',
    );
  }
  const asRun = { ...s, seed, durationS, window: { startS: window[0], endS: window[1] } };
  const header = logHeader(s.name, seed, { spec: asRun, versions: VERSIONS });
  const log = sink ? new LogWriter(sink, header) : undefined;
  const kernel = new Kernel({ seed, log });
  const cfg: SystemConfig = { ...toSystemConfig(s), engine };
  return { cfg, sys: new XenSystem(kernel, cfg), kernel, log, window };
}

/** Runs `kernel` to `endNs` a simulated second at a time, reporting the fraction done. */
export function runSeconds(kernel: Kernel, endNs: number, onProgress?: (fraction: number) => void): void {
  for (let t = Math.min(NS_PER_S, endNs); ; t = Math.min(t + NS_PER_S, endNs)) {
    kernel.runUntil(t);
    onProgress?.(t / endNs);
    if (t === endNs) return;
  }
}

/** Runs `s`; `wallS` is how long it took (kept out of the metrics, which must repeat). */
export function runScenario(s: Scenario, options: RunOptions = {}): { metrics: Metrics; wallS: number } {
  const seed = options.seed ?? s.seed;
  const durationS = options.durationS ?? s.durationS;
  const sink = options.out ? new FileSink(join(options.out, 'events.isolog')) : undefined;
  const run = buildRun(s, seed, durationS, options.durationS === undefined, sink, options.engine);
  const { sys, kernel, log, window } = run;
  sys.start();
  const t0 = process.hrtime.bigint();
  runSeconds(kernel, Math.round(durationS * NS_PER_S), (f) => options.onProgress?.(f, kernel.dispatched));
  sys.xen.settle();
  sys.xenmon.sample();
  const summary = log?.close();
  const acc = sys.xen.accounting;
  const [a, b] = [Math.round(window[0] * NS_PER_S), Math.round(window[1] * NS_PER_S)];
  const span = (b - a) / 100;
  const estIn = (id: number, from: number, to: number) => {
    let sum = 0;
    for (let sec = Math.floor(from / NS_PER_S); sec < Math.ceil(to / NS_PER_S); sec++)
      sum += sys.xenmon.estimatedPerSecond[sec]?.[id] ?? 0;
    return sum;
  };
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const domains: Record<string, DomainMetrics> = {};
  for (const d of sys.xen.domains) {
    const cpu = acc.cpuBetween(d.id, a, b) / span;
    const isIdd = d.id === sys.idd.id;
    const iddTrue = isIdd ? 0 : acc.iddBetween(d.id, a, b) / span;
    const m: DomainMetrics = {
      cpuPct: round(cpu),
      iddPctTrue: round(iddTrue),
      iddPctEstimated: isIdd ? 0 : round(estIn(d.id, a, b) / span),
      combinedPct: round(cpu + iddTrue),
    };
    const g = sys.guests.find((x) => x.domain.id === d.id);
    if (g) {
      if (g.web.length > 0) {
        let replies = 0;
        for (const w of g.web)
          for (let sec = Math.floor(window[0]); sec < Math.ceil(window[1]); sec++)
            replies += w.stats.repliesPerSecond[sec] ?? 0;
        m.webReqPerSec = round(replies / (window[1] - window[0]));
        m.webFailedPerSec = round(g.web.reduce((n, w) => n + w.stats.failed, 0) / durationS);
      }
      m.packets = {
        offeredIn: g.stats.offered[0],
        offeredOut: g.stats.offered[1],
        deliveredIn: g.stats.delivered[0],
        deliveredOut: g.stats.delivered[1],
      };
      m.drops = Object.fromEntries(DROP_REASONS.map((r) => [r, g.stats.drops.get(r) ?? 0]));
    }
    domains[d.name] = m;
  }
  const series: SecondSample[] = [];
  for (let sec = 0; sec < Math.floor(durationS); sec++) {
    const from = sec * NS_PER_S;
    const to = from + NS_PER_S;
    const row: SecondSample['domains'] = {};
    for (const d of sys.xen.domains) {
      const g = sys.guests.find((x) => x.domain.id === d.id);
      row[d.name] = {
        cpuPct: round(acc.cpuBetween(d.id, from, to) / 1e7),
        iddPctTrue: d.id === sys.idd.id ? 0 : round(acc.iddBetween(d.id, from, to) / 1e7),
        iddPctEstimated: round((sys.xenmon.estimatedPerSecond[sec]?.[d.id] ?? 0) / 1e7),
        ...(g && g.web.length > 0
          ? { webReqPerSec: g.web.reduce((n, w) => n + (w.stats.repliesPerSecond[sec] ?? 0), 0) }
          : {}),
      };
    }
    series.push({ second: sec, domains: row });
  }
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
  };
  return { metrics, wallS: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/**
 * What `isosim run` and `isosim paper` do for one scenario: run it with a progress bar,
 * then write DIR/metrics.json and DIR/plots/*.svg beside the log.
 */
export function runAndWrite(
  s: Scenario,
  out: string,
  seed?: number,
  durationS?: number,
  engine?: ActorEngine,
): { metrics: Metrics; wallS: number } {
  mkdirSync(join(out, 'plots'), { recursive: true });
  const progress = new Progress(s.name);
  const result = runScenario(s, {
    seed,
    durationS,
    out,
    engine,
    onProgress: (f, e) => progress.update(f, `${e} events`),
  });
  progress.done();
  writeFileSync(join(out, 'metrics.json'), `${JSON.stringify(result.metrics, null, 2)}\n`);
  const idd = s.domains.find((d) => d.role === 'idd')?.name ?? 'Dom-0';
  for (const [file, svg] of Object.entries(plotsFor(result.metrics, idd)))
    writeFileSync(join(out, 'plots', file), svg);
  return result;
}
