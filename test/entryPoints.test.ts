/**
 * Entry points that fit where they run (issue 14): `@isosim/core` and
 * `@isosim/actors/machines` bundle for a browser, with no Node built-in anywhere in
 * their import graph; the log files on disk live under `@isosim/core/node`.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Bundles `entry` for a browser; every module it pulled in, by path. */
async function bundle(entry: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: `export * from '${entry}';`, resolveDir: import.meta.dirname, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // The workspace's sources (as the tests run), not packages/*/dist; 'module' is
    // esbuild's default condition, dropped once any are given.
    conditions: ['isosim-source', 'module'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  return Object.keys(result.metafile.inputs);
}

describe('entry points', () => {
  it('@isosim/core bundles for a browser, without its Node-only log files', async () => {
    const inputs = await bundle('@isosim/core');
    expect(inputs.some((p) => p.endsWith('kernel.ts'))).toBe(true);
    expect(inputs.filter((p) => /fileSink|fileSource|jsonl/.test(p))).toEqual([]);
  });

  it('@isosim/actors/machines bundles for a browser and exports every machine', async () => {
    const inputs = await bundle('@isosim/actors/machines');
    expect(inputs.some((p) => p.endsWith('nicMachine.ts'))).toBe(true);
    const machines = await import('@isosim/actors/machines');
    for (const name of [
      'nicMachine',
      'netbackMachine',
      'netfrontMachine',
      'sedfMachine',
      'creditMachine',
      'workloadMachine',
      'feedbackLoopMachine',
      'toolstackMachine',
      'dynamicGuestMachine',
    ] as const) {
      expect(machines[name].config, name).toBeDefined();
    }
  });

  it('a browser bundle of @isosim/core/node fails on node:fs: the split is real', async () => {
    await expect(bundle('@isosim/core/node')).rejects.toThrow(/node:fs/);
  });
});
