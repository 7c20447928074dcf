/**
 * A CPU-bound job that soaks up whatever CPU its domain is given: it always has work,
 * queued in chunks so that it can stop at its stop time. It runs one thread per vCPU
 * it is placed on (one, or every vCPU of its domain with `spread`).
 */
import type { Endpoints } from './endpoints.ts';
import type { WorkloadEngine } from './lifecycle.ts';

/** Work per chunk, ns: short enough to stop promptly, long enough to cost few events. */
export const CHUNK_NS = 10_000_000;

export class CpuBound implements WorkloadEngine {
  private active = false;
  /** Per thread: a chunk is queued. */
  private readonly queued: boolean[];
  private readonly vcpus: number[];
  chunks = 0;

  constructor(readonly ends: Endpoints) {
    this.vcpus = ends.threadVcpus();
    this.queued = this.vcpus.map(() => false);
  }

  start(): void {
    this.active = true;
    for (let t = 0; t < this.vcpus.length; t++) this.next(t);
  }

  stop(): void {
    this.active = false;
  }

  private next(t: number): void {
    if (!this.active || this.queued[t]) return;
    this.queued[t] = true;
    this.ends.workOn(this.vcpus[t], CHUNK_NS, () => {
      this.queued[t] = false;
      this.chunks++;
      this.next(t);
    });
  }
}
