/**
 * xenbaked's reduction (tools/xenmon/xenbaked.c, written anew): trace records in time
 * order become per-domain metrics per sample.
 *
 * Per domain, per sample:
 * - gotten: ns running (from switch-in to switch-out: TRC_SCHED_SWITCH_INFNEXT /
 *   _INFPREV);
 * - allocated: ns the scheduler granted at switch-in (INFNEXT's next-slice word, as
 *   xenbaked sums it);
 * - blocked: ns blocked (TRC_SCHED_BLOCK to TRC_SCHED_WAKE);
 * - waited: ns runnable but not running (a wake or a switch-out while still runnable,
 *   to the next switch-in);
 * - executions: switch-ins;
 * - iocount: packets netback handled for it (TRC_NET_PKT), split into sent/received.
 * An interval that straddles a sample boundary is split at the boundary, so the
 * samples of a pCPU's domains plus its idle time add up to the sample length when no
 * record was lost. `window(s)` sums the last s seconds of samples (xenmon's 1 s and
 * 10 s views).
 */
import {
  DOMID_IDLE,
  TRC_BLK_REQ,
  TRC_NET_PKT,
  TRC_SCHED_BLOCK,
  TRC_SCHED_SWITCH_INFNEXT,
  TRC_SCHED_SWITCH_INFPREV,
  TRC_SCHED_WAKE,
  type TraceRecord,
} from './xentrace.ts';

export interface DomainSample {
  gottenNs: number;
  allocatedNs: number;
  blockedNs: number;
  waitedNs: number;
  executions: number;
  sent: number;
  received: number;
}

export interface Sample {
  readonly startNs: number;
  readonly endNs: number;
  /** By domain id; DOMID_IDLE is the idle time of all pCPUs. */
  readonly domains: Map<number, DomainSample>;
  /**
   * I/O a driver domain did for each domain in the sample: by driver domain id, then
   * by domain id (TRC_NET_PKT and TRC_BLK_REQ records; a record without a driver
   * word counts for driver domain 0).
   */
  readonly io: Map<number, Map<number, IoCounts>>;
}

/** Packets and block requests a driver domain handled for one domain in a sample. */
export interface IoCounts {
  sent: number;
  received: number;
  blkReads: number;
  blkReadSegs: number;
  blkWrites: number;
  blkWriteSegs: number;
}

const empty = (): DomainSample => ({
  gottenNs: 0,
  allocatedNs: 0,
  blockedNs: 0,
  waitedNs: 0,
  executions: 0,
  sent: 0,
  received: 0,
});

/**
 * A vCPU's key in the maps below: `domain * KEY_DOM + vcpu`, a number (a string key
 * cost a concatenation per trace record). Xen 3.0 allows 32 vCPUs a domain
 * (MAX_VIRT_CPUS), far below KEY_DOM.
 */
type VcpuKey = number;
const KEY_DOM = 1024;

export class Xenbaked {
  readonly samples: Sample[] = [];
  private cur = new Map<number, DomainSample>();
  private curIo = new Map<number, Map<number, IoCounts>>();
  private startNs = 0;
  /** Per pCPU: the domain running and since when. */
  private readonly running: { dom: number; vcpu: number; since: number }[] = [];
  private readonly blockedSince = new Map<VcpuKey, number>();
  private readonly waitingSince = new Map<VcpuKey, number>();
  private readonly maxSamples: number;

  constructor(
    pcpus: number,
    /** Keep this many samples (100 at 100 ms: xenmon's 10 s window). */
    maxSamples = 100,
  ) {
    for (let c = 0; c < pcpus; c++) this.running.push({ dom: DOMID_IDLE, vcpu: 0, since: 0 });
    this.maxSamples = maxSamples;
  }

  private dom(d: number): DomainSample {
    let s = this.cur.get(d);
    if (s === undefined) {
      s = empty();
      this.cur.set(d, s);
    }
    return s;
  }

  /** The counts of the last (driver, domain) looked up: a run of one guest's requests hits it. */
  private lastIo: IoCounts | undefined;
  private lastIoKey = -1;

