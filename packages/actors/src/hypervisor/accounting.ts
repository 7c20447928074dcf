/**
 * Ground-truth CPU accounting: every nanosecond of every pCPU goes to exactly one
 * (domain, principal) pair or to idle. Totals are exact integers; a time series in
 * fixed buckets (100 ms by default) splits each interval at bucket boundaries, so a
 * bucket's entries plus idle sum to the bucket's length times the pCPU count.
 *
 * Window sums (`cpuBetween`, `iddBetween`) are exact to the nanosecond. A bound is
 * exact when it is a bucket boundary, a time registered with `mark()` before the run
 * reached its bucket, or at or after everything charged so far (e.g. now, after
 * `Hypervisor.settle()`); any other bound throws rather than round to a bucket. A mark
 * keeps, per domain and per principal, the ns charged between its bucket's start and
 * the mark, so memory stays one row per bucket plus one per mark, whatever the number
 * of intervals.
 *
 * Invariant (checked by tests): per pCPU, busy + idle = elapsed.
 */
/**
 * A series of numbers per bucket (a row) and key, kept as one column of doubles per
 * key (typed arrays, doubled when full): 8 bytes a bucket a key, outside V8's heap,
 * where a row array per bucket cost about 170 bytes of heap (issue 15, flat memory).
 * The accounting's buckets of charged ns and XenMon's samples both live in these.
 * Values start at 0 and are added to; for charges, 0 means nothing charged.
 */
export class BucketSeries {
  /** Buckets up to the last one charged. */
  length = 0;
  private capacity = 64;
  private readonly columns: (Float64Array | undefined)[] = [];

  add(bucket: number, key: number, ns: number): void {
    if (bucket >= this.capacity) this.grow(bucket + 1);
    let col = this.columns[key];
    if (col === undefined) {
      col = new Float64Array(this.capacity);
      this.columns[key] = col;
    }
    col[bucket] += ns;
    if (bucket >= this.length) this.length = bucket + 1;
  }

  /** Keys up to the highest with a column (some may have none). */
  get keys(): number {
    return this.columns.length;
  }

  /** `key`'s column, valid up to `length` and until the next `add`; undefined if never added to. */
  column(key: number): Float64Array | undefined {
    return this.columns[key];
  }

  /** ns of `key` in `bucket` (0 if none). */
  at(bucket: number, key: number): number {
    const col = this.columns[key];
    return col !== undefined && bucket < this.length ? col[bucket] : 0;
  }

  /** As rows, a sparse array per bucket by key (undefined: nothing charged), as the series once was kept. */
  rows(): number[][] {
    const out: number[][] = [];
    for (let b = 0; b < this.length; b++) {
      let row: number[] | undefined;
      this.columns.forEach((col, key) => {
        if (col === undefined || col[b] === 0) return;
        row ??= [];
        row[key] = col[b];
      });
      if (row !== undefined) out[b] = row;
    }
    out.length = this.length;
    return out;
  }

  private grow(atLeast: number): void {
    let cap = this.capacity;
    while (cap < atLeast) cap *= 2;
    this.capacity = cap;
    this.columns.forEach((col, key) => {
      if (col === undefined) return;
      const wider = new Float64Array(cap);
      wider.set(col);
      this.columns[key] = wider;
    });
  }
}

/** Principal ids per driver domain in `Accounting.driverKey` (Xen's domain ids are below 2^15). */
const DRIVER_KEY_STRIDE = 32_768;

