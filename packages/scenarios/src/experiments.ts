/**
 * EXPERIMENTS.md, as `isosim paper` writes it: each number the paper reports beside the
 * simulated one, and for a predicted number its band, the range of the simulated number
 * over the plausible values of the parameters the paper leaves unstated (one at a
 * time). Pure functions of the runs' metrics, so they are tested without running.
 */
import { domainShare } from '@isosim/actors';
import { own } from './metrics.ts';
import type { DiskMetrics, DomainMetrics, Metrics } from './runScenario.ts';
import type { Scenario } from './schema.ts';
import { vcpuConfig } from './toConfig.ts';
import type { UnstatedValue } from './variants.ts';

/** One number the paper reports, beside the simulated one. */
export interface Row {
  readonly scenario: string;
  readonly domain: string;
  readonly metric: string;
  readonly paper: number;
  readonly sim: number;
  readonly fitted: boolean;
}

/** The range of a number over a scenario's run and its variants. */
export interface Band {
  readonly lo: number;
  readonly hi: number;
}

/** A row with its band (the row's own value alone when no variant ran). */
export interface BandedRow extends Row {
  readonly band: Band;
  /** Per unstated parameter, the range its values alone give (with the scenario's own run). */
  readonly byParam: Readonly<Record<string, Band>>;
}

/**
 * What `rows` reads of a run's metrics: per domain, the numbers the paper reports
 * (`Metrics` has them; a sweep's record of a variant holds just these).
 */
export interface PaperNumbers {
  readonly domains: Readonly<
    Record<
      string,
      Pick<DomainMetrics, 'cpuPct' | 'combinedPct' | 'iddPctEstimated'> & {
        readonly webReqPerSec?: number | undefined;
      }
    >
  >;
}

/** A number the paper reports on `domain`: its field of `PaperNumbers` and its metric path (what a band sweep records). */
export interface PaperMetric {
  readonly domain: string;
  readonly field: 'cpuPct' | 'combinedPct' | 'iddPctEstimated' | 'webReqPerSec';
  /** Its path into metrics.json, as a sweep file names it (docs/sweeps.md). */
  readonly path: string;
}

/** The numbers the paper reports in `s`, per domain, as metric paths. */
export function paperMetrics(s: Scenario): PaperMetric[] {
  const key = (d: string) => (/^[A-Za-z0-9_-]+$/.test(d) ? `.${d}` : `[${JSON.stringify(d)}]`);
  return Object.entries(s.paper?.domains ?? {}).flatMap(([domain, p]) =>
    METRICS.filter(([k]) => p[k] !== undefined).map(([k]): PaperMetric => {
      const field = k === 'iddPct' ? 'iddPctEstimated' : k;
      return { domain, field, path: `domains${key(domain)}.${field}` };
    }),
  );
}

/** The `PaperNumbers` of a run recorded with `paperMetrics(s)`: its values by metric path (null: none). */
export function paperNumbersOf(s: Scenario, values: Readonly<Record<string, number | null>>): PaperNumbers {
  const domains: Record<string, Record<string, number>> = {};
  for (const m of paperMetrics(s)) {
    const v = values[m.path];
    if (v === null || v === undefined) continue;
    domains[m.domain] = { ...domains[m.domain], [m.field]: v };
  }
  return { domains: domains as PaperNumbers['domains'] };
}

/** A run of a scenario's variant: `param` set to `value`. */
export interface VariantRun {
  readonly param: string;
  readonly value: UnstatedValue;
  readonly metrics: PaperNumbers;
}

/** An unstated parameter as the report lists it. */
export interface ParamInfo {
  readonly name: string;
  readonly path: string;
  readonly values: readonly UnstatedValue[];
  readonly source: string;
  /** The scenario's own values at the fields the path matches (one, usually). */
  readonly own: readonly unknown[];
}

/** A scenario's run, with its variants' (undefined: bands were not run). */
export interface ScenarioRun {
  readonly s: Scenario;
  readonly m: Metrics;
  readonly wallS: number;
  readonly bands?: {
    readonly params: readonly ParamInfo[];
    readonly variants: readonly VariantRun[];
    /** The results file of the band's sweep, relative to the report (absent: the variants were not a sweep). */
    readonly results?: string;
    /** The log hash of the sweep's run of the scenario itself (point 0), to compare with the scenario's run. */
    readonly baseLogHash?: string | undefined;
  };
}

