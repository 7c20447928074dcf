import { type EventLog, Kernel, LogWriter, MemorySink, NS_PER_S, Prng } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { type ActorEngine, ActorHost } from '../host/actorHost.ts';
import {
  Disk,
  type DiskModel,
  DiskOp,
  type DiskRequest,
  type ElevatorKind,
  HDD_7200,
  SECTOR_BYTES,
  SSD_SATA,
} from './disk.ts';

interface Done {
  readonly id: number;
  readonly atNs: number;
}

function rig(
  model: DiskModel,
  elevator: ElevatorKind = 'fifo',
  queueDepth = 1,
  seed = 1,
  engine: ActorEngine = 'flat',
) {
  const log = new LogWriter(new MemorySink(), {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'disk' },
    seed,
    versions: {},
  });
  const kernel = new Kernel({ seed, log });
  const host = new ActorHost(kernel, { engine });
  const disk = new Disk(kernel, host, { name: 'sda', model, elevator, queueDepth });
  const irqs: number[] = [];
  const done: Done[] = [];
  let nextId = 0;
  const req = (op: DiskOp, sector: number, sectors: number, guest = 1): DiskRequest => ({
    id: nextId++,
    guest,
    op,
    sector,
    sectors,
  });
  /** A driver that takes every completion at the interrupt, calls `then`, and re-enables. */
  const drive = (then: (r: DiskRequest) => void = () => {}) => {
    disk.onInterrupt = () => {
      irqs.push(kernel.nowNs);
      for (let r = disk.takeCompleted(); r !== undefined; r = disk.takeCompleted()) {
        done.push({ id: r.id, atNs: kernel.nowNs });
        then(r);
      }
      disk.enableInterrupts();
    };
  };
  return { kernel, host, disk, irqs, done, req, drive, log };
}

const xferNs = (bytes: number, bytesPerSec: number) => Math.ceil((bytes * NS_PER_S) / bytesPerSec);

