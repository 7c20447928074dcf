import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CommandSpec, intOption } from '../args.ts';
import { builtinNames, loadScenario } from '../scenario/load.ts';
import { type Metrics, runAndWrite } from '../scenario/runScenario.ts';
import type { Scenario } from '../scenario/schema.ts';

interface Row {
  readonly scenario: string;
  readonly domain: string;
  readonly metric: string;
  readonly paper: number;
  readonly sim: number;
  readonly fitted: boolean;
}

const METRICS: readonly [key: 'webReqPerSec' | 'cpuPct' | 'iddPct' | 'combinedPct', label: string][] = [
  ['webReqPerSec', 'web throughput (req/s)'],
  ['cpuPct', 'CPU %'],
  ['iddPct', 'Dom-0 for it % (XenMon)'],
  ['combinedPct', 'combined %'],
];

function rows(s: Scenario, m: Metrics): Row[] {
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

function relErr(r: Row): number {
  return r.paper === 0 ? 0 : (r.sim - r.paper) / r.paper;
}

export const paper: CommandSpec = {
  name: 'paper',
  brief: 'runs every built-in scenario and writes EXPERIMENTS.md: paper vs simulated',
  summary:
    "Runs every built-in scenario (the paper's Fig. 6, Table 1 and Table 2 experiments) and\n" +
    'writes DIR/EXPERIMENTS.md: each number the paper reports beside the simulated one with the\n' +
    'relative error, marking which columns were fitted and which predicted; plus each run in\n' +
    'DIR/<scenario>/ (metrics.json, events.isolog, plots).',
  usage: 'isosim paper [--seed N] [--out DIR]',
  options: {
    seed: { type: 'string', help: "root seed (default: each scenario's)", placeholder: 'N' },
    out: { type: 'string', help: 'output directory (default out/paper)', placeholder: 'DIR' },
  },
  run({ values }) {
    const out = String(values.out ?? join('out', 'paper'));
    const all: Row[] = [];
    const runs: { s: Scenario; m: Metrics; wallS: number }[] = [];
    const names = builtinNames();
    const t0 = process.hrtime.bigint();
    for (const name of names) {
      const s = loadScenario(name);
      const seed = values.seed === undefined ? s.seed : intOption('paper', 'seed', values.seed, s.seed);
      const { metrics, wallS } = runAndWrite(s, join(out, name), seed);
      runs.push({ s, m: metrics, wallS });
      all.push(...rows(s, metrics));
      console.error(`${name}: ${wallS.toFixed(1)} s wall`);
    }
    const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
    const md: string[] = [
      '# Experiments: the paper re-run in isosim',
      '',
      `Written by \`isosim paper\` (${runs.length} scenarios, ${totalS.toFixed(0)} s on the machine that ran it). Each number the paper`,
      'reports stands beside the simulated one; the error is (simulated − paper) / paper.',
      '`fitted` columns are the ones the hardware profiles were calibrated on (DEVELOPERS.md:',
      'the SEDF column of Table 1 and the baseline column of Table 2); every other number is a',
      "prediction. XenMon-reported numbers (Dom-0 for a guest) are compared with XenMon's estimate.",
      '',
    ];
    for (const { s, m, wallS } of runs) {
      md.push(`## ${s.name} (${s.paper?.fitted ? 'fitted' : 'predicted'})`, '', s.description, '');
      md.push(
        `Seed ${m.seed}, ${m.durationS} s, window [${m.windowS[0]}, ${m.windowS[1]}] s, log hash \`${m.logHash}\`, ${wallS.toFixed(1)} s wall.`,
        '',
      );
      const rs = all.filter((r) => r.scenario === s.name);
      if (rs.length > 0) {
        md.push('| domain | metric | paper | simulated | error |', '|---|---|---:|---:|---:|');
        for (const r of rs) {
          const e = relErr(r);
          md.push(
            `| ${r.domain} | ${r.metric} | ${r.paper} | ${r.sim.toFixed(2)} | ${(100 * e).toFixed(1)}%${Math.abs(e) > 0.1 ? ' ⚠' : ''} |`,
          );
        }
        md.push('');
      }
    }
    const predicted = all.filter((r) => !r.fitted);
    const within = predicted.filter((r) => Math.abs(relErr(r)) <= 0.2).length;
    md.push(
      '## Summary',
      '',
      `${within} of ${predicted.length} predicted numbers are within ±20% of the paper's.`,
    );
    md.push('Gaps over 10% are marked ⚠; `docs/calibration.md` discusses them as they are understood.', '');
    writeFileSync(join(out, 'EXPERIMENTS.md'), `${md.join('\n')}\n`);
    console.log(md.join('\n'));
    return 0;
  },
};
