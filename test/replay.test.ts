/**
 * Replay fidelity: the state rebuilt from a log alone, at record n, equals the live
 * run's state at the moment record n was about to be written, for every actor, the
 * scheduler's whole context, every vCPU and every pCPU, at many n, whether reached
 * through a persisted index or a fresh scan.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActorSchedulerPort, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, logHeader } from '@isosim/core';
import { FileSink } from '@isosim/core/node';
import { Replay, type World } from '@isosim/replay';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { toSystemConfig } from '../packages/scenarios/src/toConfig.ts';

interface LiveState {
  n: number;
  actors: Record<string, string>;
  scheduler: string;
  vcpus: number[];
  pcpus: number[];
}

const CODE = { blocked: 0, runnable: 1, running: 2 } as const;

function liveRun(name: string, path: string, untilNs: number, checkpoints: number): LiveState[] {
  const s = loadScenario(name);
  const log = new LogWriter(new FileSink(path), logHeader(s.name, s.seed, { spec: s }));
  const kernel = new Kernel({ seed: s.seed, log });
  const sys = new XenSystem(kernel, toSystemConfig(s));
  sys.start();
  const port = sys.scheduler as ActorSchedulerPort;
  const prng = kernel.prng.fork('test-checkpoints');
  const out: LiveState[] = [];
  for (let i = 1; i <= checkpoints; i++) {
    kernel.runUntil(Math.floor((untilNs * i) / (checkpoints + 1)));
    // Stop between two events (not only at whole times), a few events further on.
    for (let k = prng.int(0, 5); k > 0; k--) kernel.step();
    const actors: Record<string, string> = {};
    for (const a of sys.host.all()) actors[a.id] = String((a.snapshot() as { value: unknown }).value);
    out.push({
      n: log.records,
      actors,
      scheduler: JSON.stringify((port.actor.snapshot() as { context: unknown }).context),
      vcpus: sys.xen.vcpus.map((v) => CODE[v.state]),
      pcpus: Array.from({ length: sys.xen.pcpus }, (_, p) => sys.xen.running(p)?.index ?? -1),
    });
  }
  kernel.runUntil(untilNs);
  log.close();
  return out;
}

function rebuilt(w: World): Omit<LiveState, 'n'> {
  return {
    actors: w.s.actors,
    scheduler: JSON.stringify(w.s.scheduler?.context),
    vcpus: w.s.vcpus.map((v) => v.state),
    pcpus: w.s.pcpus.map((p) => p.vcpu),
  };
}

describe('replay', () => {
  it.each([
    ['table1-sedfdc', 1_500_000_000],
    ['table2-with-shareguard', 1_200_000_000],
  ])('rebuilds every actor, the scheduler, vCPUs and pCPUs at 40 points of %s', (name, untilNs) => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-replay-'));
    try {
      const path = join(dir, 'events.isolog');
      const live = liveRun(name, path, untilNs, 40);
      const replay = Replay.open(path, { every: 5_000 });
      expect(replay.built).toBe(true);
      expect(replay.index.complete).toBe(true);
      expect(replay.index.snapshots.length).toBeGreaterThan(5);
      for (const l of live) {
        const w = replay.seek(l.n);
        expect(w.s.seq).toBe(l.n);
        const { n, ...state } = l;
        expect(rebuilt(w), `at record ${n}`).toEqual(state);
      }
      // The index on disk is reused, and gives the same states.
      const again = Replay.open(path, { every: 5_000 });
      expect(again.built).toBe(false);
      for (const l of live.slice(0, 10)) expect(rebuilt(again.seek(l.n)).scheduler).toBe(l.scheduler);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the first record where a predicate holds, steps, and reads records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-replay-'));
    try {
      const path = join(dir, 'events.isolog');
      liveRun('table1-sedfdc', path, 1_500_000_000, 1);
      const r = Replay.open(path, { every: 10_000, indexPath: false });
      const hit = r.until((_w, rec, d) => d.typeName(rec.type) === 'sched.debt');
      expect(hit).toBeDefined();
      const [rec] = r.read(hit?.n ?? 0, (hit?.n ?? 0) + 1);
      expect(rec.type).toBe('sched.debt');
      // Nothing before it is a debt record.
      expect(r.read(0, hit?.n ?? 0).some((x) => x.type === 'sched.debt')).toBe(false);
      // Seeking by time lands after every record at or before that time.
      const t = rec.timeNs;
      const { n } = r.seekTime(t);
      const after = r.read(n, n + 1)[0];
      expect(after === undefined || after.timeNs > t).toBe(true);
      expect(r.read(n - 1, n)[0].timeNs).toBeLessThanOrEqual(t);
      expect(() => r.seek(r.records + 1)).toThrow(/outside the log/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a damaged log usable up to the damage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-replay-'));
    try {
      const path = join(dir, 'events.isolog');
      liveRun('table1-sedfdc', path, 600_000_000, 1);
      const bytes = readFileSync(path);
      const cut = join(dir, 'cut.isolog');
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const r = Replay.open(cut, { every: 5_000 });
      expect(r.index.complete).toBe(false);
      expect(r.index.damage?.message).toMatch(/truncated/);
      expect(r.records).toBeGreaterThan(1000);
      expect(r.seek(r.records).s.seq).toBe(r.records);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
