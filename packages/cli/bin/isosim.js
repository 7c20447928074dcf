#!/usr/bin/env node
// The `isosim` command: runs the built JavaScript (dist/cli.js) on plain Node. `#cli`
// is this package's own import map (package.json "imports"): in the workspace, under
// the `isosim-source` condition with a TypeScript loader (`pnpm isosim`, the tests), it
// is src/cli.ts instead, so that nothing there runs a stale or missing build.
import '#cli';
