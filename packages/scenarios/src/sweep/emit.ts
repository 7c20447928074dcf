/**
 * Running a sweep's shards on a cluster scheduler (docs/scale-out.md, "Slurm" and
 * "Kubernetes"): `slurmScript` writes a shell script that submits a Slurm array job of
 * `n` shards and a merge job that waits for it; `k8sIndexedJob` builds a Kubernetes
 * Indexed Job of `n` completions (and `k8sMergeJob` the Job that merges them). Each shard
 * runs `isosim sweep FILE --shard i/n --out DIR/shard-i` (shard.ts) into its own results
 * file, `DIR/shard-i/<name>.shard-i-of-n.duckdb` (`shardFileName`); the merge runs
 * `isosim sweep merge DIR/<name>.duckdb DIR/shard-*\/<name>.shard-*-of-n.duckdb`
 * (merge.ts) into `DIR/<name>.duckdb`, where a local `isosim sweep FILE --out DIR` would
 * have written it.
 *
 * @module
 */
import { IsosimError } from '@isosim/core';
import { MAX_SHARDS, shardFileName } from './shard.ts';

/**
 * The default command that runs isosim on a cluster node: the `isosim` installed with
 * `@isosim/cli` (`npm i @isosim/cli`, or this repository after `pnpm install && pnpm
 * build`), found by npx in `node_modules/.bin` of the working directory or on the PATH.
 * `--no` keeps npx from downloading a package of that name from the registry when none is
 * installed: it fails instead. In a checkout without a build, pass `'pnpm -s isosim'`
 * (runs the sources through tsx).
 */
export const DEFAULT_ISOSIM = 'npx --no isosim';

/** What `slurmScript` needs. */
export interface SlurmOptions {
  /** The sweep file, as the compute nodes see it (relative to the directory `submit.sh` is run from, or absolute). */
  readonly sweepFile: string;
  /** The sweep's name (its file's `name`): names the results files `<name>.duckdb`. */
  readonly name: string;
  /** How many shards (array tasks): 1 to 100,000. */
  readonly shards: number;
  /** Where results go: shard i in `outDir/shard-i/<name>.shard-i-of-n.duckdb`, the merge in `outDir/<name>.duckdb`, Slurm's logs in `outDir/logs/`. */
  readonly outDir: string;
  /** The jobs' name in `squeue` (default `isosim-<name>`; the merge job's gets `-merge`). */
  readonly jobName?: string;
  /** The command that runs isosim on a node (shell words; default {@link DEFAULT_ISOSIM}). */
  readonly isosim?: string;
  /** CPUs per array task (`--cpus-per-task`), each running that many worker threads (`--jobs`); default 1. */
  readonly cpusPerTask?: number;
  /** The time limit of each array task and of the merge, in minutes (`--time`); default the partition's. */
  readonly timeMin?: number;
  /** At most this many tasks at once (`--array=0-(n-1)%k`); default no limit. */
  readonly maxParallel?: number;
  /**
   * When the merge runs: `afterok` (default) once every task has exited 0; `afterany` once
   * every task has ended, however (a shard with a failed run exits 1: with `afterok` the
   * merge then never runs and `squeue` shows it pending with `DependencyNeverSatisfied`).
   */
  readonly mergeAfter?: 'afterok' | 'afterany';
  /** More `#SBATCH` options for both jobs, e.g. `['--partition=short', '--account=lab']`. */
  readonly sbatch?: readonly string[];
}

/** The scripts `slurmScript` writes. */
export interface SlurmScripts {
  /** The array job's batch script: `#SBATCH --array=0-(n-1)`, a shard per task. */
  readonly array: string;
  /** The merge job's batch script. */
  readonly merge: string;
  /** `bash submit.sh`: submits `array`, then `merge` depending on it (both embedded as here-documents). */
  readonly submit: string;
}

const fail = (field: string, problem: string, fix: string): never => {
  throw new IsosimError('sweep --emit', field, problem, fix);
};

/** Characters a path may have in a generated script: no spaces, quotes, `$`, `%` (Slurm's file patterns), `~`, backslashes. */
const SAFE_PATH = /^[A-Za-z0-9_@+=:,./-]+$/;

function checkPath(field: string, path: string): void {
  if (!SAFE_PATH.test(path)) {
    fail(
      field,
      `'${path}' has characters a batch script cannot carry safely (only letters, digits and _@+=:,./- are allowed)`,
      'give a path without spaces, quotes, $, %, ~ or backslashes',
    );
  }
}

/** `VAR=${VAR%%;*}`: a job id from `sbatch --parsable` without its `;cluster`. */
const stripCluster = (v: string): string => `${v}=\${${v}%%;*}`;

function checkCount(field: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > max)) {
    fail(field, `${v} is not allowed`, `give a whole number from ${min} to ${max}`);
  }
}