describe('Disk: hard disk timing', () => {
  it('streams back-to-back sequential 64 KiB reads at the media rate (queue depth 1)', () => {
    const { kernel, disk, done, req, drive } = rig(HDD_7200);
    const n = 200;
    const sectors = (64 * 1024) / SECTOR_BYTES;
    let issued = 1;
    drive((r) => {
      if (issued < n) disk.submit(req(DiskOp.READ, r.sector + sectors, sectors, issued++));
    });
    disk.submit(req(DiskOp.READ, 0, sectors));
    kernel.run();
    expect(done.length).toBe(n);
    // Every request after the first continues the media stream: exactly one transfer apart.
    const xfer = xferNs(64 * 1024, HDD_7200.mediaBytesPerSec);
    for (let i = 1; i < n; i++) expect(done[i].atNs - done[i - 1].atNs).toBe(xfer);
    // The first pays the controller and its rotational wait; from then on, the media rate.
    expect(done[0].atNs).toBeLessThanOrEqual(HDD_7200.controllerNs + (60 * NS_PER_S) / HDD_7200.rpm + xfer);
    const rate = ((n - 1) * 64 * 1024 * NS_PER_S) / (done[n - 1].atNs - done[0].atNs);
    expect(rate).toBeGreaterThan(0.9999 * HDD_7200.mediaBytesPerSec);
    expect(rate).toBeLessThanOrEqual(HDD_7200.mediaBytesPerSec);
  });

  it('serves a sequential request from read-ahead within the window, from the platter after it', () => {
    const { kernel, disk, done, req, drive } = rig(HDD_7200);
    drive();
    disk.submit(req(DiskOp.READ, 0, 8));
    kernel.run();
    const first = done[0].atNs;
    // 5 ms later (inside 1 MiB of media time, 13.4 ms): already read ahead, controller only.
    kernel.runUntil(first + 5_000_000);
    disk.submit(req(DiskOp.READ, 8, 8));
    kernel.run();
    expect(done[1].atNs).toBe(first + 5_000_000 + HDD_7200.controllerNs);
    // 20 ms after that: the read-ahead stopped; same track, so no seek, but a rotational wait.
    const start = done[1].atNs + 20_000_000;
    kernel.runUntil(start);
    disk.submit(req(DiskOp.READ, 16, 8));
    kernel.run();
    const xfer = xferNs(4096, HDD_7200.mediaBytesPerSec);
    const waited = done[2].atNs - start - HDD_7200.controllerNs - xfer;
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThan((60 * NS_PER_S) / HDD_7200.rpm);
    // A write after a read is not the same stream.
    disk.submit(req(DiskOp.WRITE, 24, 8));
    kernel.run();
    expect(done[3].atNs - done[2].atNs).toBeGreaterThan(HDD_7200.controllerNs + xfer);
  });

  it('serves random 4 KiB reads in about an average seek plus half a rotation each', () => {
    const { kernel, disk, done, req, drive } = rig(HDD_7200);
    const prng = Prng.fromSeed(7);
    const n = 1000;
    const lastStart = HDD_7200.sectors / 8 - 1;
    const randomRead = () => req(DiskOp.READ, prng.int(0, lastStart) * 8, 8);
    const submitted: number[] = [];
    let issued = 0;
    const issue = () => {
      submitted.push(kernel.nowNs);
      issued++;
      disk.submit(randomRead());
    };
    drive(() => {
      if (issued < n) issue();
    });
    issue();
    kernel.run();
    expect(done.length).toBe(n);
    const meanNs = done.reduce((t, d, i) => t + d.atNs - submitted[i], 0) / n;
    // Expected from the model: the mean of the square-root seek curve over uniformly
    // random pairs of cylinders is trackToTrack + (fullStroke − trackToTrack) · 8/15
    // (E[sqrt(x)] for x the distance of two uniform points, density 2(1 − x)), the mean
    // rotational wait half a rotation, plus the controller and the 4 KiB transfer:
    // 0.1 + 11.04 + 4.167 + 0.053 = 15.36 ms.
    const m = HDD_7200;
    const seekNs = m.trackToTrackSeekNs + ((m.fullStrokeSeekNs - m.trackToTrackSeekNs) * 8) / 15;
    const halfRotationNs = (60 * NS_PER_S) / m.rpm / 2;
    const expectedNs = m.controllerNs + seekNs + halfRotationNs + xferNs(4096, m.mediaBytesPerSec);
    expect(expectedNs).toBeGreaterThan(15.3e6);
    expect(expectedNs).toBeLessThan(15.4e6);
    expect(Math.abs(meanNs - expectedNs) / expectedNs).toBeLessThan(0.03); // measured: +0.85%
    // Each one pays a seek and part of a rotation, never more than a full stroke and a turn.
    const maxNs = m.controllerNs + m.fullStrokeSeekNs + 2 * halfRotationNs + xferNs(4096, m.mediaBytesPerSec);
    for (let i = 0; i < n; i++) expect(done[i].atNs - submitted[i]).toBeLessThanOrEqual(maxNs + 1);
    expect(disk.stats.busyNs).toBe(done[n - 1].atNs); // always busy: the next one goes in at once
  });

  it('serves one request at a time, the rest waiting at the device in dispatch order', () => {
    const { kernel, disk, done, req, drive } = rig(HDD_7200, 'fifo', 4);
    drive();
    for (const s of [800_000, 100, 400_000_000, 8]) disk.submit(req(DiskOp.READ, s, 8));
    expect(disk.queued).toBe(0);
    expect(disk.atDevice).toBe(4);
    kernel.run();
    expect(done.map((d) => d.id)).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < 4; i++) expect(done[i].atNs).toBeGreaterThan(done[i - 1].atNs);
  });
});

describe('Disk: SSD timing', () => {
  const serviceNs = SSD_SATA.readLatencyNs + xferNs(4096, SSD_SATA.channelBytesPerSec);

  function burst(count: number, queueDepth: number): number {
    const { kernel, disk, req, drive } = rig(SSD_SATA, 'fifo', queueDepth);
    drive();
    for (let i = 0; i < count; i++) disk.submit(req(DiskOp.READ, i * 1000, 8));
    kernel.run();
    expect(disk.stats.completed).toBe(count);
    return kernel.nowNs;
  }

  it('completes 8 parallel requests 8x faster than one at a time, and 20 with all 10 channels 10x', () => {
    expect(burst(8, 1)).toBe(8 * serviceNs);
    expect(burst(8, 8)).toBe(serviceNs);
    expect(burst(20, 1)).toBe(20 * serviceNs);
    expect(burst(20, 32)).toBe(2 * serviceNs); // channels = 10: speed-up = channels
  });

  it('takes the operation latency plus the bytes at one channel rate', () => {
    const { kernel, disk, done, req, drive } = rig(SSD_SATA, 'fifo', 2);
    drive();
    disk.submit(req(DiskOp.WRITE, 0, 128));
    disk.submit(req(DiskOp.READ, 4096, 8));
    kernel.run();
    expect(done).toEqual([
      { id: 1, atNs: serviceNs },
      { id: 0, atNs: SSD_SATA.writeLatencyNs + xferNs(65536, SSD_SATA.channelBytesPerSec) },
    ]);
    expect(disk.stats.bytesWritten).toBe(65536);
    expect(disk.stats.bytesRead).toBe(4096);
    expect(disk.stats.maxWaitNs).toBe(done[1].atNs);
    expect(disk.stats.busyNs).toBe(done[1].atNs);
  });
});

