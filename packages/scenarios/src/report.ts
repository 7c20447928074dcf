/**
 * The XenMon-like table `isosim run` prints: per domain, CPU %, the IDD's CPU on its
 * behalf (XenMon's estimate and the ground truth), combined, web throughput and drops,
 * each with the paper's value beside it where the scenario has one, and the relative
 * error. A host with disks adds each guest's disk I/O, and one with several driver
 * domains each guest's IDD time in each. Percentages are of one pCPU over the
 * measurement window. Text from the scenario (names, description) shows control
 * characters as `\u001b`, so that a name cannot drive the terminal.
 */
import { own } from './metrics.ts';
import type { Metrics } from './runScenario.ts';
import type { Scenario } from './schema.ts';
import { visible } from './text.ts';

const pad = (s: string, n: number) => s.padStart(n);
const num = (x: number | undefined, d = 1) => (x === undefined ? '' : x.toFixed(d));

function withPaper(sim: number | undefined, paper: number | undefined, d = 1): string {
  if (sim === undefined) return '';
  if (paper === undefined) return num(sim, d);
  const err = paper === 0 ? '' : ` ${((100 * (sim - paper)) / paper).toFixed(0).replace(/^(?!-)/, '+')}%`;
  return `${num(sim, d)} (${num(paper, d)}${err})`;
}

export function formatReport(s: Scenario, m: Metrics): string {
  const lines: string[] = [];
  lines.push(visible(`${s.name}: ${s.description}`));
  lines.push(
    `seed ${m.seed}, ${m.durationS} s simulated, window [${m.windowS[0]}, ${m.windowS[1]}] s, ${m.events} events, log hash ${m.logHash || '(no log)'}`,
  );
  if (s.paper)
    lines.push(
      visible(
        `paper values in parentheses: ${s.paper.source} (${s.paper.fitted ? 'fitted: used for calibration' : 'predicted'})`,
      ),
    );
  lines.push('');
  const head = ['domain', 'CPU %', 'IDD % est', 'IDD % true', 'combined %', 'web req/s', 'drops'];
  const rows: string[][] = [];
  for (const [name, d] of Object.entries(m.domains)) {
    const p = own(s.paper?.domains, name);
    const drops = Object.entries(d.drops ?? {})
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const isIdd = s.domains.find((x) => x.name === name)?.role === 'idd';
    rows.push([
      visible(name),
      withPaper(d.cpuPct, p?.cpuPct),
      isIdd ? '' : withPaper(d.iddPctEstimated, p?.iddPct),
      isIdd ? '' : num(d.iddPctTrue),
      isIdd ? '' : withPaper(d.combinedPct, p?.combinedPct),
      withPaper(d.webReqPerSec, p?.webReqPerSec),
      drops,
    ]);
  }
  lines.push(...table(head, rows, [0, 6]));
  lines.push(...diskLines(m), ...driverLines(m), ...classLines(m), ...chargingLines(m), ...memoryLines(m));
  return lines.join('\n');
}

/** Launches listed one per row before the rest are summed up in one line. */
export const REPORT_LAUNCHES = 20;

/**
 * The memory block (docs/memory.md): the policy and what became of the launches, the
 * latencies and the host's use, then a row per dynamic guest (its allocation failures,
 * by reason, and time blocked for want of memory) and per launch (the first
 * `REPORT_LAUNCHES`; metrics.json has every one).
 */
function memoryLines(m: Metrics): string[] {
  const x = m.memory;
  if (x === undefined) return [];
  const l = x.launches;
  const lat = x.latencyMs;
  const mib = (v: number) => `${+v.toFixed(1)} MiB`;
  const out = [
    '',
    `memory: policy ${x.policy}, ${mib(x.totalMiB)}; launches ${l.succeeded} of ${l.requested} done, ${l.failedLate} failed late (${mib(x.wastedMiB)} populated in vain), ${l.refused} refused at once${l.pending > 0 ? `, ${l.pending} still waiting or building at the end` : ''}`,
    `latency ${lat === undefined ? '(none done)' : `mean ${num(lat.mean)} ms, p50 ${num(lat.p50)} ms, max ${num(lat.max)} ms`}; utilisation ${num(x.utilisationPct)}%, peak owned ${mib(x.ownedPeakMiB)}; tmem peak ${mib(x.tmemPeakMiB)} (${mib(x.tmemEvictedMiB)} evicted); shared peak ${mib(x.sharedPeakMiB)}`,
  ];
  const guests = Object.entries(x.guests).map(([name, g]) => [
    visible(name),
    g.kind,
    String(g.failures),
    Object.entries(g.failuresByReason)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    num(g.blockedMs),
  ]);
  if (guests.length > 0)
    out.push('', ...table(['guest', 'kind', 'failures', 'by reason', 'blocked ms'], guests, [0, 1, 3]));
  const builds = Object.entries(x.builds);
  const rows = builds
    .slice(0, REPORT_LAUNCHES)
    .map(([name, b]) => [
      visible(name),
      num(b.sizeMiB),
      String(+b.requestS.toFixed(6)),
      b.rc === 0 ? b.outcome : `${b.outcome} (${b.rc})`,
      b.waitMs === undefined ? '' : num(b.waitMs),
      b.latencyMs === undefined ? '' : num(b.latencyMs),
      num(b.populatedMiB),
    ]);
  if (rows.length > 0)
    out.push(
      '',
      ...table(
        ['launch', 'MiB', 'asked at s', 'outcome', 'waited ms', 'latency ms', 'populated MiB'],
        rows,
        [0, 3],
      ),
    );
  if (builds.length > REPORT_LAUNCHES)
    out.push(`… and ${builds.length - REPORT_LAUNCHES} more launches (every one is in metrics.json)`);
  return out;
}

