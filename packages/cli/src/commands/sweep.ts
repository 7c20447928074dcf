/**
 * `isosim sweep`: runs a sweep file (docs/sweeps.md), a base scenario over parameter
 * points and seeds, on every core, into a DuckDB results file; resumable.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import {
  abortOnSignals,
  expandSweep,
  Interrupted,
  k8sIndexedJob,
  k8sManifest,
  k8sMergeJob,
  loadSweep,
  mergeShards,
  openResultStore,
  outDirOption,
  Progress,
  parseShard,
  type RunRecord,
  runSweep,
  SweepStopped,
  shardRuns,
  signalExit,
  slurmScript,
  summary,
  sweepMeta,
  sweepMetaOf,
  sweepPlots,
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
    '--shard i/n runs only the i-th (0-based) of n deterministic shards (run k goes to shard\n' +
    "k mod n) into DIR/<name>.shard-i-of-n.duckdb, for a cluster's array jobs;\n" +
    '`isosim sweep merge OUT.duckdb SHARD.duckdb ...` combines shard files into one (idempotent;\n' +
    'it refuses shards of another sweep and says which shards are still missing).\n' +
    '--emit slurm --shards N writes DIR/submit.sh (an sbatch --array=0-(N-1) job, one shard per\n' +
    'task, and a merge job depending on it: run `bash DIR/submit.sh`); --emit k8s --shards N\n' +
    'writes a Kubernetes Indexed Job (JOB_COMPLETION_INDEX picks the shard) and a merge Job,\n' +
    'DIR/<name>.k8s.json and DIR/<name>-merge.k8s.json (kubectl apply -f; JSON is YAML).\n' +
    'A whole sweep ends with a plot per numeric parameter and metric, the mean over seeds with\n' +
    'its 95% confidence interval, in DIR/<name>-plots/ (isosim query FILE --plot DIR makes them\n' +
    'from any results file). docs/scale-out.md. Exit status 1 if a run failed, 2 for a bad\n' +
    'sweep file.',
  usage:
    'isosim sweep <file> [--jobs N] [--out DIR] [--shard i/n] [--list] [--emit slurm|k8s --shards N] | isosim sweep merge <out.duckdb> <shard.duckdb>...',
  options: {
    jobs: {
      type: 'string',
      help: 'worker threads (default one per core: os.availableParallelism())',
      placeholder: 'N',
    },
    out: { type: 'string', help: 'where the results file goes (default out/sweep)', placeholder: 'DIR' },
    list: { type: 'boolean', help: 'print the runs (id, seed, parameters) and the sweep id; run nothing' },
    shard: {
      type: 'string',
      help: 'run only shard i of n (0-based; run k is in shard k mod n), into its own results file',
      placeholder: 'i/n',
    },
    emit: {
      type: 'string',
      help: "write a cluster's job files instead of running: 'slurm' (DIR/submit.sh) or 'k8s' (Indexed Job manifests)",
      placeholder: 'slurm|k8s',
    },
    shards: {
      type: 'string',
      help: 'with --emit: how many shards (array tasks, completions)',
      placeholder: 'N',
    },
    isosim: {
      type: 'string',
      help: "with --emit: the command that runs isosim on a node (default 'npx --no isosim')",
      placeholder: 'CMD',
    },
    'merge-after': {
      type: 'string',
      help: "with --emit slurm: when the merge job starts: 'afterok' (default: every task exited 0) or 'afterany' (every task ended; merges what was recorded)",
      placeholder: 'afterok|afterany',
    },
    image: {
      type: 'string',
      help: 'with --emit k8s: a container image with isosim in it',
      placeholder: 'IMAGE',
    },
    pvc: {
      type: 'string',
      help: 'with --emit k8s: the PersistentVolumeClaim the shards write to (default isosim-results)',
      placeholder: 'NAME',
    },
  },
  async run({ values, positionals }) {
    if (positionals[0] === 'merge') return merge(positionals.slice(1));
    if (positionals.length !== 1) {
      console.error("usage: isosim sweep <file> [--jobs N] [--out DIR]; see 'isosim sweep --help'");
      return 2;
    }
    const jobs = intOption('sweep', 'jobs', values.jobs, availableParallelism(), 1, 1024);
    const out = outDirOption('sweep', values.out, join('out', 'sweep'));
    const shard = typeof values.shard === 'string' ? parseShard(values.shard, 'isosim sweep') : undefined;
    const loaded = loadSweep(positionals[0]);
    const expansion = expandSweep(loaded);
    if (values.emit !== undefined) return emit(values, positionals[0], loaded.def.name, out);
    const runs = shard === undefined ? expansion.runs : shardRuns(expansion.runs, shard);
    const of = shard === undefined ? '' : ` (shard ${shard.index} of ${shard.count})`;
    if (values.list) {
      console.log(
        `sweep ${loaded.def.name}: id ${expansion.sweepId}, ${runs.length} run${runs.length === 1 ? '' : 's'}${of}`,
      );
      for (const r of runs)
        console.log(
          [r.id, `seed ${r.seed}`, ...Object.entries(r.params).map(([p, v]) => `${p}=${show(v)}`)].join('  '),
        );
      return 0;
    }
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    const file = join(
      out,
      shard === undefined
        ? `${loaded.def.name}.duckdb`
        : `${loaded.def.name}.shard-${shard.index}-of-${shard.count}.duckdb`,
    );
    const store = await openResultStore(file, sweepMeta(loaded, expansion, shard));
    const progress = new Progress(`sweep ${loaded.def.name}${of}`);
    const failures: RunRecord[] = [];
    let plotsAfter = false;
    const signals = abortOnSignals();
    try {
      const summary = await runSweep(loaded, expansion, store, {
        jobs,
        runs,
        signal: signals.abort,
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
        `sweep ${loaded.def.name} (${expansion.sweepId})${of}: ${summary.runs} run${summary.runs === 1 ? '' : 's'}; ${summary.skipped} recorded before, ${ran}; ${summary.failed} failed`,
      );
      for (const f of failures.slice(0, 5))
        console.log(`  failed: ${f.id} (seed ${f.seed}): ${f.error?.message}`);
      if (failures.length > 5) console.log(`  … and ${failures.length - 5} more`);
      console.log(`results: ${file} (isosim query ${file} --summary)`);
      plotsAfter = shard === undefined;
      return failures.length > 0 ? 1 : 0;
    } catch (err) {
      progress.done();
      if (err instanceof SweepStopped) {
        const { word, code } = signalExit(signals.signal ?? 'SIGINT');
        throw new Interrupted(
          `${word} after ${err.done} of ${err.total} runs; kept them in ${file}; run the same command to go on`,
          code,
        );
      }
      throw err;
    } finally {
      signals.dispose();
      await store.close();
      if (plotsAfter) await writePlots(file, join(out, `${loaded.def.name}-plots`));
    }
  },
};

/** `isosim sweep merge OUT SHARD...`: shard results files into one file of the whole sweep. */
async function merge(files: readonly string[]): Promise<number> {
  if (files.length < 2) {
    console.error("usage: isosim sweep merge <out.duckdb> <shard.duckdb>...; see 'isosim sweep --help'");
    return 2;
  }
  const r = await mergeShards(files[0], files.slice(1));
  console.log(
    `merged ${r.shards} of ${r.count} shards of sweep ${r.name} (${r.sweepId}) into ${r.out}: ${r.rows} runs, ${r.failed} failed` +
      (r.missing.length > 0 ? `; shards still missing: ${r.missing.join(', ')}` : ''),
  );
  return 0;
}

