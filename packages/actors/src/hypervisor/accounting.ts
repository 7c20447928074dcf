/**
 * Ground-truth CPU accounting: every nanosecond of every pCPU goes to exactly one
 * (domain, principal) pair or to idle. Totals are exact integers; a time series in
 * fixed buckets (100 ms by default) splits each interval at bucket boundaries, so a
 * bucket's entries plus idle sum to the bucket's length times the pCPU count.
 *
 * Invariant (checked by tests): per pCPU, busy + idle = elapsed.
 */
function addAt(series: number[][], bucket: number, key: number, ns: number): void {
  let row = series[bucket];
  if (row === undefined) {
    row = [];
    series[bucket] = row;
  }
  row[key] = (row[key] ?? 0) + ns;
}

export class Accounting {
  readonly bucketNs: number;
  /** ns each domain ran, by domain id. */
  readonly cpuNs: number[] = [];
  /** ns the driver domain spent on behalf of each principal, by principal id. */
  readonly iddForNs: number[] = [];
  readonly idleNs: number[];
  readonly busyNs: number[];
  /** Per bucket: ns by domain id. */
  readonly cpuSeries: number[][] = [];
  /** Per bucket: IDD ns by principal id. */
  readonly iddSeries: number[][] = [];
  /** Per bucket: idle ns summed over pCPUs. */
  readonly idleSeries: number[] = [];

  constructor(
    pcpus: number,
    readonly iddDomains: ReadonlySet<number>,
    bucketNs = 100_000_000,
  ) {
    this.bucketNs = bucketNs;
    this.idleNs = new Array(pcpus).fill(0);
    this.busyNs = new Array(pcpus).fill(0);
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
      if (this.iddDomains.has(domain)) this.iddForNs[principal] = (this.iddForNs[principal] ?? 0) + ns;
    }
    let t = startNs;
    while (t < endNs) {
      const b = Math.floor(t / this.bucketNs);
      const end = Math.min(endNs, (b + 1) * this.bucketNs);
      const part = end - t;
      if (domain < 0) {
        this.idleSeries[b] = (this.idleSeries[b] ?? 0) + part;
      } else {
        addAt(this.cpuSeries, b, domain, part);
        if (this.iddDomains.has(domain)) addAt(this.iddSeries, b, principal, part);
      }
      t = end;
    }
  }

  /** ns `domain` ran within [fromNs, toNs), from the bucket series (bucket-aligned bounds). */
  cpuBetween(domain: number, fromNs: number, toNs: number): number {
    return this.sumSeries(this.cpuSeries, domain, fromNs, toNs);
  }

  /** IDD ns spent for `principal` within [fromNs, toNs) (bucket-aligned bounds). */
  iddBetween(principal: number, fromNs: number, toNs: number): number {
    return this.sumSeries(this.iddSeries, principal, fromNs, toNs);
  }

  private sumSeries(series: number[][], key: number, fromNs: number, toNs: number): number {
    let sum = 0;
    for (let b = Math.floor(fromNs / this.bucketNs); b * this.bucketNs < toNs; b++)
      sum += series[b]?.[key] ?? 0;
    return sum;
  }
}
