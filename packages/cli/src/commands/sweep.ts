/**
 * `isosim sweep`: runs a sweep file (docs/sweeps.md), a base scenario over parameter
 * points and seeds, on every core, into a DuckDB results file; resumable.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  expandSweep,
  Interrupted,
  loadSweep,
  openResultStore,
  outDirOption,
  Progress,
  type RunRecord,
  runSweep,
  SweepStopped,
  signalExit,
  sweepMeta,
} from '@isosim/scenarios';
import { type CommandSpec, intOption } from '../args.ts';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export const sweep: CommandSpec = {
  name: 'sweep',
  brief: 'runs a sweep file: a scenario over parameter points and seeds, on every core (docs/sweeps.md)',
  summary:
    "Expands a sweep file (docs/sweeps.md) into runs: every combination of its parameters'\n" +
    'values (the first varies slowest), each with every seed, with stable ids (p0003-s2: point\n' +
    '3, its third seed). Runs them on --jobs worker threads (default one per core), each run\n' +
    'as `isosim run` runs it without writing its log (the log hash is still computed), and\n' +
    'records each as it ends in DIR/<name>.duckdb (query it with `isosim query`). Resumable:\n' +
    'a re-run skips the runs recorded there, so a killed sweep loses only the runs in flight.\n' +
    'A run that throws is recorded as failed with its reproducer (the scenario as run, its\n' +
    'seed, the error) and the sweep goes on. --list prints the runs without running them.\n' +
    'Exit status 1 if a run failed, 2 for a bad sweep file.',
  usage: 'isosim sweep <file> [--jobs N] [--out DIR] [--list]',
  options: {
    jobs: {
      type: 'string',
      help: 'worker threads (default one per core: os.availableParallelism())',
      placeholder: 'N',
    },
    out: { type: 'string', help: 'where the results file goes (default out/sweep)', placeholder: 'DIR' },
    list: { type: 'boolean', help: 'print the runs (id, seed, parameters) and the sweep id; run nothing' },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) {
      console.error("usage: isosim sweep <file> [--jobs N] [--out DIR]; see 'isosim sweep --help'");
      return 2;
    }
    const jobs = intOption('sweep', 'jobs', values.jobs, availableParallelism(), 1, 1024);
    const out = outDirOption('sweep', values.out, join('out', 'sweep'));
    const loaded = loadSweep(positionals[0]);
    const expansion = expandSweep(loaded);
    if (values.list) {
      console.log(
        `sweep ${loaded.def.name}: id ${expansion.sweepId}, ${expansion.runs.length} run${expansion.runs.length === 1 ? '' : 's'}`,
      );
      for (const r of expansion.runs)
        console.log(
          [r.id, `seed ${r.seed}`, ...Object.entries(r.params).map(([p, v]) => `${p}=${show(v)}`)].join('  '),
        );
      return 0;
    }
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    const file = join(out, `${loaded.def.name}.duckdb`);
    const store = await openResultStore(file, sweepMeta(loaded, expansion));
    const progress = new Progress(`sweep ${loaded.def.name}`);
    const failures: RunRecord[] = [];
    const abort = new AbortController();
    let signal: NodeJS.Signals | undefined;
    const onSignal = (s: NodeJS.Signals) => {
      signal ??= s;
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await runSweep(loaded, expansion, store, {
        jobs,
        signal: abort.signal,
        onRecord: (r) => {
          if (r.error !== undefined) failures.push(r);
        },
        onProgress: (p) =>
          progress.update(
            p.done / p.total,
            `${p.done}/${p.total} runs${p.failed > 0 ? `, ${p.failed} failed` : ''}`,
          ),
      });
      progress.done();
      const ran =
        summary.ran === 0
          ? 'nothing left to run'
          : `ran ${summary.ran} in ${summary.wallS.toFixed(1)} s on ${summary.jobs} worker${summary.jobs === 1 ? '' : 's'}`;
      console.log(
        `sweep ${loaded.def.name} (${expansion.sweepId}): ${summary.runs} run${summary.runs === 1 ? '' : 's'}; ${summary.skipped} recorded before, ${ran}; ${summary.failed} failed`,
      );
      for (const f of failures.slice(0, 5))
        console.log(`  failed: ${f.id} (seed ${f.seed}): ${f.error?.message}`);
      if (failures.length > 5) console.log(`  … and ${failures.length - 5} more`);
      console.log(`results: ${file} (isosim query ${file} --summary)`);
      return failures.length > 0 ? 1 : 0;
    } catch (err) {
      progress.done();
      if (err instanceof SweepStopped) {
        const { word, code } = signalExit(signal ?? 'SIGINT');
        throw new Interrupted(
          `${word} after ${err.done} of ${err.total} runs; kept them in ${file}; run the same command to go on`,
          code,
        );
      }
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await store.close();
    }
  },
};
