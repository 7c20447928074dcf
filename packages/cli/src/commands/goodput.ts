import { statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { IsosimError } from '@isosim/core';
import type { Scenario } from '@isosim/scenarios';
import {
  curveOf,
  fixedRateScenario,
  GOODPUT_DURATION_S,
  GOODPUT_HOSTS,
  GOODPUT_RATES,
  type GoodputCurve,
  type GoodputNumbers,
  type GoodputResult,
  goodputJson,
  goodputSvg,
  goodputSweepBase,
  goodputSweepPaths,
  goodputText,
  loadScenario,
  OutputDir,
  type Owned,
  outDirOption,
  parseRates,
  parseScenario,
  writeOutputFile,
} from '@isosim/scenarios';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';
import { runStudySweep, type StudySweep } from '../studySweep.ts';

/** A goodput study, checked: per host, the base of its sweep over the rates. */
export interface GoodputPlan {
  readonly rates: readonly number[];
  readonly durationS: number;
  readonly hosts: readonly {
    readonly label: string;
    readonly base: Scenario;
    /** The sweep's base scenario: the host at a fixed rate (`goodputSweepBase`). */
    readonly json: Record<string, unknown>;
  }[];
}

/**
 * The study's scenarios, each rate checked as the sweep will check it (a rate the NIC
 * cannot carry is refused here, naming the rate, before anything runs or is written).
 */
export function planGoodput(rates: readonly number[], durationS: number, where: string): GoodputPlan {
  const hosts = GOODPUT_HOSTS.map(({ scenario, label }) => {
    const base = loadScenario(scenario);
    for (const rate of rates)
      parseScenario(fixedRateScenario(base, rate, durationS), `${where}: ${base.name} at ${rate} req/s`);
    return { label, base, json: goodputSweepBase(base, rates, durationS) };
  });
  return { rates, durationS, hosts };
}

/**
 * Runs the study as a sweep per host (docs/sweeps.md) on `jobs` workers, staged in
 * `dir` under `sub`: the base scenario in `sub`/scenarios/<host>-fixed-rate.json, the
 * sweep file `sub`/goodput-<label>.sweep.json and its results `sub`/goodput-<label>.duckdb
 * (kept on commit: `isosim sweep` on the file reproduces or resumes them, `isosim query`
 * reads them). Returns the curves made from the recorded runs.
 */
export async function runGoodput(
  plan: GoodputPlan,
  dir: OutputDir,
  sub: string,
  seed: number | undefined,
  jobs: number,
  where: string,
  notWritten: string,
): Promise<GoodputResult> {
  const curves: GoodputCurve[] = [];
  for (const h of plan.hosts) {
    const name = `goodput-${h.label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    const paths = goodputSweepPaths(h.base);
    const baseFile = `${h.json.name as string}.json`;
    writeFileSync(dir.path(join(sub, 'scenarios', baseFile)), `${JSON.stringify(h.json, null, 2)}\n`);
    const study: StudySweep = {
      def: {
        name,
        description: `${where}: ${h.base.name}'s host at fixed offered rates (req/s), measured over the second half of each run`,
        base: join('scenarios', baseFile),
        params: [{ path: paths.rate, values: [...plan.rates] }],
        seed: seed ?? h.base.seed,
        record: { metrics: [paths.goodput, paths.failedPerSec, paths.combinedPct] },
      },
      file: dir.path(join(sub, `${name}.sweep.json`)),
      results: dir.path(join(sub, `${name}.duckdb`)),
    };
    const { records } = await runStudySweep(study, jobs, where, notWritten, `goodput ${h.label}`);
    const numbers = plan.rates.map((rate): GoodputNumbers => {
      const r = records.find((x) => x.params[paths.rate] === rate);
      const at = (p: string) => r?.metrics[p] ?? undefined;
      return {
        domains: {
          [paths.guest]: {
            webReqPerSec: at(paths.goodput),
            webFailedPerSec: at(paths.failedPerSec),
            combinedPct: at(paths.combinedPct) ?? 0,
          },
        },
      };
    });
    curves.push(curveOf(h.label, h.base, plan.rates, numbers));
  }
  return { durationS: plan.durationS, windowS: [plan.durationS / 2, plan.durationS], curves };
}

/** What a goodput study keeps in its sub-directory on commit (older files of these kinds go). */
export function goodputOwned(sub: string): Owned[] {
  return [
    { dir: join(sub, 'scenarios'), ext: '.json' },
    { dir: sub, ext: '.sweep.json' },
    { dir: sub, ext: '.duckdb' },
  ];
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
    'against offered rate, with the offered rate as a reference line). The runs are a sweep per\n' +
    'scheduler (docs/sweeps.md) on --jobs worker threads: DIR/goodput-<scheduler>.sweep.json, its\n' +
    'base scenario in DIR/scenarios/, and its results in DIR/goodput-<scheduler>.duckdb (isosim\n' +
    'query DIR/goodput-sedf.duckdb --summary; isosim sweep on the file runs it again).\n' +
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
    jobs: { type: 'string', help: 'worker threads (default: one per core)', placeholder: 'N' },
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
    let result: GoodputResult;
    // DIR is locked while the sweeps run; the scenario files, the sweeps' files and
    // results, goodput.json and goodput.svg are staged and moved in at the end.
    const dir = OutputDir.open(where, out);
    try {
      result = await runGoodput(plan, dir, '', seed, parallel, where, 'goodput.json and goodput.svg');
      dir.write('goodput.json', goodputJson(result));
      dir.write('goodput.svg', goodputSvg(result));
      dir.commit(goodputOwned(''));
    } finally {
      dir.abandon();
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
