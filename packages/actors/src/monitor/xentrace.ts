/**
 * xentrace, as XenMon uses it: fixed-shape records in per-CPU trace buffers.
 *
 * Event ids are Xen's own, from `xen/include/public/trace.h` (TRC_SCHED_VERBOSE + n,
 * TRC_GEN + 3, TRC_MEM + 3), and the scheduler records carry the extra words
 * `xen/common/sched/core.c` gives them (domain, vCPU, and for the switch records the
 * time run / waited and the next slice). Xen has no per-packet record: the paper added
 * one to netback (section 3); ours, `TRC_NET_PKT`, sits in a class Xen leaves unused.
 *
 * `TraceBuffer`: one bounded ring per pCPU in typed arrays (writing allocates nothing).
 * A full ring drops the new record and counts it, as xentrace's lost-records do.
 * `drain` hands out everything buffered, merged across CPUs in time order (ties by
 * CPU, then write order), and empties the rings.
 */
export const TRC_GEN = 0x0001f000;
export const TRC_SCHED_VERBOSE = 0x00028000;
export const TRC_MEM = 0x0010f000;
export const TRC_TRACE_CPU_CHANGE = TRC_GEN + 3;
export const TRC_SCHED_DOM_ADD = TRC_SCHED_VERBOSE + 1;
export const TRC_SCHED_SLEEP = TRC_SCHED_VERBOSE + 3;
export const TRC_SCHED_WAKE = TRC_SCHED_VERBOSE + 4;
export const TRC_SCHED_BLOCK = TRC_SCHED_VERBOSE + 6;
export const TRC_SCHED_SWITCH = TRC_SCHED_VERBOSE + 10;
export const TRC_SCHED_SWITCH_INFPREV = TRC_SCHED_VERBOSE + 14;
export const TRC_SCHED_SWITCH_INFNEXT = TRC_SCHED_VERBOSE + 15;
export const TRC_MEM_PAGE_GRANT_TRANSFER = TRC_MEM + 3;
/** isosim's class (0x0ff0f000 is unused by Xen); one event: a packet netback handled. */
export const TRC_ISOSIM = 0x0ff0f000;
/**
 * Extra words: guest domain, direction (0 received for the guest, 1 sent by it), bytes,
 * and the driver domain that handled it.
 */
export const TRC_NET_PKT = TRC_ISOSIM + 1;
/** A block request blkback took: guest, op (0 read, 1 write), segments, driver domain. */
export const TRC_BLK_REQ = TRC_ISOSIM + 2;
/** Xen's idle domain id (DOMID_IDLE). */
export const DOMID_IDLE = 0x7fff;

export const EXTRA_WORDS = 5;

export interface TraceRecord {
  cpu: number;
  timeNs: number;
  event: number;
  readonly d: Float64Array;
}

export class TraceBuffer {
  readonly lost: number[];
  private readonly times: Float64Array[];
  private readonly events: Int32Array[];
  private readonly words: Float64Array[];
  private readonly heads: number[];
  private readonly counts: number[];
  private readonly record: TraceRecord = { cpu: 0, timeNs: 0, event: 0, d: new Float64Array(EXTRA_WORDS) };

  constructor(
    readonly cpus: number,
    readonly capacity = 65_536,
  ) {
    this.times = Array.from({ length: cpus }, () => new Float64Array(capacity));
    this.events = Array.from({ length: cpus }, () => new Int32Array(capacity));
    this.words = Array.from({ length: cpus }, () => new Float64Array(capacity * EXTRA_WORDS));
    this.heads = new Array(cpus).fill(0);
    this.counts = new Array(cpus).fill(0);
    this.lost = new Array(cpus).fill(0);
  }

  /** Appends a record to `cpu`'s buffer; false (and counted lost) if it is full. */
  write(cpu: number, timeNs: number, event: number, d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0): boolean {
    if (this.counts[cpu] === this.capacity) {
      this.lost[cpu]++;
      return false;
    }
    const i = (this.heads[cpu] + this.counts[cpu]) % this.capacity;
    this.counts[cpu]++;
    this.times[cpu][i] = timeNs;
    this.events[cpu][i] = event;
    const w = this.words[cpu];
    const o = i * EXTRA_WORDS;
    w[o] = d0;
    w[o + 1] = d1;
    w[o + 2] = d2;
    w[o + 3] = d3;
    w[o + 4] = d4;
    return true;
  }

  get buffered(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** Hands out every buffered record in time order and empties the buffers. */
  drain(onRecord: (r: TraceRecord) => void): number {
    const r = this.record;
    let n = 0;
    for (;;) {
      let best = -1;
      let bestT = Number.POSITIVE_INFINITY;
      for (let c = 0; c < this.cpus; c++) {
        if (this.counts[c] === 0) continue;
        const t = this.times[c][this.heads[c]];
        if (t < bestT) {
          bestT = t;
          best = c;
        }
      }
      if (best < 0) return n;
      const i = this.heads[best];
      r.cpu = best;
      r.timeNs = bestT;
      r.event = this.events[best][i];
      // Word by word, not `d.set(subarray)`: a subarray is an object per record.
      const w = this.words[best];
      const o = i * EXTRA_WORDS;
      const d = r.d;
      for (let k = 0; k < EXTRA_WORDS; k++) d[k] = w[o + k];
      this.heads[best] = (i + 1) % this.capacity;
      this.counts[best]--;
      n++;
      onRecord(r);
    }
  }
}
