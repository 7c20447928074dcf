import { describe, expect, it } from 'vitest';
import { Prng } from './prng.ts';

const draw = (p: Prng, n: number) => Array.from({ length: n }, () => p.nextU32());

describe('Prng', () => {
  it('repeats for a seed and differs between seeds', () => {
    expect(draw(Prng.fromSeed(9), 100)).toEqual(draw(Prng.fromSeed(9), 100));
    expect(draw(Prng.fromSeed(9), 100)).not.toEqual(draw(Prng.fromSeed(10), 100));
    expect(draw(Prng.fromSeed(2 ** 40), 10)).not.toEqual(draw(Prng.fromSeed(2 ** 40 + 1), 10));
  });

  it('forks streams that depend only on seed and label', () => {
    const a = Prng.fromSeed(3);
    const b = Prng.fromSeed(3);
    draw(b, 1000);
    expect(draw(a.fork('nic0'), 50)).toEqual(draw(b.fork('nic0'), 50));
    expect(draw(a.fork('nic0'), 50)).not.toEqual(draw(a.fork('nic1'), 50));
    expect(draw(a.fork('nic0').fork('q'), 5)).toEqual(draw(b.fork('nic0').fork('q'), 5));
  });

  it('draws uniform integers in range, including ranges wider than 32 bits', () => {
    const p = Prng.fromSeed(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const x = p.int(1, 6);
      expect(Number.isInteger(x) && x >= 1 && x <= 6).toBe(true);
      counts[x - 1]++;
    }
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(20.5); // p = 0.001 at 5 degrees of freedom
    for (let i = 0; i < 1000; i++) {
      const x = p.int(0, 2 ** 40);
      expect(Number.isSafeInteger(x) && x >= 0 && x <= 2 ** 40).toBe(true);
    }
  });

  it('gives integer-ratio chances and exponential means', () => {
    const p = Prng.fromSeed(2);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (p.chance(3, 10)) hits++;
    expect(Math.abs(hits / 100_000 - 0.3)).toBeLessThan(0.01);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = p.exponentialNs(1000);
      expect(Number.isInteger(x)).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 100_000 - 1000) / 1000).toBeLessThan(0.03);
  });
});
