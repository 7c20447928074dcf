/**
 * `@isosim/cli`: the `isosim` command (`main`, `runCli`). The scenario library it is
 * built on (load, run, metrics, invariant checks) is `@isosim/scenarios`, re-exported
 * here for programs written against earlier versions.
 *
 * @module @isosim/cli
 */
export * from '@isosim/scenarios';
export { main, runCli } from './main.ts';
