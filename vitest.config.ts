/**
 * The tests run the TypeScript sources, never a build (packages/*\/dist may be stale or
 * absent): imports of `@isosim/*` resolve through the `isosim-source` condition of each
 * package's exports map, and the processes the tests start (the `isosim` bin, and the
 * children of `isosim paper` and `isosim goodput`) get that condition and tsx's loader
 * through NODE_OPTIONS, so that the bin's `#cli` is src/cli.ts.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** Vite's default conditions on the server, after the workspace's own. */
const conditions = ['isosim-source', 'module', 'node', 'development|production'];

/** Resolution from sources, shared with vitest.mutation.config.ts. */
export const fromSources: ViteUserConfig = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
};

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** For child Node processes: the same condition, and TypeScript through tsx. */
export const sourceNodeOptions = [process.env.NODE_OPTIONS, '--conditions=isosim-source', `--import=${tsx}`]
  .filter((o) => o !== undefined && o !== '')
  .join(' ');

export default defineConfig({
  ...fromSources,
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    env: { NODE_OPTIONS: sourceNodeOptions },
  },
});