/** `isosim sweep FILE --emit slurm|k8s --shards N`: a cluster's job files into DIR. */
async function emit(
  values: Record<string, string | boolean | undefined>,
  sweepFile: string,
  name: string,
  out: string,
): Promise<number> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const kind = values.emit;
  if (kind !== 'slurm' && kind !== 'k8s')
    throw new IsosimError(
      'isosim sweep',
      '--emit',
      `'${String(kind)}' is not a cluster kind`,
      "give 'slurm' or 'k8s'",
    );
  if (values.shards === undefined)
    throw new IsosimError(
      'isosim sweep',
      '--shards',
      `--emit ${kind} needs it`,
      'give --shards N, the number of shards',
    );
  const shards = intOption('sweep', 'shards', values.shards, 1, 1, 100_000);
  const cmd = typeof values.isosim === 'string' ? values.isosim : undefined;
  mkdirSync(out, { recursive: true });
  if (kind === 'slurm') {
    const after = values['merge-after'] ?? 'afterok';
    if (after !== 'afterok' && after !== 'afterany')
      throw new IsosimError(
        'isosim sweep',
        '--merge-after',
        `'${String(after)}' is not allowed`,
        "give 'afterok' or 'afterany'",
      );
    const scripts = slurmScript({
      sweepFile,
      name,
      shards,
      outDir: out,
      mergeAfter: after,
      ...(cmd === undefined ? {} : { isosim: cmd }),
    });
    writeFileSync(join(out, 'submit.sh'), scripts.submit, { mode: 0o755 });
    writeFileSync(join(out, 'array.sbatch'), scripts.array);
    writeFileSync(join(out, 'merge.sbatch'), scripts.merge);
    console.log(
      `wrote ${join(out, 'submit.sh')} (array job of ${shards} shards, then the merge): run bash ${join(out, 'submit.sh')}`,
    );
    return 0;
  }
  if (typeof values.image !== 'string')
    throw new IsosimError(
      'isosim sweep',
      '--image',
      '--emit k8s needs it',
      'give --image IMAGE, a container image with isosim in it',
    );
  const opts = {
    sweepFile,
    name,
    shards,
    image: values.image,
    outVolume: { claimName: typeof values.pvc === 'string' ? values.pvc : 'isosim-results' },
    ...(cmd === undefined ? {} : { isosim: cmd.split(/\s+/).filter((w) => w !== '') }),
  };
  writeFileSync(join(out, `${name}.k8s.json`), k8sManifest(k8sIndexedJob(opts)));
  writeFileSync(join(out, `${name}-merge.k8s.json`), k8sManifest(k8sMergeJob(opts)));
  console.log(
    `wrote ${join(out, `${name}.k8s.json`)} (an Indexed Job of ${shards} completions) and ${join(out, `${name}-merge.k8s.json`)} (apply it when the first completes)`,
  );
  return 0;
}

/** A plot per numeric parameter and metric of a results file (`sweepPlots`), into `dir`. */
export async function writePlots(file: string, dir: string): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const meta = await sweepMetaOf(file);
  const plots = sweepPlots(await summary(file), meta.params);
  mkdirSync(dir, { recursive: true });
  for (const [name, svg] of Object.entries(plots)) writeFileSync(join(dir, name), svg);
  if (Object.keys(plots).length > 0) console.log(`plots: ${dir}/ (${Object.keys(plots).length})`);
}
