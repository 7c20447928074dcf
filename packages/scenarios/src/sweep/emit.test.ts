import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { IsosimError } from '@isosim/core';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_ISOSIM,
  type K8sOptions,
  k8sIndexedJob,
  k8sManifest,
  k8sMergeJob,
  slurmScript,
} from './emit.ts';

// biome-ignore lint/suspicious/noExplicitAny: manifest JSON, read freely
type Json = any;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isosim-emit-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SLURM = { sweepFile: 'studies/share.json', name: 'share', shards: 4, outDir: 'out/share' } as const;

function bashN(text: string): void {
  const f = join(dir, `check-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(f, text);
  execFileSync('bash', ['-n', f]);
}

describe('slurmScript', () => {
  it('writes an array job of n shards and a merge job that depends on it', () => {
    const s = slurmScript({ ...SLURM, cpusPerTask: 2, timeMin: 90 });
    const lines = s.array.split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    expect(lines).toContain('#SBATCH --array=0-3');
    expect(lines).toContain('#SBATCH --job-name=isosim-share');
    expect(lines).toContain('#SBATCH --cpus-per-task=2');
    expect(lines).toContain('#SBATCH --time=90');
    expect(lines).toContain('#SBATCH --output=out/share/logs/shard-%a.log');
    expect(lines).toContain(
      `exec ${DEFAULT_ISOSIM} sweep studies/share.json --shard "$SLURM_ARRAY_TASK_ID/4" --jobs "\${SLURM_CPUS_PER_TASK:-1}" --out "out/share/shard-$SLURM_ARRAY_TASK_ID"`,
    );
    // Every #SBATCH line comes before the first command (sbatch reads no further).
    const firstCommand = lines.findIndex((l) => l !== '' && !l.startsWith('#'));
    const lastSbatch = lines.reduce((k, l, i) => (l.startsWith('#SBATCH') ? i : k), -1);
    expect(lastSbatch).toBeLessThan(firstCommand);
    expect(s.merge.split('\n')).toContain(
      `exec ${DEFAULT_ISOSIM} sweep merge out/share/share.duckdb out/share/shard-*/share.shard-*-of-4.duckdb`,
    );
    expect(s.merge).toContain('#SBATCH --job-name=isosim-share-merge');
    expect(s.submit).toContain("ARRAY_JOB_ID=$(sbatch --parsable <<'ISOSIM_SHARDS'");
    expect(s.submit).toContain(
      `MERGE_JOB_ID=$(sbatch --parsable --dependency=afterok:"$ARRAY_JOB_ID" <<'ISOSIM_MERGE'`,
    );
    expect(s.submit).toContain(s.array.trimEnd());
    expect(s.submit).toContain(s.merge.trimEnd());
    for (const text of [s.array, s.merge, s.submit]) bashN(text);
  });

  it('takes the options: command, job name, parallel limit, afterany, more sbatch options; one shard', () => {
    const s = slurmScript({
      ...SLURM,
      shards: 1,
      isosim: 'pnpm -s isosim',
      jobName: 'study_1',
      maxParallel: 8,
      mergeAfter: 'afterany',
      sbatch: ['--partition=short', '--account=lab'],
    });
    expect(s.array).toContain('#SBATCH --array=0-0%8\n');
    expect(s.array).toContain(
      'exec pnpm -s isosim sweep studies/share.json --shard "$SLURM_ARRAY_TASK_ID/1"',
    );
    expect(s.array).toContain('#SBATCH --partition=short\n#SBATCH --account=lab\n');
    expect(s.merge).toContain('#SBATCH --partition=short\n');
    expect(s.merge).toContain('#SBATCH --job-name=study_1-merge\n');
    expect(s.submit).toContain('--dependency=afterany:"$ARRAY_JOB_ID"');
    bashN(s.submit);
  });

  it('submits both with bash submit.sh: the array first, the merge depending on its id', () => {
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    // A stand-in sbatch: records its arguments and its script, prints a job id as --parsable does.
    writeFileSync(
      join(bin, 'sbatch'),
      `#!/bin/bash\nn=$(ls ${dir}/call-*.args 2>/dev/null | wc -l)\necho "$*" > ${dir}/call-$n.args\ncat > ${dir}/call-$n.sh\necho "$((4242 + n));cluster1"\n`,
    );
    chmodSync(join(bin, 'sbatch'), 0o755);
    const s = slurmScript({ ...SLURM, isosim: 'echo isosim' });
    writeFileSync(join(dir, 'submit.sh'), s.submit);
    const out = execFileSync('bash', ['submit.sh'], {
      cwd: dir,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(out).toBe(
      'sweep share: array job 4242 (4 shards, logs in out/share/logs), merge job 4243 into out/share/share.duckdb\n',
    );
    expect(readFileSync(join(dir, 'call-0.args'), 'utf8')).toBe('--parsable\n');
    expect(readFileSync(join(dir, 'call-1.args'), 'utf8')).toBe('--parsable --dependency=afterok:4242\n');
    expect(readFileSync(join(dir, 'call-0.sh'), 'utf8')).toBe(s.array);
    expect(readFileSync(join(dir, 'call-1.sh'), 'utf8')).toBe(s.merge);
    // The logs directory exists before Slurm opens the logs in it.
    expect(execFileSync('ls', [join(dir, 'out/share')], { encoding: 'utf8' })).toBe('logs\n');
    // Task 2 runs shard 2/4 into its own directory.
    const task = execFileSync('bash', [join(dir, 'call-0.sh')], {
      cwd: dir,
      env: { ...process.env, SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_PER_TASK: '3' },
      encoding: 'utf8',
    });
    expect(task).toBe('isosim sweep studies/share.json --shard 2/4 --jobs 3 --out out/share/shard-2\n');
    execFileSync('mkdir', ['-p', join(dir, 'out/share/shard-0'), join(dir, 'out/share/shard-1')]);
    writeFileSync(join(dir, 'out/share/shard-0/share.shard-0-of-4.duckdb'), '');
    writeFileSync(join(dir, 'out/share/shard-1/share.shard-1-of-4.duckdb'), '');
    const merge = execFileSync('bash', [join(dir, 'call-1.sh')], { cwd: dir, encoding: 'utf8' });
    expect(merge).toBe(
      'isosim sweep merge out/share/share.duckdb out/share/shard-0/share.shard-0-of-4.duckdb out/share/shard-1/share.shard-1-of-4.duckdb\n',
    );
  });

  it.each([
    [{ shards: 0 }, /sweep --emit: shards: 0 is not allowed; give a whole number from 1 to 100000/],
    [{ shards: 2.5 }, /shards: 2.5 is not allowed/],
    [{ outDir: 'my results' }, /outDir: 'my results' has characters a batch script cannot carry safely/],
    [{ sweepFile: 'a$b.json' }, /sweepFile: 'a\$b.json' has characters/],
    [{ outDir: 'out/%j' }, /outDir/],
    [{ name: 'Share' }, /name: 'Share' is not a name a job can carry/],
    [{ jobName: 'a b' }, /jobName: 'a b' is not allowed/],
    [{ isosim: 'isosim\nrm -rf /' }, /isosim: .* is not a command/],
    [{ cpusPerTask: 0 }, /cpusPerTask: 0 is not allowed/],
    [{ sbatch: ['--partition=a b'] }, /sbatch: '--partition=a b' is not an sbatch option/],
  ])('refuses %j', (over, message) => {
    expect(() => slurmScript({ ...SLURM, ...over })).toThrow(IsosimError);
    expect(() => slurmScript({ ...SLURM, ...over })).toThrow(message);
  });
});

