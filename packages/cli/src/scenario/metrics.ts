/**
 * The numbers of `metrics.json` (docs/metrics.md) for a finished run: per-domain figures
 * over the measurement window, and the per-second series.
 */
import { DROP_REASONS, type XenSystem } from '@isosim/actors';
import { NS_PER_S } from '@isosim/core';
import type { DomainMetrics, SecondSample } from './runScenario.ts';

/** The per-domain figures over `window` (seconds) and the per-second series of a run of `durationS`. */
export function computeMetrics(
  sys: XenSystem,
  window: [number, number],
  durationS: number,
): { domains: Record<string, DomainMetrics>; series: SecondSample[] } {
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
  return { domains, series };
}
