/**
 * The `replay` group: reading a real host's log back (scan, fold, index, seek, step
 * back), in process on the built packages; then `isosim diff` (bench/diff.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { scanLog } from '@isosim/core/node';
import { Replay, World } from '@isosim/replay';
import { loadScenario, runScenario } from '@isosim/scenarios';
import { type Bench, median, REPEATS, timeMs } from './common.ts';
import { diffBench } from './diff.ts';

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
 * worlds"). Then `diffLogs` and `isosim diff` on two 600 s logs (bench/diff.ts).
 */
export function replayGroup(b: Bench): void {
  const emit = b.emit;
  const s = loadScenario('table2-with-shareguard');
  const out = join(b.dir, 'replay');
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
  // The diff's logs are 250 MB each: this one's disk space back first.
  rmSync(out, { recursive: true, force: true });
  diffBench(b.dir, b.emit);
}
