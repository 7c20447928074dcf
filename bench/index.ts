/**
 * `pnpm bench`: prints one JSON object per line, `{"name", "value", "unit"}`.
 *
 * Runs outside vitest (vitest loads XState's development build). Each figure is the
 * median of `REPEATS` runs after one warm-up. Logs go to a temporary directory on
 * disk, as in a real run, and are deleted afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fig6Host, PacketPipeline, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, logHeader, NS_PER_S, Priority } from '@isosim/core';
import { FileSink, scanLog } from '@isosim/core/node';
import { Replay, World } from '@isosim/replay';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { runScenario } from '../packages/scenarios/src/runScenario.ts';

const REPEATS = 3;
const dir = mkdtempSync(join(tmpdir(), 'isosim-bench-'));

function emit(name: string, value: number, unit: string): void {
  console.log(JSON.stringify({ name, value: Number(value.toPrecision(4)), unit }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function openLog(name: string, seed: number): LogWriter {
  const header = logHeader(name, seed);
  return new LogWriter(new FileSink(join(dir, `${name}.isolog`)), header);
}

/**
 * `sources` independent event sources, each re-posting itself after a random gap, so
 * the queue holds `sources` events throughout. Every event is logged when `withLog`.
 */
function kernelRun(
  events: number,
  withLog: boolean,
  sources: number,
): { perSec: number; bytesPerEvent: number } {
  const log = withLog ? openLog('kernel', 1) : undefined;
  const k = new Kernel({ seed: 1, log });
  const rng = k.prng.fork('bench');
  const tick = k.type('bench.tick', ['n']);
  const gaps = Int32Array.from({ length: 4096 }, () => rng.int(1, 10_000));
  let g = 0;
  const ep = k.endpoint('bench', (ev) => {
    k.postIn(gaps[g++ & 4095], Priority.HARDWARE, ep, tick, ep, ev.a0 + 1);
  });
  for (let i = 0; i < sources; i++) k.post(i, Priority.HARDWARE, ep, tick, ep, 0);
  const t0 = process.hrtime.bigint();
  k.run(events);
  const summary = log?.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { perSec: events / s, bytesPerEvent: summary ? summary.bytes / summary.records : 0 };
}

function actorRun(simNs: number): {
  packetsPerSec: number;
  sendsPerSec: number;
  recordsPerSec: number;
  batch: number;
} {
  const log = openLog('actors', 7);
  const p = new PacketPipeline({ seed: 7, meanGapNs: 500, upcallLatencyNs: 5_000, log });
  const t0 = process.hrtime.bigint();
  const r = p.run(simNs);
  const summary = log.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    packetsPerSec: r.delivered / s,
    // Events XState handled: upcalls plus the service timers that end each batch.
    sendsPerSec: (r.upcalls + r.batches) / s,
    recordsPerSec: summary.records / s,
    batch: r.delivered / r.batches,
  };
}

/** Fig. 6's host under SEDF-DC, logged to disk: simulated seconds per wall second. */
function fig6Run(simS: number): { speedup: number; eventsPerSec: number } {
  const log = openLog('fig6', 1);
  const kernel = new Kernel({ seed: 1, log });
  const stepNs = (simS * NS_PER_S) / 10;
  const mechanisms = {
    debt: { mode: 'immediate', spread: false, feedbackNs: NS_PER_S / 2, source: 'estimate' },
  } as const;
  const sys = new XenSystem(kernel, fig6Host({ steps: 8, stepRate: 150, stepNs, mechanisms }));
  sys.start();
  const t0 = process.hrtime.bigint();
  kernel.runUntil(simS * NS_PER_S);
  log.close();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { speedup: simS / s, eventsPerSec: kernel.dispatched / s };
}

function main(): void {
  // `pnpm bench -- replay`: only the replay figures.
  if (process.argv.includes('replay')) {
    replayBench();
    return;
  }
  // Queue depth 64: a host model's steady state (devices, per-domain timers, monitors).
  // Depth 1024 shows how the heap scales.
  kernelRun(500_000, true, 64);
  const logged = Array.from({ length: REPEATS }, () => kernelRun(5_000_000, true, 64));
  const bare = Array.from({ length: REPEATS }, () => kernelRun(5_000_000, false, 64));
  const deep = Array.from({ length: REPEATS }, () => kernelRun(5_000_000, true, 1024));
  emit('kernel.eventsPerSec', median(logged.map((r) => r.perSec)), 'events/s');
  emit('kernel.eventsPerSecNoLog', median(bare.map((r) => r.perSec)), 'events/s');
  emit('kernel.eventsPerSecDepth1024', median(deep.map((r) => r.perSec)), 'events/s');
  emit('log.bytesPerEvent', median(logged.map((r) => r.bytesPerEvent)), 'bytes');

  actorRun(50_000_000);
  const actors = Array.from({ length: REPEATS }, () => actorRun(500_000_000));
  emit('actors.eventsPerSec', median(actors.map((r) => r.packetsPerSec)), 'events/s');
  emit('actors.xstateEventsPerSec', median(actors.map((r) => r.sendsPerSec)), 'events/s');
  emit('actors.logRecordsPerSec', median(actors.map((r) => r.recordsPerSec)), 'records/s');
  emit('actors.meanBatch', median(actors.map((r) => r.batch)), 'packets/batch');

  fig6Run(2);
  const f6 = Array.from({ length: REPEATS }, () => fig6Run(20));
  emit('sim.fig6-sedfdc.speedup', median(f6.map((r) => r.speedup)), 'simulated s / wall s');
  emit('sim.fig6-sedfdc.eventsPerSec', median(f6.map((r) => r.eventsPerSec)), 'events/s');

  // The built-in scenario as `isosim run` runs it, 60 simulated seconds, log on disk.
  const t1 = loadScenario('table1-sedfdc');
  const t1runs = Array.from({ length: REPEATS }, () => runScenario(t1, { out: dir }));
  emit(
    'sim.table1-sedfdc.speedup',
    median(t1runs.map((r) => t1.durationS / r.wallS)),
    'simulated s / wall s',
  );

  replayBench();
}