/** The charging policy, when the scenario chooses one: exact or not, and its CPU per driver domain. */
function chargingLines(m: Metrics): string[] {
  const c = m.charging;
  if (c === undefined) return [];
  const cost = Object.entries(c.overheadPct)
    .map(([d, p]) => `${visible(d)} ${p.toFixed(2)}%`)
    .join(', ');
  return [
    '',
    `charging ${c.policy} (${c.exact ? 'exact: XenMon reports the ground truth' : 'near-accurate: XenMon estimates'}); its own CPU over the run: ${cost}`,
  ];
}

/** A table's lines: columns in `left` aligned left, the others right, two spaces apart. */
function table(head: readonly string[], rows: readonly string[][], left: readonly number[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const row = (r: readonly string[]) =>
    r
      .map((c, i) => (left.includes(i) ? c.padEnd(widths[i]) : pad(c, widths[i])))
      .join('  ')
      .trimEnd();
  return [row(head), ...rows.map(row)];
}

/** Guests with disk jobs: their I/O over the window (nothing on a host without disks). */
function diskLines(m: Metrics): string[] {
  const rows: string[][] = [];
  for (const [name, d] of Object.entries(m.domains)) {
    const k = d.disk;
    if (k === undefined) continue;
    rows.push([
      visible(name),
      num(k.readIops),
      num(k.writeIops),
      num(k.readMBps, 2),
      num(k.writeMBps, 2),
      num(k.meanLatencyMs, 3),
      num(k.maxLatencyMs, 3),
    ]);
  }
  if (rows.length === 0) return [];
  const head = ['disk', 'reads/s', 'writes/s', 'read MB/s', 'write MB/s', 'mean ms', 'max ms'];
  return ['', ...table(head, rows, [0])];
}

/**
 * Guests with resource containers: web throughput per client class over the window, the
 * container's CPU and LRP's drops over the whole run (nothing for guests without).
 */
function classLines(m: Metrics): string[] {
  const rows: string[][] = [];
  for (const [name, d] of Object.entries(m.domains)) {
    for (const [k, c] of Object.entries(d.webByClass ?? {})) {
      rows.push([
        visible(name),
        k,
        num(c.webReqPerSec),
        num(c.webFailedPerSec),
        num(c.cpuPctRun),
        c.lrpDrops === undefined ? '' : String(c.lrpDrops),
      ]);
    }
  }
  if (rows.length === 0) return [];
  const head = ['domain', 'client class', 'web req/s', 'failed/s', 'CPU % (run)', 'LRP drops'];
  return ['', ...table(head, rows, [0, 1])];
}

/**
 * With several driver domains: each guest's IDD time in each, XenMon's estimate with the
 * truth in parentheses (nothing with one driver domain, whose columns are above).
 */
function driverLines(m: Metrics): string[] {
  const guests = Object.entries(m.domains).filter(([, d]) => d.iddByDriver !== undefined);
  const drivers = Object.keys(m.domains).filter((n) =>
    guests.some(([, d]) => d.iddByDriver !== undefined && Object.hasOwn(d.iddByDriver, n)),
  );
  if (drivers.length < 2) return [];
  const rows = guests.map(([name, d]) => [
    visible(name),
    ...drivers.map((n) => {
      const x = own(d.iddByDriver, n);
      return x === undefined ? '' : `${num(x.estimatedPct)} (${num(x.truePct)})`;
    }),
  ]);
  return [
    '',
    "IDD % by driver domain: XenMon's estimate (true)",
    ...table(['domain', ...drivers.map(visible)], rows, [0]),
  ];
}
