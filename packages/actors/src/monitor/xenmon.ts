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
import { splitByUnits } from './netAccounting.ts';
import { type Sample, Xenbaked } from './xenbaked.ts';
import {
  DOMID_IDLE,
  TRC_BLK_REQ,
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

/** XenMon's weight of a block request of s segments: `base + perSeg · s` received packets. */
export interface BlockWeights {
  readonly read: { readonly base: number; readonly perSeg: number };
  readonly write: { readonly base: number; readonly perSeg: number };
}

export interface XenMonOptions {
  readonly weight: number;
  /** The first driver domain (the paper's only one). */
  readonly iddDomain: number;
  /**
   * Every driver domain, the first included (default: `[iddDomain]`). Each one's CPU in
   * a sample is split among the domains it worked for by their weighted counts there.
   */
  readonly drivers?: readonly number[];
  /** Block request weights (needed when a driver domain serves disks). */
  readonly blockWeights?: BlockWeights;
  /**
   * Log a `xenmon.idd` record (driver, domain, estimated and true ns) per driver
   * domain and domain at each sample, besides `xenmon.sample`'s sums over them.
   */
  readonly perDriver?: boolean;
  readonly sampleNs?: number;
  readonly bufferRecords?: number;
  /**
   * How a driver domain's CPU in a sample becomes each guest's estimate (charging/
   * policies.ts; default `weighted`, the paper's 2C): `counts` splits it by unweighted
   * request counts (2B); `apriori` charges each request a cost known beforehand (2A,
   * `aprioriNs`), whatever the domain spent; `exact` reads the driver domain's
   * per-principal accounting (1B–1E); `domain` charges each driver domain's whole CPU
   * to the one guest it serves (1A, `servedBy`).
   */
  readonly estimator?: 'weighted' | 'counts' | 'apriori' | 'exact' | 'domain';
  /** 2A's costs: per received packet, ns (a sent one costs `weight` times it, a block request its weight in received packets). */
  readonly aprioriNs?: number;
  /** 1A: the guest each driver domain serves, by driver domain id. */
  readonly servedBy?: ReadonlyMap<number, number>;
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
  /** With several driver domains: cumulative estimated ns, by driver domain id then domain id. */
  readonly estimatedByDriverNs: number[][] = [];
  onSample: ((s: XenMonSample) => void) | undefined;
  /** Per sample: estimates by `driverKey(driver, domain)` (with `perDriver`). */
  private readonly driverEstimates = new BucketSeries();
  private readonly drivers: readonly number[];
  private readonly weightMilli: number;
  private readonly iddType: number;
  private lastTrueByDriver: number[][] = [];
  private readonly sampleType: number;
  private readonly endpoint: number;
  private lastTrue: number[] = [];
  /** Exact estimators: each driver domain's cumulative accounting at the last sample, by slot. */
  private readonly lastExact: number[][] = [];

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
    this.drivers = options.drivers ?? [options.iddDomain];
    this.iddType = options.perDriver
      ? kernel.type('xenmon.idd', ['driver', 'domain', 'iddEstNs', 'iddTrueNs'])
      : 0;
    for (const d of this.drivers) this.estimatedByDriverNs[d] = [];
    xen.observers.push(this.tracer());
  }

  /** Netback's per-packet hook: one TRC_NET_PKT record (on the driver domain's pCPU). */
  packet(guest: number, direction: number, bytes: number, driver = this.options.iddDomain): void {
    const cpu = this.xen.domains[driver]?.vcpus[0]?.pcpu ?? 0;
    this.buffer.write(cpu, this.kernel.nowNs, TRC_NET_PKT, guest, direction, bytes, driver);
  }

  /** Blkback's per-request hook: one TRC_BLK_REQ record (on the driver domain's pCPU). */
  blockRequest(guest: number, op: number, segments: number, driver: number): void {
    const cpu = this.xen.domains[driver]?.vcpus[0]?.pcpu ?? 0;
    this.buffer.write(cpu, this.kernel.nowNs, TRC_BLK_REQ, guest, op, segments, driver);
  }

  /** The key of (driver, domain) in per-driver columns: a driver's slot, then the domain. */
  private driverKey(driver: number, domain: number): number {
    return this.drivers.indexOf(driver) * 32_768 + domain;
  }

  /**
   * Each domain's weighted count, in thousandths of a received packet, at driver domain
   * `driver` (with the `counts` estimator, thousandths of a request, unweighted).
   */
  private units(sample: Sample, driver: number): number[] {
    const w: number[] = [];
    const io = sample.io.get(driver);
    if (io === undefined) return w;
    const bw = this.options.blockWeights;
    const counts = this.options.estimator === 'counts';
    for (const [d, c] of io) {
      if (d === DOMID_IDLE || this.drivers.includes(d)) continue;
      if (counts) {
        w[d] = 1000 * (c.sent + c.received + c.blkReads + c.blkWrites);
        continue;
      }
      let u = this.weightMilli * c.sent + 1000 * c.received;
      if (bw !== undefined && c.blkReads + c.blkWrites > 0) {
        u += Math.round(
          1000 *
            (bw.read.base * c.blkReads +
              bw.read.perSeg * c.blkReadSegs +
              bw.write.base * c.blkWrites +
              bw.write.perSeg * c.blkWriteSegs),
        );
      }
      w[d] = u;
    }
    return w;
  }

  /** Driver domain `drv`'s CPU in `sample` as estimated for each domain, by domain id. */
  private estimate(sample: Sample, drv: number): number[] {
    const est = this.options.estimator ?? 'weighted';
    if (est === 'weighted' || est === 'counts') {
      const gotten = sample.domains.get(drv)?.gottenNs ?? 0;
      return splitByUnits(gotten, this.units(sample, drv));
    }
    if (est === 'apriori') return this.apriori(sample, drv);
    // Exact: the driver domain's own accounting since the last sample.
    this.xen.settle();
    const acc = this.xen.accounting;
    const k = this.drivers.indexOf(drv);
    const now = acc.perDriver ? acc.iddOfDriver(drv) : acc.iddForNs;
    const last = this.lastExact[k] ?? [];
    this.lastExact[k] = [...now];
    const part: number[] = [];
    if (est === 'domain') {
      const guest = this.options.servedBy?.get(drv);
      if (guest === undefined) return part;
      let all = 0;
      now.forEach((v, d) => {
        all += (v ?? 0) - (last[d] ?? 0);
      });
      part[guest] = all;
      return part;
    }
    now.forEach((v, d) => {
      if (!this.drivers.includes(d)) part[d] = (v ?? 0) - (last[d] ?? 0);
    });
    return part;
  }

  /** 2A: each domain's requests at `drv` in `sample` times their cost known beforehand, ns. */
  private apriori(sample: Sample, drv: number): number[] {
    const out: number[] = [];
    const io = sample.io.get(drv);
    const recv = this.options.aprioriNs ?? 0;
    if (io === undefined) return out;
    const bw = this.options.blockWeights;
    for (const [d, c] of io) {
      if (d === DOMID_IDLE || this.drivers.includes(d)) continue;
      let packets = this.options.weight * c.sent + c.received;
      if (bw !== undefined) {
        packets +=
          bw.read.base * c.blkReads +
          bw.read.perSeg * c.blkReadSegs +
          bw.write.base * c.blkWrites +
          bw.write.perSeg * c.blkWriteSegs;
      }
      out[d] = Math.round(packets * recv);
    }
    return out;
  }

  /** Drains the trace, closes a sample at now, and updates the estimates. */
  sample(): XenMonSample {
    const now = this.kernel.nowNs;
    this.buffer.drain((r) => this.baked.add(r));
    const sample = this.baked.sample(now);
    // Each driver domain's time in the sample, split by the weighted counts there.
    const est: number[] = [];
    const byDriver: number[][] = [];
    for (const drv of this.drivers) {
      const part = this.estimate(sample, drv);
      byDriver.push(part);
      part.forEach((e, d) => {
        if (e !== undefined) est[d] = (est[d] ?? 0) + e;
      });
    }
    this.xen.settle();
    const acc = this.xen.accounting;
    const truthNow = acc.iddForNs;
    const trueNs: number[] = [];
    const row = this.spans.length;
    for (const d of this.xen.domains) {
      const id = d.id;
      trueNs[id] = (truthNow[id] ?? 0) - (this.lastTrue[id] ?? 0);
      const e = this.drivers.includes(id) ? 0 : (est[id] ?? 0);
      est[id] = e;
      this.estimatedNs[id] = (this.estimatedNs[id] ?? 0) + e;
      this.trueNs[id] = (this.trueNs[id] ?? 0) + trueNs[id];
      const gotten = sample.domains.get(id)?.gottenNs ?? 0;
      this.kernel.record(this.sampleType, this.endpoint, this.endpoint, id, gotten, e, trueNs[id]);
    }
    this.lastTrue = [...truthNow];
    if (this.options.perDriver) {
      this.drivers.forEach((drv, k) => {
        const truth = acc.iddOfDriver(drv);
        const last = this.lastTrueByDriver[k] ?? [];
        const cum = this.estimatedByDriverNs[drv];
        for (const d of this.xen.domains) {
          const id = d.id;
          const e = this.drivers.includes(id) ? 0 : (byDriver[k][id] ?? 0);
          const t = (truth[id] ?? 0) - (last[id] ?? 0);
          cum[id] = (cum[id] ?? 0) + e;
          if (e !== 0) this.driverEstimates.add(row, this.driverKey(drv, id), e);
          this.kernel.record(this.iddType, this.endpoint, this.endpoint, drv, id, e, t);
        }
        this.lastTrueByDriver[k] = [...truth];
      });
    }
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
    return this.sumBetween(this.estimates.column(domain), fromNs, toNs);
  }

  /**
   * As `estimatedBetween`, for the part driver domain `driver` did (with `perDriver`;
   * otherwise the first driver domain's is the whole estimate).
   */
  estimatedOfDriverBetween(driver: number, domain: number, fromNs: number, toNs: number): number {
    if (!this.options.perDriver)
      return driver === this.options.iddDomain ? this.estimatedBetween(domain, fromNs, toNs) : 0;
    if (!this.drivers.includes(driver)) return 0;
    return this.sumBetween(this.driverEstimates.column(this.driverKey(driver, domain)), fromNs, toNs);
  }

  /** Cumulative estimate of driver domain `driver`'s work, by domain id. */
  estimatedOfDriver(driver: number): readonly number[] {
    if (!this.options.perDriver) return driver === this.options.iddDomain ? this.estimatedNs : [];
    return this.estimatedByDriverNs[driver] ?? [];
  }

  private sumBetween(col: Float64Array | undefined, fromNs: number, toNs: number): number {
    const length = this.spans.length;
    const starts = this.spans.column(START);
    const ends = this.spans.column(END);
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