const METRICS: readonly [key: 'webReqPerSec' | 'cpuPct' | 'iddPct' | 'combinedPct', label: string][] = [
  ['webReqPerSec', 'web throughput (req/s)'],
  ['cpuPct', 'CPU %'],
  ['iddPct', 'Dom-0 for it % (XenMon)'],
  ['combinedPct', 'combined %'],
];

/** The paper's numbers of `s` beside those of its run `m`. */
export function rows(s: Scenario, m: PaperNumbers): Row[] {
  const out: Row[] = [];
  for (const [domain, p] of Object.entries(s.paper?.domains ?? {})) {
    const d = m.domains[domain];
    for (const [key, label] of METRICS) {
      const paper = p[key];
      if (paper === undefined || d === undefined) continue;
      const sim =
        key === 'iddPct' ? d.iddPctEstimated : key === 'webReqPerSec' ? (d.webReqPerSec ?? 0) : d[key];
      out.push({ scenario: s.name, domain, metric: label, paper, sim, fitted: s.paper?.fitted ?? false });
    }
  }
  return out;
}

export function relErr(r: Row): number {
  return r.paper === 0 ? 0 : (r.sim - r.paper) / r.paper;
}

export function bandOf(values: readonly number[]): Band {
  return { lo: Math.min(...values), hi: Math.max(...values) };
}

export function inBand(x: number, b: Band): boolean {
  return x >= b.lo && x <= b.hi;
}

/**
 * The rows of `run` with their bands: over the scenario's own run and every variant,
 * and per parameter over the own run and that parameter's variants. A row is matched
 * across runs by domain and metric.
 */
export function bandedRows(run: ScenarioRun): BandedRow[] {
  const key = (r: Row) => `${r.domain}\u0000${r.metric}`;
  const variants = (run.bands?.variants ?? []).map((v) => ({
    param: v.param,
    sims: new Map(rows(run.s, v.metrics).map((r) => [key(r), r.sim])),
  }));
  const params = run.bands?.params.map((p) => p.name) ?? [];
  return rows(run.s, run.m).map((r) => {
    const simsOf = (vs: typeof variants) =>
      vs.flatMap((v) => {
        const x = v.sims.get(key(r));
        return x === undefined ? [] : [x];
      });
    const byParam: Record<string, Band> = {};
    for (const p of params) byParam[p] = bandOf([r.sim, ...simsOf(variants.filter((v) => v.param === p))]);
    return { ...r, band: bandOf([r.sim, ...simsOf(variants)]), byParam };
  });
}

const fix2 = (x: number) => x.toFixed(2);
const showBand = (b: Band) => `[${fix2(b.lo)}, ${fix2(b.hi)}]`;
const showRange = (b: Band) => (fix2(b.lo) === fix2(b.hi) ? fix2(b.lo) : `${fix2(b.lo)}–${fix2(b.hi)}`);
/** A cell of a Markdown table: no line breaks, `|` escaped. */
const cell = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');

/** A row of the scenario's table; with `banded`, its band and whether the paper's number lies in it. */
export function tableRow(r: BandedRow, banded: boolean): string {
  const e = relErr(r);
  const cells = [
    cell(r.domain),
    r.metric,
    String(r.paper),
    fix2(r.sim),
    `${(100 * e).toFixed(1)}%${Math.abs(e) > 0.1 ? ' ⚠' : ''}`,
  ];
  if (banded) cells.push(showBand(r.band), inBand(r.paper, r.band) ? 'yes' : 'no');
  return `| ${cells.join(' | ')} |`;
}

/** A value list with the scenario's own marked: `1, **2**, 5, 10`. */
function valueList(p: ParamInfo): string {
  const list = p.values.map((v) => (p.own.length === 1 && p.own[0] === v ? `**${v}**` : String(v)));
  const ownShown = p.own.length === 1 && p.values.includes(p.own[0] as number);
  const own = p.own.map((v) => (v === undefined ? 'unset' : String(v))).join(', ');
  return ownShown ? list.join(', ') : `${list.join(', ')} (the scenario's own: ${own})`;
}

