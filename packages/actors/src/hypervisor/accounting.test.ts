/**
 * The ground-truth accounting on its own: totals, the split at bucket boundaries, the
 * driver domain's work by principal, idle, and window sums over the bucket series.
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
});
