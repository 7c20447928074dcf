/**
 * XenMon (paper section 2): xentrace records from the hypervisor and netback go into
 * per-CPU trace buffers; every sample (100 ms by default) the XenMon actor drains them
 * into the xenbaked reducer, closes a sample, and splits the IDD's CPU in that sample
 * among guests by weighted packet count (`netAccounting.ts`). It keeps, per guest, the
 * cumulative estimate beside the simulator's ground truth, so the estimator's error
 * is known, and logs one `xenmon.sample` record per domain per sample (gotten, and
 * for guests the estimated and true IDD time on their behalf).
 *
 * Per sample it also keeps the estimate with the sample's span (`history`), so that
 * `estimatedBetween` can sum it over any window: a sample that lies partly inside the
 * window counts in proportion to the part of its span inside (XenMon knows only the
 * sample's total, and spreading it evenly over the sample is the least it assumes).
 * That is the one thing XenMon keeps for the whole run, so it is kept in columns of
 * doubles outside the JavaScript heap (`BucketSeries`, a sample a row): 8 bytes per sample for each
 * of start, end and every domain, 480 bytes per simulated second for four domains at
 * 100 ms. A row object per sample had cost about 160 bytes of heap (1.6 KB per
 * simulated second), live data that V8 then sized its old generation to about four
 * times over (issue 15, flat memory).
 *
 * Its estimate is what SEDF-DC and ShareGuard read when their source is `estimate`.
 * The sampling loop is an XState actor (control/feedbackLoop.ts) on the kernel's clock.
 */
import type { Kernel } from '@isosim/core';
import { BucketSeries } from '../hypervisor/accounting.ts';
import type { Domain, Hypervisor, HypervisorObserver } from '../hypervisor/hypervisor.ts';
import { IDLE } from '../scheduler/types.ts';
import { splitByWeightedPackets } from './netAccounting.ts';
import { type Sample, Xenbaked } from './xenbaked.ts';
import {
  DOMID_IDLE,
  TRC_NET_PKT,
  TRC_SCHED_BLOCK,
  TRC_SCHED_DOM_ADD,
  TRC_SCHED_SWITCH_INFNEXT,
  TRC_SCHED_SWITCH_INFPREV,
  TRC_SCHED_WAKE,
  TraceBuffer,
} from './xentrace.ts';

export interface XenMonSample {
  readonly sample: Sample;
  /** IDD ns estimated for each guest in this sample, by domain id. */
  readonly estimatedNs: number[];
  /** IDD ns truly spent for each guest in this sample, by domain id. */
  readonly trueNs: number[];
}

/** One sample's estimate over its span [startNs, endNs). */
export interface XenMonEstimate {
  readonly startNs: number;
  readonly endNs: number;
  /** IDD ns estimated for each guest, by domain id (0 for the IDD). */
  readonly estimatedNs: readonly number[];
}

export interface XenMonOptions {
  readonly weight: number;
  readonly iddDomain: number;
  readonly sampleNs?: number;
  readonly bufferRecords?: number;
}

/** Keys of a sample's span in `XenMon.spans`. */
const START = 0;
const END = 1;

export class XenMon {
  readonly buffer: TraceBuffer;
  readonly baked: Xenbaked;
  readonly sampleNs: number;
  /** Cumulative estimated IDD ns per domain id. */
  readonly estimatedNs: number[] = [];
  /** Cumulative true IDD ns per domain id, read at the same sample ends. */
  readonly trueNs: number[] = [];
  /** Every sample's span (key `START`, `END`) and estimate by domain id, a row each in time order. */
  private readonly spans = new BucketSeries();
  private readonly estimates = new BucketSeries();
  onSample: ((s: XenMonSample) => void) | undefined;
  private readonly weightMilli: number;
  private readonly sampleType: number;
  private readonly endpoint: number;
  private lastTrue: number[] = [];

  constructor(
    private readonly kernel: Kernel,
    private readonly xen: Hypervisor,
    private readonly options: XenMonOptions,
  ) {
    this.buffer = new TraceBuffer(xen.pcpus, options.bufferRecords ?? 65_536);
    this.baked = new Xenbaked(xen.pcpus);
    this.sampleNs = options.sampleNs ?? 100_000_000;
    this.weightMilli = Math.round(options.weight * 1000);
    this.sampleType = kernel.type('xenmon.sample', ['domain', 'gottenNs', 'iddEstNs', 'iddTrueNs']);
    this.endpoint = kernel.registry.name('xenmon');
    xen.observers.push(this.tracer());
  }

  /** Netback's per-packet hook: one TRC_NET_PKT record (on the IDD's pCPU). */
  packet(guest: number, direction: number, bytes: number): void {
    const cpu = this.xen.domains[this.options.iddDomain]?.vcpus[0]?.pcpu ?? 0;
    this.buffer.write(cpu, this.kernel.nowNs, TRC_NET_PKT, guest, direction, bytes);
  }

