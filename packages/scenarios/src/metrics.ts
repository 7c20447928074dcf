/**
 * The numbers of `metrics.json` (docs/metrics.md) for a finished run: per-domain figures
 * over exactly the measurement window, and the per-second series.
 *
 * Ground truth (CPU, IDD time by principal) and web counts are exact to the nanosecond
 * for any window: `markWindow` registers the window's edges and the run's end with the
 * accounting and the web counters before the run, so that they keep the counts up to
 * those instants (see accounting.ts, eventCounter.ts). XenMon's estimate is kept per
 * 100 ms sample; a sample partly inside a window counts in proportion to the part of its
 * span inside (xenmon.ts `estimatedBetween`).
 *
 * Records keyed by domain name are built without a prototype, so a domain named
 * `__proto__` or `constructor` is an ordinary key.
 */
import { CHARGING_INFO, DROP_REASONS, type XenSystem } from '@isosim/actors';
import { NS_PER_S } from '@isosim/core';
import { chargingScores } from './charging.ts';
import type {
  ChargingMetrics,
  ClassMetrics,
  DiskMetrics,
  DomainMetrics,
  SecondSample,
} from './runScenario.ts';

const toNs = (s: number) => Math.round(s * NS_PER_S);

/** A plain record of `entries` with no prototype: any key, `__proto__` too, is its own. */
export function recordOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const r = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries)
    Object.defineProperty(r, k, { value: v, enumerable: true, writable: true, configurable: true });
  return r;
}

/** `r[key]` if `r` has it as its own property (never something inherited, as `constructor`). */
export function own<T>(r: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return r !== undefined && Object.hasOwn(r, key) ? r[key] : undefined;
}

/** The window each system was marked for (`markWindow`): what `chargingMetrics` scores over. */
const windows = new WeakMap<XenSystem, readonly [number, number]>();

/**
 * Registers the instants `computeMetrics` will measure between (the window's edges, the
 * run's end) with the host's accounting and web counters. Call before the run starts.
 */
export function markWindow(sys: XenSystem, window: readonly [number, number], durationS: number): void {
  windows.set(sys, [window[0], window[1]]);
  const times = [toNs(window[0]), toNs(window[1]), toNs(durationS)];
  for (const t of times) sys.xen.accounting.mark(t);
  // ShareGuard acts at multiples of its period; the charging scores' invariant 3 sums
  // driver-domain time between such instants (as `runChecked` marks them). Only a run
  // that is scored (`chargingMetrics`, with a charging policy) needs them.
  const sgPeriod = sys.config.mechanisms?.shareGuard?.periodNs;
  if (sgPeriod !== undefined && sys.config.mechanisms?.charging !== undefined)
    for (let t = sgPeriod; t <= toNs(durationS); t += sgPeriod) sys.xen.accounting.mark(t);
  for (const g of sys.guests) {
    for (const w of g.web)
      for (const t of times) {
        w.stats.repliesIn.mark(t);
        w.stats.failuresIn.mark(t);
      }
    for (const j of g.disk)
      for (const t of times) {
        j.stats.reads.mark(t);
        j.stats.writes.mark(t);
      }
  }
}

/** Whether a host reports per driver domain (several of them, or disks). */
function perDriver(sys: XenSystem): boolean {
  return sys.drivers.length > 1 || sys.disks.size > 0;
}

/**
 * The per-domain figures over `window` (seconds) and the per-second series of a run of
 * `durationS`, once the run has ended (hypervisor settled, XenMon's last sample taken).
 * Every second of the series covers [s, s + 1) s; the last one, if the run ends inside
 * it, covers [s, durationS) and says so in `spanS`, its figures rates over that span.
 */
