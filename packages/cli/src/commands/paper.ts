import { readFileSync } from 'node:fs';
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
  loadScenario,
  MEMORY_WORKLOADS,
  memoryClaimsPlot,
  memoryStudyMarkdown,
  memoryStudyPlot,
  OutputDir,
  type Owned,
  outDirOption,
  ownValues,
  type ParamInfo,
  Progress,
  paperMetrics,
  paperNumbersOf,
  parseRates,
  type RunRecord,
  runMemoryStudy,
  type ScenarioRun,
  type UnstatedValue,
  type VariantRun,
} from '@isosim/scenarios';
import { type CommandSpec, intOption } from '../args.ts';
import { type ChildJob, runAllOrStop } from '../children.ts';
import { runStudySweep, type StudySweep } from '../studySweep.ts';
import { goodputOwned, planGoodput, runGoodput } from './goodput.ts';

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
    'docs/scenarios.md) are run one at a time at each plausible value, as a one-at-a-time sweep\n' +
    '(docs/sweeps.md) on the worker pool: DIR/<scenario>/bands/<scenario>-bands.sweep.json and\n' +
    'its results, <scenario>-bands.duckdb (isosim query FILE --summary). Each predicted number gets\n' +
    'its band, [lo, hi] over the scenario and its variants, and whether the paper lies in it.\n' +
    "Goodput: the Fig. 6 host at fixed offered rates, as 'isosim goodput' with its defaults (a\n" +
    'sweep per scheduler), in DIR/goodput/; EXPERIMENTS.md gets a section "No goodput collapse".\n' +
    "Memory: the memory workloads under every reservation policy, as 'isosim memory' with its\n" +
    'defaults (in this process, after the others), in DIR/memory/; EXPERIMENTS.md ends with\n' +
    'the section "Memory isolation".\n' +
    'The built-ins run as child processes, --jobs at a time, then the sweeps on --jobs worker\n' +
    'threads; Ctrl-C keeps the scenario runs that finished and writes no EXPERIMENTS.md.',
  usage: 'isosim paper [--seed N] [--out DIR] [--jobs N] [--no-bands] [--no-goodput] [--no-memory]',
  options: {
    seed: { type: 'string', help: "root seed (default: each scenario's)", placeholder: 'N' },
    out: { type: 'string', help: 'output directory (default out/paper)', placeholder: 'DIR' },
    jobs: {
      type: 'string',
      help: 'scenarios (and sweep workers) at once (default: one per core)',
      placeholder: 'N',
    },
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
      // DIR is locked while the scenarios run (each child locks its own DIR/<run>), then
      // the band and goodput sweeps; EXPERIMENTS.md and the sweeps' files and results are
      // staged and moved into place at the end.
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
        const bands = values['no-bands'] === true ? undefined : planBands(scenarios, dir, seedOf);
        const wall = await runAllOrStop(
          'isosim paper',
          jobs,
          parallel,
          () => signals.signal,
          'EXPERIMENTS.md',
          () => dir.abandon(),
        );
        // The bands, a sweep per scenario on the worker pool, once the scenarios have run.
        const recorded = new Map<Scenario, RunRecord[]>();
        for (const b of bands ?? []) {
          const r = await runStudySweep(
            b.sweep,
            parallel,
            'isosim paper',
            'EXPERIMENTS.md',
            `bands of ${b.s.name}`,
          );
          recorded.set(b.s, r.records);
          console.error(`${b.sweep.def.name}: ${r.records.length} runs, ${r.wallS.toFixed(1)} s wall`);
        }
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
              variants: variantRuns(b, recorded.get(s) ?? []),
              results: b.results,
              baseLogHash: recorded.get(s)?.find((r) => Object.keys(r.params).length === 0)?.logHash,
            },
          };
        });
        let extra: string[] = [];
        if (goodput !== undefined) {
          const result = await runGoodput(
            goodput,
            dir,
            'goodput',
            seed,
            parallel,
            'isosim paper',
            'EXPERIMENTS.md',
          );
          dir.write(join('goodput', 'goodput.json'), goodputJson(result));
          dir.write(join('goodput', 'goodput.svg'), goodputSvg(result));
          extra = goodputMarkdown(result, 'goodput/goodput.svg');
        }
        const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
        // The built-ins without paper numbers go to the section beyond the paper.
        let md = experimentsMarkdown(runs, totalS, parallel, bands !== undefined, extra);
        if (values['no-memory'] !== true) md += memorySection(dir);
        dir.write('EXPERIMENTS.md', md);
        const owned: Owned[] = (bands ?? []).flatMap((b) => [
          { dir: `${b.s.name}/bands`, ext: '.json' },
          { dir: `${b.s.name}/bands`, ext: '.duckdb' },
        ]);
        if (goodput !== undefined) owned.push(...goodputOwned('goodput'));
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

/** A predicted scenario's band: its unstated parameters, as a one-at-a-time sweep. */
interface Bands {
  readonly s: Scenario;
  readonly params: ParamInfo[];
  readonly sweep: StudySweep;
  /** The results file, relative to DIR. */
  readonly results: string;
}

/**
 * The band sweep of every predicted scenario with unstated parameters: the scenario
 * alone, then each unstated parameter at each of its plausible values with the others
 * at the scenario's own (a value the scenario already has is not run again), recording
 * the numbers the paper reports. Its file and results are staged in `dir` as
 * `<scenario>/bands/<scenario>-bands.sweep.json` and `.duckdb`.
 */
function planBands(scenarios: readonly Scenario[], dir: OutputDir, seedOf: (s: Scenario) => number): Bands[] {
  const bands: Bands[] = [];
  for (const s of scenarios) {
    if (s.paper?.fitted !== false || s.unstated === undefined || s.unstated.length === 0) continue;
    // The file as written: the own values are read there, not in the scenario with defaults filled in.
    const raw: unknown = JSON.parse(readFileSync(join(BUILTIN_DIR, `${s.name}.json`), 'utf8'));
    const name = `${s.name}-bands`;
    const rel = (ext: string) => join(s.name, 'bands', `${name}${ext}`);
    bands.push({
      s,
      params: s.unstated.map((u) => ({ ...u, own: ownValues(raw, s, u.path) })),
      sweep: {
        def: {
          name,
          description: `isosim paper: the band of ${s.name} over the parameters the paper leaves unstated, one at a time`,
          base: s.name,
          design: 'one-at-a-time',
          params: s.unstated.map((u) => ({ unstated: u.name })),
          seed: seedOf(s),
          record: { metrics: paperMetrics(s).map((m) => m.path) },
        },
        file: dir.path(rel('.sweep.json')),
        results: dir.path(rel('.duckdb')),
      },
      results: rel('.duckdb'),
    });
  }
  return bands;
}

/** The variants a band sweep recorded (every run but the scenario's own, point 0), as the report reads them. */
function variantRuns(b: Bands, records: readonly RunRecord[]): VariantRun[] {
  return records.flatMap((r): VariantRun[] => {
    const set = Object.entries(r.params);
    if (set.length === 0) return [];
    const [key, value] = set[0];
    return [
      {
        param: key.replace(/^unstated:/, ''),
        value: value as UnstatedValue,
        metrics: paperNumbersOf(b.s, r.metrics),
      },
    ];
  });
}
