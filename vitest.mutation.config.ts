/**
 * The tests Stryker runs against each mutant (`pnpm mutation`): the unit and property
 * tests of the schedulers, the hypervisor's accounting and ShareGuard. Fast ones only:
 * Stryker runs them once per mutant. A test here must import the mutated files by path:
 * `@isosim/actors` resolves through node_modules to the original source, not Stryker's
 * mutated copy, and would see no mutant at all. Like vitest.config.ts, it resolves the
 * packages to their sources (`isosim-source`), never to a build.
 */
import { defineConfig } from 'vitest/config';
import { fromSources } from './vitest.config.ts';

export default defineConfig({
  ...fromSources,
  test: {
    include: [
      'packages/actors/src/scheduler/*.test.ts',
      'packages/actors/src/hypervisor/*.test.ts',
      'packages/actors/src/control/*.test.ts',
      'test/verify/sedf.model.test.ts',
    ],
    testTimeout: 60_000,
  },
});