function checkName(field: string, v: string): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(v)) {
    fail(field, `'${v}' is not a name a job can carry`, 'give 1–63 lower-case letters, digits and dashes');
  }
}

function checkCommand(isosim: string): void {
  if (isosim.trim() === '' || /[\n\r]/.test(isosim)) {
    fail('isosim', `${JSON.stringify(isosim)} is not a command`, "give one line, e.g. 'pnpm -s isosim'");
  }
}

/**
 * The Slurm scripts of a sharded sweep. `submit` is the one to run (`bash submit.sh`, from
 * the directory the paths are relative to): it makes `outDir/logs`, submits the array job
 * with `sbatch --parsable` (which prints the job id), then the merge job with
 * `--dependency=afterok:<that id>` (or `afterany`), and prints both ids. Array task i runs
 *
 * ```sh
 * npx --no isosim sweep FILE --shard "$SLURM_ARRAY_TASK_ID/n" --jobs "${SLURM_CPUS_PER_TASK:-1}" --out "DIR/shard-$SLURM_ARRAY_TASK_ID"
 * ```
 *
 * and the merge job `isosim sweep merge DIR/<name>.duckdb DIR/shard-*\/<name>.shard-*-of-n.duckdb`. A task
 * killed (time limit, node failure) resumes where it stopped when resubmitted
 * (`sbatch --array=i` of `array`): its results file keeps every finished run.
 *
 * Paths must be plain (letters, digits, `_@+=:,./-`): `#SBATCH` lines are not shell words.
 *
 * @param opts The sweep file and name, the shard count, the results directory, and the jobs' settings.
 */
