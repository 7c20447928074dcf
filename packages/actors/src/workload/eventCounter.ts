/**
 * A count of events in simulated time (web replies, failed requests) that can be summed
 * exactly over a window. Events arrive in time order (the kernel's clock); the counter
 * keeps a tally per bucket (1 s by default) and, for each time registered with `mark()`
 * before the clock reaches it, the events in its bucket before it. Memory is one number
 * per bucket and per mark, however many events; a window costs its buckets.
 *
 * An event at exactly time t counts in [t, …), not before t. A bound is exact when it is
 * a bucket boundary, a mark, or after the last event counted; any other bound throws
 * rather than round to a bucket.
 */
export class EventCounter {
  /** Events counted. */
  total = 0;
  /** Events per bucket (index = bucket). */
  readonly perBucket: number[] = [];
  private readonly marks: number[] = [];
  /** Per mark (same index), once the clock has passed it: events in its bucket before it. */
  private readonly headAtMark: number[] = [];
  private passed = 0;
  private lastNs = -1;

  constructor(readonly bucketNs = 1_000_000_000) {}

  /** Counts one event at `ns` (not before the last one). */
  add(ns: number): void {
    if (ns < this.lastNs) throw new RangeError(`event at ${ns} ns after one at ${this.lastNs} ns`);
    while (this.passed < this.marks.length && this.marks[this.passed] <= ns) {
      const m = this.marks[this.passed];
      this.headAtMark[this.passed++] = this.perBucket[Math.floor(m / this.bucketNs)] ?? 0;
    }
    this.total++;
    this.lastNs = ns;
    const b = Math.floor(ns / this.bucketNs);
    this.perBucket[b] = (this.perBucket[b] ?? 0) + 1;
  }

  /** Makes `ns` an exact bound; call it before an event at or after `ns` is counted. */
  mark(ns: number): void {
    if (!Number.isInteger(ns) || ns < 0) throw new RangeError(`mark ${ns}: not a time in ns`);
    if (ns % this.bucketNs === 0 || this.marks.includes(ns)) return;
    if (ns <= this.lastNs)
      throw new RangeError(`mark ${ns} ns: events up to ${this.lastNs} ns already counted`);
    let i = this.marks.length;
    while (i > this.passed && this.marks[i - 1] > ns) i--;
    this.marks.splice(i, 0, ns);
  }

  /** Events in [fromNs, toNs). */
  between(fromNs: number, toNs: number): number {
    const a = Math.max(0, fromNs);
    if (toNs <= a || a > this.lastNs) return 0;
    let n = 0 - this.head(a);
    // After the last event, the buckets from a's on hold all of [a, toNs).
    const last = toNs > this.lastNs ? this.perBucket.length : Math.floor(toNs / this.bucketNs);
    for (let b = Math.floor(a / this.bucketNs); b < last; b++) n += this.perBucket[b] ?? 0;
    if (toNs <= this.lastNs) n += this.head(toNs);
    return n;
  }

  /** Events from the start of the bucket holding `ns` to `ns` (`ns` not after the last event). */
  private head(ns: number): number {
    if (ns % this.bucketNs === 0) return 0;
    const i = this.marks.indexOf(ns);
    if (i < 0 || i >= this.passed)
      throw new RangeError(
        `${ns} ns is neither a bucket boundary (${this.bucketNs} ns) nor a mark, and events after it are counted; mark it first`,
      );
    return this.headAtMark[i];
  }
}