describe('Disk: interrupt line', () => {
  it('raises once per burst while masked, again at enable if completions wait, not if none do', () => {
    const { kernel, disk, req } = rig(SSD_SATA, 'fifo', 8);
    const irqs: number[] = [];
    disk.onInterrupt = () => irqs.push(kernel.nowNs);
    for (let i = 0; i < 8; i++) disk.submit(req(DiskOp.READ, i * 8, 8));
    kernel.run();
    expect(irqs.length).toBe(1); // 8 completions, the line masked after the first
    expect(disk.actor.snapshot().value).toBe('masked');
    expect(disk.completedWaiting).toBe(8);
    for (let i = 0; i < 3; i++) disk.takeCompleted();
    disk.enableInterrupts(); // 5 still waiting: raised again at once
    expect(irqs.length).toBe(2);
    expect(disk.actor.snapshot().value).toBe('masked');
    while (disk.takeCompleted() !== undefined) {}
    disk.enableInterrupts();
    expect(irqs.length).toBe(2);
    expect(disk.actor.snapshot().value).toBe('armed');
    disk.enableInterrupts(); // already armed: nothing
    expect(irqs.length).toBe(2);
    disk.submit(req(DiskOp.WRITE, 0, 8));
    kernel.run();
    expect(irqs.length).toBe(3);
    expect(disk.interrupts).toBe(3);
  });

  it('accepts the driver re-enabling from inside the interrupt', () => {
    const { kernel, disk, irqs, req, drive } = rig(SSD_SATA, 'fifo', 4);
    drive();
    for (let round = 0; round < 3; round++) {
      disk.submit(req(DiskOp.READ, round * 8, 8));
      kernel.run();
      expect(disk.actor.snapshot().value).toBe('armed');
    }
    expect(irqs.length).toBe(3);
  });
});

