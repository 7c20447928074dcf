/**
 * `isosim charging`: the charging lab (docs/charging.md). Runs scenarios under every
 * charging policy (1A–2C) and prints, per policy, the estimate's error against the
 * ground truth, the isolation SEDF-DC reaches reading it, its overhead and the
 * throughput it leaves; writes the tables (charging.md), the results (charging.json)
 * and a plot per scenario into DIR.
 */
import { CHARGING_INFO, CHARGING_POLICIES } from '@isosim/actors';
import {
  type ChargingResult,
  chargingLab,
  chargingPlot,
  chargingTable,
  loadScenario,
  OutputDir,
  outDirOption,
  Progress,
  type Scenario,
} from '@isosim/scenarios';
import { type CommandSpec, secondsOption } from '../args.ts';

/** What `isosim charging` runs without arguments. */
export const CHARGING_SCENARIOS = [
  'table1-sedfdc',
  'two-idds',
  'disk-interference-shareguard',
  'charging-block-sizes',
  'charging-send-receive',
] as const;

export const charging: CommandSpec = {
  name: 'charging',
  brief: 'runs scenarios under every charging policy (1A-2C), scored against the ground truth',
  summary:
    'Runs each scenario (built-in names or JSON files; default: table1-sedfdc, two-idds,\n' +
    'disk-interference-shareguard, charging-block-sizes, charging-send-receive) under every\n' +
    'charging policy of docs/charging.md (1A one driver domain per guest, 1B equal work per\n' +
    'request, 1C a process per client, 1D affiliation calls, 1E resource containers, 2A an\n' +
    "a-priori cost per request, 2B split by counts, 2C XenMon's weighted counts) and prints per\n" +
    'policy: the error of what it charges each guest against the ground truth (mean and\n' +
    'largest, points of one CPU, per 1 s and per feedback interval of the window), invariant 2\n' +
    "(combined CPU <= share + ε) when SEDF-DC reads it, each guest's combined CPU against its\n" +
    'share, the CPU the policy itself costs, and the throughput left to the guests. A policy a\n' +
    'scenario cannot run (1A on a shared driver domain) is skipped with the reason. Writes\n' +
    'DIR/charging.md, DIR/charging.json and DIR/plots/<scenario>.svg.',
  usage: 'isosim charging [name|file ...] [--duration S] [--out DIR] [--json]',
  options: {
    duration: {
      type: 'string',
      help: "simulated seconds per run (default: each scenario's own, with its window)",
      placeholder: 'S',
    },
    out: { type: 'string', help: 'where the tables and plots go (default out/charging)', placeholder: 'DIR' },
    json: { type: 'boolean', help: 'print the results as JSON instead of tables' },
  },
  run({ values, positionals }) {
    const names = positionals.length > 0 ? positionals : [...CHARGING_SCENARIOS];
    const scenarios: Scenario[] = names.map((n) => loadScenario(n));
    const durationS =
      values.duration === undefined
        ? undefined
        : secondsOption('charging', 'duration', values.duration, 10, 3600);
    const out = outDirOption('charging', values.out, 'out/charging');
    const dir = OutputDir.open('isosim charging', out);
    let results: ChargingResult[];
    try {
      const progress = new Progress('charging');
      results = chargingLab(scenarios, {
        durationS,
        onRun: (s, p, i, total) => progress.update(i / total, `${s} under ${p} (${i + 1}/${total})`),
      });
      progress.done();
      const md = chargingMarkdown(scenarios, results, durationS);
      dir.write('charging.md', md);
      dir.write('charging.json', `${JSON.stringify(results, null, 2)}\n`);
      for (const s of scenarios)
        dir.write(`plots/${s.name}.svg`, chargingPlot(results.filter((r) => r.scenario === s.name)));
      dir.commit();
      if (values.json) console.log(JSON.stringify(results, null, 2));
      else console.log(md);
      console.error(
        `wrote ${dir.final('charging.md')}, ${dir.final('charging.json')} and ${dir.final('plots')}/*.svg`,
      );
    } finally {
      dir.abandon();
    }
    return 0;
  },
};

/** The lab's tables as Markdown: a section per scenario, the command that made them first. */
export function chargingMarkdown(
  scenarios: readonly Scenario[],
  results: readonly ChargingResult[],
  durationS: number | undefined,
): string {
  const args = scenarios.map((s) => s.name);
  const defaults =
    args.length === CHARGING_SCENARIOS.length && args.every((a, i) => a === CHARGING_SCENARIOS[i]);
  const md = [
    `Made by \`isosim charging${defaults ? '' : ` ${args.join(' ')}`}${durationS === undefined ? '' : ` --duration ${durationS}`}\`. Errors and shares in points (percent) of one CPU; "invariant 2" is the closest any window of at least two feedback intervals came to share + ε (1 = at the bound; negative: below the share alone) and the windows over it, claimed only where SEDF-DC or Credit-DC charges every driver domain's work. Policies: ${CHARGING_POLICIES.map((p) => `${p} ${CHARGING_INFO[p].name}`).join('; ')}.`,
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
