/**
 * A fio-like disk job in a guest (`DiskWorkloadConfig`): `iodepth` I/Os of `blockBytes`
 * kept in flight on one vbd, through the guest's blkfront (block/blkfront.ts). When one
 * completes, the job spends `thinkNs` of the guest's user CPU (fio's `thinktime`; none
 * when 0) and issues the next, until it is stopped; I/Os in flight at the stop finish
 * but issue nothing more.
 *
 * Offsets: `sequential` walks the vbd from its start in `blockBytes` steps, one stream
 * with `iodepth` I/Os outstanding (as fio's `rw=read`, `iodepth=N`), wrapping at its end; `random` draws a block-aligned offset uniformly over the
 * vbd (fio's `rw=randread`, `norandommap`) from the job's own seeded stream. Each I/O
 * is a read with probability `readPct`% (fio's `rwmixread`), drawn from the same
 * stream; 0 and 100 draw nothing.
 *
 * Counters: completed I/Os per direction (`EventCounter`s, exact over any marked
 * window) and the latency of each, issue to completion, summed and at most.
 */
import type { Kernel, Prng } from '@isosim/core';
import type { Blkfront } from '../block/blkfront.ts';
import { DiskOp, SECTOR_BYTES } from '../hardware/disk.ts';
import type { Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';
import type { DiskWorkloadConfig } from '../system/config.ts';
import { EventCounter } from './eventCounter.ts';
import type { WorkloadEngine } from './lifecycle.ts';

export interface DiskJobStats {
  /** Completed reads and writes, by completion time. */
  readonly reads: EventCounter;
  readonly writes: EventCounter;
  /** Sum and maximum of completed I/Os' latencies, ns. */
  latencySumNs: number;
  latencyMaxNs: number;
}

export class DiskJob implements WorkloadEngine {
  readonly stats: DiskJobStats = {
    reads: new EventCounter(),
    writes: new EventCounter(),
    latencySumNs: 0,
    latencyMaxNs: 0,
  };
  private running = false;
  private nextSector = 0;
  private readonly blockSectors: number;
  private readonly blocks: number;
  private readonly rng: Prng;

  constructor(
    private readonly kernel: Kernel,
    private readonly xen: Hypervisor,
    private readonly front: Blkfront,
    private readonly vcpu: Vcpu,
    readonly config: DiskWorkloadConfig,
    name: string,
  ) {
    this.blockSectors = config.blockBytes / SECTOR_BYTES;
    this.blocks = Math.max(1, Math.floor(front.vbd.sectors / this.blockSectors));
    this.rng = kernel.prng.fork(name);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.config.iodepth; i++) this.issue();
  }

  stop(): void {
    this.running = false;
  }

  private issue(): void {
    const c = this.config;
    const read = c.readPct >= 100 ? true : c.readPct <= 0 ? false : this.rng.chance(c.readPct, 100);
    let sector: number;
    if (c.pattern === 'random') {
      sector = this.rng.int(0, this.blocks - 1) * this.blockSectors;
    } else {
      sector = this.nextSector;
      this.nextSector += this.blockSectors;
      if (this.nextSector + this.blockSectors > this.blocks * this.blockSectors) this.nextSector = 0;
    }
    const op = read ? DiskOp.READ : DiskOp.WRITE;
    const t0 = this.kernel.nowNs;
    this.front.io(
      op,
      sector,
      c.blockBytes,
      () => {
        const now = this.kernel.nowNs;
        (op === DiskOp.READ ? this.stats.reads : this.stats.writes).add(now);
        this.stats.latencySumNs += now - t0;
        if (now - t0 > this.stats.latencyMaxNs) this.stats.latencyMaxNs = now - t0;
        if (!this.running) return;
        if (c.thinkNs > 0) {
          this.xen.submit(this.vcpu, {
            remainingNs: c.thinkNs,
            principal: this.vcpu.domain.id,
            user: true,
            onDone: () => {
              if (this.running) this.issue();
            },
          });
        } else {
          this.issue();
        }
      },
      this.vcpu,
    );
  }
}