export function slurmScript(opts: SlurmOptions): SlurmScripts {
  const n = opts.shards;
  checkCount('shards', n, 1, MAX_SHARDS);
  checkCount('cpusPerTask', opts.cpusPerTask, 1, 1024);
  checkCount('timeMin', opts.timeMin, 1, 525_600);
  checkCount('maxParallel', opts.maxParallel, 1, MAX_SHARDS);
  checkName('name', opts.name);
  checkPath('sweepFile', opts.sweepFile);
  checkPath('outDir', opts.outDir);
  const jobName = opts.jobName ?? `isosim-${opts.name}`;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(jobName)) {
    fail('jobName', `'${jobName}' is not allowed`, 'give 1–100 letters, digits and ._-');
  }
  const isosim = opts.isosim ?? DEFAULT_ISOSIM;
  checkCommand(isosim);
  const after = opts.mergeAfter ?? 'afterok';
  if (after !== 'afterok' && after !== 'afterany') {
    fail('mergeAfter', `'${String(after)}' is not allowed`, 'give afterok or afterany');
  }
  for (const o of opts.sbatch ?? []) {
    if (!/^--[a-z][a-z-]*(=[^\s'"`$\\]+)?$/.test(o)) {
      fail(
        'sbatch',
        `'${o}' is not an sbatch option this script can carry`,
        'give --option=value, e.g. --partition=short',
      );
    }
  }
  const out = opts.outDir.replace(/\/+$/, '') || '/';
  const file = `${out}/${opts.name}.duckdb`;
  const common = [
    ...(opts.timeMin === undefined ? [] : [`#SBATCH --time=${opts.timeMin}`]),
    ...(opts.sbatch ?? []).map((o) => `#SBATCH ${o}`),
  ];
  const array = [
    '#!/bin/bash',
    `# isosim sweep ${opts.name}: shard $SLURM_ARRAY_TASK_ID of ${n} (0-based), one per array task.`,
    `#SBATCH --job-name=${jobName}`,
    `#SBATCH --array=0-${n - 1}${opts.maxParallel === undefined ? '' : `%${opts.maxParallel}`}`,
    `#SBATCH --cpus-per-task=${opts.cpusPerTask ?? 1}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --output=${out}/logs/shard-%a.log`,
    ...common,
    'set -euo pipefail',
    `exec ${isosim} sweep ${opts.sweepFile} --shard "$SLURM_ARRAY_TASK_ID/${n}" --jobs "\${SLURM_CPUS_PER_TASK:-1}" --out "${out}/shard-$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
  const merge = [
    '#!/bin/bash',
    `# isosim sweep ${opts.name}: merges the ${n} shards' results into ${file}.`,
    `#SBATCH --job-name=${jobName}-merge`,
    '#SBATCH --cpus-per-task=1',
    '#SBATCH --ntasks=1',
    `#SBATCH --output=${out}/logs/merge.log`,
    ...common,
    'set -euo pipefail',
    `exec ${isosim} sweep merge ${file} ${out}/shard-*/${opts.name}.shard-*-of-${n}.duckdb`,
    '',
  ].join('\n');
  const submit = [
    '#!/bin/bash',
    `# Runs sweep ${opts.name} (${opts.sweepFile}) on Slurm as ${n} array task${n === 1 ? '' : 's'}, then merges`,
    `# the shards into ${file}. Generated by isosim (docs/scale-out.md, "Slurm").`,
    '# Run it from the directory the paths are relative to: bash submit.sh',
    'set -euo pipefail',
    `mkdir -p ${out}/logs`,
    "ARRAY_JOB_ID=$(sbatch --parsable <<'ISOSIM_SHARDS'",
    array.trimEnd(),
    'ISOSIM_SHARDS',
    ')',
    '# --parsable prints "id" or "id;cluster".',
    stripCluster('ARRAY_JOB_ID'),
    `MERGE_JOB_ID=$(sbatch --parsable --dependency=${after}:"$ARRAY_JOB_ID" <<'ISOSIM_MERGE'`,
    merge.trimEnd(),
    'ISOSIM_MERGE',
    ')',
    stripCluster('MERGE_JOB_ID'),
    `echo "sweep ${opts.name}: array job $ARRAY_JOB_ID (${n} shard${n === 1 ? '' : 's'}, logs in ${out}/logs), merge job $MERGE_JOB_ID into ${file}"`,
    '',
  ].join('\n');
  return { array, merge, submit };
}

/** The volume the shards write to and the merge reads: a PersistentVolumeClaim every pod can mount (ReadWriteMany when pods run on several nodes). */
export interface K8sVolume {
  /** The PersistentVolumeClaim's name. */
  readonly claimName: string;
  /** Where the pods mount it; default `/results`. Shard i writes `<mountPath>/shard-i/<name>.shard-i-of-n.duckdb`. */
  readonly mountPath?: string;
}

/** What `k8sIndexedJob` and `k8sMergeJob` need. */
export interface K8sOptions {
  /** The sweep file's path inside the container (in the image, or on the volume). */
  readonly sweepFile: string;
  /** The sweep's name (its file's `name`): names the results files `<name>.duckdb`. */
  readonly name: string;
  /** How many shards (completions): 1 to 100,000. */
  readonly shards: number;
  /** A container image with isosim in it (e.g. node:20 with `@isosim/cli` installed). */
  readonly image: string;
  /** The results volume. */
  readonly outVolume: K8sVolume;
  /** The Job's name (default `isosim-<name>`; the merge Job's gets `-merge`). */
  readonly jobName?: string;
  /** The namespace (default: the one `kubectl` uses). */
  readonly namespace?: string;
  /** How many pods run at once (default all `shards`). */
  readonly parallelism?: number;
  /** CPUs each pod requests, and worker threads it runs (`--jobs`); default 1. */
  readonly cpusPerTask?: number;
  /** The command that runs isosim in the image, as argv; default `['isosim']`. */
  readonly isosim?: readonly string[];
  /** Retries of each shard's pod before that shard counts as failed (`backoffLimitPerIndex`, Kubernetes 1.29+); default unset (the Job's `backoffLimit`, 6 over all shards). */
  readonly backoffLimitPerIndex?: number;
}

/** A Kubernetes object, as plain JSON (JSON is YAML: `kubectl apply -f` takes it as is). */
export type K8sObject = Record<string, unknown>;

/** The environment variable the Job controller sets in each pod of an Indexed Job: the pod's completion index. */
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

function k8sCommon(opts: K8sOptions): { jobName: string; mount: string; isosim: string[] } {
  checkCount('shards', opts.shards, 1, MAX_SHARDS);
  checkCount('parallelism', opts.parallelism, 1, MAX_SHARDS);
  checkCount('cpusPerTask', opts.cpusPerTask, 1, 1024);
  checkCount('backoffLimitPerIndex', opts.backoffLimitPerIndex, 0, 1000);
  checkName('name', opts.name);
  const jobName = opts.jobName ?? `isosim-${opts.name}`;
  // The pods' hostnames are <job>-<index>, a DNS label: leave room for the index and '-merge'.
  if (!/^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$/.test(jobName)) {
    fail('jobName', `'${jobName}' is not allowed`, 'give 1–52 lower-case letters, digits and dashes');
  }
  if (opts.namespace !== undefined) checkName('namespace', opts.namespace);
  if (opts.image.trim() === '' || /\s/.test(opts.image)) {
    fail('image', `'${opts.image}' is not an image reference`, 'give one, e.g. ghcr.io/lab/isosim:0.1.0');
  }
  if (opts.sweepFile === '') fail('sweepFile', 'is empty', 'give the sweep file path inside the container');
  if (opts.outVolume.claimName === '')
    fail('outVolume.claimName', 'is empty', 'give a PersistentVolumeClaim name');
  const mount = (opts.outVolume.mountPath ?? '/results').replace(/\/+$/, '') || '/';
  if (!mount.startsWith('/')) {
    fail('outVolume.mountPath', `'${mount}' is not absolute`, 'give an absolute path, e.g. /results');
  }
  const isosim = [...(opts.isosim ?? ['isosim'])];
  if (isosim.length === 0) fail('isosim', 'is empty', "give the command as argv, e.g. ['isosim']");
  return { jobName, mount, isosim };
}

function podSpec(
  opts: K8sOptions,
  mount: string,
  container: { name: string; args: string[]; env?: K8sObject[] },
  cpus: number,
): K8sObject {
  return {
    restartPolicy: 'Never',
    containers: [
      {
        name: container.name,
        image: opts.image,
        command: container.args,
        ...(container.env === undefined ? {} : { env: container.env }),
        resources: { requests: { cpu: String(cpus) }, limits: { cpu: String(cpus) } },
        volumeMounts: [{ name: 'results', mountPath: mount }],
      },
    ],
    volumes: [{ name: 'results', persistentVolumeClaim: { claimName: opts.outVolume.claimName } }],
  };
}

/**
 * The Kubernetes `batch/v1` Job that runs a sweep's shards: `completionMode: Indexed`,
 * `completions: n` and `parallelism` (default n), so Kubernetes runs one pod per index
 * 0..n-1 until each has succeeded once. The Job controller gives each pod its index in
 * the annotation `batch.kubernetes.io/job-completion-index` and (Kubernetes 1.22+) the
 * environment variable `JOB_COMPLETION_INDEX`; the container declares that variable from
 * the annotation itself too (the downward API), so the manifest means the same on any
 * version with Indexed Jobs, and runs
 *
 * ```
 * isosim sweep FILE --shard $(JOB_COMPLETION_INDEX)/n --jobs C --out /results/shard-$(JOB_COMPLETION_INDEX)
 * ```
 *
 * (`$(VAR)` in a container's command is expanded by Kubernetes from the container's
 * environment; there is no shell). Apply it with `kubectl apply -f` (JSON is YAML); merge
 * with {@link k8sMergeJob} once it completes.
 *
 * @param opts The sweep file and name, the shard count, the image, the results volume and the pods' settings.
 */
export function k8sIndexedJob(opts: K8sOptions): K8sObject {
  const { jobName, mount, isosim } = k8sCommon(opts);
  const n = opts.shards;
  const cpus = opts.cpusPerTask ?? 1;
  const index = `$(${COMPLETION_INDEX_ENV})`;
  const labels = { 'app.kubernetes.io/name': 'isosim', 'isosim.dev/sweep': opts.name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
      labels,
    },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: opts.parallelism ?? n,
      ...(opts.backoffLimitPerIndex === undefined ? {} : { backoffLimitPerIndex: opts.backoffLimitPerIndex }),
      template: {
        metadata: { labels },
        spec: podSpec(
          opts,
          mount,
          {
            name: 'shard',
            args: [
              ...isosim,
              'sweep',
              opts.sweepFile,
              '--shard',
              `${index}/${n}`,
              '--jobs',
              String(cpus),
              '--out',
              `${mount}/shard-${index}`,
            ],
            env: [
              {
                name: COMPLETION_INDEX_ENV,
                valueFrom: {
                  fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
                },
              },
            ],
          },
          cpus,
        ),
      },
    },
  };
}

