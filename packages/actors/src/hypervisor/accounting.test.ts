/**
 * The ground-truth accounting on its own: totals, the split at bucket boundaries, the
 * driver domain's work by principal, idle, and window sums over the bucket series,
 * exact to the nanosecond at marked bounds (checked against a brute-force sum of the
 * charged intervals).
 */
import { describe, expect, it } from 'vitest';
import { Accounting } from './accounting.ts';

const IDD = 0;

describe('Accounting', () => {
  it('splits an interval at bucket boundaries and keeps totals exact', () => {
    const acc = new Accounting(2, new Set([IDD]), 100);
    acc.charge(1, 2, 2, 50, 330); // guest 2 on pCPU 1: 50 + 100 + 100 + 30
    expect(acc.cpuNs[2]).toBe(280);
    expect(acc.busyNs).toEqual([0, 280]);
    expect(acc.idleNs).toEqual([0, 0]);
    expect(acc.cpuSeries.map((row) => row[2])).toEqual([50, 100, 100, 30]);
    expect(acc.iddForNs).toEqual([]);
    expect(acc.iddSeries).toEqual([]);
    expect(acc.cpuBetween(2, 0, 400)).toBe(280);
    expect(acc.cpuBetween(2, 100, 300)).toBe(200);
    expect(acc.cpuBetween(2, 300, 400)).toBe(30);
    expect(acc.cpuBetween(2, 400, 1_000)).toBe(0);
    expect(acc.cpuBetween(3, 0, 400)).toBe(0);
  });

  it("credits the driver domain's work to the principal it served, and to the driver domain", () => {
    const acc = new Accounting(1, new Set([IDD]), 100);
    acc.charge(0, IDD, 1, 0, 70); // for guest 1
    acc.charge(0, IDD, 2, 70, 120); // for guest 2, across a boundary
    acc.charge(0, IDD, IDD, 120, 130); // its own work
    expect(acc.cpuNs[IDD]).toBe(130);
    expect(acc.iddForNs).toEqual([10, 70, 50]);
    expect(acc.iddSeries[0]).toEqual([undefined, 70, 30]);
    expect(acc.iddSeries[1]).toEqual([10, undefined, 20]);
    expect(acc.iddBetween(2, 0, 100)).toBe(30);
    expect(acc.iddBetween(2, 100, 200)).toBe(20);
    expect(acc.iddBetween(1, 0, 200)).toBe(70);
    // A guest's own CPU is never credited to a principal.
    acc.charge(0, 1, 1, 130, 150);
    expect(acc.iddForNs[1]).toBe(70);
    expect(acc.cpuBetween(1, 100, 200)).toBe(20);
  });

  it('counts idle per pCPU and per bucket, and ignores empty intervals', () => {
    const acc = new Accounting(2, new Set([IDD]), 100);
    acc.charge(0, -1, -1, 0, 150);
    acc.charge(1, -1, -1, 90, 110);
    acc.charge(0, 1, 1, 150, 150);
    acc.charge(0, 1, 1, 160, 150);
    expect(acc.idleNs).toEqual([150, 20]);
    expect(acc.idleSeries).toEqual([110, 60]);
    expect(acc.busyNs).toEqual([0, 0]);
    expect(acc.cpuNs).toEqual([]);
    expect(acc.cpuSeries).toEqual([]);
  });

  it('domain 0 is a domain, not idle', () => {
    const acc = new Accounting(1, new Set([IDD]), 100);
    acc.charge(0, 0, 0, 0, 10);
    expect(acc.busyNs).toEqual([10]);
    expect(acc.idleNs).toEqual([0]);
    expect(acc.idleSeries).toEqual([]);
    expect(acc.cpuSeries[0]).toEqual([10]);
  });

  it('uses 100 ms buckets unless told otherwise', () => {
    const acc = new Accounting(1, new Set([IDD]));
    expect(acc.bucketNs).toBe(100_000_000);
    acc.charge(0, 1, 1, 99_999_990, 100_000_010);
    expect(acc.cpuSeries[0][1]).toBe(10);
    expect(acc.cpuSeries[1][1]).toBe(10);
  });

  /** The ns of `intervals` (pcpu, domain, principal, start, end) within [a, b), by brute force. */
  const brute = (intervals: number[][], pick: (iv: number[]) => boolean, a: number, b: number) =>
    intervals.reduce((n, iv) => n + (pick(iv) ? Math.max(0, Math.min(b, iv[4]) - Math.max(a, iv[3])) : 0), 0);

  it('sums any window with marked or bucket-aligned bounds exactly, whatever order the pCPUs charge in', () => {
    const acc = new Accounting(2, new Set([IDD]), 100);
    const marks = [35, 127, 163, 250, 251, 999];
    for (const m of [...marks].reverse()) acc.mark(m);
    acc.mark(200); // a bucket boundary: nothing to keep
    acc.mark(35); // twice: once
    // Deterministic pseudo-random intervals on two pCPUs, each pCPU charging in order
    // but the two interleaved, as the hypervisor does.
    // (The high bits of a 32-bit LCG: its low bits repeat with a short period, which
    // gave the driver domain's work one principal in every bucket, and left the marks'
    // per-principal heads untested: found by the mutation score.)
    let x = 12345;
    const rnd = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 16) % n;
    };
    const intervals: number[][] = [];
    const at = [0, 0];
    while (at[0] < 1000 || at[1] < 1000) {
      const p = at[0] <= at[1] ? (rnd(3) === 0 ? 1 : 0) : 1;
      if (at[p] >= 1000) continue;
      const len = 1 + rnd(60);
      const dom = rnd(4) - 1; // -1 idle, 0 the IDD, 1 and 2 guests
      const principal = dom === IDD ? rnd(3) : dom;
      const iv = [p, dom, principal, at[p], Math.min(1000, at[p] + len)];
      intervals.push(iv);
      acc.charge(iv[0], iv[1], iv[2], iv[3], iv[4]);
      at[p] = iv[4];
    }
    const bounds = [0, 35, 100, 127, 163, 200, 250, 251, 300, 999, 1000, 1200];
    for (const a of bounds)
      for (const b of bounds) {
        if (b < a) continue;
        for (const d of [0, 1, 2, 3])
          expect(acc.cpuBetween(d, a, b), `cpu ${d} [${a}, ${b})`).toBe(
            brute(intervals, (iv) => iv[1] === d, a, b),
          );
        for (const g of [0, 1, 2])
          expect(acc.iddBetween(g, a, b), `idd ${g} [${a}, ${b})`).toBe(
            brute(intervals, (iv) => iv[1] === IDD && iv[2] === g, a, b),
          );
      }
  });

  it('keeps its horizon at the latest time charged on any pCPU, whichever pCPU charged last', () => {
    const acc = new Accounting(2, new Set([IDD]), 100);
    acc.charge(0, 1, 1, 0, 300);
    acc.charge(1, 1, 1, 0, 150); // ends before pCPU 0's charge: the horizon stays at 300
    expect(acc.cpuBetween(1, 0, 200)).toBe(200 + 150);
    expect(acc.cpuBetween(1, 0, 400)).toBe(300 + 150);
  });

  it('takes marks at any time from 0 on, and no negative or fractional time', () => {
    const acc = new Accounting(1, new Set([IDD]), 100);
    expect(() => acc.mark(0)).not.toThrow();
    expect(() => acc.mark(-5)).toThrow(RangeError);
    expect(() => acc.mark(2.5)).toThrow(RangeError);
  });

  it('is exact up to anything past what it has charged, without a mark', () => {
    const acc = new Accounting(1, new Set([IDD]), 100);
    acc.charge(0, 1, 1, 0, 163);
    expect(acc.cpuBetween(1, 100, 163)).toBe(63);
    expect(acc.cpuBetween(1, 0, 170)).toBe(163);
    expect(acc.cpuBetween(1, 170, 250)).toBe(0);
  });

  it('refuses a bound it cannot know exactly, rather than rounding it to a bucket', () => {
    const acc = new Accounting(1, new Set([IDD]), 100);
    acc.mark(250);
    acc.charge(0, 1, 1, 0, 330);
    expect(acc.cpuBetween(1, 250, 330)).toBe(80);
    expect(() => acc.cpuBetween(1, 35, 200)).toThrow(/neither a bucket boundary .* nor a mark/);
    expect(() => acc.iddBetween(1, 0, 127)).toThrow(RangeError);
    // Too late to mark a time whose bucket has been charged into; not too late for a later bucket.
    expect(() => acc.mark(310)).toThrow(/already charged/);
    expect(() => acc.mark(1.5)).toThrow(/not a time/);
    acc.mark(420);
    acc.charge(0, 1, 1, 330, 500);
    expect(acc.cpuBetween(1, 250, 420)).toBe(170);
  });
});