describe('Disk: accounting and determinism', () => {
  /** Four guests, random mixed I/O, a driver that sometimes leaves completions for later. */
  function mixed(
    model: DiskModel,
    elevator: ElevatorKind,
    queueDepth: number,
    seed: number,
    engine: ActorEngine = 'flat',
  ) {
    const r = rig(model, elevator, queueDepth, seed, engine);
    const { kernel, disk, req } = r;
    const prng = Prng.fromSeed(seed);
    const taken: DiskRequest[] = [];
    let interrupts = 0;
    let deferred = false;
    const handle = () => {
      for (let d = disk.takeCompleted(); d !== undefined; d = disk.takeCompleted()) taken.push(d);
      disk.enableInterrupts();
    };
    disk.onInterrupt = () => {
      if (++interrupts % 3 === 0)
        deferred = true; // handled later, the line masked meanwhile
      else handle();
    };
    const checks: string[] = [];
    const check = () => {
      const s = disk.stats;
      if (s.submitted !== s.completed + disk.queued + disk.atDevice)
        checks.push(`submitted at ${kernel.nowNs}`);
      if (disk.inFlight !== disk.queued + disk.atDevice + disk.completedWaiting)
        checks.push(`inFlight at ${kernel.nowNs}`);
      if (disk.inFlight !== s.submitted - taken.length) checks.push(`taken at ${kernel.nowNs}`);
      if (disk.atDevice > queueDepth) checks.push(`depth at ${kernel.nowNs}`);
    };
    let bytes = 0;
    for (let step = 0; step < 40; step++) {
      for (let i = prng.int(0, 6); i > 0; i--) {
        const sectors = 8 * prng.int(1, 16);
        bytes += sectors * SECTOR_BYTES;
        disk.submit(
          req(
            prng.chance(2, 3) ? DiskOp.READ : DiskOp.WRITE,
            8 * prng.int(0, 1_000_000),
            sectors,
            prng.int(1, 4),
          ),
        );
        check();
      }
      kernel.runUntil(kernel.nowNs + prng.int(0, 20_000_000));
      check();
      if (deferred) {
        deferred = false;
        handle();
        check();
      }
    }
    kernel.run();
    while (disk.completedWaiting > 0) {
      for (let d = disk.takeCompleted(); d !== undefined; d = disk.takeCompleted()) taken.push(d);
      disk.enableInterrupts();
      kernel.run();
    }
    check();
    return { ...r, taken, checks, bytes };
  }

  for (const [model, elevator, depth] of [
    [HDD_7200, 'cfq', 1],
    [HDD_7200, 'deadline', 4],
    [SSD_SATA, 'fifo', 16],
  ] as const) {
    it(`conserves requests and bytes (${model.kind}, ${elevator}, depth ${depth})`, () => {
      const { disk, taken, checks, bytes, kernel } = mixed(model, elevator, depth, 11);
      expect(checks).toEqual([]);
      expect(disk.stats.submitted).toBe(disk.stats.completed);
      expect(disk.inFlight).toBe(0);
      expect(new Set(taken.map((t) => t.id)).size).toBe(disk.stats.submitted);
      expect(disk.stats.bytesRead + disk.stats.bytesWritten).toBe(bytes);
      expect(disk.stats.busyNs).toBeGreaterThan(0);
      expect(disk.stats.busyNs).toBeLessThanOrEqual(kernel.nowNs);
    });
  }

  it('gives identical completion times and logs in two identical runs', () => {
    const a = mixed(HDD_7200, 'cfq', 2, 5);
    const b = mixed(HDD_7200, 'cfq', 2, 5);
    expect(a.taken.length).toBeGreaterThan(50);
    expect(a.taken.map((t) => t.id)).toEqual(b.taken.map((t) => t.id));
    expect(a.disk.stats).toEqual(b.disk.stats);
    expect(a.log.digest()).toBe(b.log.digest());
    const c = mixed(HDD_7200, 'cfq', 2, 6);
    expect(c.log.digest()).not.toBe(a.log.digest());
  });

  it("runs its interrupt line on the flat interpreter, with the same log as on XState's", () => {
    const flat = mixed(SSD_SATA, 'deadline', 4, 9);
    const xstate = mixed(SSD_SATA, 'deadline', 4, 9, 'xstate');
    expect(flat.disk.actor.engine).toBe('flat');
    expect(xstate.disk.actor.engine).toBe('xstate');
    expect(flat.disk.interrupts).toBeGreaterThan(10);
    expect(xstate.log.digest()).toBe(flat.log.digest());
  });

  it('logs disk.dispatch and disk.complete with the request fields and the latency', () => {
    const types = new Map<number, string>();
    const records: [string, number, number, number, number, number][] = [];
    const log: EventLog = {
      records: 0,
      append: (type, timeNs, _source, _target, a0, a1, a2, a3) => {
        const name = types.get(type) as string;
        if (name.startsWith('disk.')) records.push([name, timeNs, a0, a1, a2, a3]);
      },
      defineType: (id, name) => types.set(id, name),
      defineName: () => {},
      close: () => ({ records: 0, digest: '', bytes: 0 }),
    };
    const kernel = new Kernel({ seed: 1, log });
    const disk = new Disk(kernel, new ActorHost(kernel), {
      name: 'sdb',
      model: SSD_SATA,
      elevator: 'fifo',
      queueDepth: 1,
    });
    kernel.runUntil(1000);
    disk.submit({ id: 0, guest: 3, op: DiskOp.WRITE, sector: 24, sectors: 16 });
    kernel.run();
    const latencyNs = SSD_SATA.writeLatencyNs + xferNs(16 * SECTOR_BYTES, SSD_SATA.channelBytesPerSec);
    expect(records).toEqual([
      ['disk.dispatch', 1000, 3, DiskOp.WRITE, 24, 16],
      ['disk.complete', 1000 + latencyNs, 3, DiskOp.WRITE, 16, latencyNs],
      ['disk.done', 1000 + latencyNs, 0, 0, 0, 0],
    ]);
  });

  it('refuses requests outside the disk or of a bad shape', () => {
    const { disk, req } = rig(SSD_SATA);
    expect(() => disk.submit(req(DiskOp.READ, SSD_SATA.sectors - 4, 8))).toThrow(/runs past/);
    expect(() => disk.submit(req(DiskOp.READ, -1, 8))).toThrow(/sector/);
    expect(() => disk.submit(req(DiskOp.READ, 0, 0))).toThrow(/sectors/);
    expect(() => disk.submit({ ...req(DiskOp.READ, 0, 8), op: 2 as DiskOp })).toThrow(/op/);
    expect(disk.stats.submitted).toBe(0);
  });
});
