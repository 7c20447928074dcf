#!/usr/bin/env node
/**
 * Runs every example as a user outside this repository would: pack each package
 * (`pnpm pack`, after `pnpm build`), create a fresh directory outside the workspace,
 * copy the example there with its `@isosim/*` dependencies pointed at the tarballs,
 * install with plain `npm install` (no overrides), type-check it with the example's
 * own tsconfig (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes,
 * skipLibCheck off), then run it with plain `node` (and, where the example has one, its
 * `check` script: e.g. a browser bundle). Any failure stops with a non-zero exit.
 *
 *   node examples/run.mjs [--keep] [--no-build] [name ...]
 *
 * `--keep` leaves the temporary directory (its path is printed); `--no-build` packs
 * whatever `dist/` holds. Names pick examples (default: every directory here with a
 * package.json).
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const build = !args.includes('--no-build');
const names = args.filter((a) => !a.startsWith('--'));
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'package.json')))
  .map((d) => d.name)
  .sort();
for (const n of names) {
  if (!all.includes(n)) {
    console.error(`error: examples/${n}: no such example; the examples are ${all.join(', ')}`);
    process.exit(2);
  }
}
const chosen = names.length > 0 ? names : all;

function run(cmd, argv, cwd, env = {}) {
  const started = process.hrtime.bigint();
  try {
    return execFileSync(cmd, argv, {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    console.error(`\nfailed in ${cwd}: ${cmd} ${argv.join(' ')}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    process.exit(1);
  } finally {
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    if (s > 5) console.log(`    (${cmd} ${argv[0]}: ${s.toFixed(1)} s)`);
  }
}

/**
 * The example's tsconfig with `skipLibCheck` off: every declaration file is checked,
 * isosim's included, under strict, noUncheckedIndexedAccess and
 * exactOptionalPropertyTypes. xstate 5.33.3's own declarations do not pass
 * exactOptionalPropertyTypes (TS2344 in its setup.d.ts), so errors located in
 * node_modules/xstate are counted and reported, and any other error fails.
 */
function typecheck(dir) {
  let out = '';
  try {
    out = execFileSync('npx', ['tsc', '-p', '.', '--noEmit', '--skipLibCheck', 'false'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const errors = out.split('\n').filter((l) => /^\S.*\(\d+,\d+\): error TS/.test(l));
  const theirs = errors.filter((l) => l.startsWith('node_modules/xstate/'));
  const ours = errors.filter((l) => !l.startsWith('node_modules/xstate/'));
  if (ours.length > 0 || (errors.length === 0 && out.trim() !== '')) {
    console.error(`\nfailed in ${dir}: tsc --skipLibCheck false\n${out}`);
    process.exit(1);
  }
  console.log(
    `    strict tsc, every .d.ts checked: 0 errors in isosim or the example (${theirs.length} in xstate's own declarations)`,
  );
}

const tmp = mkdtempSync(join(tmpdir(), 'isosim-consumer-'));
if (tmp.startsWith(root)) throw new Error(`${tmp} is inside the workspace`);
console.log(`examples: ${chosen.join(', ')} in ${tmp}`);
try {
  if (build) {
    console.log('  pnpm build');
    run('pnpm', ['build'], root);
  }
  const packs = join(tmp, 'tarballs');
  mkdirSync(packs);
  const tarballs = {};
  const internal = {};
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', dir);
    if (!existsSync(join(pkgDir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    run('pnpm', ['pack', '--pack-destination', packs], pkgDir);
    const file = readdirSync(packs).find((f) =>
      f.startsWith(`${pkg.name.replace('@', '').replace('/', '-')}-`),
    );
    if (file === undefined) throw new Error(`pnpm pack left no tarball for ${pkg.name}`);
    tarballs[pkg.name] = join(packs, file);
    internal[pkg.name] = Object.fromEntries(
      Object.entries(pkg.dependencies ?? {}).filter(([d]) => d.startsWith('@isosim/')),
    );
  }
  console.log(`  packed ${Object.keys(tarballs).join(', ')}`);

  for (const name of chosen) {
    console.log(`  ${name}`);
    const dir = join(tmp, name);
    cpSync(join(here, name), dir, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|out|dist)$/.test(src),
    });
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    // The isosim packages it names, and theirs, each from its tarball: a dependency
    // of a dependency (`@isosim/actors` needs `@isosim/core@^0.1.0`) resolves to the
    // same installed copy, as it would from the registry.
    const need = Object.keys(pj.dependencies ?? {}).filter((d) => d in tarballs);
    for (let i = 0; i < need.length; i++) {
      for (const d of Object.keys(internal[need[i]] ?? {})) if (!need.includes(d)) need.push(d);
    }
    for (const d of need) pj.dependencies = { ...pj.dependencies, [d]: `file:${tarballs[d]}` };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pj, null, 2)}\n`);
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);
    typecheck(dir);
    run('npm', ['run', 'build', '--silent'], dir);
    const out = run('npm', ['start', '--silent'], dir);
    for (const line of out.trimEnd().split('\n')) console.log(`    ${line}`);
    if (pj.scripts?.check !== undefined) {
      const checked = run('npm', ['run', 'check', '--silent'], dir);
      for (const line of checked.trimEnd().split('\n')) if (line !== '') console.log(`    ${line}`);
    }
  }
  console.log('examples: all passed');
} finally {
  if (keep) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
