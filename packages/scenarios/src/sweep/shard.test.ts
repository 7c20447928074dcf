import { fc, test } from '@fast-check/vitest';
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { parseShard, shardFileName, shardRuns } from './shard.ts';

describe('parseShard', () => {
  it.each([
    ['0/1', 0, 1],
    ['0/4', 0, 4],
    ['3/4', 3, 4],
    [' 2 / 8 ', 2, 8],
    ['07/10', 7, 10],
    ['99999/100000', 99999, 100000],
  ])('%s is shard %i of %i', (spec, index, count) => {
    expect(parseShard(spec, 'isosim sweep')).toEqual({ index, count });
  });

  it.each([
    [
      '5/4',
      /--shard: the shard index 5 in '5\/4' is not below the count 4 \(indices are 0-based\); give an index from 0 to 3/,
    ],
    ['4/4', /not below the count 4/],
    ['-1/4', /--shard: the shard index '-1' in '-1\/4' is not a whole number; give an index from 0 to n - 1/],
    ['1/0', /--shard: the shard count 0 in '1\/0' is out of range; give n from 1 to 100000/],
    ['0/100001', /out of range/],
    ['a/b', /--shard: the shard count 'b' in 'a\/b' is not a whole number; give i\/n/],
    ['1.5/4', /--shard: the shard index '1.5' in '1.5\/4' is not a whole number/],
    ['1/2.0', /the shard count '2.0'/],
    ['3', /--shard: '3' is not of the form i\/n; give i\/n with whole numbers 0 ≤ i < n, e.g. --shard 0\/4/],
    ['', /is not of the form i\/n/],
    ['1/2/3', /is not of the form i\/n/],
    ['0x1/4', /not a whole number/],
  ])('%j is refused', (spec, message) => {
    let err: unknown;
    try {
      parseShard(spec, 'isosim sweep');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IsosimError);
    expect((err as IsosimError).where).toBe('isosim sweep');
    expect((err as IsosimError).message).toMatch(/^isosim sweep: --shard: /);
    expect((err as IsosimError).message).toMatch(message);
  });
});

describe('shardRuns', () => {
  it('deals run k to shard k mod n, in order', () => {
    const runs = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    expect(shardRuns(runs, { index: 0, count: 3 })).toEqual(['a', 'd', 'g']);
    expect(shardRuns(runs, { index: 1, count: 3 })).toEqual(['b', 'e']);
    expect(shardRuns(runs, { index: 2, count: 3 })).toEqual(['c', 'f']);
    expect(shardRuns(runs, { index: 0, count: 1 })).toEqual(runs);
    expect(shardRuns(runs, { index: 9, count: 10 })).toEqual([]);
  });

  it('refuses a shard that is not one', () => {
    expect(() => shardRuns([1], { index: 2, count: 2 })).toThrow(IsosimError);
    expect(() => shardRuns([1], { index: 0, count: 0 })).toThrow(/is not a shard/);
    expect(() => shardRuns([1], { index: 0.5, count: 2 })).toThrow(/is not a shard/);
  });

  test.prop([fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 64 })])(
    'the n shards are disjoint, their union is every run once, each in order, sizes within one, stable',
    (runCount, n) => {
      const runs = Array.from({ length: runCount }, (_, k) => ({ id: `r${k}`, index: k }));
      const shards = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i, count: n }));
      const all = shards.flat();
      expect(all).toHaveLength(runCount);
      expect(new Set(all).size).toBe(runCount);
      expect([...all].sort((a, b) => a.index - b.index)).toEqual(runs);
      for (const s of shards) {
        for (let j = 1; j < s.length; j++) expect(s[j].index).toBeGreaterThan(s[j - 1].index);
      }
      const sizes = shards.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // The same input gives the same shards.
      const again = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i, count: n }));
      expect(again).toEqual(shards);
    },
  );
});

describe('shardFileName', () => {
  it('names a shard by the sweep, its index and the count', () => {
    expect(shardFileName('share', { index: 2, count: 4 })).toBe('share.shard-2-of-4.duckdb');
  });
});
