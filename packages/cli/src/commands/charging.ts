/**
 * `isosim charging`: the charging lab (docs/charging.md). Runs scenarios under every
 * charging policy (1A–2C) and prints, per policy, the estimate's error against the
 * ground truth, the isolation SEDF-DC reaches reading it, its overhead and the
 * throughput it leaves; writes the tables (charging.md), the results (charging.json)
 * and a plot per scenario into DIR. Each scenario's runs are a sweep (docs/sweeps.md):
 * DIR/charging-<scenario>.sweep.json, run on --jobs worker threads into
 * DIR/charging-<scenario>.duckdb, so a stopped lab resumes where it stopped.
 */
import { availableParallelism } from 'node:os';
import { CHARGING_INFO, CHARGING_POLICIES } from '@isosim/actors';
import {
  abortOnSignals,
  type ChargingLabEntry,
  type ChargingResult,
  chargingLabSweep,
  chargingPlot,
  chargingSweepNames,
  chargingTable,
  generatedChargingHostJson,
  generatedSeed,
  Interrupted,
  loadScenario,
  OutputDir,
  outDirOption,
  Progress,
  parseScenario,
  type Scenario,
  SweepStopped,
  signalExit,
} from '@isosim/scenarios';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';

/**
 * What `isosim charging` runs without arguments: built-ins with debt or ShareGuard, the
 * adversarial built-ins, and three generated homogeneous hosts (`gen:SEED`).
 */
export const CHARGING_SCENARIOS = [
  'table1-sedfdc',
  'table2-with-shareguard',
  'two-idds',
  'disk-interference-shareguard',
  'charging-block-sizes',
  'charging-send-receive',
  'charging-tiny-packets',
  'gen:1',
  'gen:2',
  'gen:3',
] as const;

/** A built-in's name, a scenario file, or `gen:SEED` (a generated homogeneous host), as the sweep's base. */
function entryOf(name: string): ChargingLabEntry {
  const seed = generatedSeed(name);
  if (seed === undefined) return { scenario: loadScenario(name), base: name };
  const json = generatedChargingHostJson(seed);
  return { scenario: parseScenario(json, name), base: json };
}

