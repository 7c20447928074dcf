import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Metrics, Scenario } from '@isosim/scenarios';
import {
  BUILTIN_DIR,
  builtinNames,
  catchSignals,
  experimentsMarkdown,
  GOODPUT_DURATION_S,
  GOODPUT_RATES,
  goodputJson,
  goodputMarkdown,
  goodputSvg,
  isOwnValue,
  loadScenario,
  MEMORY_WORKLOADS,
  makeVariant,
  memoryClaimsPlot,
  memoryStudyMarkdown,
  memoryStudyPlot,
  OutputDir,
  type Owned,
  outDirOption,
  ownValues,
  type ParamInfo,
  Progress,
  parseRates,
  runMemoryStudy,
  type ScenarioRun,
  type UnstatedValue,
  type VariantRun,
} from '@isosim/scenarios';
import { type CommandSpec, intOption } from '../args.ts';
import { type ChildJob, runAllOrStop } from '../children.ts';
import { planGoodput, stageGoodput } from './goodput.ts';

export const paper: CommandSpec = {
  name: 'paper',
  brief: 'runs every built-in scenario and writes EXPERIMENTS.md: paper vs simulated',
  summary:
    "Runs every built-in scenario (the paper's Fig. 6, Table 1 and Table 2 experiments) and\n" +
    'writes DIR/EXPERIMENTS.md: each number the paper reports beside the simulated one with the\n' +
    'relative error, marking which columns were fitted and which predicted; plus each run in\n' +
    'DIR/<scenario>/ (metrics.json, events.isolog, plots).\n' +
    'Beyond the paper: the built-ins without paper numbers (disks, several driver domains) run\n' +
    'the same way, without bands, and EXPERIMENTS.md compares them in pairs in a section of their\n' +
    'own, "Beyond the paper" (no paper numbers, no errors).\n' +
    "Bands: a predicted scenario's parameters the paper leaves unstated (its 'unstated' field,\n" +
    'docs/scenarios.md) are run one at a time at each plausible value, each variant in\n' +
    'DIR/<scenario>/bands/<variant>/ (its scenario file beside it), and each predicted number\n' +
    'gets its band, [lo, hi] over the scenario and its variants, and whether the paper lies in it.\n' +
    "Goodput: the Fig. 6 host at fixed offered rates, as 'isosim goodput' with its defaults, in\n" +
    'DIR/goodput/; EXPERIMENTS.md gets a section "No goodput collapse".\n' +
    "Memory: the memory workloads under every reservation policy, as 'isosim memory' with its\n" +
    'defaults (in this process, after the others), in DIR/memory/; EXPERIMENTS.md ends with\n' +
    'the section "Memory isolation".\n' +
    'All runs are child processes, --jobs at a time (about 70 with the bands and the sweep;\n' +
    '--no-bands --no-goodput runs the 11 built-ins alone); Ctrl-C keeps the runs that finished\n' +
    'and writes no EXPERIMENTS.md.',
  usage: 'isosim paper [--seed N] [--out DIR] [--jobs N] [--no-bands] [--no-goodput] [--no-memory]',
  options: {
    seed: { type: 'string', help: "root seed (default: each scenario's)", placeholder: 'N' },
    out: { type: 'string', help: 'output directory (default out/paper)', placeholder: 'DIR' },
    jobs: { type: 'string', help: 'scenarios run at once (default: one per core)', placeholder: 'N' },
    'no-bands': {
      type: 'boolean',
      help: "skip the variant runs over unstated parameters (no 'band' columns)",
    },
    'no-goodput': { type: 'boolean', help: 'skip the goodput sweep (no "No goodput collapse" section)' },
    'no-memory': { type: 'boolean', help: 'skip the memory study (no "Memory isolation" section)' },
  },
  async run({ values }) {
    const out = outDirOption('paper', values.out, join('out', 'paper'));
    const parallel = intOption('paper', 'jobs', values.jobs, availableParallelism(), 1, 64);
    const seed = values.seed === undefined ? undefined : intOption('paper', 'seed', values.seed, 0);
    const seedOf = (s: Scenario) => seed ?? s.seed;
    const scenarios = builtinNames().map((name) => loadScenario(name));
    const goodput =
      values['no-goodput'] === true
        ? undefined
        : planGoodput(parseRates(GOODPUT_RATES), GOODPUT_DURATION_S, 'isosim paper');
    const signals = catchSignals();
    try {
      // DIR is locked while the scenarios run (each child locks its own DIR/<run>);
      // EXPERIMENTS.md and the variants' and goodput sweep's files are staged and moved
      // into place at the end.
      const dir = OutputDir.open('isosim paper', out);
      try {
        const t0 = process.hrtime.bigint();
        const jobs: ChildJob[] = scenarios.map((s) => ({
          name: s.name,
          target: s.name,
          dir: join(out, s.name),
          seed: seedOf(s),
          cost: s.durationS * s.domains.length,
        }));
        const bands = values['no-bands'] === true ? undefined : stageBands(scenarios, dir, out, seedOf);
        for (const b of bands ?? []) jobs.push(...b.jobs);
        const sweep = goodput && stageGoodput(goodput, dir, out, 'goodput', seed);
        jobs.push(...(sweep?.jobs ?? []));
        const wall = await runAllOrStop(
          'isosim paper',
          jobs,
          parallel,
          () => signals.signal,
          'EXPERIMENTS.md',
          () => dir.abandon(),
        );
        const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
        const readMetrics = (d: string) =>
          JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8')) as Metrics;
        const runs: ScenarioRun[] = scenarios.map((s) => {
          const b = bands?.find((x) => x.s === s);
          return {
            s,
            m: readMetrics(join(out, s.name)),
            wallS: wall.get(s.name) ?? 0,
            bands: b && {
              params: b.params,
              variants: b.variants.map((v): VariantRun => ({ ...v, metrics: readMetrics(v.dir) })),
            },
          };
        });
        let extra: string[] = [];
        if (sweep !== undefined) {
          const result = sweep.result();
          dir.write(join('goodput', 'goodput.json'), goodputJson(result));
          dir.write(join('goodput', 'goodput.svg'), goodputSvg(result));
          extra = goodputMarkdown(result, 'goodput/goodput.svg');
        }
        // The built-ins without paper numbers go to the section beyond the paper.
        let md = experimentsMarkdown(runs, totalS, parallel, bands !== undefined, extra);
        if (values['no-memory'] !== true) md += memorySection(dir);
        dir.write('EXPERIMENTS.md', md);
        const owned: Owned[] = (bands ?? []).map((b) => ({ dir: `${b.s.name}/bands`, ext: '.json' }));
        if (sweep !== undefined) owned.push({ dir: 'goodput/scenarios', ext: '.json' });
        dir.commit(owned);
        process.stdout.write(md);
        return 0;
      } finally {
        dir.abandon();
      }
    } finally {
      signals.dispose();
    }
  },
};

