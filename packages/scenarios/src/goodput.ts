/**
 * The goodput curve (`isosim goodput`, and a section of EXPERIMENTS.md): the Fig. 6
 * host run at fixed offered rates, one run per rate and scheduler, to show that past
 * its capacity the web server's goodput levels off instead of collapsing. The project's
 * acceptance criterion: beyond the rate of peak goodput, goodput stays at least 90% of
 * the peak. The stepped load of the built-ins is replaced by one web workload at the
 * rate (same file size, timeout and arrivals as their first), the run is `durationS`
 * long and measured over its second half.
 */
import { IsosimError } from '@isosim/core';
import { xyChart } from './plots.ts';
import type { Scenario } from './schema.ts';
import { numberSlug } from './variants.ts';

/** The built-ins whose host the curve runs, and their labels. */
export const GOODPUT_HOSTS: readonly { readonly scenario: string; readonly label: string }[] = [
  { scenario: 'fig6-sedf', label: 'SEDF' },
  { scenario: 'fig6-sedfdc', label: 'SEDF-DC' },
];
/** Run length, seconds: the first half lets queues and debt settle, the second is measured. */
export const GOODPUT_DURATION_S = 20;
export const GOODPUT_RATES = '150:1500:150';
/** The acceptance criterion: beyond the peak, goodput stays at least this fraction of it. */
export const GOODPUT_FLOOR = 0.9;
/** The most rates one sweep takes (each is a run per scheduler). */
const MAX_RATES = 100;

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * Offered rates from `--rates`: `FROM:TO:STEP` (TO included when the steps reach it)
 * or a comma list; positive, distinct, at most 100; returned in increasing order.
 */
export function parseRates(raw: string, where = 'isosim goodput', field = '--rates'): number[] {
  const bad = (problem: string): never => {
    throw new IsosimError(
      where,
      field,
      problem,
      'give FROM:TO:STEP (e.g. 150:1500:150) or a comma list (e.g. 300,600,900) of req/s above 0',
    );
  };
  const num = (t: string): number => {
    const text = t.trim();
    const n = DECIMAL.test(text) ? Number(text) : Number.NaN;
    if (!(Number.isFinite(n) && n > 0)) bad(`'${t}' is not a rate`);
    return n;
  };
  let rates: number[];
  const parts = raw.split(':');
  if (parts.length === 3) {
    const [from, to, step] = parts.map(num);
    if (to < from) bad(`'${raw}' ends below where it starts`);
    const count = Math.floor((to - from) / step + 1e-9) + 1;
    if (count > MAX_RATES) bad(`'${raw}' gives ${count} rates, more than ${MAX_RATES}`);
    // From the start each time, rounded: no error carried from step to step.
    rates = Array.from({ length: count }, (_, i) => Number((from + i * step).toFixed(9)));
  } else if (parts.length === 1) {
    rates = raw.split(',').map(num);
    if (rates.length > MAX_RATES) bad(`gives ${rates.length} rates, more than ${MAX_RATES}`);
    const dup = rates.find((r, i) => rates.indexOf(r) !== i);
    if (dup !== undefined) bad(`${dup} appears twice`);
  } else {
    bad(`'${raw}' is neither FROM:TO:STEP nor a list`);
  }
  return [...rates!].sort((a, b) => a - b);
}

/** The web guest of a Fig. 6 host: the first domain with a web workload. */
function webGuest(base: Scenario): Scenario['domains'][number] {
  const guest = base.domains.find((d) => d.workloads.some((w) => w.kind === 'web'));
  if (guest === undefined) {
    throw new IsosimError(base.name, 'domains', 'no domain serves web requests', 'give a Fig. 6 host');
  }
  return guest;
}

/**
 * `base` (a Fig. 6 built-in) at a fixed offered `rate`, as scenario JSON: its web
 * guest's workloads replaced by one at `rate`, `durationS` long, measured over the
 * second half; named `<base>-at-<rate>`; no paper numbers, no unstated parameters.
 */
export function fixedRateScenario(base: Scenario, rate: number, durationS: number): Record<string, unknown> {
  const guest = webGuest(base);
  const web = guest.workloads.find((w) => w.kind === 'web');
  if (web?.kind !== 'web') throw new Error('webGuest returns a domain with a web workload');
  const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  delete copy.paper;
  delete copy.unstated;
  return {
    ...copy,
    name: `${base.name}-at-${numberSlug(rate)}`,
    description: `${base.name}'s host at a fixed ${rate} req/s (${web.fileBytes}-byte files, timeout ${web.timeoutS} s) instead of its stepped load: isosim goodput.`,
    domains: base.domains.map((d) =>
      d === guest
        ? {
            ...d,
            workloads: [
              { kind: 'web', rate, fileBytes: web.fileBytes, timeoutS: web.timeoutS, arrivals: web.arrivals },
            ],
          }
        : d,
    ),
    durationS,
    window: { startS: durationS / 2, endS: durationS },
  };
}

