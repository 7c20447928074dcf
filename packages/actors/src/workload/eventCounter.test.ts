/** Counting events over exact windows: bucket boundaries, marks, and after the last event. */
import { describe, expect, it } from 'vitest';
import { EventCounter } from './eventCounter.ts';

describe('EventCounter', () => {
  it('counts any window with marked or whole-bucket bounds exactly', () => {
    const c = new EventCounter(100);
    const marks = [35, 127, 163, 999];
    for (const m of marks) c.mark(m);
    c.mark(200); // a bucket boundary: nothing to keep
    const times: number[] = [];
    for (let t = 0; t < 1000; t += 7) times.push(t, t); // two at each time, some on a mark
    times.push(35, 35);
    times.sort((x, y) => x - y);
    for (const t of times) c.add(t);
    expect(c.total).toBe(times.length);
    expect(c.perBucket.reduce((n, k) => n + k, 0)).toBe(times.length);
    const bounds = [0, 35, 100, 127, 163, 200, 999, 1000, 1200];
    for (const a of bounds)
      for (const b of bounds) {
        const brute = times.filter((t) => t >= a && t < b).length;
        expect(c.between(a, b), `[${a}, ${b})`).toBe(brute);
      }
  });

  it('is exact after the last event without a mark, and refuses a bound it cannot know', () => {
    const c = new EventCounter(100);
    c.add(10);
    c.add(150);
    expect(c.between(100, 151)).toBe(1);
    expect(c.between(151, 400)).toBe(0);
    expect(() => c.between(120, 140)).toThrow(/neither a bucket boundary .* nor a mark/);
    expect(() => c.mark(150)).toThrow(/already counted/);
    expect(() => c.add(149)).toThrow(RangeError);
    c.mark(170);
    c.add(170);
    expect(c.between(0, 170)).toBe(2);
    expect(c.between(170, 171)).toBe(1);
  });

  it('uses 1 s buckets unless told otherwise', () => {
    const c = new EventCounter();
    c.add(999_999_999);
    c.add(1_000_000_000);
    expect(c.perBucket).toEqual([1, 1]);
  });
});
