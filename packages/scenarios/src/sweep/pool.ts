/**
 * Running a sweep's runs on a pool of worker threads (docs/sweeps.md): one per core by
 * default, each running one run at a time; a result store records each run as it ends,
 * so a sweep resumes where it stopped (a killed sweep loses only the runs in flight). A
 * run that throws is recorded with its reproducer and the sweep goes on; a worker that
 * dies is replaced, its run recorded as failed.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IsosimError } from '@isosim/core';
import { show } from '../load.ts';
import type { RunOutcome, RunTask } from './execute.ts';
import { type Expansion, type LoadedSweep, type SweepRun, scenarioAt } from './expand.ts';
import type { ResultStore, RunRecord } from './types.ts';

/** Where a sweep is, for a progress bar. */
export interface SweepProgress {
  /** Runs recorded in this invocation (done or failed). */
  readonly done: number;
  /** Runs this invocation has to run (the rest were recorded before). */
  readonly total: number;
  readonly failed: number;
}

export interface RunSweepOptions {
  /** Worker threads (default `os.availableParallelism()`, at most one per pending run). */
  readonly jobs?: number;
  /** The runs to run (default every run of the expansion; a shard gives its own). */
  readonly runs?: readonly SweepRun[];
  /** Called after each run is recorded. */
  readonly onProgress?: (p: SweepProgress) => void;
  /** Called with each record once it is stored. */
  readonly onRecord?: (r: RunRecord) => void;
  /**
   * Stops the sweep when aborted: no more runs start, the runs in flight are dropped,
   * the records stored so far are kept, and `runSweep` rejects with `SweepStopped`.
   */
  readonly signal?: AbortSignal;
}

/** What `runSweep` rejects with when its `signal` is aborted: how far it got. */
export class SweepStopped extends Error {
  override readonly name = 'SweepStopped';
  constructor(
    /** Runs recorded by this invocation before it stopped. */
    readonly done: number,
    /** Runs this invocation had to run. */
    readonly total: number,
  ) {
    super(`stopped after ${done} of ${total} runs`);
  }
}

/** What a sweep did. */
export interface SweepSummary {
  /** The runs of this invocation. */
  readonly runs: number;
  /** Of them, recorded before (skipped). */
  readonly skipped: number;
  /** Run now, and of those, failed. */
  readonly ran: number;
  readonly failed: number;
  /** Wall time of the runs, s. */
  readonly wallS: number;
  /** Worker threads used. */
  readonly jobs: number;
}

/** The URL of tsx's ESM registration API, from the workspace's tsx (sources only). */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}

/**
 * A worker. Built, worker.js beside this file, with the process's Node options as a
 * worker inherits them (V8 flags such as `--max-semi-space-size` are the process's, and a
 * worker given them in `execArgv` refuses to start); in the workspace's sources (the
 * `isosim-source` condition) worker.ts, through tsx's loader registered in the worker
 * first (a worker does not inherit the main thread's loader hooks on Node 20), with the
 * process's `--conditions` and that one.
 */
function startWorker(): Worker {
  const source = import.meta.url.endsWith('.ts');
  const url = new URL(source ? './worker.ts' : './worker.js', import.meta.url).href;
  const register = source ? `(await import(${JSON.stringify(tsxEsmApi())})).register();` : '';
  const code = `(async () => { ${register} await import(${JSON.stringify(url)}); })().catch((e) => { throw e; });`;
  if (!source) return new Worker(code, { eval: true });
  const conditions = process.execArgv.filter((a) => a.startsWith('--conditions=') || a.startsWith('-C='));
  return new Worker(code, {
    eval: true,
    execArgv: [...new Set([...conditions, '--conditions=isosim-source'])],
  });
}

/**
 * Runs the runs of `expansion` not yet in `store` on `jobs` worker threads, storing each
 * record as it comes. Every run's scenario is built and checked first (a combination of
 * values the scenario rejects is an `IsosimError` before anything runs). After the first
 * run that succeeds, a recorded metric it does not have stops the sweep with an
 * `IsosimError` naming the sweep file's field.
 */
