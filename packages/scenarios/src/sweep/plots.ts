/**
 * A plot per swept parameter and recorded metric (docs/sweeps.md, "Plots"): the metric's
 * mean over seeds against the parameter's value, with its 95% confidence interval as
 * dashed lines (`summary` in query.ts), one line per combination of the other
 * parameters' values (at most `MAX_GROUPS`; the rest are left out, and the title says
 * so). Parameters whose values are not all numbers get no plot.
 */
import { type XYSeries, xyChart } from '../plots.ts';
import type { SummaryRow } from './query.ts';
import type { ParamValue } from './types.ts';

/** Lines per plot at most: each has its mean and its two interval ends (8 colours). */
export const MAX_GROUPS = 4;

/** A file name from a parameter or metric path: letters, digits, dots and dashes. */
function slug(path: string): string {
  return path
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
}

const show = (v: ParamValue | null): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/**
 * The plots of a sweep's summary, by file name (`<param>--<metric>.svg`): for each swept
 * parameter with numeric values and each metric, the mean and its 95% interval against
 * the parameter, a line per combination of the other parameters.
 */
export function sweepPlots(rows: readonly SummaryRow[], params: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const metrics = [...new Set(rows.map((r) => r.metric))];
  for (const p of params) {
    if (!rows.every((r) => typeof r.point[p] === 'number')) continue;
    const others = params.filter((q) => q !== p);
    for (const m of metrics) {
      const groups = new Map<string, SummaryRow[]>();
      for (const r of rows) {
        if (r.metric !== m || r.mean === null) continue;
        const key = others.map((q) => `${q}=${show(r.point[q] ?? null)}`).join(', ');
        const g = groups.get(key) ?? [];
        g.push(r);
        groups.set(key, g);
      }
      const kept = [...groups].slice(0, MAX_GROUPS);
      const series: XYSeries[] = [];
      for (const [key, g] of kept) {
        const byX = [...g].sort((a, b) => (a.point[p] as number) - (b.point[p] as number));
        const label = key === '' ? m : key;
        series.push({ label, points: byX.map((r) => [r.point[p] as number, r.mean as number]), marks: true });
        const ci = byX.filter((r) => r.low !== null && r.high !== null);
        if (ci.length > 0) {
          series.push({
            label: '95% CI',
            points: ci.map((r) => [r.point[p] as number, r.low as number]),
            dashed: true,
          });
          series.push({
            label: '',
            points: ci.map((r) => [r.point[p] as number, r.high as number]),
            dashed: true,
          });
        }
      }
      if (series.length === 0) continue;
      const left = groups.size - kept.length;
      const title = `${m} against ${p}${left > 0 ? ` (${kept.length} of ${groups.size} lines)` : ''}`;
      out[`${slug(p)}--${slug(m)}.svg`] = xyChart(title, p, `${m} (mean over seeds)`, series);
    }
  }
  return out;
}
