/**
 * A CPU-bound job that soaks up whatever CPU its domain is given: it always has work,
 * queued in chunks so that it can stop at its stop time.
 */
import type { Endpoints } from './endpoints.ts';
import type { WorkloadEngine } from './lifecycle.ts';

/** Work per chunk, ns: short enough to stop promptly, long enough to cost few events. */
export const CHUNK_NS = 10_000_000;

export class CpuBound implements WorkloadEngine {
  private active = false;
  private queued = false;
  chunks = 0;

  constructor(readonly ends: Endpoints) {}

  start(): void {
    this.active = true;
    this.next();
  }

  stop(): void {
    this.active = false;
  }

  private next(): void {
    if (!this.active || this.queued) return;
    this.queued = true;
    this.ends.work(CHUNK_NS, () => {
      this.queued = false;
      this.chunks++;
      this.next();
    });
  }
}
