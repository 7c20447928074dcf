import { IsosimError, Kernel, LogWriter, MemorySink, ms } from '@isosim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorHost } from '../host/actorHost.ts';
import { inBurst, type MemoryGuestSpec, pagesBy, pagesIn } from './guestSpecs.ts';
import { MemoryHost, type MemoryHostOptions, type ReservationPolicy } from './memoryHost.ts';
import { DOMID_COW, DOMID_XEN } from './pageAllocator.ts';

/** 1 GiB of 4 KiB pages. */
const TOTAL = 262_144;

function host(policy: ReservationPolicy, extra: Partial<MemoryHostOptions> = {}) {
  const log = new LogWriter(new MemorySink(), {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'memory-guests' },
    seed: 3,
    versions: {},
  });
  const kernel = new Kernel({ seed: 3, log });
  const mem = new MemoryHost(kernel, new ActorHost(kernel), { totalPages: TOTAL, policy, ...extra });
  return { kernel, mem, log };
}

const BALLOON: MemoryGuestSpec = {
  kind: 'balloon',
  domain: 1,
  maxPages: 65_536,
  initialPages: 16_384,
  pagesPerS: 131_072,
  stepNs: ms(10),
  targets: [
    { atNs: ms(100), pages: 65_536 },
    { atNs: ms(700), pages: 8_192 },
  ],
};
const TMEM: MemoryGuestSpec = {
  kind: 'tmem',
  domain: 2,
  basePages: 32_768,
  minPages: 16_384,
  selfBalloonPagesPerS: 65_536,
  stepNs: ms(5),
  bursts: { everyNs: ms(400), lengthNs: ms(200) },
  putPagesPerS: 262_144,
  getPagesPerS: 131_072,
  persistentPermille: 500,
};
const sharing = (domain: number, offsetNs = 0): MemoryGuestSpec => ({
  kind: 'sharing',
  domain,
  privatePages: 8_192,
  sharedPages: 32_768,
  stepNs: ms(5),
  bursts: { everyNs: ms(300), lengthNs: ms(100), offsetNs },
  breakPagesPerS: 131_072,
  mergePagesPerS: 16_384,
});

/** The four kinds on 1 GiB with a 384 MiB build at 150 ms, for 1 s. */
function mixed(policy: ReservationPolicy) {
  const h = host(policy, { sampleEveryNs: ms(50) });
  h.mem.addGuest(BALLOON);
  h.mem.addGuest(TMEM);
  h.mem.addGuest(sharing(3));
  h.mem.addGuest(sharing(4, ms(150)));
  h.mem.launch({ domain: 10, pages: 98_304, atNs: ms(150) });
  h.kernel.runUntil(ms(1000));
  return h;
}

describe('rates and bursts', () => {
  it('pagesIn is exact: any steps sum to the whole, even past 2^53 / rate ns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_000_000 }),
        fc.array(fc.integer({ min: 1, max: 4_000_000_000_000 }), { minLength: 1, maxLength: 8 }),
        (rate, steps) => {
          let t = 0;
          let sum = 0;
          for (const dt of steps) {
            sum += pagesIn(rate, t, t + dt);
            t += dt;
          }
          expect(sum).toBe(pagesBy(rate, t));
          expect(pagesBy(rate, t)).toBe(Number((BigInt(rate) * BigInt(t)) / 1_000_000_000n));
        },
      ),
      { seed: 18, numRuns: 300 },
    );
  });

  it('bursts: on from the offset for lengthNs of every everyNs', () => {
    const b = { everyNs: 100, lengthNs: 30, offsetNs: 50 };
    expect([0, 49, 50, 79, 80, 149, 150, 179, 180].map((t) => inBurst(b, t))).toEqual([
      false,
      false,
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });
});

