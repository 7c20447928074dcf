/**
 * The charging lab run as sweeps (`chargingLabSweep`): its results equal the in-process
 * lab's (`chargingLab`, the reference) on a short scenario, the same with one worker or
 * two, and a second run resumes from the stored records instead of running again.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChargingPolicyId } from '@isosim/actors';
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import {
  type ChargingResult,
  chargingLab,
  chargingLabSweep,
  chargingMetricPaths,
  chargingSweep,
  chargingSweepName,
} from './charging.ts';
import { generatedChargingHost, generatedChargingHostJson } from './chargingHosts.ts';
import { loadScenario } from './load.ts';
import { loadSweep } from './sweep/expand.ts';
import { readRuns } from './sweep/query.ts';

/** A generated UDP host (a shared driver domain: 1A is skipped), 2 simulated seconds. */
const DURATION = 2;
const POLICIES: readonly ChargingPolicyId[] = ['1A', '1C', '2B', '2C'];
const gen = generatedChargingHost(5);
const blocks = loadScenario('charging-block-sizes');
const entries = [{ scenario: gen, base: generatedChargingHostJson(5) }];
const options = { durationS: DURATION, policies: POLICIES };

/** The results without their log hashes (the in-process reference does not hash its log). */
const unhashed = (rs: readonly ChargingResult[]) => rs.map(({ logHash: _, ...r }) => r);

describe('chargingLabSweep', () => {
  const root = mkdtempSync(join(tmpdir(), 'isosim-charging-sweep-'));
  const one = join(root, 'one');
  const two = join(root, 'two');

  it('gives the in-process lab’s results from the stored records; two workers give one worker’s', async () => {
    const reference = chargingLab([gen], options);
    const a = await chargingLabSweep(entries, one, { ...options, jobs: 1 });
    const b = await chargingLabSweep(entries, two, { ...options, jobs: 2 });
    expect([a.runs, a.ran, a.recorded]).toEqual([3, 3, 0]);
    expect(unhashed(a.results)).toEqual(unhashed(reference));
    expect(a.results.map((r) => r.skipped === undefined)).toEqual([false, true, true, true]);
    for (const r of a.results.slice(1)) expect(r.logHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.results).toEqual(a.results);
  });

  it('resumes: a second run reads the stored runs and runs nothing', async () => {
    const first = await chargingLabSweep(entries, one, { ...options, jobs: 1 });
    const again = await chargingLabSweep(entries, one, { ...options, jobs: 2 });
    expect([again.runs, again.recorded, again.ran]).toEqual([3, 3, 0]);
    expect(again.results).toEqual(first.results);
    // The files a user reruns or queries: a valid sweep file, the generated host's scenario beside it.
    expect(again.sweeps).toEqual([
      {
        scenario: 'gen-5',
        file: join(one, 'charging-gen-5.sweep.json'),
        results: join(one, 'charging-gen-5.duckdb'),
      },
    ]);
    expect(loadSweep(join(one, 'charging-gen-5.sweep.json')).def.base).toBe('scenarios/gen-5.json');
    expect(JSON.parse(readFileSync(join(one, 'scenarios', 'gen-5.json'), 'utf8'))).toEqual(
      generatedChargingHostJson(5),
    );
    const runs = await readRuns(join(one, 'charging-gen-5.duckdb'));
    expect(runs.map((r) => r.params['mechanisms.charging'])).toEqual(['1C', '2B', '2C']);
  });

  it('replaces the results of another sweep of the same scenario (another duration)', async () => {
    const notes: string[] = [];
    const r = await chargingLabSweep(entries, two, {
      durationS: 3,
      policies: ['2C'],
      jobs: 1,
      onNote: (t) => notes.push(t),
    });
    expect([r.recorded, r.ran]).toEqual([0, 1]);
    expect(notes.join('\n')).toContain('held another sweep of gen-5');
    expect((await readRuns(join(two, 'charging-gen-5.duckdb'))).length).toBe(1);
  });

  it('refuses a scenario given twice, before writing anything', async () => {
    const dir = join(root, 'twice');
    await expect(chargingLabSweep([entries[0], entries[0]], dir, options)).rejects.toThrow(IsosimError);
    await expect(chargingLabSweep([entries[0], entries[0]], dir, options)).rejects.toThrow(
      'gen-5 is given twice',
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('chargingSweep', () => {
  it('sweeps mechanisms.charging over the policies that can run, recording what the tables need', () => {
    const { def, run, skipped } = chargingSweep(blocks, 'charging-block-sizes', { durationS: 10 });
    expect(run).toEqual(['1B', '1C', '1D', '1E', '2A', '2B', '2C']);
    expect(skipped.map((r) => [r.policy, r.skipped])).toEqual([['1A', expect.stringContaining('Dom-blk')]]);
    expect(def).toMatchObject({
      name: 'charging-block-sizes',
      base: 'charging-block-sizes',
      durationS: 10,
      params: [{ path: 'mechanisms.charging', values: run }],
    });
    const metrics = chargingMetricPaths(blocks);
    expect(metrics).toContain('charging.errorT.max');
    expect(metrics).toContain('domains.Dom-1.disk.readIops');
    expect(metrics).not.toContain('charging.shareGuard.worst');
    expect(chargingMetricPaths(loadScenario('table2-with-shareguard'))).toContain(
      'charging.shareGuard.worst',
    );
  });

  it('names sweeps as sweep files allow', () => {
    expect(chargingSweepName('gen-1')).toBe('charging-gen-1');
    expect(chargingSweepName('charging-tiny-packets')).toBe('charging-tiny-packets');
    expect(chargingSweepName('My Host_2')).toBe('charging-my-host-2');
    expect(chargingSweepName('x'.repeat(80))).toHaveLength(64);
  });
});
