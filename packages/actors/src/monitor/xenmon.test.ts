/**
 * XenMon's estimate over a window: kept per 100 ms sample with its span, summed over
 * any window, a sample partly inside counting in proportion to its part inside.
 */
import { Kernel, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import type { XenSystem } from '../system/xenSystem.ts';
import { udpHost } from './udpHost.testkit.ts';

function host(seed: number): XenSystem {
  return udpHost(new Kernel({ seed }));
}

describe('XenMon estimate over a window', () => {
  const sys = host(3);
  const endNs = 1_630_000_000;
  const [a, b] = [350_000_000, 1_270_000_000];
  sys.xen.accounting.mark(a);
  sys.xen.accounting.mark(b);
  sys.start();
  sys.kernel.runUntil(endNs);
  sys.xen.settle();
  sys.xenmon.sample(); // the last, partial sample [1.6, 1.63) s
  const xm = sys.xenmon;

  it('keeps one row per sample, abutting, the last one partial', () => {
    expect(xm.history.length).toBe(17);
    xm.history.forEach((h, i) => {
      expect(h.startNs).toBe(i * 100_000_000);
      expect(h.endNs).toBe(Math.min(endNs, (i + 1) * 100_000_000));
    });
    for (const d of [1, 2]) {
      const sum = xm.history.reduce((n, h) => n + (h.estimatedNs[d] ?? 0), 0);
      expect(sum).toBe(xm.estimatedNs[d]);
    }
  });

  it('sums whole samples exactly and apportions a partial sample by time', () => {
    for (const d of [0, 1, 2]) {
      const est = (k: number) => xm.history[k].estimatedNs[d] ?? 0;
      expect(xm.estimatedBetween(d, 0, endNs)).toBe(xm.estimatedNs[d] ?? 0);
      expect(xm.estimatedBetween(d, 200_000_000, 500_000_000)).toBe(est(2) + est(3) + est(4));
      // [a, b) = [0.35, 1.27) s: half of sample 3, samples 4..11, 70% of sample 12.
      let inner = 0;
      for (let k = 4; k <= 11; k++) inner += est(k);
      expect(xm.estimatedBetween(d, a, b)).toBeCloseTo(est(3) / 2 + inner + est(12) * 0.7, 3);
      // Inside one sample: its share of the sample's span; the partial last sample counts whole.
      expect(xm.estimatedBetween(d, 520_000_000, 545_000_000)).toBeCloseTo(est(5) / 4, 3);
      expect(xm.estimatedBetween(d, 1_600_000_000, endNs)).toBe(est(16));
      expect(xm.estimatedBetween(d, endNs, 2 * NS_PER_S)).toBe(0);
    }
    expect(xm.estimatedBetween(0, 0, endNs)).toBe(0); // the IDD has no estimate for itself
  });

  it('adds up over windows that tile the run', () => {
    const cuts = [0, 123_456_789, 350_000_000, 1_270_000_000, 1_600_000_001, endNs];
    for (const d of [1, 2]) {
      let sum = 0;
      for (let i = 1; i < cuts.length; i++) sum += xm.estimatedBetween(d, cuts[i - 1], cuts[i]);
      expect(sum).toBeCloseTo(xm.estimatedNs[d], 3);
    }
  });

  it('is within reason of the truth over an unaligned window on a steady load', () => {
    for (const d of [1, 2]) {
      const est = xm.estimatedBetween(d, a, b);
      const truth = sys.xen.accounting.iddBetween(d, a, b);
      expect(truth).toBeGreaterThan(0.01 * (b - a));
      expect(Math.abs(est - truth) / truth).toBeLessThan(0.2);
    }
  });
});

describe("XenMon's history over many samples", () => {
  it('keeps every sample as its columns grow, and sums them exactly', () => {
    const sys = host(4);
    sys.start();
    // Extra samples every 3 ms beside the loop's every 100 ms: about 700 samples in 2 s.
    for (let t = 3_000_000; t <= 2 * NS_PER_S; t += 3_000_000) {
      sys.kernel.runUntil(t);
      sys.xenmon.sample();
    }
    const xm = sys.xenmon;
    const h = xm.history;
    expect(h.length).toBeGreaterThan(600);
    for (let i = 1; i < h.length; i++) expect(h[i].startNs).toBe(h[i - 1].endNs);
    for (const d of [1, 2]) {
      const sum = h.reduce((n, s) => n + (s.estimatedNs[d] ?? 0), 0);
      expect(sum).toBe(xm.estimatedNs[d]);
      expect(xm.estimatedBetween(d, 0, 2 * NS_PER_S)).toBe(sum);
      h.forEach((s, i) => {
        if (i % 50 === 0) expect(xm.estimatedBetween(d, s.startNs, s.endNs)).toBe(s.estimatedNs[d] ?? 0);
      });
    }
  });
});
