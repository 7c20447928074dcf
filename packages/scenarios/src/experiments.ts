/**
 * EXPERIMENTS.md, as `isosim paper` writes it: each number the paper reports beside the
 * simulated one, and for a predicted number its band, the range of the simulated number
 * over the plausible values of the parameters the paper leaves unstated (one at a
 * time). Pure functions of the runs' metrics, so they are tested without running.
 */
import type { Metrics } from './runScenario.ts';
import type { Scenario } from './schema.ts';
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

/** A run of a scenario's variant: `param` set to `value`. */
export interface VariantRun {
  readonly param: string;
  readonly value: UnstatedValue;
  readonly metrics: Metrics;
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
  readonly bands?: { readonly params: readonly ParamInfo[]; readonly variants: readonly VariantRun[] };
}

const METRICS: readonly [key: 'webReqPerSec' | 'cpuPct' | 'iddPct' | 'combinedPct', label: string][] = [
  ['webReqPerSec', 'web throughput (req/s)'],
  ['cpuPct', 'CPU %'],
  ['iddPct', 'Dom-0 for it % (XenMon)'],
  ['combinedPct', 'combined %'],
];

/** The paper's numbers of `s` beside those of its run `m`. */
export function rows(s: Scenario, m: Metrics): Row[] {
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
    `Seed ${m.seed}, ${m.durationS} s, window [${m.windowS[0]}, ${m.windowS[1]}] s, log hash \`${m.logHash}\`, ${wallS.toFixed(1)} s wall (its own process)${banded ? `; ${ran} variant run(s) in \`${s.name}/bands/\`` : ''}.`,
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

/** The whole of EXPERIMENTS.md; `extra`: sections after the scenarios' (the goodput curve). */
export function experimentsMarkdown(
  runs: readonly ScenarioRun[],
  totalS: number,
  parallel: number,
  bandsRan: boolean,
  extra: readonly string[] = [],
): string {
  const md: string[] = [
    '# Experiments: the paper re-run in isosim',
    '',
    `Written by \`isosim paper\` (${runs.length} scenarios, ${totalS.toFixed(0)} s on the machine that ran it, ${parallel} at a time). Each number the paper`,
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
  return `${md.join('\n')}\n`;
}
