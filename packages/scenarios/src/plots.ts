/**
 * Time-series plots as plain SVG (no dependencies), like the paper's Figs. 6–10:
 * per-domain CPU, the driver domain's CPU split by the guest it served, and web
 * throughput; beyond the paper, disk I/Os and each driver domain's CPU by guest where
 * a host has them. One point per simulated second (a last, partial second at the middle
 * of its true span). Names are XML-escaped, control characters shown as `\u001b`.
 */
import { own } from './metrics.ts';
import type { Metrics } from './runScenario.ts';
import { xmlText } from './text.ts';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const W = 800;
const H = 360;
const M = { left: 60, right: 200, top: 40, bottom: 50 };

export interface Series {
  readonly label: string;
  readonly values: readonly number[];
}

const esc = xmlText;

/** Where the points lie on the time axis: `at[i]` seconds, the axis [0, endS]. */
export interface TimeAxis {
  readonly at: readonly number[];
  readonly endS: number;
}

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** A line of an XY chart: points in data units, drawn in order. */
export interface XYSeries {
  readonly label: string;
  readonly points: readonly (readonly [x: number, y: number])[];
  /** Drawn dashed (a reference line). */
  readonly dashed?: boolean;
  /** A dot at every point (few points, each a run). */
  readonly marks?: boolean;
  /**
   * A reference line (y = x): it does not stretch the y axis, and is cut at the plot's
   * edge, so the data keep the height of the plot.
   */
  readonly reference?: boolean;
}

/** What `chart` draws: axes from 0 to `xMax` and `yMax`, in data units. */
interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xMax: number;
  readonly xTicks: readonly number[];
  readonly yMax: number;
  /** An x interval shaded grey (the measurement window). */
  readonly shade?: readonly [number, number];
  readonly series: readonly XYSeries[];
}