  /** Drains the trace, closes a sample at now, and updates the estimates. */
  sample(): XenMonSample {
    const now = this.kernel.nowNs;
    this.buffer.drain((r) => this.baked.add(r));
    const sample = this.baked.sample(now);
    const idd = sample.domains.get(this.options.iddDomain)?.gottenNs ?? 0;
    const sends: number[] = [];
    const recvs: number[] = [];
    for (const [d, v] of sample.domains) {
      if (d === DOMID_IDLE || d === this.options.iddDomain) continue;
      sends[d] = v.sent;
      recvs[d] = v.received;
    }
    const est = splitByWeightedPackets(idd, sends, recvs, this.weightMilli);
    this.xen.settle();
    const truthNow = this.xen.accounting.iddForNs;
    const trueNs: number[] = [];
    for (const d of this.xen.domains) {
      const id = d.id;
      trueNs[id] = (truthNow[id] ?? 0) - (this.lastTrue[id] ?? 0);
      const e = id === this.options.iddDomain ? 0 : (est[id] ?? 0);
      est[id] = e;
      this.estimatedNs[id] = (this.estimatedNs[id] ?? 0) + e;
      this.trueNs[id] = (this.trueNs[id] ?? 0) + trueNs[id];
      const gotten = sample.domains.get(id)?.gottenNs ?? 0;
      this.kernel.record(this.sampleType, this.endpoint, this.endpoint, id, gotten, e, trueNs[id]);
    }
    this.lastTrue = [...truthNow];
    const row = this.spans.length;
    this.spans.add(row, START, sample.startNs);
    this.spans.add(row, END, sample.endNs);
    est.forEach((e, d) => {
      if (e !== undefined) this.estimates.add(row, d, e);
    });
    const s = { sample, estimatedNs: est, trueNs };
    this.onSample?.(s);
    return s;
  }

  /**
   * Every sample's estimate with its span, in time order: a copy made on each call
   * from the columns XenMon keeps (O(samples); `estimatedBetween` reads the columns).
   */
  get history(): XenMonEstimate[] {
    const out: XenMonEstimate[] = [];
    for (let i = 0; i < this.spans.length; i++) {
      const estimatedNs = Array.from({ length: this.estimates.keys }, (_, d) => this.estimates.at(i, d));
      out.push({ startNs: this.spans.at(i, START), endNs: this.spans.at(i, END), estimatedNs });
    }
    return out;
  }

  /**
   * IDD ns XenMon estimated for `domain` within [fromNs, toNs): the samples inside,
   * plus each sample partly inside in proportion to the part of its span inside (not
   * an integer then). Samples not yet taken count nothing.
   */
  estimatedBetween(domain: number, fromNs: number, toNs: number): number {
    const length = this.spans.length;
    const starts = this.spans.column(START);
    const ends = this.spans.column(END);
    const col = this.estimates.column(domain);
    if (col === undefined || starts === undefined || ends === undefined) return 0;
    // The first sample that ends after fromNs (samples are in time order and abut).
    let lo = 0;
    let hi = length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid] <= fromNs) lo = mid + 1;
      else hi = mid;
    }
    let sum = 0;
    for (let i = lo; i < length && starts[i] < toNs; i++) {
      const startNs = starts[i];
      const endNs = ends[i];
      const e = col[i];
      if (e === 0) continue;
      const inside = Math.min(endNs, toNs) - Math.max(startNs, fromNs);
      if (inside <= 0) continue;
      sum += inside === endNs - startNs ? e : (e * inside) / (endNs - startNs);
    }
    return sum;
  }

  /** The hypervisor's trace points (TRC_SCHED_*), as `schedule.c` emits them. */
  private tracer(): HypervisorObserver {
    const b = this.buffer;
    const dom = (v: number): [number, number] => {
      if (v === IDLE) return [DOMID_IDLE, 0];
      const vc = this.xen.vcpus[v];
      return [vc.domain.id, vc.domain.vcpus.indexOf(vc)];
    };
    return {
      domainAdded: (d: Domain, now) => b.write(0, now, TRC_SCHED_DOM_ADD, d.id),
      woke: (v, now) => b.write(v.pcpu, now, TRC_SCHED_WAKE, v.domain.id, v.domain.vcpus.indexOf(v)),
      blocked: (v, now) => b.write(v.pcpu, now, TRC_SCHED_BLOCK, v.domain.id, v.domain.vcpus.indexOf(v)),
      switched: (pcpu, prev, next, ranNs, now, runNs) => {
        if (prev === next) return;
        const [pd, pv] = dom(prev);
        const [nd, nv] = dom(next);
        b.write(pcpu, now, TRC_SCHED_SWITCH_INFPREV, pd, pv, ranNs);
        b.write(pcpu, now, TRC_SCHED_SWITCH_INFNEXT, nd, nv, 0, runNs);
      },
    };
  }
}
