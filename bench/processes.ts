/**
 * The `cli`, `paper`, `paper-full` and `mem` groups: the built `isosim` command as a
 * user runs it, `node packages/cli/dist/cli.js` (what the bin imports), in child
 * processes timed from outside.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Bench, median } from './common.ts';

/** The built CLI, from the repository's root (where `pnpm bench` runs). */
export const CLI = join(process.cwd(), 'packages', 'cli', 'dist', 'cli.js');

/**
 * The children's environment: the bench's without NODE_OPTIONS, so that no loader or
 * source condition set for the workspace reaches them: plain Node on dist, as the bin.
 */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/** Runs `node [nodeArgs] CLI args`; throws with its stderr if it fails. Returns wall seconds. */
export function cli(args: readonly string[], nodeArgs: readonly string[] = [], env = plainEnv()): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`isosim ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr.toString().trim()}`);
  }
  return s;
}

/** Runs `script` with sh, in the children's environment; throws with its stderr if it fails. Returns wall seconds. */
export function shell(script: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', script], { env: plainEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`sh -c ${script}: exit ${r.status ?? r.signal}\n${r.stderr.toString().trim()}`);
  return s;
}

/** `isosim --version`: loads the CLI and nothing else. Median of 5, ms. */
export function cliGroup(b: Bench): void {
  const ms = Array.from({ length: 5 }, () => cli(['--version']) * 1e3);
  b.emit('cli.startMs', median(ms), 'ms');
}

/** Wall seconds of `isosim paper ARGS` into a fresh directory, removed afterwards (GBs of logs). */
function paperWallS(b: Bench, args: readonly string[]): number {
  const out = join(b.dir, 'paper');
  try {
    return cli(['paper', ...args, '--out', out]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The 7 built-in scenarios, two at a time on this 2-core machine (`--jobs` defaults to the cores). */
export function paperGroup(b: Bench): void {
  b.emit('paper.wallS', paperWallS(b, ['--no-bands', '--no-goodput']), 's');
}

/** Everything `isosim paper` runs by default: the bands and the goodput sweep, about 68 runs. */
export function paperFullGroup(b: Bench): void {
  b.emit('paper.fullWallS', paperWallS(b, []), 's');
}

/**
 * Preloaded into a child: at exit, writes the process's peak RSS (KB, as getrusage
 * gives it) to the file ISOSIM_BENCH_RSS names. Node's own figure, so that no
 * `/usr/bin/time` is needed.
 */
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs';" +
    "process.on('exit', () => writeFileSync(process.env.ISOSIM_BENCH_RSS, String(process.resourceUsage().maxRSS)));",
)}`;

/**
 * Peak RSS, MB, of the built `isosim ARGS` (which must succeed), read by the child
 * itself; `rssFile` is where it writes it.
 */
export function cliPeakMb(args: readonly string[], rssFile: string): number {
  cli(args, [`--import=${RSS_HOOK}`], plainEnv({ ISOSIM_BENCH_RSS: rssFile }));
  return Number(readFileSync(rssFile, 'utf8')) / 1024;
}

/** Peak RSS, MB, of `isosim run table1-sedfdc --duration S` with its log on disk. */
function table1PeakMb(b: Bench, durationS: number): number {
  const out = join(b.dir, `mem-${durationS}`);
  try {
    const args = ['run', 'table1-sedfdc', '--duration', String(durationS), '--out', out];
    return cliPeakMb(args, join(b.dir, `mem-${durationS}.rss`));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Does memory stay flat as a run gets longer? Peak RSS of a 1,800 s Table 1 run less
 * that of a 60 s one, per 1,000 simulated seconds (the difference spans 1,740 s).
 */
export function memGroup(b: Bench): void {
  const short = table1PeakMb(b, 60);
  const long = table1PeakMb(b, 1800);
  b.emit('mem.peakMb60s', short, 'MB');
  b.emit('mem.peakMb1800s', long, 'MB');
  b.emit('mem.peakMbPer1000s', (long - short) / 1.74, 'MB');
}