/**
 * The memory study (`isosim memory` with its defaults) into DIR/memory/ (each run's
 * log, a plot per workload), as EXPERIMENTS.md's last section.
 */
function memorySection(dir: OutputDir): string {
  const progress = new Progress('memory');
  const runs = runMemoryStudy(
    MEMORY_WORKLOADS.map((w) => w.name),
    {
      logDir: (w, p) => join(dir.stage, 'memory', 'runs', `${w}-${p}`),
      onRun: (w, p, i, total) => progress.update(i / total, `${w} under ${p} (${i + 1}/${total})`),
    },
  );
  progress.done();
  const plots: string[] = [];
  for (const w of MEMORY_WORKLOADS) {
    const rs = runs.filter((r) => r.workload === w.name);
    dir.write(join('memory', 'plots', `${w.name}.svg`), memoryStudyPlot(rs));
    dir.write(join('memory', 'plots', `${w.name}-claims.svg`), memoryClaimsPlot(rs));
    plots.push(`[${w.name}](memory/plots/${w.name}.svg)`);
  }
  dir.write(join('memory', 'memory.json'), `${JSON.stringify(runs, null, 2)}\n`);
  const wall = runs.reduce((a, r) => a + r.wallS, 0);
  return `\n${[
    ...memoryStudyMarkdown(runs),
    `The ${runs.length} runs took ${wall.toFixed(1)} s; free memory per policy is plotted in ${plots.join(', ')} (\`isosim memory\` makes the same tables).`,
    '',
  ].join('\n')}`;
}

/** A predicted scenario's variants: its unstated parameters, and a run per value not its own. */
interface Bands {
  readonly s: Scenario;
  readonly params: ParamInfo[];
  readonly variants: { param: string; value: UnstatedValue; dir: string }[];
  readonly jobs: ChildJob[];
}

/**
 * The variants of every predicted scenario with unstated parameters, one parameter at
 * a time (a value equal to the scenario's own at every field it sets is not run
 * again): each written into `dir`'s staging as `<scenario>/bands/<variant>.json` (kept
 * on commit, beside its run) and run into `out/<scenario>/bands/<variant>/`.
 */
function stageBands(
  scenarios: readonly Scenario[],
  dir: OutputDir,
  out: string,
  seedOf: (s: Scenario) => number,
): Bands[] {
  const bands: Bands[] = [];
  for (const s of scenarios) {
    if (s.paper?.fitted !== false || s.unstated === undefined || s.unstated.length === 0) continue;
    // The file as written: a variant changes it, not the scenario with defaults filled in.
    const raw: unknown = JSON.parse(readFileSync(join(BUILTIN_DIR, `${s.name}.json`), 'utf8'));
    const b: Bands = { s, params: [], variants: [], jobs: [] };
    for (const u of s.unstated) {
      b.params.push({ ...u, own: ownValues(raw, s, u.path) });
      for (const value of u.values) {
        if (isOwnValue(raw, s, u.path, value)) continue;
        const v = makeVariant(raw, u, value);
        const name = v.name as string;
        const file = dir.path(join(s.name, 'bands', `${name}.json`));
        writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);
        const runDir = join(out, s.name, 'bands', name);
        b.variants.push({ param: u.name, value, dir: runDir });
        b.jobs.push({
          name,
          target: file,
          dir: runDir,
          seed: seedOf(s),
          cost: s.durationS * s.domains.length,
        });
      }
    }
    bands.push(b);
  }
  return bands;
}
