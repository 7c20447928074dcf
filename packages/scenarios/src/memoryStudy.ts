/**
 * The memory study (issue 18; docs/memory.md, "The study"): the 2013 xen-devel debate
 * over `XENMEM_claim_pages` answered with numbers. Each workload built-in runs under
 * every reservation policy (none, claim, freeze, lock), the scenario otherwise as it
 * is, and the runs are set side by side: launches that succeeded, failed late (after
 * their populate work was spent) or were refused at once, the work wasted, launch
 * latency, the guests' refused allocations and the time they were blocked (the
 * swap-storm proxy), and the host's utilisation. `isosim memory` prints and writes it;
 * `isosim paper` puts the same section in EXPERIMENTS.md. Beyond the paper: there are
 * no paper numbers, and the populate rate and swap cost are assumptions
 * (docs/memory.md, "Constants").
 */
import { mkdirSync } from 'node:fs';
import { RESERVATION_POLICIES, type ReservationPolicy } from '@isosim/actors';
import { loadScenario } from './load.ts';
import type { MemoryRunMetrics } from './memoryScenario.ts';
import { lineChart } from './plots.ts';
import { runScenario } from './runScenario.ts';
import type { Scenario } from './schema.ts';

/** The workloads of the study, by built-in name, with what each puts to the policies. */
export const MEMORY_WORKLOADS: readonly { readonly name: string; readonly what: string }[] = [
  {
    name: 'memory-worst-case',
    what: "the debate's worst-case domain (a fast, high-amplitude sine wave) beside large builds",
  },
  {
    name: 'memory-tmem-bursts',
    what: 'bursty tmem users (persistent and ephemeral puts, self-ballooning) beside builds',
  },
  { name: 'memory-launch-storm', what: 'a launch storm beside every kind of dynamic guest' },
  { name: 'memory-steady-balloon', what: 'a steady state with ballooning, with a few launches' },
];

/** One workload under one policy. */
export interface MemoryStudyRun {
  readonly workload: string;
  readonly policy: ReservationPolicy;
  readonly durationS: number;
  readonly logHash: string;
  readonly wallS: number;
  readonly memory: MemoryRunMetrics;
}

/** `s` with its memory block under `policy` (the rest as it is). */
export function underPolicy(s: Scenario, policy: ReservationPolicy): Scenario {
  if (s.memory === undefined) throw new Error(`${s.name} has no memory block`);
  return { ...s, memory: { ...s.memory, policy } };
}

/**
 * Runs every workload (built-in names, or scenarios) under every policy, in order.
 * `logDir(workload, policy)`: where each run's log goes (made if missing); without it
 * no log is written and the log hash is ''. `onRun` before each run.
 */
export function runMemoryStudy(
  workloads: readonly (string | Scenario)[] = MEMORY_WORKLOADS.map((w) => w.name),
  options: {
    readonly durationS?: number;
    readonly logDir?: (workload: string, policy: ReservationPolicy) => string;
    readonly onRun?: (workload: string, policy: ReservationPolicy, i: number, total: number) => void;
  } = {},
): MemoryStudyRun[] {
  const scenarios = workloads.map((w) => (typeof w === 'string' ? loadScenario(w) : w));
  const out: MemoryStudyRun[] = [];
  const total = scenarios.length * RESERVATION_POLICIES.length;
  for (const s of scenarios) {
    for (const policy of RESERVATION_POLICIES) {
      options.onRun?.(s.name, policy, out.length, total);
      const logOut = options.logDir?.(s.name, policy);
      if (logOut !== undefined) mkdirSync(logOut, { recursive: true });
      const { metrics, wallS } = runScenario(underPolicy(s, policy), {
        durationS: options.durationS,
        out: logOut,
      });
      if (metrics.memory === undefined) throw new Error(`${s.name} ran without its memory metrics`);
      out.push({
        workload: s.name,
        policy,
        durationS: metrics.durationS,
        logHash: metrics.logHash,
        wallS,
        memory: metrics.memory,
      });
    }
  }
  return out;
}

const fix = (x: number, d = 1) => x.toFixed(d);

/** A workload's table: a row per policy. */
export function memoryStudyTable(runs: readonly MemoryStudyRun[]): string[] {
  const md = [
    '| policy | launches done | failed late | refused at once | pending | wasted MiB | latency mean / max ms | guest refusals | guests blocked ms | utilisation % |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const m = r.memory;
    const l = m.launches;
    md.push(
      `| ${r.policy} | ${l.succeeded} of ${l.requested} | ${l.failedLate} | ${l.refused} | ${l.pending} | ${fix(m.wastedMiB)} | ${m.latencyMs === undefined ? '—' : `${fix(m.latencyMs.mean)} / ${fix(m.latencyMs.max)}`} | ${m.guestFailures} | ${fix(m.guestBlockedMs)} | ${fix(m.utilisationPct)} |`,
    );
  }
  return md;
}

