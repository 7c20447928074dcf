/** The `kernel` and `actors` groups: the run loop and the packet pipeline, in process. */
import { PacketPipeline } from '@isosim/actors';
import { Kernel, Priority } from '@isosim/core';
import { type Bench, median, openLog, REPEATS } from './common.ts';

/**
 * `sources` independent event sources, each re-posting itself after a random gap, so
 * the queue holds `sources` events throughout. Every event is logged when `withLog`.
 */
function kernelRun(
  dir: string,
  events: number,
  withLog: boolean,
  sources: number,
): { perSec: number; bytesPerEvent: number } {
  const log = withLog ? openLog(dir, 'kernel', 1) : undefined;
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

/** The bare kernel's logged events/s, queue depth 64: what the simulator is measured against. */
function loggedKernel(dir: string): { perSec: number; bytesPerEvent: number }[] {
  kernelRun(dir, 500_000, true, 64);
  return Array.from({ length: REPEATS }, () => kernelRun(dir, 5_000_000, true, 64));
}

/**
 * Queue depth 64: a host model's steady state (devices, per-domain timers, monitors).
 * Depth 1024 shows how the heap scales.
 */
export function kernelGroup(b: Bench): void {
  const logged = loggedKernel(b.dir);
  const bare = Array.from({ length: REPEATS }, () => kernelRun(b.dir, 5_000_000, false, 64));
  const deep = Array.from({ length: REPEATS }, () => kernelRun(b.dir, 5_000_000, true, 1024));
  b.kernelEventsPerSec = median(logged.map((r) => r.perSec));
  b.emit('kernel.eventsPerSec', b.kernelEventsPerSec, 'events/s');
  b.emit('kernel.eventsPerSecNoLog', median(bare.map((r) => r.perSec)), 'events/s');
  b.emit('kernel.eventsPerSecDepth1024', median(deep.map((r) => r.perSec)), 'events/s');
  b.emit('log.bytesPerEvent', median(logged.map((r) => r.bytesPerEvent)), 'bytes');
}

/**
 * `kernel.eventsPerSec` of this run: the `kernel` group's, or measured now (not
 * printed) when a filter left that group out.
 */
export function kernelEventsPerSec(b: Bench): number {
  b.kernelEventsPerSec ??= median(loggedKernel(b.dir).map((r) => r.perSec));
  return b.kernelEventsPerSec;
}

function actorRun(
  dir: string,
  simNs: number,
): {
  packetsPerSec: number;
  sendsPerSec: number;
  recordsPerSec: number;
  batch: number;
} {
  const log = openLog(dir, 'actors', 7);
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

export function actorsGroup(b: Bench): void {
  actorRun(b.dir, 50_000_000);
  const actors = Array.from({ length: REPEATS }, () => actorRun(b.dir, 500_000_000));
  b.emit('actors.eventsPerSec', median(actors.map((r) => r.packetsPerSec)), 'events/s');
  b.emit('actors.xstateEventsPerSec', median(actors.map((r) => r.sendsPerSec)), 'events/s');
  b.emit('actors.logRecordsPerSec', median(actors.map((r) => r.recordsPerSec)), 'records/s');
  b.emit('actors.meanBatch', median(actors.map((r) => r.batch)), 'packets/batch');
}
