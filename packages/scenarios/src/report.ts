/**
 * The XenMon-like table `isosim run` prints: per domain, CPU %, the IDD's CPU on its
 * behalf (XenMon's estimate and the ground truth), combined, web throughput and drops,
 * each with the paper's value beside it where the scenario has one, and the relative
 * error. Percentages are of one pCPU over the measurement window. Text from the
 * scenario (names, description) shows control characters as `\u001b`, so that a name
 * cannot drive the terminal.
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
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const row = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]) : pad(c, widths[i])))
      .join('  ')
      .trimEnd();
  lines.push(row(head));
  for (const r of rows) lines.push(row(r));
  return lines.join('\n');
}