/** The guests of a workload: refusals (by reason) and blocked time, a column per policy. */
export function memoryGuestTable(runs: readonly MemoryStudyRun[]): string[] {
  const names = Object.keys(runs[0]?.memory.guests ?? {});
  if (names.length === 0) return [];
  const md = [
    `| guest (kind) | ${runs.map((r) => `${r.policy}: refusals (reasons), blocked ms`).join(' | ')} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
  ];
  for (const n of names) {
    const cells = runs.map((r) => {
      const g = r.memory.guests[n];
      if (g === undefined) return '—';
      const why = Object.entries(g.failuresByReason)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return `${g.failures}${why === '' ? '' : ` (${why})`}, ${fix(g.blockedMs)}`;
    });
    md.push(`| ${n} (${runs[0].memory.guests[n].kind}) | ${cells.join(' | ')} |`);
  }
  return md;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * The debate's questions, each answered by a sentence computed from the runs (over
 * every workload that ran).
 */
export function memoryAnswers(runs: readonly MemoryStudyRun[]): string[] {
  const by = (p: ReservationPolicy) => runs.filter((r) => r.policy === p);
  const late = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.launches.failedLate));
  const wasted = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.wastedMiB));
  const done = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.launches.succeeded));
  const refused = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.launches.refused));
  const requested = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.launches.requested));
  const refusals = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.guestFailures));
  const blocked = (p: ReservationPolicy) => sum(by(p).map((r) => r.memory.guestBlockedMs));
  const where = (p: ReservationPolicy) =>
    by(p)
      .filter((r) => r.memory.launches.failedLate > 0)
      .map((r) => `\`${r.workload}\` (${r.memory.launches.failedLate})`);
  const list = (xs: string[]) => (xs.length === 0 ? 'none' : xs.join(', '));
  const n = new Set(runs.map((r) => r.workload)).size;
  const lines = [
    `Over the ${n} workloads (launches requested per policy: ${requested('none')}):`,
    '',
    `1. **Without a reservation, do builds fail late?** Under \`none\`, ${late('none')} builds failed after populating, wasting ${fix(wasted('none'))} MiB of populate work (late failures by workload: ${list(where('none'))}).`,
    `2. **Does a claim stop that?** Under \`claim\`, ${late('claim')} builds failed late${late('claim') === 0 ? ' (a build whose claim succeeded never failed, as invariant 2 of test/verify requires)' : ''}; ${refused('claim')} launches were refused at once, with no work spent, and ${done('claim')} completed (\`none\`: ${done('none')}). The guests were refused ${refusals('claim')} allocations and blocked ${fix(blocked('claim'))} ms (\`none\`: ${refusals('none')}, ${fix(blocked('none'))} ms): the claim moves the shortage from the build to the guests.`,
    `3. **Does the toolstack-only freeze do as well?** Under \`freeze\`, ${late('freeze')} builds failed late (${list(where('freeze'))})${late('freeze') > 0 ? ': tmem pages belong to no guest, so lowering the guests\u2019 max_pages does not stop them' : ''}; ${refused('freeze')} launches were refused at once and ${done('freeze')} completed. The guests were refused ${refusals('freeze')} allocations and blocked ${fix(blocked('freeze'))} ms while limits were lowered (\`claim\`: ${refusals('claim')}, ${fix(blocked('claim'))} ms).`,
    `4. **Does serializing builds help?** Under \`lock\`, ${late('lock')} builds failed late, wasting ${fix(wasted('lock'))} MiB; ${done('lock')} completed.`,
    '',
  ];
  return lines;
}

/** Free memory over time, a line per policy: one plot per workload. */
export function memoryStudyPlot(runs: readonly MemoryStudyRun[]): string {
  const first = runs[0];
  const at = first.memory.series.tMs.map((t) => t / 1000);
  return lineChart(
    `${first.workload}: free memory under each policy`,
    'free MiB',
    runs.map((r) => ({ label: r.policy, values: r.memory.series.freeMiB })),
    undefined,
    { at, endS: first.durationS },
  );
}

/** Claims outstanding over time, a line per policy that claims (only `claim`). */
export function memoryClaimsPlot(runs: readonly MemoryStudyRun[]): string {
  const first = runs[0];
  return lineChart(
    `${first.workload}: claims outstanding and tmem`,
    'MiB',
    runs.flatMap((r) => [
      { label: `${r.policy} claims`, values: r.memory.series.claimsMiB },
      { label: `${r.policy} tmem`, values: r.memory.series.tmemMiB },
    ]),
    undefined,
    { at: first.memory.series.tMs.map((t) => t / 1000), endS: first.durationS },
  );
}

/** The whole section: what ran, a table per workload, the answers. */
export function memoryStudyMarkdown(runs: readonly MemoryStudyRun[], heading = '##'): string[] {
  const workloads = [...new Set(runs.map((r) => r.workload))];
  const md = [
    `${heading} Memory isolation: claims against the toolstack-only freeze (beyond the paper)`,
    '',
    "The 2013 xen-devel debate over `XENMEM_claim_pages` (seed 003; docs/memory.md), with no paper numbers: each workload built-in runs under each reservation policy, all else equal. `none` reserves nothing; `claim` stakes a hypervisor claim for the whole domain first; `freeze` is the toolstack-only scheme (every other domain's `max_pages` lowered to what it owns while a domain is built); `lock` builds one domain at a time. A build that fails late has spent its populate work (wasted MiB); a launch refused at once has spent none. Guests' refused allocations become paging I/O (blocked ms, the swap-storm proxy). **The populate rate (1 GiB/s) and the swap cost (40 µs a page) are assumptions**, not measurements: the numbers show the mechanisms' trade-off, not Xen's.",
    '',
  ];
  for (const w of workloads) {
    const rs = runs.filter((r) => r.workload === w);
    const what = MEMORY_WORKLOADS.find((x) => x.name === w)?.what;
    md.push(
      `${heading}# \`${w}\`${what === undefined ? '' : `: ${what}`}`,
      '',
      `${rs[0].durationS} s simulated${rs[0].logHash === '' ? '' : `; log hashes ${rs.map((r) => `${r.policy} \`${r.logHash}\``).join(', ')}`}.`,
      '',
      ...memoryStudyTable(rs),
      '',
      ...memoryGuestTable(rs),
      '',
    );
  }
  md.push(`${heading}# What the runs say`, '', ...memoryAnswers(runs));
  return md;
}
