import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { IsosimError } from '@isosim/core';
import type { Metrics, Scenario } from '@isosim/scenarios';
import {
  catchSignals,
  curveOf,
  fixedRateScenario,
  GOODPUT_DURATION_S,
  GOODPUT_HOSTS,
  GOODPUT_RATES,
  type GoodputResult,
  goodputJson,
  goodputSvg,
  goodputText,
  loadScenario,
  OutputDir,
  outDirOption,
  parseRates,
  parseScenario,
  writeOutputFile,
} from '@isosim/scenarios';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';
import { type ChildJob, runAllOrStop } from '../children.ts';

/** A goodput sweep, checked: per host, its scenario at each rate. */
export interface GoodputPlan {
  readonly rates: readonly number[];
  readonly durationS: number;
  readonly hosts: readonly {
    readonly label: string;
    readonly base: Scenario;
    readonly runs: readonly { readonly name: string; readonly json: Record<string, unknown> }[];
  }[];
}

/**
 * The sweep's scenarios, each checked as `isosim run` will check it (a rate the NIC
 * cannot carry is refused here, naming the rate, before anything runs or is written).
 */
export function planGoodput(rates: readonly number[], durationS: number, where: string): GoodputPlan {
  const hosts = GOODPUT_HOSTS.map(({ scenario, label }) => {
    const base = loadScenario(scenario);
    const runs = rates.map((rate) => {
      const json = fixedRateScenario(base, rate, durationS);
      parseScenario(json, `${where}: ${base.name} at ${rate} req/s`);
      return { name: json.name as string, json };
    });
    return { label, base, runs };
  });
  return { rates, durationS, hosts };
}

/**
 * Writes the sweep's scenario files into `dir`'s staging (`sub`/scenarios/NAME.json,
 * kept on commit) and returns the jobs that run them into `out`/`sub`/NAME, and
 * `result()`, which reads their metrics once they have run.
 */
export function stageGoodput(
  plan: GoodputPlan,
  dir: OutputDir,
  out: string,
  sub: string,
  seed: number | undefined,
): { jobs: ChildJob[]; result: () => GoodputResult } {
  const jobs: ChildJob[] = [];
  for (const h of plan.hosts) {
    for (const r of h.runs) {
      const file = dir.path(join(sub, 'scenarios', `${r.name}.json`));
      writeFileSync(file, `${JSON.stringify(r.json, null, 2)}\n`);
      jobs.push({
        name: r.name,
        target: file,
        dir: join(out, sub, r.name),
        seed: seed ?? h.base.seed,
        cost: plan.durationS * h.base.domains.length,
      });
    }
  }
  const result = (): GoodputResult => ({
    durationS: plan.durationS,
    windowS: [plan.durationS / 2, plan.durationS],
    curves: plan.hosts.map((h) =>
      curveOf(
        h.label,
        h.base,
        plan.rates,
        h.runs.map(
          (r) => JSON.parse(readFileSync(join(out, sub, r.name, 'metrics.json'), 'utf8')) as Metrics,
        ),
      ),
    ),
  });
  return { jobs, result };
}

/**
 * `--svg FILE`, checked before the runs (writeOutputFile checks it all again when it
 * writes): not empty, not a directory, in a directory that exists.
 */
function svgOption(file: string): string {
  const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  if (file === '' || isDir(file) || !isDir(dirname(file))) {
    throw new IsosimError(
      'isosim goodput',
      `--svg ${file}`,
      file === ''
        ? 'is empty'
        : isDir(file)
          ? 'is a directory'
          : `the directory ${dirname(file)} does not exist`,
      'give a file path in an existing directory, e.g. docs/img/goodput.svg',
    );
  }
  return file;
}