/**
 * The Kubernetes `batch/v1` Job that merges the shards of {@link k8sIndexedJob} (same
 * options) into `<mountPath>/<name>.duckdb`: one pod running `isosim sweep merge
 * /results/<name>.duckdb /results/shard-0/<name>.shard-0-of-n.duckdb …` (every shard's
 * file). Apply it
 * once the shards' Job has completed (`kubectl wait --for=condition=complete job/<name>`).
 *
 * @param opts The options given to `k8sIndexedJob`.
 */
export function k8sMergeJob(opts: K8sOptions): K8sObject {
  const { jobName, mount, isosim } = k8sCommon(opts);
  const files = Array.from(
    { length: opts.shards },
    (_, i) => `${mount}/shard-${i}/${shardFileName(opts.name, { index: i, count: opts.shards })}`,
  );
  const labels = { 'app.kubernetes.io/name': 'isosim', 'isosim.dev/sweep': opts.name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${jobName}-merge`,
      ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
      labels,
    },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 2,
      template: {
        metadata: { labels },
        spec: podSpec(
          opts,
          mount,
          { name: 'merge', args: [...isosim, 'sweep', 'merge', `${mount}/${opts.name}.duckdb`, ...files] },
          1,
        ),
      },
    },
  };
}

/** A Kubernetes object as the text of a manifest file: indented JSON, which is YAML too. */
export function k8sManifest(obj: K8sObject): string {
  return `${JSON.stringify(obj, null, 2)}\n`;
}