export class Accounting {
  readonly bucketNs: number;
  /** ns each domain ran, by domain id. */
  readonly cpuNs: number[] = [];
  /** ns the driver domain spent on behalf of each principal, by principal id. */
  readonly iddForNs: number[] = [];
  readonly idleNs: number[];
  readonly busyNs: number[];
  /** Per bucket: ns by domain id. */
  readonly cpu = new BucketSeries();
  /** Per bucket: IDD ns by principal id. */
  readonly idd = new BucketSeries();
  /** Per bucket: idle ns summed over pCPUs. */
  readonly idleSeries: number[] = [];
  /**
   * With several driver domains: ns each one spent on behalf of each principal, by
   * driver domain id then principal id (`iddForNs` is their sum). Empty with one.
   */
  readonly iddByDriverNs: number[][] = [];
  /** Per bucket, with several driver domains: key `driverKey(driver, principal)`. */
  readonly iddByDriver = new BucketSeries();
  /** Whether driver domains are told apart (more than one). */
  readonly perDriver: boolean;
  /** Registered marks, ascending, ns. */
  private readonly marks: number[] = [];
  /** Per mark (same index): ns by domain id, and IDD ns by principal, from its bucket's start to it. */
  private readonly cpuHead: number[][] = [];
  private readonly iddHead: number[][] = [];
  private readonly driverHead: number[][] = [];
  /** Driver domain id -> its slot in `driverKey` (0, 1, …). */
  private readonly driverSlot: number[] = [];
  /** The latest end of anything charged, ns. */
  private horizonNs = 0;
  /** `iddDomains` as a lookup by domain id (a Set's `has` on every charge cost more). */
  private readonly isIdd: boolean[] = [];

  constructor(
    pcpus: number,
    readonly iddDomains: ReadonlySet<number>,
    bucketNs = 100_000_000,
  ) {
    this.bucketNs = bucketNs;
    this.idleNs = new Array(pcpus).fill(0);
    this.busyNs = new Array(pcpus).fill(0);
    for (const d of iddDomains) this.isIdd[d] = true;
    this.perDriver = iddDomains.size > 1;
    [...iddDomains]
      .sort((a, b) => a - b)
      .forEach((d, i) => {
        this.driverSlot[d] = i;
        if (this.perDriver) this.iddByDriverNs[d] = [];
      });
  }

  /** The key of (driver domain, principal) in `iddByDriver`. */
  driverKey(driver: number, principal: number): number {
    return this.driverSlot[driver] * DRIVER_KEY_STRIDE + principal;
  }

  /**
   * ns driver domain `driver` spent for `principal` within [fromNs, toNs), exact (as
   * `iddBetween`). With one driver domain, `iddBetween` itself.
   */
  iddOfDriverBetween(driver: number, principal: number, fromNs: number, toNs: number): number {
    if (!this.perDriver) return this.isIdd[driver] === true ? this.iddBetween(principal, fromNs, toNs) : 0;
    if (this.isIdd[driver] !== true) return 0;
    return this.between(this.iddByDriver, this.driverHead, this.driverKey(driver, principal), fromNs, toNs);
  }

  /** Cumulative ns `driver` spent per principal id (with one driver domain, `iddForNs`). */
  iddOfDriver(driver: number): readonly number[] {
    if (!this.perDriver) return this.isIdd[driver] === true ? this.iddForNs : [];
    return this.iddByDriverNs[driver] ?? [];
  }

  /** Charges [startNs, endNs) on `pcpu` to `domain` working for `principal` (domain < 0: idle). */
  charge(pcpu: number, domain: number, principal: number, startNs: number, endNs: number): void {
    const ns = endNs - startNs;
    if (ns <= 0) return;
    if (domain < 0) {
      this.idleNs[pcpu] += ns;
    } else {
      this.busyNs[pcpu] += ns;
      this.cpuNs[domain] = (this.cpuNs[domain] ?? 0) + ns;
      if (this.isIdd[domain] === true) {
        this.iddForNs[principal] = (this.iddForNs[principal] ?? 0) + ns;
        if (this.perDriver) {
          const row = this.iddByDriverNs[domain];
          row[principal] = (row[principal] ?? 0) + ns;
        }
      }
    }
    if (endNs > this.horizonNs) this.horizonNs = endNs;
    if (this.marks.length > 0 && domain >= 0) this.chargeHeads(domain, principal, startNs, endNs);
    let t = startNs;
    while (t < endNs) {
      const b = Math.floor(t / this.bucketNs);
      const end = Math.min(endNs, (b + 1) * this.bucketNs);
      const part = end - t;
      if (domain < 0) {
        this.idleSeries[b] = (this.idleSeries[b] ?? 0) + part;
      } else {
        this.cpu.add(b, domain, part);
        if (this.isIdd[domain] === true) {
          this.idd.add(b, principal, part);
          if (this.perDriver) this.iddByDriver.add(b, this.driverKey(domain, principal), part);
        }
      }
      t = end;
    }
  }