export async function runSweep(
  sweep: LoadedSweep,
  expansion: Expansion,
  store: ResultStore,
  options: RunSweepOptions = {},
): Promise<SweepSummary> {
  if (store.meta.sweepId !== expansion.sweepId)
    throw new IsosimError(
      sweep.file,
      'results',
      `the store holds sweep ${store.meta.sweepId}, this file is sweep ${expansion.sweepId}`,
      'give another --out, or remove the old results: the file changed since they were written',
    );
  const runs = options.runs ?? expansion.runs;
  const recorded = await store.completedIds();
  const pending = runs.filter((r) => !recorded.has(r.id));
  const byPoint = new Map<number, Record<string, unknown>>();
  const tasks: RunTask[] = pending.map((r) => {
    let json = byPoint.get(r.point);
    if (json === undefined) {
      json = scenarioAt(sweep, r.params, undefined, `params (run ${r.id})`).json;
      byPoint.set(r.point, json);
    }
    return {
      id: r.id,
      index: r.index,
      params: r.params,
      seed: r.seed,
      scenario: JSON.stringify({ ...json, seed: r.seed }),
      metrics: sweep.metrics,
      checks: sweep.checks,
    };
  });
  const jobs = Math.max(1, Math.min(options.jobs ?? availableParallelism(), tasks.length));
  const t0 = process.hrtime.bigint();
  let done = 0;
  let failed = 0;
  if (tasks.length === 0)
    return { runs: runs.length, skipped: runs.length, ran: 0, failed: 0, wallS: 0, jobs: 0 };

  return await new Promise<SweepSummary>((resolve, reject) => {
    const workers = new Set<Worker>();
    let next = 0;
    let checkedMetrics = false;
    let stopped = false;
    let writes: Promise<void> = Promise.resolve();
    /** Ends the sweep with the error `why()` gives once the records under way are stored. */
    const stop = (why: () => unknown) => {
      if (stopped) return;
      stopped = true;
      for (const w of workers) void w.terminate();
      workers.clear();
      writes.then(
        () => reject(why()),
        () => reject(why()),
      );
    };
    const record = (r: RunRecord) => {
      if (r.error !== undefined) failed++;
      writes = writes.then(async () => {
        await store.put(r);
        done++;
        options.onRecord?.(r);
        options.onProgress?.({ done, total: tasks.length, failed });
        if (done === tasks.length && !stopped) {
          stopped = true;
          for (const w of workers) void w.terminate();
          resolve({
            runs: runs.length,
            skipped: runs.length - tasks.length,
            ran: tasks.length,
            failed,
            wallS: Number(process.hrtime.bigint() - t0) / 1e9,
            jobs,
          });
        }
      });
      writes.catch((err: unknown) => stop(() => err));
    };
    const spawn = () => {
      const w = startWorker();
      let current: RunTask | undefined;
      const feed = () => {
        if (stopped) return;
        if (next >= tasks.length) {
          workers.delete(w);
          void w.terminate();
          return;
        }
        current = tasks[next++];
        w.postMessage(current);
      };
      workers.add(w);
      w.on('message', (m: RunOutcome | 'ready') => {
        if (stopped) return;
        if (m === 'ready') return feed();
        const { record: r, absent } = m;
        current = undefined;
        if (!checkedMetrics && r.error === undefined) {
          checkedMetrics = true;
          const missing = sweep.metrics.findIndex((p) => absent[p] !== undefined);
          if (missing >= 0) {
            const path = sweep.metrics[missing];
            return stop(
              () =>
                new IsosimError(
                  sweep.file,
                  `record.metrics[${missing}]`,
                  `${show(path)}: ${absent[path]} in the metrics.json of run ${r.id}`,
                  'give a path to a number of metrics.json (docs/metrics.md; isosim run writes one to look at)',
                ),
            );
          }
        }
        record(r);
        feed();
      });
      const died = (err: Error) => {
        if (stopped || !workers.has(w)) return;
        workers.delete(w);
        if (current === undefined) return stop(() => err);
        // The run killed its worker (out of memory, say): record it, go on with a new one.
        const t = current;
        current = undefined;
        record({
          id: t.id,
          index: t.index,
          params: t.params,
          seed: t.seed,
          metrics: Object.fromEntries(t.metrics.map((p) => [p, null])),
          checks: {},
          wallS: 0,
          logHash: '',
          error: { message: `the worker died: ${err.message}`, scenario: t.scenario, seed: t.seed },
        });
        if (next < tasks.length) spawn();
      };
      w.on('error', died);
      // A worker the pool did not end (it ends its own only after taking them out of the set).
      w.on('exit', (code) => died(new Error(`the worker thread exited with code ${code}`)));
    };
    if (options.signal?.aborted) return stop(() => new SweepStopped(0, tasks.length));
    options.signal?.addEventListener('abort', () => stop(() => new SweepStopped(done, tasks.length)), {
      once: true,
    });
    for (let i = 0; i < jobs; i++) spawn();
  });
}
