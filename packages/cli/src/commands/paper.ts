import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsosimError } from '@isosim/core';
import { type CommandSpec, intOption } from '../args.ts';
import { catchSignals, Interrupted, OutputDir, outDirOption, signalExit } from '../output.ts';
import { builtinNames, loadScenario } from '../scenario/load.ts';
import type { Metrics } from '../scenario/runScenario.ts';
import type { Scenario } from '../scenario/schema.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'isosim.js');

/**
 * Runs `isosim run NAME --out DIR` in a child process (one per core at a time: the
 * scenarios are independent, and each run is deterministic wherever it runs). Resolves
 * to its wall time, or undefined if a signal stopped it (it then left DIR as it was).
 */
function runChild(
  name: string,
  dir: string,
  seed: number,
  children: Set<ChildProcess>,
): Promise<number | undefined> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', name, '--out', dir, '--seed', String(seed)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(child);
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve(Number(process.hrtime.bigint() - t0) / 1e9);
      else if (code === 130 || code === 143 || signal !== null) resolve(undefined);
      else
        reject(
          new IsosimError(
            name,
            'run',
            `exited with status ${code}: ${err.trim()}`,
            'run it alone with isosim run',
          ),
        );
    });
  });
}

async function runAll(
  jobs: { name: string; dir: string; seed: number }[],
  parallel: number,
  stopped: () => boolean,
): Promise<Map<string, number>> {
  const wall = new Map<string, number>();
  const queue = [...jobs];
  const children = new Set<ChildProcess>();
  // A signal to this process alone (not to its terminal's process group) reaches the
  // children too: each stops, leaving its directory as it was.
  const forward = (signal: NodeJS.Signals): void => {
    for (const c of children) c.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const worker = async (): Promise<void> => {
    for (let j = queue.shift(); j !== undefined && !stopped(); j = queue.shift()) {
      const s = await runChild(j.name, j.dir, j.seed, children);
      if (s === undefined) continue;
      wall.set(j.name, s);
      console.error(`${j.name}: ${s.toFixed(1)} s wall`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  return wall;
}

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
  usage: 'isosim paper [--seed N] [--out DIR] [--jobs N]',
  options: {
    seed: { type: 'string', help: "root seed (default: each scenario's)", placeholder: 'N' },
    out: { type: 'string', help: 'output directory (default out/paper)', placeholder: 'DIR' },
    jobs: { type: 'string', help: 'scenarios run at once (default: one per core)', placeholder: 'N' },
  },
  async run({ values }) {
    const out = outDirOption('paper', values.out, join('out', 'paper'));
    const parallel = intOption('paper', 'jobs', values.jobs, availableParallelism(), 1, 64);
    const scenarios = builtinNames().map((name) => loadScenario(name));
    const jobs = scenarios.map((s) => ({
      name: s.name,
      dir: join(out, s.name),
      seed: values.seed === undefined ? s.seed : intOption('paper', 'seed', values.seed, s.seed),
    }));
    const signals = catchSignals();
    try {
      return await writePaper(out, jobs, scenarios, parallel, () => signals.signal);
    } finally {
      signals.dispose();
    }
  },
};

async function writePaper(
  out: string,
  jobs: { name: string; dir: string; seed: number }[],
  scenarios: Scenario[],
  parallel: number,
  signal: () => NodeJS.Signals | undefined,
): Promise<number> {
  const all: Row[] = [];
  const runs: { s: Scenario; m: Metrics; wallS: number }[] = [];
  // DIR is locked while the scenarios run (each child locks its own DIR/<scenario>);
  // EXPERIMENTS.md is staged and moved into place at the end.
  const dir = OutputDir.open('isosim paper', out);
  try {
    const t0 = process.hrtime.bigint();
    // Longest first, so that the last one to finish is a short one.
    const cost = (name: string) => {
      const s = scenarios.find((x) => x.name === name) as Scenario;
      return s.durationS * s.domains.length;
    };
    const wall = await runAll(
      [...jobs].sort((a, b) => cost(b.name) - cost(a.name)),
      parallel,
      () => signal() !== undefined,
    );
    const stoppedBy = signal();
    if (stoppedBy !== undefined) {
      const { word, code } = signalExit(stoppedBy);
      const kept = jobs.filter((j) => wall.has(j.name)).map((j) => j.dir);
      throw new Interrupted(
        `isosim paper: ${word}; ${kept.length > 0 ? `kept the ${kept.length} scenario run(s) that finished (${kept.join(', ')}); the others' directories are unchanged` : 'no scenario run finished; their directories are unchanged'}; EXPERIMENTS.md not written (${dir.abandon()})`,
        code,
      );
    }
    const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const s of scenarios) {
      const metrics = JSON.parse(readFileSync(join(out, s.name, 'metrics.json'), 'utf8')) as Metrics;
      runs.push({ s, m: metrics, wallS: wall.get(s.name) ?? 0 });
      all.push(...rows(s, metrics));
    }
    const md: string[] = [
      '# Experiments: the paper re-run in isosim',
      '',
      `Written by \`isosim paper\` (${runs.length} scenarios, ${totalS.toFixed(0)} s on the machine that ran it, ${parallel} at a time). Each number the paper`,
      'reports stands beside the simulated one; the error is (simulated − paper) / paper.',
      '`fitted` columns are the ones the hardware profiles were calibrated on (DEVELOPERS.md:',
      'the SEDF column of Table 1 and the baseline column of Table 2); every other number is a',
      "prediction. XenMon-reported numbers (Dom-0 for a guest) are compared with XenMon's estimate.",
      '',
    ];
    for (const { s, m, wallS } of runs) {
      md.push(`## ${s.name} (${s.paper?.fitted ? 'fitted' : 'predicted'})`, '', s.description, '');
      md.push(
        `Seed ${m.seed}, ${m.durationS} s, window [${m.windowS[0]}, ${m.windowS[1]}] s, log hash \`${m.logHash}\`, ${wallS.toFixed(1)} s wall (its own process).`,
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
    dir.write('EXPERIMENTS.md', `${md.join('\n')}\n`);
    dir.commit();
    console.log(md.join('\n'));
    return 0;
  } finally {
    dir.abandon();
  }
}
