/**
 * A real cluster (issue 19, docs/scale-out.md "Slurm"): a one-node Slurm cluster on this
 * machine (scripts/slurm-cluster.sh: a munge key, a minimal slurm.conf with this host's
 * CPUs, munged, slurmctld and slurmd, all in a temp directory), a 4-shard sweep
 * submitted with the script `isosim sweep --emit slurm` writes, waited for, merged by the
 * dependent job, and the merged table equal, row for row, to a local `isosim sweep` of
 * the same file. The daemons it started are stopped at the end. Where Slurm is not
 * installed or cannot start (not root, no munge), the test is skipped with the reason;
 * `.ci/run` installs Debian's slurmctld, slurmd, slurm-client and munge so that CI runs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { querySweep } from '../packages/scenarios/src/sweep/query.ts';
import { BIN, isosim } from './isosim.ts';

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'slurm-cluster.sh');
const dir = mkdtempSync(join(tmpdir(), 'isosim-slurm-'));
const cluster = join(dir, 'cluster');
let env: NodeJS.ProcessEnv | undefined;
let why = '';

beforeAll(() => {
  const r = spawnSync('bash', [SCRIPT, 'start', cluster], { encoding: 'utf8' });
  if (r.status === 0) env = { ...process.env, SLURM_CONF: join(cluster, 'slurm.conf') };
  else {
    why = (r.stderr || r.stdout || `exit ${r.status}`).trim();
    console.warn(`Slurm test skipped: ${why}`);
  }
}, 60_000);

afterAll(() => {
  spawnSync('bash', [SCRIPT, 'stop', cluster]);
  rmSync(dir, { recursive: true, force: true });
});

/** Every run of a results file by id, without the wall time (not repeatable). */
async function rows(path: string): Promise<readonly unknown[]> {
  return (await querySweep(path, 'SELECT * EXCLUDE (wall_s) FROM runs ORDER BY id')).rows;
}

describe('a sweep on a one-node Slurm cluster', () => {
  it('4 array tasks and the dependent merge give the table a local sweep gives', async (ctx) => {
    if (env === undefined) ctx.skip(`Slurm could not start here: ${why}`);
    const file = join(dir, 'cluster-sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'cluster-sweep',
        base: 'table1-sedfdc',
        durationS: 0.5,
        params: [{ path: 'domains[name=Dom-1].vcpus[0].sedf.sliceMs', values: [1, 1.5, 2] }],
        seeds: 2,
        record: { metrics: ['domains.Dom-1.combinedPct', 'domains.Dom-1.cpuPct'] },
      }),
    );
    const out = join(dir, 'slurm-out');
    const e = isosim(
      'sweep',
      file,
      '--emit',
      'slurm',
      '--shards',
      '4',
      '--out',
      out,
      '--isosim',
      `${process.execPath} ${BIN}`,
    );
    expect(e.code, e.err).toBe(0);
    const submit = readFileSync(join(out, 'submit.sh'), 'utf8');
    expect(submit).toContain('#SBATCH --array=0-3');
    const s = spawnSync('bash', [join(out, 'submit.sh')], { encoding: 'utf8', env, cwd: dir });
    expect(s.status, s.stderr).toBe(0);
    const ids = /array job (\d+).*merge job (\d+)/.exec(s.stdout);
    expect(ids, s.stdout).not.toBeNull();
    // Wait until both jobs have left the queue (at most 3 minutes).
    const merged = join(out, 'cluster-sweep.duckdb');
    for (let i = 0; i < 360; i++) {
      const q = spawnSync('squeue', ['-h', '-j', `${ids?.[1]},${ids?.[2]}`], { encoding: 'utf8', env });
      if (q.status === 0 && q.stdout.trim() === '') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const log = (f: string) =>
      existsSync(join(out, 'logs', f)) ? readFileSync(join(out, 'logs', f), 'utf8') : '';
    expect(
      existsSync(merged),
      `no merged file; merge log: ${log('merge.log')}; shard 0: ${log('shard-0.log')}`,
    ).toBe(true);
    expect(log('merge.log')).toContain('merged 4 of 4 shards');
    const local = isosim('sweep', file, '--jobs', '2', '--out', join(dir, 'local'));
    expect(local.code, local.err).toBe(0);
    const want = await rows(join(dir, 'local', 'cluster-sweep.duckdb'));
    expect(want).toHaveLength(6);
    expect(await rows(merged)).toEqual(want);
  }, 300_000);
});