export const charging: CommandSpec = {
  name: 'charging',
  brief: 'runs scenarios under every charging policy (1A-2C), scored against the ground truth',
  summary:
    'Runs each scenario (built-in names, JSON files, or gen:N for a generated host with\n' +
    'homogeneous traffic, seed N; default: table1-sedfdc, table2-with-shareguard, two-idds,\n' +
    'disk-interference-shareguard, the adversarial charging-block-sizes, charging-send-receive\n' +
    'and charging-tiny-packets, and gen:1, gen:2, gen:3) under every charging policy of\n' +
    'docs/charging.md (1A one driver domain per guest, 1B equal work per request, 1C a process\n' +
    'per client, 1D affiliation calls, 1E resource containers, 2A an a-priori cost per request,\n' +
    "2B split by counts, 2C XenMon's weighted counts) and prints per policy: the error of what\n" +
    'it charges each guest against the ground truth (mean and largest, points of one CPU, per\n' +
    '1 s and per feedback interval of the window), invariant 2 (combined CPU <= share + ε) when\n' +
    "SEDF-DC reads it, each guest's combined CPU against its share, the CPU the policy itself\n" +
    'costs, and the throughput left to the guests. A policy a scenario cannot run (1A on a\n' +
    'shared driver domain) is skipped with the reason. Each scenario is a sweep over the\n' +
    "policies (docs/sweeps.md): DIR/charging-<scenario>.sweep.json (a generated host's scenario\n" +
    'in DIR/scenarios/), run on --jobs worker threads into DIR/charging-<scenario>.duckdb\n' +
    '(isosim query reads it); runs stored there are not run again, so a stopped lab resumes\n' +
    'with the same command. Writes DIR/charging.md, DIR/charging.json and\n' +
    'DIR/plots/<scenario>.svg from the stored runs.',
  usage: 'isosim charging [name|file|gen:N ...] [--duration S] [--jobs N] [--out DIR] [--json]',
  options: {
    duration: {
      type: 'string',
      help: "simulated seconds per run (default: each scenario's own, with its window)",
      placeholder: 'S',
    },
    jobs: {
      type: 'string',
      help: 'worker threads running the runs (default one per core: os.availableParallelism())',
      placeholder: 'N',
    },
    out: {
      type: 'string',
      help: 'where the tables, plots, sweep files and results files go (default out/charging)',
      placeholder: 'DIR',
    },
    json: { type: 'boolean', help: 'print the results as JSON instead of tables' },
  },
  async run({ values, positionals }) {
    const names = positionals.length > 0 ? positionals : [...CHARGING_SCENARIOS];
    const durationS =
      values.duration === undefined
        ? undefined
        : secondsOption('charging', 'duration', values.duration, 10, 3600);
    const jobs = intOption('charging', 'jobs', values.jobs, availableParallelism(), 1, 1024);
    const out = outDirOption('charging', values.out, 'out/charging');
    const entries = names.map(entryOf);
    const scenarios: Scenario[] = entries.map((e) => e.scenario);
    chargingSweepNames(scenarios);
    const dir = OutputDir.open('isosim charging', out);
    const progress = new Progress('charging');
    const signals = abortOnSignals();
    try {
      let lab: Awaited<ReturnType<typeof chargingLabSweep>>;
      try {
        lab = await chargingLabSweep(entries, out, {
          durationS,
          jobs,
          signal: signals.abort,
          onProgress: (p) => progress.update(p.done / p.total, `${p.scenario} (${p.done}/${p.total} runs)`),
          onNote: (text) => console.error(text),
        });
      } catch (err) {
        if (err instanceof SweepStopped) {
          const { word, code } = signalExit(signals.signal ?? 'SIGINT');
          throw new Interrupted(
            `${word} after ${err.done} of ${err.total} runs; kept them in ${out}/charging-*.duckdb; run the same command to go on`,
            code,
          );
        }
        throw err;
      } finally {
        progress.done();
      }
      const results: ChargingResult[] = lab.results;
      const md = chargingMarkdown(names, scenarios, results, durationS);
      dir.write('charging.md', md);
      dir.write('charging.json', `${JSON.stringify(results, null, 2)}\n`);
      for (const s of scenarios)
        dir.write(`plots/${s.name}.svg`, chargingPlot(results.filter((r) => r.scenario === s.name)));
      dir.commit();
      if (values.json) console.log(JSON.stringify(results, null, 2));
      else console.log(md);
      console.error(
        `${lab.runs} runs: ${lab.recorded} stored before, ${lab.ran === 0 ? 'nothing left to run' : `${lab.ran} run now on ${Math.min(jobs, lab.ran)} worker${Math.min(jobs, lab.ran) === 1 ? '' : 's'}`}; results in ${out}/charging-<scenario>.duckdb (e.g. isosim query ${lab.sweeps[0]?.results ?? ''} "SELECT id, mechanisms_charging, log_hash FROM runs")`,
      );
      console.error(
        `wrote ${dir.final('charging.md')}, ${dir.final('charging.json')} and ${dir.final('plots')}/*.svg`,
      );
    } finally {
      signals.dispose();
      dir.abandon();
    }
    return 0;
  },
};

/** The lab's tables as Markdown: a section per scenario, the command that made them first. */
export function chargingMarkdown(
  args: readonly string[],
  scenarios: readonly Scenario[],
  results: readonly ChargingResult[],
  durationS: number | undefined,
): string {
  const defaults =
    args.length === CHARGING_SCENARIOS.length && args.every((a, i) => a === CHARGING_SCENARIOS[i]);
  const md = [
    `Made by \`isosim charging${defaults ? '' : ` ${args.join(' ')}`}${durationS === undefined ? '' : ` --duration ${durationS}`}\`. Errors and shares in points (percent) of one CPU; "invariant 2" is the closest any window of at least two feedback intervals came to share + ε (1 = at the bound; negative: below the share alone) and the windows over it, claimed only where SEDF-DC or Credit-DC charges every driver domain's work; "invariant 3" the same for ShareGuard's limits, where the scenario has ShareGuard; for 2B and 2C, the error beyond the guest's part of the driver domain's own work is 0 on homogeneous traffic (docs/charging.md). Policies: ${CHARGING_POLICIES.map((p) => `${p} ${CHARGING_INFO[p].name}`).join('; ')}.`,
    '',
  ];
  for (const s of scenarios) {
    const r = results.filter((x) => x.scenario === s.name);
    const ran = r.find((x) => x.skipped === undefined);
    md.push(
      `### ${s.name}`,
      '',
      `${ran === undefined ? '' : `Window ${s.window === undefined || durationS !== undefined ? `[0, ${durationS ?? s.durationS}]` : `[${s.window.startS}, ${s.window.endS}]`} s, feedback interval ${ran.feedbackMs} ms. `}${s.description}`,
      '',
      ...chargingTable(r),
      '',
    );
  }
  return `${md.join('\n')}`;
}