describe('dynamic guests', () => {
  it('balloon: follows the toolstack targets at its rate, logged as mem.balloon.target', () => {
    const h = host('none');
    h.mem.addGuest(BALLOON);
    const tot = () => h.mem.allocator.domain(1)?.totPages;
    h.kernel.runUntil(ms(99));
    expect(tot()).toBe(16_384);
    h.kernel.runUntil(ms(200));
    // 131,072 pages/s for the steps after the target: 10 ms gives 1,310 or 1,311 pages.
    expect(tot()).toBeGreaterThan(16_384 + 9 * 1_310);
    h.kernel.runUntil(ms(600));
    expect(tot()).toBe(65_536);
    h.kernel.runUntil(ms(1200));
    expect(tot()).toBe(8_192);
    expect(h.mem.guest(1)).toMatchObject({ kind: 'balloon', targetPages: 8_192, failures: 0 });
  });

  it('tmem: puts fill the pools in bursts, gets drain them between, self-ballooning to the floor', () => {
    const h = host('none');
    h.mem.addGuest(TMEM);
    h.kernel.runUntil(ms(199));
    const g = h.mem.guest(2)?.tmem;
    // 200 ms of puts at 262,144 pages/s (the step at 200 ms is the first outside the burst).
    expect((g?.ephemeralPages ?? 0) + (g?.persistentPages ?? 0)).toBe(pagesBy(262_144, ms(195)));
    expect(Math.abs((g?.persistentPages ?? 0) - (g?.ephemeralPages ?? 0))).toBeLessThanOrEqual(1);
    expect(h.mem.allocator.domain(DOMID_XEN)?.totPages).toBe(
      (g?.ephemeralPages ?? 0) + (g?.persistentPages ?? 0),
    );
    h.kernel.runUntil(ms(399));
    // Between bursts: toward the floor at 65,536 pages/s (the steps of (195, 395] ms),
    // the pools drained persistent first.
    expect(h.mem.allocator.domain(2)?.totPages).toBe(32_768 - pagesIn(65_536, ms(195), ms(395)));
    expect(h.mem.guest(2)?.tmem?.persistentPages).toBe(0);
    h.kernel.runUntil(ms(599));
    expect(h.mem.allocator.domain(2)?.totPages).toBe(32_768);
  });

  it("tmem: ephemeral pages are evicted for another domain's allocation, persistent ones never", () => {
    const h = host('none');
    h.mem.addGuest({ ...TMEM, persistentPermille: 0 });
    h.kernel.runUntil(ms(200));
    const eph = h.mem.guest(2)?.tmem?.ephemeralPages ?? 0;
    expect(eph).toBeGreaterThan(40_000);
    // A build larger than the free pages succeeds by evicting the ephemeral pool.
    const free = h.mem.allocator.freePages;
    h.mem.launch({ domain: 9, pages: Math.floor((free + eph / 2) / 512) * 512 });
    h.kernel.runUntil(ms(2000));
    expect(h.mem.build(9)?.outcome).toBe('done');
    expect(h.mem.metrics().tmemEvictedPages).toBeGreaterThan(0);
    expect(h.mem.guest(2)?.tmem?.evictedPages).toBe(h.mem.metrics().tmemEvictedPages);
  });

  it('sharing: DOMID_COW holds one copy of what any guest still shares; breaks allocate, merges free', () => {
    const h = host('none');
    h.mem.addGuest(sharing(3));
    h.mem.addGuest(sharing(4, ms(150)));
    const cow = () => h.mem.allocator.domain(DOMID_COW)?.totPages ?? 0;
    expect(cow()).toBe(32_768);
    h.kernel.runUntil(ms(100));
    const b3 = h.mem.guest(3)?.brokenPages ?? 0;
    expect(b3).toBeGreaterThan(10_000);
    // Guest 4 has broken nothing yet: every page is still shared once.
    expect(cow()).toBe(32_768);
    expect(h.mem.allocator.domain(3)?.totPages).toBe(8_192 + b3);
    h.kernel.runUntil(ms(1000));
    const [x, y] = [h.mem.guest(3)?.brokenPages ?? 0, h.mem.guest(4)?.brokenPages ?? 0];
    expect(cow()).toBe(32_768 - Math.min(x, y));
  });

  it('freeze holds every guest kind at its frozen max_pages, but not tmem (owned by no guest)', () => {
    const h = mixed('freeze');
    expect(h.mem.guest(1)?.failuresByReason['over-max']).toBeGreaterThan(10);
    expect(h.mem.guest(3)?.failuresByReason['over-max']).toBeGreaterThan(0);
    expect(h.mem.guest(2)?.failures).toBe(0);
    expect(h.mem.metrics().tmemPagesPeak).toBeGreaterThan(50_000);
  });

  it('the four policies on the mixed host: none fails late, claim and freeze complete; every page accounted for', () => {
    const results = (['none', 'claim', 'freeze', 'lock'] as const).map((p) => {
      const h = mixed(p);
      const m = h.mem.metrics();
      expect(h.mem.invariantViolations()).toEqual([]);
      h.mem.shutdown();
      expect(h.mem.allocator.freePages).toBe(TOTAL);
      expect(h.mem.allocator.outstandingClaims).toBe(0);
      return [p, m.launchesSucceeded, m.launchesFailedLate] as const;
    });
    expect(results).toEqual([
      ['none', 0, 1],
      ['claim', 1, 0],
      ['freeze', 1, 0],
      ['lock', 0, 1],
    ]);
  });

  it('samples: every period, the state after the events at that time, as the allocator had it', () => {
    const h = host('claim', { sampleEveryNs: ms(50) });
    const live: { free: number; tot: number | undefined }[] = [];
    h.mem.addGuest(BALLOON);
    h.mem.addGuest(TMEM);
    h.mem.launch({ domain: 10, pages: 98_304, atNs: ms(150) });
    for (let t = 0; t <= ms(1000); t += ms(50)) {
      h.kernel.runUntil(t);
      live.push({ free: h.mem.allocator.freePages, tot: h.mem.allocator.domain(1)?.totPages });
    }
    h.kernel.runUntil(ms(1000));
    const s = h.mem.samples();
    expect(s.map((x) => x.tNs)).toEqual(live.map((_, i) => i * ms(50)));
    expect(s.map((x) => ({ free: x.freePages, tot: x.totPages[1] }))).toEqual(live);
  });

  it('bad guests are IsosimErrors naming the field', () => {
    const h = host('none');
    const bad: [MemoryGuestSpec, string][] = [
      [{ ...BALLOON, targets: [{ atNs: ms(1), pages: 65_537 }] } as MemoryGuestSpec, 'targets[0].pages'],
      [{ ...BALLOON, initialPages: 70_000 } as MemoryGuestSpec, 'initialPages'],
      [{ ...BALLOON, pagesPerS: -5 } as MemoryGuestSpec, 'pagesPerS'],
      [{ ...TMEM, minPages: 40_000 } as MemoryGuestSpec, 'minPages'],
      [{ ...TMEM, bursts: { everyNs: 10, lengthNs: 20 } } as MemoryGuestSpec, 'bursts.lengthNs'],
      [{ ...TMEM, basePages: TOTAL + 1 } as MemoryGuestSpec, 'basePages'],
      [{ ...sharing(3), sharedPages: TOTAL } as MemoryGuestSpec, 'privatePages + sharedPages'],
    ];
    for (const [spec, field] of bad) {
      let err: unknown;
      try {
        h.mem.addGuest(spec);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(IsosimError);
      expect((err as IsosimError).field).toBe(field);
    }
  });
});