export function computeMetrics(
  sys: XenSystem,
  window: readonly [number, number],
  durationS: number,
): { domains: Record<string, DomainMetrics>; series: SecondSample[] } {
  const acc = sys.xen.accounting;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const pct = (ns: number, spanNs: number) => (spanNs > 0 ? (100 * ns) / spanNs : 0);
  const perS = (n: number, spanNs: number) => (spanNs > 0 ? (n * NS_PER_S) / spanNs : 0);
  const guestOf = new Map(sys.guests.map((g) => [g.domain.id, g]));
  const endNsRun = toNs(durationS);
  const split = perDriver(sys);
  const diskOf = (g: XenSystem['guests'][number], from: number, to: number): DiskMetrics | undefined => {
    if (g.disk.length === 0) return undefined;
    let reads = 0;
    let writes = 0;
    let rBytes = 0;
    let wBytes = 0;
    let n = 0;
    let sum = 0;
    let max = 0;
    for (const j of g.disk) {
      const r = j.stats.reads.between(from, to);
      const w = j.stats.writes.between(from, to);
      reads += r;
      writes += w;
      rBytes += r * j.config.blockBytes;
      wBytes += w * j.config.blockBytes;
      n += j.stats.reads.total + j.stats.writes.total;
      sum += j.stats.latencySumNs;
      max = Math.max(max, j.stats.latencyMaxNs);
    }
    return {
      readIops: round(perS(reads, to - from)),
      writeIops: round(perS(writes, to - from)),
      readMBps: round(perS(rBytes, to - from) / 1e6),
      writeMBps: round(perS(wBytes, to - from) / 1e6),
      meanLatencyMs: round(n > 0 ? sum / n / 1e6 : 0),
      maxLatencyMs: round(max / 1e6),
      requestsIssued: g.blkfronts.reduce((k, f) => k + f.issued, 0),
      requestsCompleted: g.blkfronts.reduce((k, f) => k + f.completed, 0),
    };
  };

  /** Replies and failures of a guest's web workloads of client class `k`, in [from, to). */
  const classCount = (g: XenSystem['guests'][number], k: string, from: number, to: number) => {
    let replies = 0;
    let failed = 0;
    for (const w of g.web) {
      if (w.options.clientClass !== k) continue;
      replies += w.stats.repliesIn.between(from, to);
      failed += w.stats.failuresIn.between(from, to);
    }
    return { replies, failed };
  };

  const [a, b] = [toNs(window[0]), toNs(window[1])];
  const domains = new Map<string, DomainMetrics>();
  for (const d of sys.xen.domains) {
    const isIdd = d.isDriverDomain;
    const cpu = pct(acc.cpuBetween(d.id, a, b), b - a);
    const iddTrue = isIdd ? 0 : pct(acc.iddBetween(d.id, a, b), b - a);
    const m: DomainMetrics = {
      cpuPct: round(cpu),
      iddPctTrue: round(iddTrue),
      iddPctEstimated: isIdd ? 0 : round(pct(sys.xenmon.estimatedBetween(d.id, a, b), b - a)),
      combinedPct: round(cpu + iddTrue),
    };
    const g = guestOf.get(d.id);
    if (g) {
      if (g.web.length > 0) {
        const replies = g.web.reduce((n, w) => n + w.stats.repliesIn.between(a, b), 0);
        const failed = g.web.reduce((n, w) => n + w.stats.failuresIn.between(a, b), 0);
        m.webReqPerSec = round(perS(replies, b - a));
        m.webFailedPerSec = round(perS(failed, b - a));
      }
      m.packets = {
        offeredIn: g.stats.offered[0],
        offeredOut: g.stats.offered[1],
        deliveredIn: g.stats.delivered[0],
        deliveredOut: g.stats.delivered[1],
        heldOut: g.stats.held,
      };
      m.drops = Object.fromEntries(DROP_REASONS.map((r) => [r, g.stats.drops.get(r) ?? 0]));
      if (split) {
        m.iddByDriver = recordOf(
          sys.drivers.map((drv) => [
            drv.name,
            {
              truePct: round(pct(acc.iddOfDriverBetween(drv.id, d.id, a, b), b - a)),
              estimatedPct: round(pct(sys.xenmon.estimatedOfDriverBetween(drv.id, d.id, a, b), b - a)),
            },
          ]),
        );
      }
      const disk = diskOf(g, a, b);
      if (disk !== undefined) m.disk = disk;
      const classes = g.clientClasses;
      if (classes !== undefined) {
        const containers = g.containers;
        m.webByClass = recordOf(
          classes.map((k, i): [string, ClassMetrics] => {
            const n = classCount(g, k, a, b);
            const c = containers?.stats[i];
            return [
              k,
              {
                webReqPerSec: round(perS(n.replies, b - a)),
                webFailedPerSec: round(perS(n.failed, b - a)),
                ...(c === undefined
                  ? {}
                  : { cpuPctRun: round(pct(c.cpuNs, endNsRun)), lrpDrops: c.lrpDrops }),
              },
            ];
          }),
        );
      }
    }
    domains.set(d.name, m);
  }

  const endNs = toNs(durationS);
  const series: SecondSample[] = [];
  for (let sec = 0; sec * NS_PER_S < endNs; sec++) {
    const from = sec * NS_PER_S;
    const to = Math.min(from + NS_PER_S, endNs);
    const row = new Map<string, SecondSample['domains'][string]>();
    for (const d of sys.xen.domains) {
      const g = guestOf.get(d.id);
      const isIdd = d.isDriverDomain;
      const ios =
        g && g.disk.length > 0
          ? g.disk.reduce((n, j) => n + j.stats.reads.between(from, to) + j.stats.writes.between(from, to), 0)
          : undefined;
      row.set(d.name, {
        cpuPct: round(pct(acc.cpuBetween(d.id, from, to), to - from)),
        iddPctTrue: isIdd ? 0 : round(pct(acc.iddBetween(d.id, from, to), to - from)),
        iddPctEstimated: isIdd ? 0 : round(pct(sys.xenmon.estimatedBetween(d.id, from, to), to - from)),
        ...(g && g.web.length > 0
          ? {
              webReqPerSec: round(
                perS(
                  g.web.reduce((n, w) => n + w.stats.repliesIn.between(from, to), 0),
                  to - from,
                ),
              ),
            }
          : {}),
        ...(ios === undefined ? {} : { diskIops: round(perS(ios, to - from)) }),
        ...(g?.clientClasses === undefined
          ? {}
          : {
              webByClass: recordOf(
                g.clientClasses.map((k) => [k, round(perS(classCount(g, k, from, to).replies, to - from))]),
              ),
            }),
        ...(split && g
          ? {
              iddByDriver: recordOf(
                sys.drivers.map((drv) => [
                  drv.name,
                  round(pct(acc.iddOfDriverBetween(drv.id, d.id, from, to), to - from)),
                ]),
              ),
            }
          : {}),
      });
    }
    const partial = to - from < NS_PER_S ? { spanS: (to - from) / NS_PER_S } : {};
    series.push({ second: sec, ...partial, domains: recordOf(row) });
  }
  return { domains: recordOf(domains), series };
}

/** The charging policy of `sys` and what it cost each driver domain over the run's `durationS`. */
export function chargingMetrics(sys: XenSystem, durationS: number): ChargingMetrics {
  const overhead = sys.chargingOverheadNs();
  const spanNs = toNs(durationS);
  return {
    policy: sys.charging,
    exact: CHARGING_INFO[sys.charging].exact,
    overheadPct: recordOf(
      sys.drivers.map((d, i) => [d.name, spanNs > 0 ? Math.round((1e5 * overhead[i]) / spanNs) / 1000 : 0]),
    ),
    // The charging lab's scores (charging.ts), over the window `markWindow` registered.
    ...chargingScores(sys, windows.get(sys) ?? [0, durationS], durationS),
  };
}
