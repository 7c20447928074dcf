/**
 * The Kubernetes manifests of a sharded sweep, run locally (issue 19, docs/scale-out.md
 * "Kubernetes"): `isosim sweep --emit k8s` writes an Indexed Job and a merge Job; here
 * each index's pod is played as Kubernetes would start it (the container's command, with
 * `$(JOB_COMPLETION_INDEX)` expanded from its env to 0..n-1, the results volume a local
 * directory, the image's `isosim` this repository's), then the merge Job's command; the
 * merged table equals a local `isosim sweep` of the same file, row for row.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { querySweep } from '../packages/scenarios/src/sweep/query.ts';
import { BIN, isosim } from './isosim.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-k8s-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Container {
  command: string[];
  env?: { name: string }[];
  volumeMounts: { mountPath: string }[];
}
interface Job {
  kind: string;
  spec: { completionMode?: string; completions?: number; template: { spec: { containers: Container[] } } };
}

/** Runs a pod's container here: its command with `$(VAR)` expanded from `vars`, the mount path mapped to `volume`. */
function play(c: Container, vars: Record<string, string>, volume: string): void {
  const mount = c.volumeMounts[0].mountPath;
  const args = c.command.map((a) =>
    a.replace(/\$\((\w+)\)/g, (_, v: string) => vars[v] ?? `$(${v})`).replace(mount, volume),
  );
  // The image's `isosim` is this repository's.
  expect(args[0]).toBe('isosim');
  const r = spawnSync(process.execPath, [BIN, ...args.slice(1)], { encoding: 'utf8' });
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
}

async function rows(path: string): Promise<readonly unknown[]> {
  return (await querySweep(path, 'SELECT * EXCLUDE (wall_s) FROM runs ORDER BY id')).rows;
}

describe('the Kubernetes Indexed Job of a sweep, played locally', () => {
  it('its pods and the merge Job give the table a local sweep gives', async () => {
    const file = join(dir, 'k8s-sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'k8s-sweep',
        base: 'table1-sedfdc',
        durationS: 0.5,
        params: [{ path: 'domains[name=Dom-1].vcpus[0].sedf.sliceMs', values: [1, 2] }],
        seeds: 2,
        record: { metrics: ['domains.Dom-1.combinedPct'] },
      }),
    );
    const out = join(dir, 'manifests');
    const e = isosim('sweep', file, '--emit', 'k8s', '--shards', '3', '--image', 'isosim:test', '--out', out);
    expect(e.code, e.err).toBe(0);
    const job = JSON.parse(readFileSync(join(out, 'k8s-sweep.k8s.json'), 'utf8')) as Job;
    const merge = JSON.parse(readFileSync(join(out, 'k8s-sweep-merge.k8s.json'), 'utf8')) as Job;
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3 });
    const shard = job.spec.template.spec.containers[0];
    expect(shard.env?.map((v) => v.name)).toContain('JOB_COMPLETION_INDEX');
    const volume = join(dir, 'volume');
    for (let i = 0; i < 3; i++) play(shard, { JOB_COMPLETION_INDEX: String(i) }, volume);
    play(merge.spec.template.spec.containers[0], {}, volume);
    const local = isosim('sweep', file, '--jobs', '1', '--out', join(dir, 'local'));
    expect(local.code, local.err).toBe(0);
    const want = await rows(join(dir, 'local', 'k8s-sweep.duckdb'));
    expect(want).toHaveLength(4);
    expect(await rows(join(volume, 'k8s-sweep.duckdb'))).toEqual(want);
  }, 120_000);
});