/** Wall time of `f`, ms. */
function timeMs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A full garbage collection, for heap figures (`--expose-gc` set from here, not on the command line). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** What keeping the world at a point costs: a reference to its immutable snapshot. */
function retain(w: World): unknown {
  return w.snapshot();
}

/**
 * Replay over a log of at least 10 million records from a real host (Table 2 with
 * ShareGuard, two pCPUs): raw scan speed (every block's digest checked), folding the
 * whole log into a World, the first open (scan, fold into the world, snapshot index
 * written), seeking to random records once the index exists (a fresh open from the
 * index file each time, then the seek; and in one open replay), stepping back a record
 * at a time from there (`p` in `isosim replay --interactive`), and what a world kept
 * at every block boundary costs, in time and in memory (docs/replay.md, "Immutable
 * worlds").
 */
function replayBench(): void {
  const s = loadScenario('table2-with-shareguard');
  const out = join(dir, 'replay');
  mkdirSync(out, { recursive: true });
  runScenario(s, { out, durationS: 42 });
  const path = join(out, 'events.isolog');
  let records = 0;
  const scans = Array.from({ length: REPEATS }, () => {
    const t0 = process.hrtime.bigint();
    records = scanLog(path, { onRecord: () => undefined }).records;
    return records / (Number(process.hrtime.bigint() - t0) / 1e9);
  });
  emit('replay.logRecords', records, 'records');
  emit('replay.scanEventsPerSec', median(scans), 'records/s');
  // Scan and fold every record into one World, as the first open does.
  const folds = Array.from({ length: REPEATS }, () => {
    const w = new World();
    const ms = timeMs(() => {
      scanLog(path, {
        onRecord: (r, d) => {
          w.apply(r, d);
          return undefined;
        },
      });
    });
    return records / (ms / 1e3);
  });
  emit('replay.foldRecordsPerSec', median(folds), 'records/s');
  // The same, keeping the world at every block boundary: time and heap per kept world.
  const kept: { ms: number; kb: number; us: number; points: number }[] = [];
  for (let i = 0; i < REPEATS; i++) {
    collect();
    const before = process.memoryUsage().heapUsed;
    const w = new World();
    const points: unknown[] = [];
    let snapshotNs = 0n;
    const ms = timeMs(() => {
      scanLog(path, {
        onBlock: () => {
          const t0 = process.hrtime.bigint();
          points.push(retain(w));
          snapshotNs += process.hrtime.bigint() - t0;
        },
        onRecord: (r, d) => {
          w.apply(r, d);
          return undefined;
        },
      });
    });
    collect();
    const heap = process.memoryUsage().heapUsed - before;
    kept.push({
      ms,
      kb: heap / points.length / 1024,
      us: Number(snapshotNs) / 1e3 / points.length,
      points: points.length,
    });
  }
  emit('replay.foldKeepRecordsPerSec', median(kept.map((k) => records / (k.ms / 1e3))), 'records/s');
  emit('replay.snapshotPoints', kept[0].points, 'worlds');
  emit('replay.snapshotKb', median(kept.map((k) => k.kb)), 'KB');
  emit('replay.snapshotUs', median(kept.map((k) => k.us)), 'us');
  const t0 = process.hrtime.bigint();
  const first = Replay.open(path);
  emit('replay.indexBuildS', Number(process.hrtime.bigint() - t0) / 1e9, 's');
  emit('replay.worldJsonKb', first.seek(records).save().length / 1024, 'KB');
  // Deterministic "random" record numbers spread over the log.
  const targets = Array.from({ length: 20 }, (_, i) =>
    Math.floor((((i * 7919 + 13) % 1000) / 1000) * first.records),
  );
  const seeks = targets.map((n) => timeMs(() => Replay.open(path).seek(n)));
  emit('replay.seekMs', median(seeks), 'ms');
  emit('replay.seekMsMax', Math.max(...seeks), 'ms');
  // One open replay (the --interactive session): seek, then step back 1 record 10 times.
  const r = Replay.open(path);
  const warm: number[] = [];
  const back: number[] = [];
  for (const n of targets) {
    warm.push(timeMs(() => r.seek(n)));
    for (let k = 1; k <= 10 && n - k >= 0; k++) back.push(timeMs(() => r.seek(n - k)));
  }
  emit('replay.seekWarmMs', median(warm), 'ms');
  emit('replay.stepBackMs', median(back), 'ms');
  emit('replay.stepBackMsMax', Math.max(...back), 'ms');
}

try {
  main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
