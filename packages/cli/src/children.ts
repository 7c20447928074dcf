/**
 * Scenario runs in child processes, for the commands that run many (`isosim paper`,
 * `isosim goodput`): each job is `isosim run TARGET --out DIR --seed N`, a few at a
 * time (the runs are independent, and each is deterministic wherever it runs). Each
 * child locks and stages its own DIR (src/output.ts), so a run stopped by Ctrl-C leaves
 * its DIR as it was; the caller's own directory holds what it writes at the end.
 *
 * A child runs as its parent does: the same Node, with the parent's Node options
 * (`process.execArgv`) and environment, through the `isosim` bin. Built, that is
 * dist/cli.js on plain Node; in the workspace (`pnpm isosim`: tsx with the
 * `isosim-source` condition, or the tests' NODE_OPTIONS) the same TypeScript loader
 * and condition carry over, so the bin's `#cli` is src/cli.ts there too and a child
 * never runs a stale or missing build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsosimError } from '@isosim/core';
import { Interrupted, signalExit } from '@isosim/scenarios';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'isosim.js');

export interface ChildJob {
  /** Names the run in progress lines and in the result (unique among the jobs). */
  readonly name: string;
  /** What `isosim run` is given: a built-in's name or a scenario file's path. */
  readonly target: string;
  readonly dir: string;
  readonly seed: number;
  /** Relative cost (simulated seconds × domains): the costliest start first. */
  readonly cost: number;
}

/**
 * Runs one job. Resolves to its wall time, or undefined if a signal stopped it (it then
 * left its directory as it was).
 */
/**
 * Children write their logs on the simulation thread (`--no-log-thread`): the parent keeps
 * every core busy with runs, and a log thread per child only competed with them
 * (`isosim paper --no-bands --no-goodput`: 26.2 and 27.0 s without, 28.6 and 27.3 s with).
 */
function runChild(job: ChildJob, children: Set<ChildProcess>): Promise<number | undefined> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        BIN,
        'run',
        job.target,
        '--out',
        job.dir,
        '--seed',
        String(job.seed),
        '--no-log-thread',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.add(child);
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve(Number(process.hrtime.bigint() - t0) / 1e9);
      else if (code === 130 || code === 143 || signal !== null) resolve(undefined);
      else
        reject(
          new IsosimError(
            job.name,
            'run',
            `exited with status ${code}: ${err.trim()}`,
            `run it alone with isosim run ${job.target}`,
          ),
        );
    });
  });
}

/**
 * Runs `jobs`, `parallel` at a time, costliest first (so that the last to finish is a
 * short one), printing each finished one to stderr; starts no more once `stopped()`.
 * Resolves to the wall time of each job that finished, by name.
 */
export async function runAll(
  jobs: readonly ChildJob[],
  parallel: number,
  stopped: () => boolean,
): Promise<Map<string, number>> {
  const wall = new Map<string, number>();
  const queue = [...jobs].sort((a, b) => b.cost - a.cost);
  const children = new Set<ChildProcess>();
  // A signal to this process alone (not to its terminal's process group) reaches the
  // children too: each stops, leaving its directory as it was.
  const forward = (signal: NodeJS.Signals): void => {
    for (const c of children) c.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const worker = async (): Promise<void> => {
    for (let j = queue.shift(); j !== undefined && !stopped(); j = queue.shift()) {
      const s = await runChild(j, children);
      if (s === undefined) continue;
      wall.set(j.name, s);
      console.error(`${j.name}: ${s.toFixed(1)} s wall`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
  return wall;
}

/**
 * `runAll`, for a command (`where`, e.g. 'isosim paper') that writes `notWritten`
 * from the runs at the end: if a signal came meanwhile, throws `Interrupted` saying
 * which runs were kept and that `notWritten` was not written (`abandon()` drops the
 * command's own staged files and says what its directory is now).
 */
export async function runAllOrStop(
  where: string,
  jobs: readonly ChildJob[],
  parallel: number,
  signal: () => NodeJS.Signals | undefined,
  notWritten: string,
  abandon: () => string,
): Promise<Map<string, number>> {
  const wall = await runAll(jobs, parallel, () => signal() !== undefined);
  const stoppedBy = signal();
  if (stoppedBy !== undefined) {
    const { word, code } = signalExit(stoppedBy);
    const kept = jobs.filter((j) => wall.has(j.name)).map((j) => j.dir);
    throw new Interrupted(
      `${where}: ${word}; ${kept.length > 0 ? `kept the ${kept.length} scenario run(s) that finished (${kept.join(', ')}); the others' directories are unchanged` : 'no scenario run finished; their directories are unchanged'}; ${notWritten} not written (${abandon()})`,
      code,
    );
  }
  return wall;
}