/**
 * The base of a goodput sweep of `base`'s host (docs/sweeps.md): `fixedRateScenario` at
 * the first of `rates`, named `<base>-fixed-rate`; the sweep sets the rate with
 * `goodputSweepPaths(base).rate`.
 */
export function goodputSweepBase(
  base: Scenario,
  rates: readonly number[],
  durationS: number,
): Record<string, unknown> {
  const json = fixedRateScenario(base, rates[0], durationS);
  return {
    ...json,
    name: `${base.name}-fixed-rate`,
    description: `${base.name}'s host at a fixed offered rate (its web guest's stepped load replaced by one workload at the rate a goodput sweep sets): isosim goodput.`,
  };
}

/** The paths a goodput sweep of `base`'s host sets (the rate) and records (into `GoodputNumbers`). */
export function goodputSweepPaths(base: Scenario): {
  /** The web guest's name. */
  readonly guest: string;
  readonly rate: string;
  readonly goodput: string;
  readonly failedPerSec: string;
  readonly combinedPct: string;
} {
  const guest = webGuest(base).name;
  const plain = /^[A-Za-z0-9_-]+$/.test(guest);
  const d = plain ? `domains.${guest}` : `domains[${JSON.stringify(guest)}]`;
  return {
    guest,
    rate: `domains[name=${plain ? guest : JSON.stringify(guest)}].workloads[0].rate`,
    goodput: `${d}.webReqPerSec`,
    failedPerSec: `${d}.webFailedPerSec`,
    combinedPct: `${d}.combinedPct`,
  };
}

/** What `curveOf` reads of a run's metrics: the web guest's numbers (`Metrics` has them). */
export interface GoodputNumbers {
  readonly domains: Readonly<
    Record<
      string,
      | {
          readonly webReqPerSec?: number | undefined;
          readonly webFailedPerSec?: number | undefined;
          readonly combinedPct: number;
        }
      | undefined
    >
  >;
}

export interface GoodputPoint {
  /** Offered, connections per second. */
  readonly rate: number;
  /** Replies completed in the window, per second. */
  readonly goodput: number;
  /** Connections that timed out in the window, per second. */
  readonly failedPerSec: number;
  /** The web guest's own CPU plus the driver domain's on its behalf, percent of a CPU. */
  readonly combinedPct: number;
}

export interface Peak {
  readonly rate: number;
  readonly goodput: number;
  /** The least goodput at a rate beyond the peak's, if any was run. */
  readonly beyond?: { readonly rate: number; readonly goodput: number; readonly fraction: number };
}

export interface GoodputCurve {
  readonly label: string;
  readonly scenario: string;
  readonly guest: string;
  readonly points: readonly GoodputPoint[];
  readonly peak: Peak;
}

export interface GoodputResult {
  readonly durationS: number;
  readonly windowS: readonly [number, number];
  readonly curves: readonly GoodputCurve[];
}

/** The highest goodput (the lowest rate reaching it), and the least beyond its rate. */
export function peakOf(points: readonly GoodputPoint[]): Peak {
  let peak = points[0];
  for (const p of points) if (p.goodput > peak.goodput) peak = p;
  const after = points.filter((p) => p.rate > peak.rate);
  if (after.length === 0) return { rate: peak.rate, goodput: peak.goodput };
  let low = after[0];
  for (const p of after) if (p.goodput < low.goodput) low = p;
  return {
    rate: peak.rate,
    goodput: peak.goodput,
    beyond: {
      rate: low.rate,
      goodput: low.goodput,
      fraction: peak.goodput > 0 ? low.goodput / peak.goodput : 1,
    },
  };
}

/** A curve from its runs' metrics (`metrics[i]` ran `rates[i]`). */
export function curveOf(
  label: string,
  base: Scenario,
  rates: readonly number[],
  metrics: readonly GoodputNumbers[],
): GoodputCurve {
  const guest = webGuest(base).name;
  const points = rates.map((rate, i) => {
    const d = metrics[i].domains[guest];
    return {
      rate,
      goodput: d?.webReqPerSec ?? 0,
      failedPerSec: d?.webFailedPerSec ?? 0,
      combinedPct: d?.combinedPct ?? 0,
    };
  });
  return { label, scenario: base.name, guest, points, peak: peakOf(points) };
}

const f1 = (x: number) => x.toFixed(1);