  /**
   * Makes `ns` an exact bound for window sums. Call it before the run reaches the bucket
   * holding `ns` (before anything is charged past that bucket's start); bucket
   * boundaries need no mark.
   */
  mark(ns: number): void {
    if (!Number.isInteger(ns) || ns < 0) throw new RangeError(`accounting mark ${ns}: not a time in ns`);
    if (ns % this.bucketNs === 0 || this.marks.includes(ns)) return;
    const bucketStart = Math.floor(ns / this.bucketNs) * this.bucketNs;
    if (this.horizonNs > bucketStart)
      throw new RangeError(
        `accounting mark ${ns} ns: time up to ${this.horizonNs} ns is already charged; mark before the run gets there`,
      );
    let i = this.marks.length;
    while (i > 0 && this.marks[i - 1] > ns) i--;
    this.marks.splice(i, 0, ns);
    this.cpuHead.splice(i, 0, []);
    this.iddHead.splice(i, 0, []);
    this.driverHead.splice(i, 0, []);
  }

  /** ns `domain` ran within [fromNs, toNs), exact (see the header for which bounds are allowed). */
  cpuBetween(domain: number, fromNs: number, toNs: number): number {
    return this.between(this.cpu, this.cpuHead, domain, fromNs, toNs);
  }

  /** IDD ns spent for `principal` within [fromNs, toNs), exact (see the header). */
  iddBetween(principal: number, fromNs: number, toNs: number): number {
    return this.between(this.idd, this.iddHead, principal, fromNs, toNs);
  }

  /** Per bucket: ns by domain id, as rows (a copy; `cpu.at(bucket, domain)` reads one). */
  get cpuSeries(): number[][] {
    return this.cpu.rows();
  }

  /** Per bucket: IDD ns by principal id, as rows (a copy; `idd.at(bucket, principal)` reads one). */
  get iddSeries(): number[][] {
    return this.idd.rows();
  }

  private between(
    series: BucketSeries,
    heads: number[][],
    key: number,
    fromNs: number,
    toNs: number,
  ): number {
    const a = Math.max(0, fromNs);
    if (toNs <= a || a >= this.horizonNs) return 0;
    let sum = 0 - this.head(heads, key, a);
    // Past the horizon nothing is charged: the buckets from a's on hold all of [a, toNs).
    const last = toNs >= this.horizonNs ? series.length : Math.floor(toNs / this.bucketNs);
    for (let b = Math.floor(a / this.bucketNs); b < last; b++) sum += series.at(b, key);
    if (toNs < this.horizonNs) sum += this.head(heads, key, toNs);
    return sum;
  }

  /** ns charged to `key` from the start of the bucket holding `t` to `t`. */
  private head(heads: number[][], key: number, t: number): number {
    if (t % this.bucketNs === 0) return 0;
    const i = this.markIndex(t);
    if (this.marks[i] !== t)
      throw new RangeError(
        `accounting: ${t} ns is neither a bucket boundary (${this.bucketNs} ns) nor a mark, and the run has passed it; mark it before the run`,
      );
    return heads[i][key] ?? 0;
  }

  /** Index of the first mark at or after `t`. */
  private markIndex(t: number): number {
    let lo = 0;
    let hi = this.marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.marks[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds [startNs, endNs) to the heads of the marks whose [bucket start, mark) it overlaps. */
  private chargeHeads(domain: number, principal: number, startNs: number, endNs: number): void {
    const idd = this.iddDomains.has(domain);
    for (let i = this.markIndex(startNs + 1); i < this.marks.length; i++) {
      const m = this.marks[i];
      const from = Math.max(startNs, Math.floor(m / this.bucketNs) * this.bucketNs);
      if (from >= endNs) break;
      const part = Math.min(endNs, m) - from;
      if (part <= 0) continue;
      this.cpuHead[i][domain] = (this.cpuHead[i][domain] ?? 0) + part;
      if (idd) {
        this.iddHead[i][principal] = (this.iddHead[i][principal] ?? 0) + part;
        if (this.perDriver) {
          const k = this.driverKey(domain, principal);
          this.driverHead[i][k] = (this.driverHead[i][k] ?? 0) + part;
        }
      }
    }
  }
}