/** The drawing both charts share: frame, grid, ticks, labels, lines and legend. */
function chart(c: ChartSpec): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (pw * v) / c.xMax;
  const y = (v: number) => M.top + ph - (ph * v) / c.yMax;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(c.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
  ];
  if (c.shade) {
    const x0 = x(c.shade[0]);
    const x1 = x(c.shade[1]);
    out.push(`<rect x="${x0}" y="${M.top}" width="${Math.max(0, x1 - x0)}" height="${ph}" fill="#f2f2f2"/>`);
  }
  for (let k = 0; k <= 5; k++) {
    const v = (c.yMax * k) / 5;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toFixed(1))}</text>`);
  }
  for (const t of c.xTicks) {
    out.push(`<text x="${x(t)}" y="${M.top + ph + 18}" text-anchor="middle">${Number(t.toFixed(3))}</text>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  if (c.series.some((s) => s.reference)) {
    out.push(
      `<clipPath id="plot-area"><rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath>`,
    );
  }
  c.series.forEach((s, k) => {
    const col = COLOURS[k % COLOURS.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    const clip = s.reference ? ' clip-path="url(#plot-area)"' : '';
    out.push(`<polyline points="${pts}" fill="none" stroke="${col}" stroke-width="2"${dash}${clip}/>`);
    if (s.marks) {
      for (const [px, py] of s.points) {
        out.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${col}"/>`);
      }
    }
    out.push(
      `<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${M.top + 10 + 18 * k}" y2="${M.top + 10 + 18 * k}" stroke="${col}" stroke-width="3"${dash}/>`,
    );
    out.push(`<text x="${W - M.right + 38}" y="${M.top + 14 + 18 * k}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A time series per line, one point per simulated second (or at `axis.at`). */
export function lineChart(
  title: string,
  yLabel: string,
  series: readonly Series[],
  window?: readonly [number, number],
  axis?: TimeAxis,
): string {
  const n = axis && axis.endS > 0 ? axis.endS : Math.max(1, ...series.map((s) => s.values.length));
  const step = Math.max(1, Math.ceil(n / 12));
  const xTicks: number[] = [];
  for (let i = 0; i <= n; i += step) xTicks.push(i);
  return chart({
    title,
    xLabel: 'time (s)',
    yLabel,
    xMax: n,
    xTicks,
    yMax: niceMax(Math.max(0, ...series.flatMap((s) => s.values))),
    shade: window,
    series: series.map((s) => ({
      label: s.label,
      points: s.values.map((v, i) => [axis ? axis.at[i] : i + 0.5, v] as const),
    })),
  });
}

/**
 * Lines over a numeric x axis (goodput against offered load): both axes from 0 to a
 * round number above the largest value (of x, and of y but on reference lines), about
 * 8 ticks along x.
 */
export function xyChart(title: string, xLabel: string, yLabel: string, series: readonly XYSeries[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const step = niceMax(Math.max(0, ...xs) / 8);
  const xMax = Math.max(step, Math.ceil(Math.max(0, ...xs) / step) * step);
  const xTicks: number[] = [];
  for (let k = 0; k * step <= xMax + step / 1e6; k++) xTicks.push(k * step);
  return chart({
    title,
    xLabel,
    yLabel,
    xMax,
    xTicks,
    yMax: niceMax(
      Math.max(0, ...series.filter((s) => !s.reference).flatMap((s) => s.points.map((p) => p[1]))),
    ),
    series,
  });
}

/**
 * The driver domains of a run, in the order of its domains: those its guests'
 * `iddByDriver` name (a host with several driver domains, or disks), else `iddName` alone.
 */
export function driverNames(m: Metrics, iddName: string): string[] {
  const named = new Set<string>();
  for (const row of [m.domains, ...m.series.map((s) => s.domains)])
    for (const d of Object.values(row)) for (const n of Object.keys(d.iddByDriver ?? {})) named.add(n);
  const names = Object.keys(m.domains).filter((n) => named.has(n));
  return names.length > 0 ? names : [iddName];
}

/**
 * The plots of a run, by file name: CPU by domain, the driver domains' CPU by the guest
 * served, combined CPU, and where the run has them web throughput (`web.svg`), disk
 * I/Os per second (`disk.svg`) and, with several driver domains, each one's CPU by the
 * guest served (`idd-by-driver.svg`). A host with one driver domain and no disks gets
 * the plots it always had, byte for byte.
 */
export function plotsFor(m: Metrics, iddName: string): Record<string, string> {
  const names = Object.keys(m.domains);
  const drivers = driverNames(m, iddName);
  const guests = names.filter((n) => !drivers.includes(n));
  // One driver domain: named in the titles; several: together here, apart in idd-by-driver.svg.
  const one = drivers.length === 1;
  const idd = one ? drivers[0] : 'driver domains';
  const col = (name: string, key: 'cpuPct' | 'iddPctTrue' | 'iddPctEstimated') =>
    m.series.map((s) => own(s.domains, name)?.[key] ?? 0);
  const axis: TimeAxis = {
    at: m.series.map((s) => s.second + (s.spanS ?? 1) / 2),
    endS: m.series.reduce((end, s) => Math.max(end, s.second + (s.spanS ?? 1)), 0),
  };
  const plots: Record<string, string> = {
    'cpu.svg': lineChart(
      `${m.scenario}: CPU by domain`,
      'CPU (% of one pCPU)',
      names.map((n) => ({ label: n, values: col(n, 'cpuPct') })),
      m.windowS,
      axis,
    ),
    'idd.svg': lineChart(
      `${m.scenario}: ${one ? `${idd} CPU by the guest it served` : `${idd}' CPU (together) by the guest they served`}`,
      'CPU (% of one pCPU)',
      guests.flatMap((n) => [
        { label: `for ${n}`, values: col(n, 'iddPctTrue') },
        { label: `for ${n} (XenMon)`, values: col(n, 'iddPctEstimated') },
      ]),
      m.windowS,
      axis,
    ),
    'combined.svg': lineChart(
      `${m.scenario}: combined CPU (own + ${idd} on its behalf)`,
      'CPU (% of one pCPU)',
      guests.map((n) => ({
        label: n,
        values: m.series.map((s) => (own(s.domains, n)?.cpuPct ?? 0) + (own(s.domains, n)?.iddPctTrue ?? 0)),
      })),
      m.windowS,
      axis,
    ),
  };
  const web = guests.filter((n) => m.series.some((s) => own(s.domains, n)?.webReqPerSec !== undefined));
  if (web.length > 0) {
    plots['web.svg'] = lineChart(
      `${m.scenario}: web throughput`,
      'replies per second',
      web.map((n) => ({ label: n, values: m.series.map((s) => own(s.domains, n)?.webReqPerSec ?? 0) })),
      m.windowS,
      axis,
    );
  }
  const disk = guests.filter((n) => m.series.some((s) => own(s.domains, n)?.diskIops !== undefined));
  if (disk.length > 0) {
    plots['disk.svg'] = lineChart(
      `${m.scenario}: disk I/O`,
      'I/Os completed per second',
      disk.map((n) => ({ label: n, values: m.series.map((s) => own(s.domains, n)?.diskIops ?? 0) })),
      m.windowS,
      axis,
    );
  }
  if (drivers.length > 1) {
    // A line per guest and driver domain that served it at all: a guest no driver
    // domain worked for, or a driver domain that never served it, would only add zeros.
    const lines = guests.flatMap((n) =>
      drivers.map((dn) => ({
        label: `${n} in ${dn}`,
        values: m.series.map((s) => {
          const by = own(s.domains, n)?.iddByDriver;
          return (by === undefined ? undefined : own(by, dn)) ?? 0;
        }),
      })),
    );
    plots['idd-by-driver.svg'] = lineChart(
      `${m.scenario}: each driver domain's CPU by the guest it served`,
      'CPU (% of one pCPU)',
      lines.filter((l) => l.values.some((v) => v !== 0)),
      m.windowS,
      axis,
    );
  }
  Object.assign(plots, memoryPlots(m));
  return plots;
}

/** Lines `memory-domains.svg` draws before it sums the rest into one. */
export const MEMORY_PLOT_LINES = 12;

/**
 * A run with a memory block (docs/memory.md): `memory.svg`, the host's free memory,
 * outstanding claims, tmem and shared pages over time; `memory-domains.svg`, each
 * memory domain's `tot_pages` (with more than `MEMORY_PLOT_LINES` domains: every guest,
 * the launches with the highest peaks up to that many lines, the other launches summed
 * in one). One point per sample (`memory.sampleMs`).
 */
export function memoryPlots(m: Metrics): Record<string, string> {
  const x = m.memory;
  if (x === undefined || x.series.tMs.length === 0) return {};
  const axis: TimeAxis = { at: x.series.tMs.map((t) => t / 1000), endS: m.durationS };
  const lines = Object.entries(x.series.totMiB).map(([label, values]) => ({
    label,
    values,
    peak: Math.max(0, ...values),
  }));
  // Every guest; then the launches with the highest peaks, the rest summed in one line.
  const isGuest = (l: { label: string }) => Object.hasOwn(x.guests, l.label);
  const launches = lines.filter((l) => !isGuest(l));
  const room = Math.max(0, MEMORY_PLOT_LINES - 1 - (lines.length - launches.length));
  let shown: Series[] = lines;
  if (lines.length > MEMORY_PLOT_LINES) {
    const keep = new Set(
      [...launches]
        .sort((a, b) => b.peak - a.peak)
        .slice(0, room)
        .map((l) => l.label),
    );
    const rest = launches.filter((l) => !keep.has(l.label));
    shown = [
      ...lines.filter((l) => isGuest(l) || keep.has(l.label)),
      {
        label: `${rest.length} other launches (sum)`,
        values: x.series.tMs.map((_, i) => rest.reduce((n, l) => n + l.values[i], 0)),
      },
    ];
  }
  return {
    'memory.svg': lineChart(
      `${m.scenario}: host memory (${x.policy}, ${x.totalMiB} MiB)`,
      'MiB',
      [
        { label: 'free', values: x.series.freeMiB },
        { label: 'claimed (outstanding)', values: x.series.claimsMiB },
        { label: 'tmem', values: x.series.tmemMiB },
        { label: 'shared (copy-on-write)', values: x.series.sharedMiB },
      ],
      undefined,
      axis,
    ),
    'memory-domains.svg': lineChart(
      `${m.scenario}: tot_pages by domain (${x.policy})`,
      'MiB',
      shown.map((l) => ({ label: l.label, values: l.values })),
      undefined,
      axis,
    ),
  };
}