/** The Markdown section of one scenario: its run, its table and its unstated parameters. */
export function scenarioSection(run: ScenarioRun, rs: readonly BandedRow[]): string[] {
  const { s, m, wallS } = run;
  const ran = run.bands?.variants.length ?? 0;
  const banded = run.bands !== undefined && run.bands.params.length > 0;
  const md = [`## ${s.name} (${s.paper?.fitted ? 'fitted' : 'predicted'})`, '', s.description, ''];
  md.push(
    `Seed ${m.seed}, ${m.durationS} s, window [${m.windowS[0]}, ${m.windowS[1]}] s, log hash \`${m.logHash}\`, ${wallS.toFixed(1)} s wall (its own process)${banded ? `; ${ran} variant run(s) ${run.bands?.results === undefined ? `in \`${s.name}/bands/\`` : `recorded in \`${run.bands.results}\` (a one-at-a-time sweep: \`isosim query ${run.bands.results} --summary\`)`}` : ''}.`,
    '',
  );
  if (rs.length > 0) {
    md.push(
      banded
        ? '| domain | metric | paper | simulated | error | band | paper in band |'
        : '| domain | metric | paper | simulated | error |',
      banded ? '|---|---|---:|---:|---:|---|:---:|' : '|---|---|---:|---:|---:|',
    );
    for (const r of rs) md.push(tableRow(r, banded));
    md.push('');
  }
  if (banded && run.bands !== undefined) {
    const params = run.bands.params;
    md.push(
      "Unstated parameters, varied one at a time with the others at the scenario's values (bold: the",
      "scenario's own value, not run again); the band is the range over the scenario's run and all its variants:",
      '',
    );
    for (const p of params) md.push(`- \`${p.name}\` = ${valueList(p)} (\`${p.path}\`): ${cell(p.source)}`);
    md.push('');
    const own = run.bands.baseLogHash;
    if (own !== undefined)
      md.push(
        own === m.logHash
          ? "The band sweep's run of the scenario itself (in a worker thread) has the log hash of the run above."
          : `⚠ The band sweep's run of the scenario itself has log hash \`${own}\`, not the run's above: the same scenario and seed gave another log.`,
        '',
      );
    if (rs.length > 0) {
      md.push(
        'The range each parameter alone gives:',
        '',
        `| domain | metric | ${params.map((p) => `\`${p.name}\``).join(' | ')} |`,
        `|---|---|${params.map(() => '---:|').join('')}`,
      );
      for (const r of rs) {
        md.push(
          `| ${cell(r.domain)} | ${r.metric} | ${params.map((p) => showRange(r.byParam[p.name])).join(' | ')} |`,
        );
      }
      md.push('');
    }
  }
  return md;
}

/**
 * The summary: how many predicted numbers are within ±20% of the paper's, and (when
 * the bands ran) how many of the rest lie inside their band.
 */
export function summaryLines(all: readonly BandedRow[], bandsRan: boolean): string[] {
  const predicted = all.filter((r) => !r.fitted);
  const within = predicted.filter((r) => Math.abs(relErr(r)) <= 0.2);
  const rest = predicted.filter((r) => Math.abs(relErr(r)) > 0.2);
  const lines = [`${within.length} of ${predicted.length} predicted numbers are within ±20% of the paper's.`];
  if (bandsRan) {
    const inside = rest.filter((r) => inBand(r.paper, r.band)).length;
    lines.push(
      `Of the other ${rest.length}, ${inside} lie inside their band (the range over the unstated parameters' plausible values).`,
    );
  }
  return lines;
}

/** One of the paper's qualitative claims, checked on the built-ins' runs. */
export interface Claim {
  readonly claim: string;
  /** The simulated figures it rests on, for the reader. */
  readonly measured: string;
  /** undefined: a run it needs is missing. */
  readonly holds: boolean | undefined;
}

/**
 * The paper's qualitative claims (issue 13's list), each checked on the runs by name:
 * Table 2 (interference without ShareGuard, none with it, against the simulated
 * baseline), Table 1 (SEDF-DC holds both combined uses within 1 point of 22%), Fig. 6
 * (SEDF about 90% combined, within 5 points; SEDF-DC 60% within 1).
 */
export function claims(runs: readonly ScenarioRun[]): Claim[] {
  const m = (name: string) => runs.find((r) => r.s.name === name)?.m;
  const d = (name: string, dom: string) => m(name)?.domains[dom];
  const f = (x: number | undefined, digits = 1) => (x === undefined ? '?' : x.toFixed(digits));
  const out: Claim[] = [];
  const base = m('table2-baseline');
  const ratio = (name: string, dom: string) => {
    const b = base?.domains[dom]?.webReqPerSec;
    const x = d(name, dom)?.webReqPerSec;
    return b === undefined || x === undefined || b === 0 ? undefined : x / b;
  };
  const table2 = (name: string, web: (r: number) => boolean, dom3: (p: number) => boolean, text: string) => {
    const r1 = ratio(name, 'Dom-1');
    const r2 = ratio(name, 'Dom-2');
    const p3 = d(name, 'Dom-3')?.iddPctEstimated;
    out.push({
      claim: text,
      measured: `Dom-1 ${f(r1 === undefined ? undefined : 100 * r1)}%, Dom-2 ${f(r2 === undefined ? undefined : 100 * r2)}% of baseline; Dom-3 ${f(p3)}% of Dom-0`,
      holds:
        r1 === undefined || r2 === undefined || p3 === undefined ? undefined : web(r1) && web(r2) && dom3(p3),
    });
  };
  table2(
    'table2-without-shareguard',
    (r) => r < 0.8,
    (p) => p >= 18,
    'Table 2 without ShareGuard: both web servers below 80% of baseline throughput, Dom-3 at 18% of Dom-0 or more',
  );
  table2(
    'table2-with-shareguard',
    (r) => r >= 0.9,
    (p) => p <= 6,
    'Table 2 with ShareGuard: both web servers at 90% of baseline or more, Dom-3 at 6% of Dom-0 or less',
  );
  const c1 = d('table1-sedfdc', 'Dom-1')?.combinedPct;
  const c2 = d('table1-sedfdc', 'Dom-2')?.combinedPct;
  out.push({
    claim: 'Table 1 SEDF-DC: both web servers combined within 1 point of 22%',
    measured: `Dom-1 ${f(c1)}%, Dom-2 ${f(c2)}%`,
    holds:
      c1 === undefined || c2 === undefined ? undefined : Math.abs(c1 - 22) <= 1 && Math.abs(c2 - 22) <= 1,
  });
  const s6 = d('fig6-sedf', 'Dom-1')?.combinedPct;
  const dc6 = d('fig6-sedfdc', 'Dom-1')?.combinedPct;
  out.push({
    claim: 'Fig. 6: Dom-1 combined about 90% under SEDF (85–95%) and 60% under SEDF-DC (±1)',
    measured: `SEDF ${f(s6)}%, SEDF-DC ${f(dc6)}%`,
    holds:
      s6 === undefined || dc6 === undefined ? undefined : Math.abs(s6 - 90) <= 5 && Math.abs(dc6 - 60) <= 1,
  });
  return out;
}

/** The claims as a Markdown section. */
export function claimLines(cs: readonly Claim[]): string[] {
  const mark = (h: boolean | undefined) => (h === undefined ? 'not run' : h ? 'holds' : '**does not hold**');
  return [
    "## The paper's qualitative claims",
    '',
    '| claim | simulated | |',
    '|---|---|---|',
    ...cs.map((c) => `| ${c.claim} | ${c.measured} | ${mark(c.holds)} |`),
    '',
  ];
}

/**
 * The whole of EXPERIMENTS.md; `extra`: sections after the scenarios' (the goodput
 * curve). Runs of scenarios without `paper` numbers go to the section beyond the paper
 * (`beyondLines`), after the summary, and count in none of the paper's figures.
 */
export function experimentsMarkdown(
  allRuns: readonly ScenarioRun[],
  totalS: number,
  parallel: number,
  bandsRan: boolean,
  extra: readonly string[] = [],
): string {
  const runs = allRuns.filter((r) => r.s.paper !== undefined);
  const beyond = allRuns.filter((r) => r.s.paper === undefined);
  const count = `${runs.length} scenarios${beyond.length > 0 ? ` and ${beyond.length} beyond the paper` : ''}`;
  const md: string[] = [
    '# Experiments: the paper re-run in isosim',
    '',
    `Written by \`isosim paper\` (${count}, ${totalS.toFixed(0)} s on the machine that ran it, ${parallel} at a time). Each number the paper`,
    'reports stands beside the simulated one; the error is (simulated − paper) / paper.',
    '`fitted` columns are the ones the hardware profiles were calibrated on (DEVELOPERS.md:',
    'the SEDF column of Table 1 and the baseline column of Table 2); every other number is a',
    "prediction. XenMon-reported numbers (Dom-0 for a guest) are compared with XenMon's estimate.",
  ];
  if (bandsRan) {
    md.push(
      "Where the paper leaves a parameter unstated (httperf's timeout, offered rates, file sizes,",
      'a TCP window), the scenario lists plausible values with their source, and each predicted number',
      'has a band: its range over those values, one parameter at a time. The parameters are never',
      'chosen to match the paper; the band says how much the unstated choice can move the number.',
    );
  }
  md.push('');
  const all: BandedRow[] = [];
  for (const run of runs) {
    const rs = bandedRows(run);
    all.push(...rs);
    md.push(...scenarioSection(run, rs));
  }
  md.push(...extra);
  md.push(...claimLines(claims(runs)));
  md.push('## Summary', '', ...summaryLines(all, bandsRan));
  md.push('Gaps over 10% are marked ⚠; `docs/calibration.md` discusses them as they are understood.', '');
  if (beyond.length > 0) md.push(...beyondLines(beyond));
  return `${md.join('\n')}\n`;
}

/*
 * Beyond the paper: built-ins without paper numbers (disks, several driver domains).
 * They run as the others, but nothing is compared with the paper: each pair runs a host
 * without and with a mechanism, and the section sets the two runs side by side, with a
 * sentence computed from the numbers.
 */

/** The pairs the section compares, by built-in name: the host without, then with, the mechanism. */
export const BEYOND_PAIRS = {
  disk: ['disk-interference', 'disk-interference-shareguard'],
  idds: ['two-idds', 'two-idds-net-only'],
} as const;

/** The guest kernels the containers comparison sets side by side: stock, containers, containers with LRP. */
export const CONTAINER_RUNS = ['containers-flood-off', 'containers-flood-eager', 'containers-flood'] as const;

/**
 * Resource containers inside a guest (docs/containers.md): each client class's web
 * throughput and its container's CPU in each run, and a sentence on the first class
 * (the one with the largest share) computed from the numbers.
 */
export function containersComparison(runs: readonly ScenarioRun[]): string[] {
  const guests = runs[0].s.domains.filter((d) => d.role === 'guest' && d.containers !== undefined);
  const md = [
    `### ${runs.map((r) => r.s.name).join(' vs ')}: resource containers in a guest`,
    '',
    "One guest's web server with clients in classes, under a flood from one class; the runs differ only in the guest kernel: stock (the classes only label the clients), resource containers with eager protocol work, resource containers with LRP. Over each run's window:",
    '',
    '| guest | class | share % | kernel | replies/s | failed/s | container CPU % (run) | LRP drops (run) |',
    '|---|---|---:|---|---:|---:|---:|---:|',
  ];
  const said: string[] = [];
  for (const g of guests) {
    const classes = Object.entries(g.containers?.classes ?? {});
    for (const [k, c] of classes) {
      for (const r of runs) {
        const mode = r.s.domains.find((d) => d.name === g.name)?.containers?.mode ?? 'lrp';
        const m = own(r.m.domains, g.name)?.webByClass?.[k];
        if (m === undefined) continue;
        const cpu = m.cpuPctRun === undefined ? '-' : fix2(m.cpuPctRun);
        const drops = m.lrpDrops === undefined ? '-' : String(m.lrpDrops);
        md.push(
          `| ${cell(g.name)} | ${cell(k)} | ${c.sharePct} | ${KERNELS[mode]} | ${fix2(m.webReqPerSec)} | ${fix2(m.webFailedPerSec)} | ${cpu} | ${drops} |`,
        );
      }
    }
    const first = [...classes].sort((a, b) => b[1].sharePct - a[1].sharePct)[0];
    if (first !== undefined) {
      const rates = runs.map((r) => own(r.m.domains, g.name)?.webByClass?.[first[0]]?.webReqPerSec);
      if (rates.every((x) => x !== undefined))
        said.push(
          `${g.name}'s ${first[0]} clients get ${andList(rates.map((x, i) => `${fix2(x as number)} replies/s ${KERNEL_PHRASE[runs[i].s.domains.find((d) => d.name === g.name)?.containers?.mode ?? 'lrp']}`))}.`,
        );
    }
  }
  md.push('');
  if (said.length > 0) md.push(said.join(' '), '');
  return md;
}

const KERNELS = { off: 'stock', eager: 'containers', lrp: 'containers + LRP' } as const;
const KERNEL_PHRASE = {
  off: 'with a stock kernel',
  eager: 'with containers',
  lrp: 'with containers and LRP',
} as const;

type Domain = Scenario['domains'][number];

const pct2 = (x: number) => `${fix2(x)}%`;
/** `rise from a to b` / `fall from a to b` / `stay at a`, each shown with `show`. */
function move(a: number, b: number, show: (x: number) => string): string {
  if (show(a) === show(b)) return `stay at ${show(a)}`;
  return `${b > a ? 'rise' : 'fall'} from ${show(a)} to ${show(b)}`;
}
/** Names as English lists: `a`, `a and b`, `a, b and c`. */
function andList(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** The driver domain that drives `device`: the one listing it, else the first (as load.ts decides). */
function driverOf(s: Scenario, device: string): string | undefined {
  const idds = s.domains.filter((d) => d.role === 'idd');
  return (idds.find((d) => d.devices?.includes(device)) ?? idds[0])?.name;
}

/** The driver domains serving `g`'s vbds (each vbd's backend, else its disk's driver), once each. */
function blockDriversOf(s: Scenario, g: Domain): string[] {
  const names = (g.vbds ?? []).flatMap((v) => {
    const b = v.backend ?? driverOf(s, v.disk);
    return b === undefined ? [] : [b];
  });
  return [...new Set(names)];
}

/** `g`'s ShareGuard limit in driver domain `driver`, percent (undefined: none). */
function limitIn(s: Scenario, guest: string, driver: string): number | undefined {
  const l = s.mechanisms.shareGuard?.limitsPct;
  const x = l !== undefined && Object.hasOwn(l, guest) ? l[guest] : undefined;
  if (x === undefined || typeof x === 'number') return x;
  return Object.hasOwn(x, driver) ? x[driver] : undefined;
}

/** A domain's CPU share in percent of one CPU (the sum of its vCPUs'), as load.ts computes it. */
function sharePct(s: Scenario, d: Domain): number {
  return 100 * domainShare(s.host.scheduler, { vcpus: d.vcpus.map(vcpuConfig) });
}

/** The guest's IDD time in `drivers`, true and estimated, percent (0 where absent). */
function iddIn(m: DomainMetrics | undefined, drivers: readonly string[]): { true: number; est: number } {
  let t = 0;
  let e = 0;
  for (const n of drivers) {
    const x = m?.iddByDriver && Object.hasOwn(m.iddByDriver, n) ? m.iddByDriver[n] : undefined;
    t += x?.truePct ?? 0;
    e += x?.estimatedPct ?? 0;
  }
  return { true: t, est: e };
}

/** What a guest's I/O is, from its rates: `reads`, `writes` or `70% reads`. */
function ioKind(d: Pick<DiskMetrics, 'readIops' | 'writeIops'>): string {
  const all = d.readIops + d.writeIops;
  if (all === 0) return 'none';
  if (d.writeIops === 0) return 'reads';
  if (d.readIops === 0) return 'writes';
  return `${((100 * d.readIops) / all).toFixed(0)}% reads`;
}

/**
 * disk-interference without and with block ShareGuard: per guest with disk jobs, its I/O
 * (IOPS, MB/s, mean and max latency) and its CPU in the driver domains serving its vbds,
 * true and XenMon's estimate; then a sentence per guest on what changed.
 */
export function diskComparison(without: ScenarioRun, withSg: ScenarioRun): string[] {
  const runs = [without, withSg];
  const label = (r: ScenarioRun) => (r.s.mechanisms.shareGuard === undefined ? 'without' : 'with');
  const guests = without.s.domains.filter(
    (g) => g.role === 'guest' && runs.some((r) => own(r.m.domains, g.name)?.disk !== undefined),
  );
  const served = [...new Set(guests.flatMap((g) => blockDriversOf(without.s, g)))];
  const limits = guests.flatMap((g) =>
    blockDriversOf(withSg.s, g).flatMap((b) => {
      const l = limitIn(withSg.s, g.name, b);
      return l === undefined ? [] : [`${g.name} to ${l}% of a CPU in ${b}`];
    }),
  );
  const md = [
    `### ${without.s.name} vs ${withSg.s.name}: block ShareGuard`,
    '',
    `${andList(guests.map((g) => g.name))} do their disk I/O through ${andList(served)}; \`${withSg.s.name}\` adds ShareGuard there${limits.length > 0 ? `, limiting ${andList(limits)}` : ''}. Per guest over each run's window:`,
    '',
    '| guest | I/O | block ShareGuard | IOPS | MB/s | mean latency (ms) | max latency (ms) | in driver domain | CPU there for it % | XenMon % |',
    '|---|---|---|---:|---:|---:|---:|---|---:|---:|',
  ];
  const said: string[] = [];
  for (const g of guests) {
    const drivers = blockDriversOf(without.s, g);
    const disks = runs.map((r) => own(r.m.domains, g.name)?.disk);
    const idd = runs.map((r) => iddIn(own(r.m.domains, g.name), drivers));
    const kind = ioKind(disks[0] ?? disks[1] ?? { readIops: 0, writeIops: 0 });
    runs.forEach((r, i) => {
      const d = disks[i];
      const io =
        d === undefined
          ? ['–', '–', '–', '–']
          : [
              (d.readIops + d.writeIops).toFixed(0),
              fix2(d.readMBps + d.writeMBps),
              fix2(d.meanLatencyMs),
              fix2(d.maxLatencyMs),
            ];
      md.push(
        `| ${cell(g.name)} | ${kind} | ${label(r)} | ${io.join(' | ')} | ${cell(drivers.join(' + '))} | ${fix2(idd[i].true)} | ${fix2(idd[i].est)} |`,
      );
    });
    const [a, b] = disks;
    if (a === undefined || b === undefined) continue;
    const iops = [a.readIops + a.writeIops, b.readIops + b.writeIops];
    const ratio = iops[0] > 0 ? ` (×${(iops[1] / iops[0]).toFixed(2)})` : '';
    const limit = drivers.map((x) => limitIn(withSg.s, g.name, x)).find((x) => x !== undefined);
    const [maxA, maxB] = [fix2(a.maxLatencyMs), fix2(b.maxLatencyMs)];
    said.push(
      `${g.name} (${kind}) sees its IOPS ${move(iops[0], iops[1], (x) => x.toFixed(0))}${ratio}, ` +
        `its mean latency ${move(a.meanLatencyMs, b.meanLatencyMs, fix2)} ms (max ${maxA === maxB ? `${maxA} ms in both` : `${maxA} → ${maxB} ms`}), ` +
        `and its CPU in ${drivers.join(' + ')} ${move(idd[0].true, idd[1].true, pct2)} ` +
        `(XenMon: ${pct2(idd[0].est)} → ${pct2(idd[1].est)}${limit === undefined ? '' : `, against its limit of ${limit}%`})`,
    );
  }
  md.push('');
  if (said.length > 0) md.push(`With block ShareGuard, ${said.join('; ')}.`, '');
  return md;
}

/**
 * two-idds vs two-idds-net-only: per guest served by several driver domains, its own CPU,
 * each driver domain's CPU for it (true and XenMon's estimate), combined, and its share;
 * then a sentence per run on how far combined lies from the share, and what went uncharged.
 */
export function iddsComparison(both: ScenarioRun, netOnly: ScenarioRun): string[] {
  const runs = [both, netOnly];
  const idds = both.s.domains.filter((d) => d.role === 'idd').map((d) => d.name);
  const served = (m: DomainMetrics | undefined) =>
    idds.filter((n) => iddIn(m, [n]).true > 0 || iddIn(m, [n]).est > 0).length;
  const guests = both.s.domains.filter(
    (g) => g.role === 'guest' && runs.some((r) => served(own(r.m.domains, g.name)) > 1),
  );
  const charged = (s: Scenario) =>
    s.mechanisms.debt === undefined || s.mechanisms.debt.mode === 'off'
      ? []
      : (s.mechanisms.debt.drivers ?? idds);
  const chargedText = (s: Scenario) => {
    const c = charged(s);
    return c.length === 0 ? 'nothing' : c.length === idds.length ? andList(c) : `${andList(c)} only`;
  };
  const md = [
    `### ${both.s.name} vs ${netOnly.s.name}: SEDF-DC over several driver domains`,
    '',
    "A guest served by several driver domains, with SEDF-DC charging it for the work of some or all of them. Over each run's window:",
    '',
    `| guest | SEDF-DC charges it for | own CPU % | ${idds.map((n) => `${cell(n)} for it % | XenMon %`).join(' | ')} | combined % | share % | combined − share |`,
    `|---|---|---:|${idds.map(() => '---:|---:|').join('')}---:|---:|---:|`,
  ];
  const said: string[] = [];
  for (const g of guests) {
    const share = sharePct(both.s, g);
    const parts: string[] = [];
    for (const r of runs) {
      const d = own(r.m.domains, g.name);
      if (d === undefined) continue;
      const per = idds.map((n) => iddIn(d, [n]));
      const diff = d.combinedPct - share;
      md.push(
        `| ${cell(g.name)} | ${chargedText(r.s)} (\`${r.s.name}\`) | ${fix2(d.cpuPct)} | ${per.map((x) => `${fix2(x.true)} | ${fix2(x.est)}`).join(' | ')} | ${fix2(d.combinedPct)} | ${fix2(share)} | ${diff >= 0 ? '+' : '−'}${fix2(Math.abs(diff))} |`,
      );
      const off =
        fix2(Math.abs(diff)) === fix2(0)
          ? 'at'
          : `${fix2(Math.abs(diff))} points ${diff > 0 ? 'above' : 'below'}`;
      const uncharged = idds.filter((n) => !charged(r.s).includes(n) && iddIn(d, [n]).true > 0);
      parts.push(
        `charged for ${chargedText(r.s)} (\`${r.s.name}\`), its combined CPU is ${pct2(d.combinedPct)}, ${off} its ${+share.toFixed(2)}% share` +
          (uncharged.length > 0
            ? `: the ${andList(uncharged.map((n) => `${pct2(iddIn(d, [n]).true)} ${n} spends`))} for it ${uncharged.length > 1 ? 'go' : 'goes'} uncharged`
            : ''),
      );
    }
    if (parts.length > 0) said.push(`${g.name}, ${parts.join('; ')}`);
  }
  md.push('');
  if (said.length > 0) md.push(`For ${said.join('. For ')}.`, '');
  return md;
}

/**
 * The section beyond the paper: each run's line (seed, window, log hash, wall time) and
 * description, then the comparisons of `BEYOND_PAIRS` whose runs are there.
 */
export function beyondLines(runs: readonly ScenarioRun[]): string[] {
  const md = [
    '## Beyond the paper',
    '',
    "The paper's hosts have no disks, one driver domain and stock guest kernels. These built-ins go",
    'beyond it, so they have no paper numbers, no error columns and no bands: each comparison runs one',
    "host without and with a mechanism, and the tables set the runs side by side. They ran as the paper's scenarios,",
    "each in its own process. Percentages are of one CPU over each run's window; `XenMon` columns",
    "are XenMon's estimate, the others the simulator's ground truth.",
    '',
  ];
  for (const { s, m, wallS } of runs) {
    md.push(
      `- \`${s.name}\`: seed ${m.seed}, ${m.durationS} s, window [${m.windowS[0]}, ${m.windowS[1]}] s, log hash \`${m.logHash}\`, ${wallS.toFixed(1)} s wall. ${cell(s.description)}`,
    );
  }
  md.push('');
  const run = (name: string) => runs.find((r) => r.s.name === name);
  const pair = (names: readonly [string, string], compare: (a: ScenarioRun, b: ScenarioRun) => string[]) => {
    const [a, b] = names.map(run);
    if (a !== undefined && b !== undefined) md.push(...compare(a, b));
    else if (a !== undefined || b !== undefined)
      md.push(`Not compared: \`${a === undefined ? names[0] : names[1]}\` did not run.`, '');
  };
  pair(BEYOND_PAIRS.disk, diskComparison);
  pair(BEYOND_PAIRS.idds, iddsComparison);
  const kernels = CONTAINER_RUNS.map(run);
  if (kernels.every((r) => r !== undefined)) md.push(...containersComparison(kernels as ScenarioRun[]));
  else if (kernels.some((r) => r !== undefined))
    md.push(`Not compared: \`${CONTAINER_RUNS[kernels.indexOf(undefined)]}\` did not run.`, '');
  return md;
}