  private io(driver: number, dom: number): IoCounts {
    const key = driver * KEY_DOM * KEY_DOM + dom;
    if (key === this.lastIoKey && this.lastIo !== undefined) return this.lastIo;
    let byDom = this.curIo.get(driver);
    if (byDom === undefined) {
      byDom = new Map();
      this.curIo.set(driver, byDom);
    }
    let c = byDom.get(dom);
    if (c === undefined) {
      c = { sent: 0, received: 0, blkReads: 0, blkReadSegs: 0, blkWrites: 0, blkWriteSegs: 0 };
      byDom.set(dom, c);
    }
    this.lastIoKey = key;
    this.lastIo = c;
    return c;
  }

  /** Feeds one record (records must come in time order). */
  add(r: TraceRecord): void {
    const t = r.timeNs;
    const dom = r.d[0];
    const key = (dom * KEY_DOM + r.d[1]) | 0;
    switch (r.event) {
      case TRC_SCHED_SWITCH_INFPREV: {
        const run = this.running[r.cpu];
        this.dom(run.dom).gottenNs += t - run.since;
        run.dom = DOMID_IDLE;
        run.since = t;
        if (dom !== DOMID_IDLE && !this.blockedSince.has(key)) this.waitingSince.set(key, t);
        break;
      }
      case TRC_SCHED_SWITCH_INFNEXT: {
        const run = this.running[r.cpu];
        this.dom(run.dom).gottenNs += t - run.since;
        run.dom = dom;
        run.vcpu = r.d[1];
        run.since = t;
        if (dom !== DOMID_IDLE) {
          const d = this.dom(dom);
          d.executions++;
          d.allocatedNs += r.d[3];
          const w = this.waitingSince.get(key);
          if (w !== undefined) {
            d.waitedNs += t - w;
            this.waitingSince.delete(key);
          }
        }
        break;
      }
      case TRC_SCHED_BLOCK:
        this.blockedSince.set(key, t);
        this.waitingSince.delete(key);
        break;
      case TRC_SCHED_WAKE: {
        const b = this.blockedSince.get(key);
        if (b !== undefined) {
          this.dom(dom).blockedNs += t - b;
          this.blockedSince.delete(key);
        }
        this.waitingSince.set(key, t);
        break;
      }
      case TRC_NET_PKT: {
        const io = this.io(r.d[3], dom);
        if (r.d[1] === 1) {
          this.dom(dom).sent++;
          io.sent++;
        } else {
          this.dom(dom).received++;
          io.received++;
        }
        break;
      }
      case TRC_BLK_REQ: {
        const io = this.io(r.d[3], dom);
        if (r.d[1] === 1) {
          io.blkWrites++;
          io.blkWriteSegs += r.d[2];
        } else {
          io.blkReads++;
          io.blkReadSegs += r.d[2];
        }
        break;
      }
    }
  }

  /** Closes the sample at `endNs`, splitting open intervals there. */
  sample(endNs: number): Sample {
    for (const run of this.running) {
      this.dom(run.dom).gottenNs += endNs - run.since;
      run.since = endNs;
    }
    for (const [key, since] of this.blockedSince) {
      this.dom(Math.floor(key / KEY_DOM)).blockedNs += endNs - since;
      this.blockedSince.set(key, endNs);
    }
    for (const [key, since] of this.waitingSince) {
      this.dom(Math.floor(key / KEY_DOM)).waitedNs += endNs - since;
      this.waitingSince.set(key, endNs);
    }
    const s: Sample = { startNs: this.startNs, endNs, domains: this.cur, io: this.curIo };
    this.samples.push(s);
    if (this.samples.length > this.maxSamples) this.samples.shift();
    this.cur = new Map();
    this.curIo = new Map();
    this.lastIo = undefined;
    this.lastIoKey = -1;
    this.startNs = endNs;
    return s;
  }

  /** Totals over the samples of the last `seconds` (the whole samples that fit). */
  window(seconds: number): { startNs: number; endNs: number; domains: Map<number, DomainSample> } {
    const out = new Map<number, DomainSample>();
    const last = this.samples.at(-1);
    if (last === undefined) return { startNs: 0, endNs: 0, domains: out };
    const from = last.endNs - seconds * 1e9;
    let startNs = last.endNs;
    for (let i = this.samples.length - 1; i >= 0 && this.samples[i].startNs >= from; i--) {
      const s = this.samples[i];
      startNs = s.startNs;
      for (const [d, v] of s.domains) {
        const o = out.get(d) ?? empty();
        for (const k of Object.keys(v) as (keyof DomainSample)[]) o[k] += v[k];
        out.set(d, o);
      }
    }
    return { startNs, endNs: last.endNs, domains: out };
  }
}
