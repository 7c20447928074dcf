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
 */
import {
  CHARGING_INFO,
  CHARGING_POLICIES,
  type ChargingPolicyId,
  domainShare,
  type XenSystem,
} from '@isosim/actors';
import { IsosimError, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { combinedShare, runChecked, shareGuardLimits } from './invariants.ts';
import { parseScenario } from './load.ts';
import { computeMetrics, own } from './metrics.ts';
import type { DomainMetrics } from './runScenario.ts';
import type { Scenario } from './schema.ts';
import { xmlText } from './text.ts';
import { vcpuConfig } from './toConfig.ts';

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

/** `s` under policy `p` (its own seed), scored against the ground truth. */
export function chargingRun(s: Scenario, p: ChargingPolicyId, durationS?: number): ChargingResult {
  const base = {
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
  let scenario: Scenario;
  try {
    // Checked as a file would be: 1A on a shared driver domain is refused here.
    scenario = parseScenario(
      {
        ...s,
        ...(durationS === undefined ? {} : { durationS, window: undefined }),
        mechanisms: { ...s.mechanisms, charging: p },
      },
      `${s.name} under ${p}`,
    );
  } catch (e) {
    if (e instanceof IsosimError) return { ...base, skipped: e.problem };
    throw e;
  }
  const run = runChecked(scenario);
  const { sys } = run;
  const dur = scenario.durationS;
  const window: [number, number] = scenario.window
    ? [scenario.window.startS, scenario.window.endS]
    : [0, dur];
  const feedbackNs = Math.round(base.feedbackMs * NS_PER_MS);
  const metrics = computeMetrics(sys, window, dur);
  const iso = combinedShare(run);
  const sg = scenario.mechanisms.shareGuard === undefined ? undefined : shareGuardLimits(run);
  const idds = scenario.domains.filter((d) => d.role === 'idd').map((d) => d.name);
  const counted = scenario.mechanisms.debt?.drivers;
  const claimed =
    scenario.mechanisms.debt !== undefined &&
    scenario.mechanisms.debt.mode !== 'off' &&
    (counted === undefined || idds.every((n) => counted.includes(n)));
  const overhead = sys.chargingOverheadNs().reduce((a, b) => a + b, 0);
  const combined: Record<string, { combinedPct: number; sharePct: number }> = {};
  const throughput: Record<string, GuestThroughput> = {};
  for (const d of scenario.domains) {
    if (d.role !== 'guest') continue;
    const m: DomainMetrics | undefined = own(metrics.domains, d.name);
    if (m === undefined) continue;
    const share = 100 * domainShare(scenario.host.scheduler, { vcpus: d.vcpus.map(vcpuConfig) });
    combined[d.name] = { combinedPct: m.combinedPct, sharePct: round3(share) };
    throughput[d.name] = {
      webReqPerSec: m.webReqPerSec ?? 0,
      diskIops: m.disk === undefined ? 0 : round3(m.disk.readIops + m.disk.writeIops),
      netPktPerSec:
        m.packets !== undefined && (d.workloads ?? []).some((w) => w.kind === 'udp' || w.kind === 'bulk')
          ? round3((m.packets.deliveredIn + m.packets.deliveredOut) / dur)
          : 0,
    };
  }
  return {
    ...base,
    error1s: errorStats(sys, window, NS_PER_S),
    errorT: errorStats(sys, window, feedbackNs),
    ...(p === '2B' || p === '2C' ? { residualT: splitResidual(sys, window, feedbackNs) } : {}),
    isolation: { claimed, worst: iso.worst, violations: iso.failures },
    ...(sg === undefined ? {} : { shareGuard: { worst: sg.worst, violations: sg.failures } }),
    combined,
    overheadPct: round3((100 * overhead) / (dur * NS_PER_S)),
    throughput,
    logHash: run.digest ?? '',
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
