/**
 * XenMon's block weights (issue 16): the profiles' `blkWeights` are what the disk
 * weight benchmark (`isosim weight --disk`, `measureDiskWeights`) measures on the
 * model, so a change to the block or packet costs that moves them fails here until
 * profiles.ts is updated with the command's new fit.
 */
import { NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { measureDiskWeights, PROFILES } from '../packages/actors/src/index.ts';

/** Relative difference of `have` from `want`. */
const rel = (have: number, want: number): number => Math.abs(have - want) / want;

describe('block weights, measured again', () => {
  for (const profile of Object.values(PROFILES)) {
    it(`${profile.name}: blkWeights are the disk benchmark's fit, within 2%`, () => {
      const r = measureDiskWeights({ profile, seed: 7, durationNs: NS_PER_S / 2, warmupNs: NS_PER_S / 8 });
      for (const op of ['read', 'write'] as const) {
        const fit = r.fit[op];
        const have = profile.block.blkWeights[op];
        expect(rel(have.base, fit.base)).toBeLessThan(0.02);
        expect(rel(have.perSeg, fit.perSeg)).toBeLessThan(0.02);
        // A line fits the points: the cost is per request plus per segment.
        expect(fit.maxRelError).toBeLessThan(0.005);
        const mine = r.points.filter((p) => p.op === op);
        expect(mine.map((p) => p.segments)).toEqual([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        for (const p of mine) {
          expect(p.requests).toBeGreaterThan(500);
          expect(rel(have.base + have.perSeg * p.segments, p.weight)).toBeLessThan(0.02);
        }
        // A sub-page request weighs as a one-page one.
        expect(rel(mine[0].weight, mine[1].weight)).toBeLessThan(0.005);
      }
    });
  }
});