export const goodput: CommandSpec = {
  name: 'goodput',
  brief: 'runs the Fig. 6 host at fixed offered rates: goodput against load, per scheduler',
  summary:
    'Runs the Fig. 6 host (built-ins fig6-sedf and fig6-sedfdc) at fixed offered rates, one run\n' +
    'per rate and scheduler: the stepped load replaced by one web workload at the rate (same\n' +
    'file size and timeout), measured over the second half of the run. Prints, per rate,\n' +
    "goodput (replies/s), failed/s and Dom-1's combined CPU under SEDF and SEDF-DC, then each\n" +
    "scheduler's peak goodput and the least goodput beyond it as a fraction of the peak (the\n" +
    'criterion: at least 90%, no collapse). Writes DIR/goodput.json, DIR/goodput.svg (goodput\n' +
    'against offered rate, with the offered rate as a reference line), each run in DIR/<run>/\n' +
    'and its scenario file in DIR/scenarios/. The runs are child processes, --jobs at a time.\n' +
    "docs/img/goodput.svg is made by 'isosim goodput --svg docs/img/goodput.svg'.",
  usage: 'isosim goodput [--rates R] [--duration S] [--seed N] [--out DIR] [--jobs N] [--svg FILE]',
  options: {
    rates: {
      type: 'string',
      help: `offered req/s: FROM:TO:STEP or a comma list (default ${GOODPUT_RATES})`,
      placeholder: 'R',
    },
    duration: {
      type: 'string',
      help: `simulated seconds per run, measured over the second half (default ${GOODPUT_DURATION_S})`,
      placeholder: 'S',
    },
    seed: { type: 'string', help: "root seed (default: the built-ins')", placeholder: 'N' },
    out: { type: 'string', help: 'output directory (default out/goodput)', placeholder: 'DIR' },
    jobs: { type: 'string', help: 'runs at once (default: one per core)', placeholder: 'N' },
    svg: {
      type: 'string',
      help: 'also write the plot to FILE (e.g. docs/img/goodput.svg)',
      placeholder: 'FILE',
    },
  },
  async run({ values, positionals }) {
    if (positionals.length > 0) {
      console.error(`usage: ${goodput.usage}`);
      return 2;
    }
    const where = 'isosim goodput';
    const rates = parseRates(String(values.rates ?? GOODPUT_RATES));
    const durationS = secondsOption('goodput', 'duration', values.duration, GOODPUT_DURATION_S, 3600);
    const seed = values.seed === undefined ? undefined : intOption('goodput', 'seed', values.seed, 0);
    const out = outDirOption('goodput', values.out, join('out', 'goodput'));
    const parallel = intOption('goodput', 'jobs', values.jobs, availableParallelism(), 1, 64);
    const svgFile = values.svg === undefined ? undefined : svgOption(String(values.svg));
    const plan = planGoodput(rates, durationS, where);
    const signals = catchSignals();
    let result: GoodputResult;
    try {
      // DIR is locked while the runs go (each child locks its own DIR/<run>); the
      // scenario files, goodput.json and goodput.svg are staged and moved in at the end.
      const dir = OutputDir.open(where, out);
      try {
        const { jobs, result: read } = stageGoodput(plan, dir, out, '', seed);
        await runAllOrStop(
          where,
          jobs,
          parallel,
          () => signals.signal,
          'goodput.json and goodput.svg',
          () => dir.abandon(),
        );
        result = read();
        dir.write('goodput.json', goodputJson(result));
        dir.write('goodput.svg', goodputSvg(result));
        dir.commit([{ dir: 'scenarios', ext: '.json' }]);
      } finally {
        dir.abandon();
      }
    } finally {
      signals.dispose();
    }
    const svg = goodputSvg(result);
    if (svgFile !== undefined) writeOutputFile(where, '--svg', svgFile, [], (tmp) => writeFileSync(tmp, svg));
    console.log(goodputText(result));
    console.log(
      `\nwrote ${join(out, 'goodput.json')}, ${join(out, 'goodput.svg')}${svgFile === undefined ? '' : ` and ${svgFile}`}`,
    );
    return 0;
  },
};
