/**
 * The charging lab (docs/charging.md): one scenario under every charging policy
 * (`mechanisms.charging`, 1A–2C; @isosim/actors charging/policies.ts), each scored
 * against the simulator's ground truth:
 *
 * - **error**: for each guest, |charged − true| driver-domain CPU over each 1 s and each
 *   feedback interval of the scenario's window, in points of one CPU; the mean and the
 *   largest over guests and intervals. "True" is the guest's principal in every driver
 *   domain, except under 1A, whose truth is all the work of the domain dedicated to the
 *   guest (its definition, and invariant 8's);
 * - **isolation**: invariant 2 (`combinedShare`: each guest's own CPU plus every driver
 *   domain's true work for it, over every window of at least two feedback intervals,
 *   against share + ε) when SEDF-DC or Credit-DC reads the policy's estimate: the
 *   closest any window came (fraction of ε) and the violations; and each guest's
 *   combined CPU over the window against its share; where the scenario has ShareGuard
 *   (which reads the estimate too), invariant 3 (`shareGuardLimits`);
 * - **overhead**: the CPU the policy itself spent (padding, switches of client,
 *   containers, 1A's timer ticks), percent of one CPU over the run;
 * - **throughput**: what each guest's workloads got over the window (web replies/s,
 *   disk I/Os/s; for UDP and bulk transfers, packets delivered per second over the run).
 *
 * A policy a scenario cannot run (1A where a driver domain serves two guests) is
 * skipped, with the reason. Everything is deterministic: the same scenarios give the
 * same table.
 *
 * Two ways to run it: `chargingLab` runs every run in this process, one after another
 * (the reference); `chargingLabSweep` runs each scenario's policies as a sweep
 * (docs/sweeps.md) on worker threads into a DuckDB file per scenario, resumable, and
 * builds the same results from the stored records. The scores a run's metrics.json does
 * not otherwise hold are `chargingScores`, in its `charging` block (metrics.ts).
 */

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  CHARGING_INFO,
  CHARGING_POLICIES,
  type ChargingPolicyId,
  domainShare,
  type SystemConfig,
  type XenSystem,
} from '@isosim/actors';
import { IsosimError, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { combinedShare, type Run, runChecked, shareGuardLimits } from './invariants.ts';
import { builtinNames, parseScenario } from './load.ts';
import { computeMetrics } from './metrics.ts';
import type { Scenario } from './schema.ts';
import { expandSweep, metricAt, parseSweep, sweepMeta } from './sweep/expand.ts';
import { runSweep, SweepStopped } from './sweep/pool.ts';
import { readRuns, sweepMetaOf } from './sweep/query.ts';
import { openResultStore } from './sweep/store.ts';
import type { RunRecord } from './sweep/types.ts';
import { xmlText } from './text.ts';
import { toSystemConfig, vcpuConfig } from './toConfig.ts';

/** One policy on one scenario. */
export interface ChargingResult {
  readonly scenario: string;
  readonly policy: ChargingPolicyId;
  readonly exact: boolean;
  /** Why the policy did not run on this scenario (the rest is then empty). */
  readonly skipped?: string;
  /** Error over 1 s intervals and over feedback intervals, points of one CPU. */
  readonly error1s: ErrorStats;
  readonly errorT: ErrorStats;
  /**
   * 2B and 2C only: the largest |charged − true − the guest's part of the driver
   * domain's own work| per feedback interval, points of one CPU (`splitResidual`): 0 on
   * homogeneous traffic (docs/charging.md, "How wrong 2B and 2C can be"), what the
   * counts get wrong otherwise.
   */
  readonly residualT?: number;
  /** The feedback interval the second error is over, ms. */
  readonly feedbackMs: number;
  /** Invariant 2 under this policy: whether the scenario claims it, how close, violations. */
  readonly isolation: { readonly claimed: boolean; readonly worst: number; readonly violations: number };
  /**
   * Invariant 3 under this policy, where the scenario has ShareGuard (which reads the
   * policy's estimate): the driver domain's true CPU for each limited guest over each
   * block against its limit + ε; how close (fraction of ε) and the violations.
   */
  readonly shareGuard?: { readonly worst: number; readonly violations: number };
  /** Per guest: combined CPU over the window and its share, percent of one CPU. */
  readonly combined: Readonly<Record<string, { readonly combinedPct: number; readonly sharePct: number }>>;
  /** The policy's own CPU over the run, percent of one CPU, all driver domains. */
  readonly overheadPct: number;
  /** Per guest: web replies/s and disk I/Os/s over the window. */
  readonly throughput: Readonly<Record<string, GuestThroughput>>;
  readonly logHash: string;
}

/** What a guest's workloads got: zero where it has no workload of the kind. */
export interface GuestThroughput {
  /** Web replies per second over the window. */
  readonly webReqPerSec: number;
  /** Disk reads and writes per second over the window. */
  readonly diskIops: number;
  /** With UDP or bulk workloads: packets delivered (in and out) per second over the whole run. */
  readonly netPktPerSec: number;
}

export interface ErrorStats {
  readonly mean: number;
  readonly max: number;
}

export interface ChargingOptions {
  /** Simulated seconds (default: the scenario's); the window is then the whole run. */
  readonly durationS?: number;
  /** The policies (default: all eight). */
  readonly policies?: readonly ChargingPolicyId[];
  /** Called when a run starts: its scenario, policy, and index among `total`. */
  readonly onRun?: (scenario: string, policy: ChargingPolicyId, index: number, total: number) => void;
}

const EMPTY: ErrorStats = { mean: 0, max: 0 };

/** Every policy (or `options.policies`) on each scenario, in order. */
export function chargingLab(scenarios: readonly Scenario[], options: ChargingOptions = {}): ChargingResult[] {
  const policies = options.policies ?? CHARGING_POLICIES;
  const total = scenarios.length * policies.length;
  const out: ChargingResult[] = [];
  for (const s of scenarios) {
    for (const p of policies) {
      options.onRun?.(s.name, p, out.length, total);
      out.push(chargingRun(s, p, options.durationS));
    }
  }
  return out;
}

/**
 * `s` under policy `p` (its own seed), scored against the ground truth, in this process:
 * the reference `chargingLabSweep`'s results are checked against.
 */
export function chargingRun(s: Scenario, p: ChargingPolicyId, durationS?: number): ChargingResult {
  const scenario = chargingScenario(s, p, durationS);
  if (typeof scenario === 'string') return { ...unrun(s, p), skipped: scenario };
  const run = runChecked(scenario);
  const { sys } = run;
  const window = windowOf(scenario);
  const { domains } = computeMetrics(sys, window, scenario.durationS);
  const charging = chargingScores(sys, window, scenario.durationS, run);
  return chargingResultOf(scenario, p, (path) => metricAt({ domains, charging }, path).value, '');
}

/** What a result holds before its run: for a skipped policy, all of it. */
function unrun(s: Scenario, p: ChargingPolicyId) {
  return {
    scenario: s.name,
    policy: p,
    exact: CHARGING_INFO[p].exact,
    error1s: EMPTY,
    errorT: EMPTY,
    feedbackMs: s.mechanisms.debt?.feedbackMs ?? 500,
    isolation: { claimed: false, worst: Number.NaN, violations: 0 },
    combined: {},
    overheadPct: 0,
    throughput: {},
    logHash: '',
  };
}

/**
 * `s` under policy `p` (and `durationS`, which drops the window), checked as a file
 * would be; or why the policy cannot run on it (1A on a shared driver domain).
 */
export function chargingScenario(s: Scenario, p: ChargingPolicyId, durationS?: number): Scenario | string {
  try {
    return parseScenario(
      {
        ...s,
        ...(durationS === undefined ? {} : { durationS, window: undefined }),
        mechanisms: { ...s.mechanisms, charging: p },
      },
      `${s.name} under ${p}`,
    );
  } catch (e) {
    if (e instanceof IsosimError) return e.problem;
    throw e;
  }
}

/** The window a scenario is measured over, s. */
function windowOf(s: Scenario): [number, number] {
  return s.window ? [s.window.startS, s.window.endS] : [0, s.durationS];
}

/**
 * The lab's scores of one run that metrics.json does not otherwise hold; `chargingMetrics`
 * (metrics.ts) puts them in its `charging` block, so a sweep can record them.
 */
export interface ChargingScores {
  /** The feedback interval the errors per interval are over, ms (500 without debt). */
  readonly feedbackMs: number;
  /** The policy's own CPU over the run, all driver domains together, percent of one CPU. */
  readonly overheadTotalPct: number;
  /** |charged − true| per guest over each 1 s wholly inside the window, points of one CPU. */
  readonly error1s: ErrorStats;
  /** The same over each feedback interval. */
  readonly errorT: ErrorStats;
  /**
   * `splitResidual` over feedback intervals: what 2B's and 2C's counts get wrong beyond
   * each guest's part of the driver domain's own work (computed under every policy;
   * the lab reports it for 2B and 2C).
   */
  readonly residualT: number;
  /**
   * Invariant 2 (`combinedShare`) over the run: the closest any window came to share + ε
   * (fraction of ε; −Infinity when no window was checked) and the violations.
   */
  readonly isolation: { readonly worst: number; readonly violations: number };
  /** Invariant 3 (`shareGuardLimits`), where the scenario has ShareGuard: the same. */
  readonly shareGuard?: { readonly worst: number; readonly violations: number };
}

/**
 * The lab's scores of a finished run of `sys` measured over `window` (s) of a run of
 * `durationS`. `run`: the `runChecked` result, if there is one; else invariants 2 and 3
 * read the system itself (they use its configuration, system and length, nothing else).
 */
export function chargingScores(
  sys: XenSystem,
  window: readonly [number, number],
  durationS: number,
  run?: Run,
): ChargingScores {
  const feedbackNs = sys.config.mechanisms?.debt?.feedbackNs ?? Math.round(500 * NS_PER_MS);
  const checked =
    run ??
    ({
      cfg: sys.config,
      sys,
      durationNs: Math.round(durationS * NS_PER_S),
      perPeriod: new Map(),
      digest: undefined,
      drained: false,
    } as Omit<Run, 'scenario'> as Run);
  const iso = combinedShare(checked);
  const sg = sys.shareGuards.size === 0 ? undefined : shareGuardLimits(checked);
  const overhead = sys.chargingOverheadNs().reduce((a, b) => a + b, 0);
  return {
    feedbackMs: feedbackNs / NS_PER_MS,
    overheadTotalPct: round3((100 * overhead) / (durationS * NS_PER_S)),
    error1s: errorStats(sys, window, NS_PER_S),
    errorT: errorStats(sys, window, feedbackNs),
    residualT: splitResidual(sys, window, feedbackNs),
    isolation: { worst: iso.worst, violations: iso.failures },
    ...(sg === undefined ? {} : { shareGuard: { worst: sg.worst, violations: sg.failures } }),
  };
}

/** A metric path of metrics.json: its keys, each as `.key` or, with `.`, `[`, `]` or `"` in it, `["key"]`. */
function metricPath(...keys: readonly string[]): string {
  return keys
    .map((k, i) => (/^[^.[\]"]+$/.test(k) ? `${i === 0 ? '' : '.'}${k}` : `[${JSON.stringify(k)}]`))
    .join('');
}

/** What the lab reads of each guest's metrics (`metricPath` keys after `domains.<name>`). */
function guestReads(cfg: SystemConfig, i: number) {
  const kinds = new Set((cfg.guests[i].workloads ?? []).map((w) => w.kind));
  return { web: kinds.has('web'), disk: kinds.has('disk') };
}

/**
 * The metric paths of metrics.json a run of `s` (under any policy) is scored from: the
 * `charging` scores, and each guest's combined CPU and throughput where it has them.
 */
export function chargingMetricPaths(s: Scenario): string[] {
  const cfg = toSystemConfig(s);
  const paths = [
    'charging.overheadTotalPct',
    'charging.error1s.mean',
    'charging.error1s.max',
    'charging.errorT.mean',
    'charging.errorT.max',
    'charging.residualT',
    'charging.isolation.worst',
    'charging.isolation.violations',
    ...(s.mechanisms.shareGuard === undefined
      ? []
      : ['charging.shareGuard.worst', 'charging.shareGuard.violations']),
  ];
  s.domains
    .filter((d) => d.role === 'guest')
    .forEach((d, i) => {
      const { web, disk } = guestReads(cfg, i);
      paths.push(metricPath('domains', d.name, 'combinedPct'));
      if (web) paths.push(metricPath('domains', d.name, 'webReqPerSec'));
      if (disk)
        paths.push(
          metricPath('domains', d.name, 'disk', 'readIops'),
          metricPath('domains', d.name, 'disk', 'writeIops'),
        );
      if (packetsCounted(d))
        paths.push(
          metricPath('domains', d.name, 'packets', 'deliveredIn'),
          metricPath('domains', d.name, 'packets', 'deliveredOut'),
        );
    });
  return paths;
}

/** Whether the lab counts a guest's packets (UDP and bulk transfers). */
function packetsCounted(d: Scenario['domains'][number]): boolean {
  return (d.workloads ?? []).some((w) => w.kind === 'udp' || w.kind === 'bulk');
}

/**
 * A run's result from its metrics (`get` gives the value of a path of
 * `chargingMetricPaths`): `scenario` is the one run (`chargingScenario`).
 */
export function chargingResultOf(
  scenario: Scenario,
  p: ChargingPolicyId,
  get: (path: string) => number | null,
  logHash: string,
): ChargingResult {
  const num = (path: string) => get(path) ?? Number.NaN;
  const base = unrun(scenario, p);
  const dur = scenario.durationS;
  const idds = scenario.domains.filter((d) => d.role === 'idd').map((d) => d.name);
  const counted = scenario.mechanisms.debt?.drivers;
  const claimed =
    scenario.mechanisms.debt !== undefined &&
    scenario.mechanisms.debt.mode !== 'off' &&
    (counted === undefined || idds.every((n) => counted.includes(n)));
  const cfg = toSystemConfig(scenario);
  const combined: Record<string, { combinedPct: number; sharePct: number }> = {};
  const throughput: Record<string, GuestThroughput> = {};
  scenario.domains
    .filter((d) => d.role === 'guest')
    .forEach((d, i) => {
      const at = (...keys: string[]) => num(metricPath('domains', d.name, ...keys));
      const { web, disk } = guestReads(cfg, i);
      const share = 100 * domainShare(scenario.host.scheduler, { vcpus: d.vcpus.map(vcpuConfig) });
      combined[d.name] = { combinedPct: at('combinedPct'), sharePct: round3(share) };
      throughput[d.name] = {
        webReqPerSec: web ? at('webReqPerSec') : 0,
        diskIops: disk ? round3(at('disk', 'readIops') + at('disk', 'writeIops')) : 0,
        netPktPerSec: packetsCounted(d)
          ? round3((at('packets', 'deliveredIn') + at('packets', 'deliveredOut')) / dur)
          : 0,
      };
    });
  return {
    ...base,
    error1s: { mean: num('charging.error1s.mean'), max: num('charging.error1s.max') },
    errorT: { mean: num('charging.errorT.mean'), max: num('charging.errorT.max') },
    ...(p === '2B' || p === '2C' ? { residualT: num('charging.residualT') } : {}),
    isolation: {
      claimed,
      worst: num('charging.isolation.worst'),
      violations: num('charging.isolation.violations'),
    },
    ...(scenario.mechanisms.shareGuard === undefined
      ? {}
      : {
          shareGuard: {
            worst: num('charging.shareGuard.worst'),
            violations: num('charging.shareGuard.violations'),
          },
        }),
    combined,
    overheadPct: num('charging.overheadTotalPct'),
    throughput,
    logHash,
  };
}

/**
 * The driver-domain CPU truly spent for guest `g` within [a, b), ns: its principal in
 * every driver domain, or under 1A all of the work of the domains dedicated to it.
 */
export function trueChargeNs(sys: XenSystem, g: number, a: number, b: number): number {
  const acc = sys.xen.accounting;
  if (sys.charging !== '1A') return acc.iddBetween(g, a, b);
  let ns = 0;
  for (const drv of sys.drivers) {
    if (sys.dedicated?.get(drv.id) === g)
      for (const d of sys.xen.domains) ns += acc.iddOfDriverBetween(drv.id, d.id, a, b);
    else ns += acc.iddOfDriverBetween(drv.id, g, a, b);
  }
  return ns;
}

/**
 * For a policy that splits each driver domain's CPU by counts (2B, 2C): the largest, over
 * guests and the intervals of `stepNs` wholly inside the window, of
 * |charged − true − Σ_s (charged_s / G_s) · O_s|, in points of one CPU, s running over
 * XenMon's samples in the interval, G_s the driver domain's CPU in s and O_s its own
 * work there (interrupt entries; no guest's). On homogeneous traffic, where each
 * guest's true work is one cost per unit of count, a guest's charge is its true work
 * plus its part of O, exactly, so this is 0 up to a request in progress at a sample's
 * end; requests of different cost behind one count make it grow.
 */
export function splitResidual(sys: XenSystem, window: readonly [number, number], stepNs: number): number {
  const acc = sys.xen.accounting;
  const from = Math.round(window[0] * NS_PER_S);
  const to = Math.round(window[1] * NS_PER_S);
  const samples = sys.xenmon.history;
  let max = 0;
  for (let a = Math.ceil(from / stepNs) * stepNs; a + stepNs <= to; a += stepNs) {
    const b = a + stepNs;
    const inside = samples.filter((x) => x.startNs >= a && x.endNs <= b);
    for (const g of sys.guests) {
      const id = g.domain.id;
      let r = sys.xenmon.estimatedBetween(id, a, b) - acc.iddBetween(id, a, b);
      for (const x of inside)
        for (const drv of sys.drivers) {
          const gotten = acc.cpuBetween(drv.id, x.startNs, x.endNs);
          if (gotten === 0) continue;
          const charged = sys.xenmon.estimatedOfDriverBetween(drv.id, id, x.startNs, x.endNs);
          r -= (charged / gotten) * acc.iddOfDriverBetween(drv.id, drv.id, x.startNs, x.endNs);
        }
      max = Math.max(max, (100 * Math.abs(r)) / stepNs);
    }
  }
  return round3(max);
}

/**
 * |charged − true| per guest over the intervals of `stepNs` that lie wholly inside the
 * window, in points of one CPU: the mean and the largest.
 */
export function errorStats(sys: XenSystem, window: readonly [number, number], stepNs: number): ErrorStats {
  const from = Math.round(window[0] * NS_PER_S);
  const to = Math.round(window[1] * NS_PER_S);
  let sum = 0;
  let n = 0;
  let max = 0;
  // Intervals on the step's grid from 0, so that they fall on XenMon's samples and the
  // accounting's exact boundaries (both on the 100 ms grid for steps that are on it).
  for (let a = Math.ceil(from / stepNs) * stepNs; a + stepNs <= to; a += stepNs) {
    const b = a + stepNs;
    for (const g of sys.guests) {
      const id = g.domain.id;
      const err =
        (100 * Math.abs(sys.xenmon.estimatedBetween(id, a, b) - trueChargeNs(sys, id, a, b))) / stepNs;
      sum += err;
      n++;
      if (err > max) max = err;
    }
  }
  return { mean: n > 0 ? round3(sum / n) : 0, max: round3(max) };
}

/** One scenario of the lab run as a sweep: its scenario, and what the sweep's base is. */
export interface ChargingLabEntry {
  readonly scenario: Scenario;
  /**
   * A built-in's name, a scenario file's path (relative to the working directory), or
   * the scenario's JSON (a generated host), which is written to DIR/scenarios/<name>.json.
   */
  readonly base: string | Readonly<Record<string, unknown>>;
}

/** What `chargingLabSweep` runs besides the scenarios. */
export interface ChargingSweepOptions {
  /** Simulated seconds (default: each scenario's); the window is then the whole run. */
  readonly durationS?: number;
  /** The policies (default: all eight). */
  readonly policies?: readonly ChargingPolicyId[];
  /** Worker threads (default one per core). */
  readonly jobs?: number;
  /** Stops the lab: no more runs start, what was stored is kept; rejects with `SweepStopped` (runs of the whole lab). */
  readonly signal?: AbortSignal;
  /** After each run stored (and once per scenario as it starts): runs done of the lab's, stored before included. */
  readonly onProgress?: (p: { scenario: string; done: number; total: number }) => void;
  /** A line for the user: an old results file replaced. */
  readonly onNote?: (text: string) => void;
}

/** What `chargingLabSweep` did. */
export interface ChargingLabSummary {
  /** Every result, scenario by scenario, policies in order, skipped ones included. */
  readonly results: ChargingResult[];
  /** The lab's runs, of them stored before (skipped now), run now. */
  readonly runs: number;
  readonly recorded: number;
  readonly ran: number;
  /** The sweep files written, DIR/<name>.sweep.json, and results files, DIR/<name>.duckdb, by scenario. */
  readonly sweeps: readonly { readonly scenario: string; readonly file: string; readonly results: string }[];
}

/**
 * A sweep's name for the lab's scenario `name`: `charging-<name>` in lower-case letters,
 * digits and dashes (`charging-gen-1`), at most 64 characters; a name that starts with
 * `charging-` already is kept as it is (`charging-block-sizes`).
 */
export function chargingSweepName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (slug.startsWith('charging-') ? slug : `charging-${slug}`).slice(0, 64).replace(/-+$/, '');
}

/**
 * The sweep file of one scenario of the lab (docs/sweeps.md): `base` (as the sweep file
 * names it) under each policy that can run on it (`mechanisms.charging` the parameter),
 * recording `chargingMetricPaths`; and the policies skipped, with the reason.
 */
export function chargingSweep(
  s: Scenario,
  base: string,
  options: { name?: string; durationS?: number; policies?: readonly ChargingPolicyId[] } = {},
): { def: Record<string, unknown>; run: ChargingPolicyId[]; skipped: ChargingResult[] } {
  const run: ChargingPolicyId[] = [];
  const skipped: ChargingResult[] = [];
  for (const p of options.policies ?? CHARGING_POLICIES) {
    const sp = chargingScenario(s, p, options.durationS);
    if (typeof sp === 'string') skipped.push({ ...unrun(s, p), skipped: sp });
    else run.push(p);
  }
  const def = {
    name: options.name ?? chargingSweepName(s.name),
    description: `isosim charging: ${s.name} under each charging policy that can run on it (docs/charging.md)`,
    base,
    ...(options.durationS === undefined ? {} : { durationS: options.durationS }),
    params: [{ path: 'mechanisms.charging', values: run }],
    record: { metrics: chargingMetricPaths(s) },
  };
  return { def, run, skipped };
}

/**
 * The sweep name of each scenario (`chargingSweepName`), in order; an `IsosimError` when
 * two scenarios would make the same sweep (a scenario given twice).
 */
export function chargingSweepNames(scenarios: readonly Scenario[]): string[] {
  const names = new Map<string, string>();
  return scenarios.map((s) => {
    const name = chargingSweepName(s.name);
    const other = names.get(name);
    if (other !== undefined)
      throw new IsosimError(
        'isosim charging',
        'scenarios',
        other === s.name ? `${s.name} is given twice` : `${other} and ${s.name} both make the sweep ${name}`,
        'give each scenario once, under names that differ in more than case and punctuation',
      );
    names.set(name, s.name);
    return name;
  });
}

/**
 * The charging lab as sweeps: for each entry, a sweep of its scenario over the policies
 * (`chargingSweep`) written to DIR/<name>.sweep.json, run on `jobs` worker threads into
 * DIR/<name>.duckdb; runs stored there before are not run again (a stopped lab resumes),
 * and a results file of another sweep of that name (another `--duration`, a changed
 * scenario file) is replaced. The results are built from the stored records, equal to
 * `chargingLab`'s (but for `logHash`, which the sweep's runs compute). A failed run is
 * an error naming it, after every sweep has run.
 */
export async function chargingLabSweep(
  entries: readonly ChargingLabEntry[],
  dir: string,
  options: ChargingSweepOptions = {},
): Promise<ChargingLabSummary> {
  chargingSweepNames(entries.map((e) => e.scenario));
  const builtins = new Set(builtinNames());
  mkdirSync(dir, { recursive: true });
  const plans = entries.map((e) => {
    const s = e.scenario;
    const name = chargingSweepName(s.name);
    const file = join(dir, `${name}.sweep.json`);
    let base: string;
    if (typeof e.base !== 'string') {
      const rel = `scenarios/${s.name.replace(/[^A-Za-z0-9._-]+/g, '-')}.json`;
      mkdirSync(join(dir, 'scenarios'), { recursive: true });
      writeFileSync(join(dir, rel), `${JSON.stringify(e.base, null, 2)}\n`);
      base = rel;
    } else base = builtins.has(e.base) ? e.base : relative(dirname(resolve(file)), resolve(e.base));
    const plan = chargingSweep(s, base, { name, durationS: options.durationS, policies: options.policies });
    writeFileSync(file, `${JSON.stringify(plan.def, null, 2)}\n`);
    const loaded = parseSweep(plan.def, file);
    const expansion = expandSweep(loaded);
    return { s, name, file, results: join(dir, `${name}.duckdb`), plan, loaded, expansion };
  });
  const total = plans.reduce((n, p) => n + p.expansion.runs.length, 0);
  let done = 0;
  let recorded = 0;
  let ran = 0;
  const failures: { sweep: string; policy: string; record: RunRecord }[] = [];
  const results: ChargingResult[] = [];
  for (const { s, name, plan, loaded, expansion, results: duck } of plans) {
    if (expansion.runs.length > 0 && plan.run.length > 0) {
      if (existsSync(duck) && (await sweepMetaOf(duck)).sweepId !== expansion.sweepId) {
        rmSync(duck, { force: true });
        rmSync(`${duck}.wal`, { force: true });
        options.onNote?.(
          `${duck} held another sweep of ${s.name} (another --duration or scenario): replaced`,
        );
      }
      const store = await openResultStore(duck, sweepMeta(loaded, expansion));
      try {
        const ids = new Set(expansion.runs.map((r) => r.id));
        const before = [...(await store.completedIds())].filter((id) => ids.has(id)).length;
        recorded += before;
        done += before;
        options.onProgress?.({ scenario: s.name, done, total });
        const start = done;
        const summary = await runSweep(loaded, expansion, store, {
          ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          onProgress: (p) => {
            done = start + p.done;
            options.onProgress?.({ scenario: s.name, done, total });
          },
        });
        ran += summary.ran;
      } catch (err) {
        if (err instanceof SweepStopped) throw new SweepStopped(done, total);
        throw err;
      } finally {
        await store.close();
      }
    }
    const byPolicy = new Map<string, RunRecord>();
    if (plan.run.length > 0)
      for (const r of await readRuns(duck)) byPolicy.set(String(r.params['mechanisms.charging']), r);
    for (const p of options.policies ?? CHARGING_POLICIES) {
      const skip = plan.skipped.find((r) => r.policy === p);
      if (skip !== undefined) {
        results.push(skip);
        continue;
      }
      const r = byPolicy.get(p);
      if (r === undefined || r.error !== undefined) {
        if (r !== undefined) failures.push({ sweep: name, policy: p, record: r });
        continue;
      }
      const sp = chargingScenario(s, p, options.durationS) as Scenario;
      results.push(chargingResultOf(sp, p, (path) => r.metrics[path] ?? null, r.logHash));
    }
  }
  if (failures.length > 0) {
    const f = failures[0];
    throw new IsosimError(
      join(dir, `${f.sweep}.duckdb`),
      `run ${f.record.id}`,
      `${f.sweep} under ${f.policy} failed: ${f.record.error?.message}${failures.length > 1 ? ` (and ${failures.length - 1} more run${failures.length > 2 ? 's' : ''})` : ''}`,
      `its scenario is in the file's runs table (error_scenario): save it and run 'isosim run FILE' to reproduce; the other runs are stored`,
    );
  }
  return {
    results,
    runs: total,
    recorded,
    ran,
    sweeps: plans.map((p) => ({ scenario: p.s.name, file: p.file, results: p.results })),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');

/** The results of one scenario as a Markdown table (the policies in order). */
export function chargingTable(results: readonly ChargingResult[]): string[] {
  const lines = [
    '| policy | exact | error 1 s: mean / max (pts) | error per feedback interval: mean / max (pts) | 2B/2C: error beyond its part of the IDD own work, max (pts) | invariant 2: closest (of ε), violations | invariant 3 (ShareGuard): closest, violations | combined vs share % | overhead (% CPU) | throughput |',
    '|---|:---:|---:|---:|---:|---|---|---|---:|---|',
  ];
  for (const r of results) {
    const name = `${r.policy} ${CHARGING_INFO[r.policy].name}`;
    if (r.skipped !== undefined) {
      lines.push(`| ${name} | ${r.exact ? 'yes' : 'no'} | skipped: ${cell(r.skipped)} | | | | | | | |`);
      continue;
    }
    const iso = r.isolation.claimed
      ? `${f2(r.isolation.worst)}, ${r.isolation.violations}`
      : `${f2(r.isolation.worst)}, ${r.isolation.violations} (not claimed)`;
    const comb = Object.entries(r.combined)
      .map(([g, c]) => `${cell(g)} ${f2(c.combinedPct)} / ${f2(c.sharePct)}`)
      .join('; ');
    const thr = Object.entries(r.throughput)
      .filter(([, t]) => t.webReqPerSec > 0 || t.diskIops > 0 || t.netPktPerSec > 0)
      .map(
        ([g, t]) =>
          `${cell(g)} ${[t.webReqPerSec > 0 ? `${f2(t.webReqPerSec)} req/s` : '', t.diskIops > 0 ? `${f2(t.diskIops)} IOPS` : '', t.netPktPerSec > 0 ? `${t.netPktPerSec.toFixed(0)} pkt/s` : ''].filter((x) => x !== '').join(', ')}`,
      )
      .join('; ');
    lines.push(
      `| ${name} | ${r.exact ? 'yes' : 'no'} | ${f2(r.error1s.mean)} / ${f2(r.error1s.max)} | ${f2(r.errorT.mean)} / ${f2(r.errorT.max)} | ${r.residualT === undefined ? '-' : f2(r.residualT)} | ${iso} | ${r.shareGuard === undefined ? '-' : `${f2(r.shareGuard.worst)}, ${r.shareGuard.violations}`} | ${comb} | ${f2(r.overheadPct)} | ${thr} |`,
    );
  }
  return lines;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/**
 * A bar chart (SVG) of one scenario's results: per policy, the largest error per
 * feedback interval and the policy's overhead, both in points (percent) of one CPU.
 */
export function chargingPlot(results: readonly ChargingResult[]): string {
  const ran = results.filter((r) => r.skipped === undefined);
  const W = 720;
  const H = 320;
  const left = 60;
  const top = 40;
  const bottom = 50;
  const plotH = H - top - bottom;
  const values = ran.flatMap((r) => [r.errorT.max, r.overheadPct]);
  const yMax = niceMax(Math.max(0.1, ...values));
  const slot = (W - left - 150) / Math.max(1, ran.length);
  const bar = Math.max(4, slot / 3);
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const title = `${results[0]?.scenario ?? ''}: largest error per feedback interval and overhead, by charging policy`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<title>${xmlText(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${xmlText(title)}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${W - 150}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`,
    `<text x="15" y="${top + plotH / 2}" transform="rotate(-90 15 ${top + plotH / 2})" text-anchor="middle">points of one CPU</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    out.push(
      `<text x="${left - 5}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(2)}</text>`,
      `<line x1="${left}" y1="${y(v)}" x2="${W - 150}" y2="${y(v)}" stroke="#ddd"/>`,
    );
  }
  ran.forEach((r, i) => {
    const x = left + i * slot + slot / 6;
    out.push(
      `<rect x="${x}" y="${y(r.errorT.max)}" width="${bar}" height="${top + plotH - y(r.errorT.max)}" fill="#1f77b4"/>`,
      `<rect x="${x + bar}" y="${y(r.overheadPct)}" width="${bar}" height="${top + plotH - y(r.overheadPct)}" fill="#d62728"/>`,
      `<text x="${x + bar}" y="${top + plotH + 18}" text-anchor="middle">${r.policy}</text>`,
    );
  });
  out.push(
    `<rect x="${W - 140}" y="${top}" width="12" height="12" fill="#1f77b4"/><text x="${W - 122}" y="${top + 10}">largest error</text>`,
    `<rect x="${W - 140}" y="${top + 20}" width="12" height="12" fill="#d62728"/><text x="${W - 122}" y="${top + 30}">overhead</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

function niceMax(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