const K8S: K8sOptions = {
  sweepFile: '/results/share.json',
  name: 'share',
  shards: 6,
  image: 'ghcr.io/lab/isosim:0.1.0',
  outVolume: { claimName: 'isosim-results' },
};

/** The JSON Schema of a batch/v1 Job (Kubernetes 1.30, strict: no unknown fields), test/fixtures/k8s/README.md. */
function jobValidator() {
  const schema = JSON.parse(readFileSync(resolve('test/fixtures/k8s/job-batch-v1.json'), 'utf8'));
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  return ajv.compile(schema);
}

describe('k8sIndexedJob', () => {
  const validate = jobValidator();

  it('is an Indexed Job of n completions, each pod running its shard; valid against the batch/v1 Job schema', () => {
    const job = k8sIndexedJob({
      ...K8S,
      parallelism: 3,
      cpusPerTask: 2,
      namespace: 'lab',
      backoffLimitPerIndex: 2,
    });
    expect(validate(job), JSON.stringify(validate.errors)).toBe(true);
    // The manifest file is JSON, which is YAML: the same object back.
    expect(JSON.parse(k8sManifest(job))).toEqual(job);
    const spec = job.spec as Json;
    expect(spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 6,
      parallelism: 3,
      backoffLimitPerIndex: 2,
    });
    expect(job.metadata).toMatchObject({ name: 'isosim-share', namespace: 'lab' });
    const pod = spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const c = pod.containers[0];
    expect(c.image).toBe('ghcr.io/lab/isosim:0.1.0');
    expect(c.command).toEqual([
      'isosim',
      'sweep',
      '/results/share.json',
      '--shard',
      '$(JOB_COMPLETION_INDEX)/6',
      '--jobs',
      '2',
      '--out',
      '/results/shard-$(JOB_COMPLETION_INDEX)',
    ]);
    expect(c.env).toEqual([
      {
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: {
          fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
        },
      },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '2' }, limits: { cpu: '2' } });
    expect(c.volumeMounts).toEqual([{ name: 'results', mountPath: '/results' }]);
    expect(pod.volumes).toEqual([
      { name: 'results', persistentVolumeClaim: { claimName: 'isosim-results' } },
    ]);
  });

  it('defaults parallelism to n and takes another command and mount path', () => {
    const job = k8sIndexedJob({
      ...K8S,
      isosim: ['node', '/app/bin/isosim.js'],
      outVolume: { claimName: 'r', mountPath: '/data/' },
    });
    expect(validate(job), JSON.stringify(validate.errors)).toBe(true);
    const spec = job.spec as Json;
    expect(spec.parallelism).toBe(6);
    expect(spec.backoffLimitPerIndex).toBeUndefined();
    const c = spec.template.spec.containers[0];
    expect(c.command.slice(0, 3)).toEqual(['node', '/app/bin/isosim.js', 'sweep']);
    expect(c.command.at(-1)).toBe('/data/shard-$(JOB_COMPLETION_INDEX)');
  });

  it('has a merge Job over every shard file, valid too', () => {
    const job = k8sMergeJob(K8S);
    expect(validate(job), JSON.stringify(validate.errors)).toBe(true);
    const spec = job.spec as Json;
    expect((job.metadata as Record<string, unknown>).name).toBe('isosim-share-merge');
    expect(spec.completionMode).toBeUndefined();
    expect(spec.template.spec.containers[0].command).toEqual([
      'isosim',
      'sweep',
      'merge',
      '/results/share.duckdb',
      ...[0, 1, 2, 3, 4, 5].map((i) => `/results/shard-${i}/share.shard-${i}-of-6.duckdb`),
    ]);
  });

  it('is caught by the schema when wrong (the check is not vacuous)', () => {
    const job = k8sIndexedJob(K8S) as Json;
    expect(validate({ ...job, spec: { ...job.spec, completionMode: 7 } })).toBe(false);
    expect(validate({ ...job, spec: { ...job.spec, completionsTypo: 6 } })).toBe(false);
    expect(validate({ ...job, kind: 'Pod' })).toBe(false);
  });

  it.each([
    [{ shards: 0 }, /shards: 0 is not allowed/],
    [{ jobName: 'Isosim_Share' }, /jobName: 'Isosim_Share' is not allowed/],
    [{ image: '' }, /image: '' is not an image reference/],
    [{ outVolume: { claimName: '' } }, /outVolume.claimName: is empty/],
    [{ outVolume: { claimName: 'r', mountPath: 'results' } }, /mountPath: 'results' is not absolute/],
    [{ isosim: [] }, /isosim: is empty/],
  ])('refuses %j', (over, message) => {
    expect(() => k8sIndexedJob({ ...K8S, ...over })).toThrow(message);
  });
});
