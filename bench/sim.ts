/**
 * The `sim` group: whole hosts, logged to disk, under the flat interpreter and under
 * XState's (`isosim run --engine xstate`, same log). In process, on the built packages.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ActorEngine, fig6Host, XenSystem } from '@isosim/actors';
import { Kernel, NS_PER_S } from '@isosim/core';
import { loadScenario, runScenario } from '@isosim/scenarios';
import { type Bench, median, openLog, REPEATS } from './common.ts';
import { kernelEventsPerSec } from './kernel.ts';

interface SimRun {
  readonly speedup: number;
  readonly eventsPerSec: number;
}

/**
 * Fig. 6's host under SEDF-DC (debt charged at once, not spread), 8 load steps over
 * `simS` seconds, logged to disk. Not the built-in `fig6-sedfdc` scenario (40 s, spread
 * debt): this is the host the figure has measured since the first bench, kept so that
 * its history compares.
 */
function fig6Run(dir: string, simS: number, engine: ActorEngine): SimRun {
  const log = openLog(dir, 'fig6', 1);
  const kernel = new Kernel({ seed: 1, log });
  const stepNs = (simS * NS_PER_S) / 10;
  const mechanisms = {
    debt: { mode: 'immediate', spread: false, feedbackNs: NS_PER_S / 2, source: 'estimate' },
  } as const;
  const sys = new XenSystem(kernel, {
    ...fig6Host({ steps: 8, stepRate: 150, stepNs, mechanisms }),
    engine,
  });
  sys.start();
  const t0 = process.hrtime.bigint();
  kernel.runUntil(simS * NS_PER_S);
  log.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { speedup: simS / s, eventsPerSec: kernel.dispatched / s };
}

/**
 * A built-in scenario as `isosim run` runs it (log on disk, written on a worker thread
 * for runs of 10 s or more as `isosim run` does; `wallS` counts building the host, the
 * run and its measurements, not loading the scenario). `durationS` undefined: the
 * scenario's own length and window.
 */
function scenarioRun(dir: string, name: string, durationS: number | undefined, engine: ActorEngine): SimRun {
  const s = loadScenario(name);
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const { metrics, wallS } = runScenario(s, { out, durationS, engine, logThread: 'auto' });
  return { speedup: metrics.durationS / wallS, eventsPerSec: metrics.events / wallS };
}

/**
 * Simulated seconds of the Table 2 runs: 30 of the scenario's 120, to keep the bench
 * short (its load is steady throughout).
 */
const TABLE2_S = 30;

/** A host measured, with its warm-up: a short run first, so that the figure is of compiled code. */
interface Host {
  readonly name: string;
  readonly warm: (engine: ActorEngine) => void;
  readonly run: (engine: ActorEngine) => SimRun;
}

function hosts(dir: string): Host[] {
  return [
    { name: 'fig6-sedfdc', warm: (e) => fig6Run(dir, 2, e), run: (e) => fig6Run(dir, 20, e) },
    {
      name: 'table1-sedfdc',
      warm: (e) => scenarioRun(dir, 'table1-sedfdc', 5, e),
      run: (e) => scenarioRun(dir, 'table1-sedfdc', undefined, e),
    },
    {
      name: 'table2-baseline',
      warm: (e) => scenarioRun(dir, 'table2-baseline', 3, e),
      run: (e) => scenarioRun(dir, 'table2-baseline', TABLE2_S, e),
    },
    // The disk-heavy host of issue 16, its whole 30 s: a random reader and a sequential
    // writer through a block driver domain, the 7200 rpm disk busy throughout.
    {
      name: 'disk-interference',
      warm: (e) => scenarioRun(dir, 'disk-interference', 6, e),
      run: (e) => scenarioRun(dir, 'disk-interference', undefined, e),
    },
    // The memory-heavy host of issue 18, its whole 9 s: a 4 GiB build and a storm of 12
    // builds beside five guests of every kind that change their memory by themselves.
    {
      name: 'memory-launch-storm',
      warm: (e) => scenarioRun(dir, 'memory-launch-storm', 2, e),
      run: (e) => scenarioRun(dir, 'memory-launch-storm', undefined, e),
    },
  ];
}

/** Median speedup and events/s of `REPEATS` runs after a warm-up. */
function measure(h: Host, engine: ActorEngine): SimRun {
  h.warm(engine);
  const runs = Array.from({ length: REPEATS }, () => h.run(engine));
  return {
    speedup: median(runs.map((r) => r.speedup)),
    eventsPerSec: median(runs.map((r) => r.eventsPerSec)),
  };
}

/**
 * Every host under the flat engine, then under XState's (flat first: XState's runs
 * leave the shared code with more shapes seen). `sim.eventsPerSecOfKernel` is Table 2's
 * events/s over the bare kernel's logged events/s of this same bench run.
 */
export function simGroup(b: Bench): void {
  const all = hosts(b.dir);
  let table2 = 0;
  for (const h of all) {
    const r = measure(h, 'flat');
    b.emit(`sim.${h.name}.speedup`, r.speedup, 'simulated s / wall s');
    b.emit(`sim.${h.name}.eventsPerSec`, r.eventsPerSec, 'events/s');
    if (h.name === 'table2-baseline') table2 = r.eventsPerSec;
  }
  b.emit('sim.eventsPerSecOfKernel', table2 / kernelEventsPerSec(b), 'ratio');
  for (const h of all) {
    b.emit(`sim.${h.name}.speedup.xstate`, measure(h, 'xstate').speedup, 'simulated s / wall s');
  }
}