/** ` text ` centred in dashes, `width` wide. */
function center(text: string, width: number): string {
  const t = ` ${text} `;
  const left = Math.max(0, Math.floor((width - t.length) / 2));
  return `${'-'.repeat(left)}${t}${'-'.repeat(Math.max(0, width - t.length - left))}`;
}

/** One line per curve: its peak, and how far goodput falls beyond it. */
export function peakLines(r: GoodputResult): string[] {
  return r.curves.map((c) => {
    const p = c.peak;
    const head = `${c.label}: peak ${f1(p.goodput)} req/s at ${p.rate} req/s offered`;
    if (p.beyond === undefined) return `${head}; no rate beyond it was run`;
    const ok = p.beyond.fraction >= GOODPUT_FLOOR;
    return `${head}; beyond it at least ${f1(p.beyond.goodput)} req/s (at ${p.beyond.rate}), ${(100 * p.beyond.fraction).toFixed(1)}% of the peak: ${ok ? 'no collapse' : 'COLLAPSE'} (criterion ≥ ${100 * GOODPUT_FLOOR}%)`;
  });
}

/** The table for the terminal: a row per rate, a column group per scheduler. */
export function goodputText(r: GoodputResult): string {
  const lines = [
    `Goodput at fixed offered rates: the Fig. 6 host, ${r.durationS} s runs, window [${r.windowS[0]}, ${r.windowS[1]}] s`,
    '',
    `${' '.repeat(10)}${r.curves.map((c) => center(c.label, 33)).join('   ')}`,
    `  offered ${r.curves.map((c) => `goodput  failed/s  ${`${c.guest} comb.%`.padStart(14)}`).join('   ')}`,
  ];
  const rates = r.curves[0]?.points.map((p) => p.rate) ?? [];
  rates.forEach((rate, i) => {
    const cols = r.curves.map((c) => {
      const p = c.points[i];
      return `${f1(p.goodput).padStart(7)}  ${f1(p.failedPerSec).padStart(8)}  ${f1(p.combinedPct).padStart(14)}`;
    });
    lines.push(`  ${String(rate).padStart(7)} ${cols.join('   ')}`);
  });
  lines.push('', ...peakLines(r));
  return lines.join('\n');
}

/** The section of EXPERIMENTS.md; `svg`: the plot's path relative to the output directory. */
export function goodputMarkdown(r: GoodputResult, svg: string): string[] {
  const md = [
    '## No goodput collapse',
    '',
    `The Fig. 6 host at fixed offered rates (\`isosim goodput\`): one web workload at each rate instead of the stepped load, ${r.durationS} s runs measured over [${r.windowS[0]}, ${r.windowS[1]}] s.`,
    `Goodput is replies completed per second; failed/s, connections timed out per second; combined, the web guest's CPU plus Dom-0's on its behalf. The project's criterion: beyond the rate of peak goodput, goodput stays at least ${100 * GOODPUT_FLOOR}% of the peak.`,
    '',
    `| offered (req/s) | ${r.curves.map((c) => `${c.label} goodput | ${c.label} failed/s | ${c.label} ${c.guest} combined %`).join(' | ')} |`,
    `|---:|${r.curves.map(() => '---:|---:|---:|').join('')}`,
  ];
  const rates = r.curves[0]?.points.map((p) => p.rate) ?? [];
  rates.forEach((rate, i) => {
    const cols = r.curves.map((c) => {
      const p = c.points[i];
      return `${f1(p.goodput)} | ${f1(p.failedPerSec)} | ${f1(p.combinedPct)}`;
    });
    md.push(`| ${rate} | ${cols.join(' | ')} |`);
  });
  md.push(
    '',
    ...peakLines(r).map((l) => `- ${l}`),
    '',
    `Plot: \`${svg}\` beside this file in the output directory; the repository keeps a copy, [docs/img/goodput.svg](docs/img/goodput.svg), made by \`pnpm isosim goodput --svg docs/img/goodput.svg\`.`,
    '',
  );
  return md;
}

/** The plot: goodput against offered rate per scheduler, and the offered rate itself. */
export function goodputSvg(r: GoodputResult): string {
  const rates = r.curves[0]?.points.map((p) => p.rate) ?? [];
  const top = Math.max(0, ...rates);
  return xyChart('Goodput against offered load (Fig. 6 host)', 'offered load (req/s)', 'replies per second', [
    ...r.curves.map((c) => ({
      label: c.label,
      points: c.points.map((p) => [p.rate, p.goodput] as const),
      marks: true,
    })),
    { label: 'offered (y = x)', points: [[0, 0] as const, [top, top] as const], dashed: true },
  ]);
}

/** goodput.json: the runs' settings and every curve. */
export function goodputJson(r: GoodputResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
