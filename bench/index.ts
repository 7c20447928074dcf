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
import { fig6Host, PacketPipeline, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, logHeader, NS_PER_S, Priority } from '@isosim/core';
import { FileSink, scanLog } from '@isosim/core/node';
import { Replay } from '@isosim/replay';
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

/**
 * Replay over a log of at least 10 million records from a real host (Table 2 with
 * ShareGuard, two pCPUs): raw scan speed (every block's digest checked), the first
 * open (scan, fold into the world, snapshot index written), and seeking to random
 * records once the index exists (a fresh open from the index file, then the seek).
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
  const t0 = process.hrtime.bigint();
  const first = Replay.open(path);
  emit('replay.indexBuildS', Number(process.hrtime.bigint() - t0) / 1e9, 's');
  // Deterministic "random" record numbers spread over the log.
  const seeks: number[] = [];
  for (let i = 0; i < 20; i++) {
    const n = Math.floor((((i * 7919 + 13) % 1000) / 1000) * first.records);
    const a = process.hrtime.bigint();
    Replay.open(path).seek(n);
    seeks.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  emit('replay.seekMs', median(seeks), 'ms');
  emit('replay.seekMsMax', Math.max(...seeks), 'ms');
}

try {
  main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
