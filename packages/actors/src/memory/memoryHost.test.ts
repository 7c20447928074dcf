import { IsosimError, Kernel, LogWriter, MemorySink, ms } from '@isosim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorHost } from '../host/actorHost.ts';
import {
  MemoryHost,
  type MemoryHostOptions,
  RESERVATION_POLICIES,
  type ReservationPolicy,
} from './memoryHost.ts';

/** 1 GiB of 4 KiB pages. */
const TOTAL = 262_144;
/** The debate's worst-case domain: 128 MiB at t=0 (its minimum), 768 MiB at its peak, 200 ms period. */
const SINE = { domain: 1, minPages: 32_768, peakPages: 196_608, periodNs: ms(200), stepNs: ms(1) };
/** A 384 MiB domain: 192 batches of 2 MiB, 384 ms at the default rate. */
const BIG = 98_304;

function host(policy: ReservationPolicy, seed = 7, extra: Partial<MemoryHostOptions> = {}) {
  const log = new LogWriter(new MemorySink(), {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'memory' },
    seed,
    versions: {},
  });
  const kernel = new Kernel({ seed, log });
  const mem = new MemoryHost(kernel, new ActorHost(kernel), { totalPages: TOTAL, policy, ...extra });
  return { kernel, mem, log };
}

/** One sine guest and `builds` launches of `BIG` pages at t=0, run for 1 s. */
function run(policy: ReservationPolicy, builds = [2], seed = 7) {
  const h = host(policy, seed);
  h.mem.addDynamicGuest(SINE);
  for (const domain of builds) h.mem.launch({ domain, pages: BIG });
  h.kernel.runUntil(ms(1000));
  return { ...h, digest: h.log.digest() };
}

describe('MemoryHost', () => {
  it('is deterministic: the same seed and calls give the same log digest', () => {
    for (const policy of RESERVATION_POLICIES) {
      expect(run(policy).digest).toBe(run(policy).digest);
    }
    expect(run('none').digest).not.toBe(run('claim').digest);
  });

  it('none: the sine guest takes the free pages and the build fails late, its work wasted', () => {
    const { mem } = run('none');
    const b = mem.build(2);
    expect(b?.outcome).toBe('failed');
    expect(b?.rc).toBe(-12);
    expect(b?.populatedPages).toBeGreaterThan(BIG / 2);
    const m = mem.metrics();
    expect(m).toMatchObject({ launchesSucceeded: 0, launchesFailed: 1, launchesFailedLate: 1 });
    expect(m.wastedPages).toBe(b?.populatedPages);
    expect(mem.allocator.domain(2)).toBeUndefined();
  });

  it('claim: a build whose claim succeeded never fails; the guest is refused instead', () => {
    const { mem } = run('claim', [2, 3, 4]);
    const outcomes = mem.allBuilds().map((b) => b.outcome);
    expect(outcomes).toEqual(['done', 'done', 'refused']);
    expect(mem.build(4)?.populatedPages).toBe(0);
    const m = mem.metrics();
    expect(m).toMatchObject({
      launchesSucceeded: 2,
      launchesRefused: 1,
      launchesFailedLate: 0,
      wastedPages: 0,
    });
    expect(m.latencyNs).toEqual([ms(384), ms(384)]);
    expect(m.guestFailures).toBeGreaterThan(0);
    expect(mem.guest(1)?.failuresByReason.claimed).toBeGreaterThan(0);
    expect(mem.allocator.outstandingClaims).toBe(0);
  });

  it('freeze: the guest stays under its frozen max_pages and its allocations fail until the thaw', () => {
    const h = host('freeze');
    h.mem.addDynamicGuest(SINE);
    h.mem.launch({ domain: 2, pages: BIG });
    let frozenSteps = 0;
    for (let t = 1; t <= 1000; t++) {
      h.kernel.runUntil(ms(t));
      const frozen = h.mem.frozenMaxPages().get(1);
      if (frozen === undefined) continue;
      frozenSteps++;
      expect(frozen).toBe(SINE.minPages);
      expect(h.mem.allocator.domain(1)?.totPages).toBeLessThanOrEqual(frozen);
    }
    expect(frozenSteps).toBe(383);
    expect(h.mem.build(2)?.outcome).toBe('done');
    const g = h.mem.guest(1);
    expect(g?.failuresByReason['over-max']).toBeGreaterThan(300);
    // Blocked at most the whole of each refused 1 ms step (a 40 µs/page swap proxy).
    expect(g?.blockedNs).toBeGreaterThan(0);
    expect(g?.blockedNs).toBeLessThanOrEqual((g?.failures ?? 0) * ms(1));
    expect(h.mem.allocator.domain(1)?.maxPages).toBe(SINE.peakPages);
  });

  it('lock: builds run one at a time, the second waiting for the first', () => {
    const { mem } = run('lock', [2, 3]);
    const [a, b] = mem.allBuilds();
    expect(b.startNs).toBe(a.endNs);
    expect(b.requestNs).toBe(0);
  });

  it('keeps its invariants after every event, and every page is free or owned at the end', () => {
    for (const policy of RESERVATION_POLICIES) {
      const { mem } = run(policy, [2, 3]);
      expect(mem.invariantViolations()).toEqual([]);
      const owned = mem.allocator
        .domainIds()
        .reduce((s, d) => s + (mem.allocator.domain(d)?.totPages ?? 0), 0);
      expect(owned + mem.allocator.freePages).toBe(TOTAL);
      expect(mem.metrics().utilisationPermille).toBeGreaterThan(0);
      mem.shutdown();
      expect(mem.allocator.freePages).toBe(TOTAL);
      expect(mem.allocator.outstandingClaims).toBe(0);
    }
  });

  it('refuses bad parameters with clear errors', () => {
    const { mem } = host('claim');
    expect(() => mem.launch({ domain: 2, pages: TOTAL + 1 })).toThrow(IsosimError);
    expect(() => mem.launch({ domain: 2, pages: -1 })).toThrow(/launch.pages/);
    expect(() => mem.addDynamicGuest({ ...SINE, stepNs: 0 })).toThrow(/stepNs/);
    expect(() => host('none', 7, { batchNs: -5 })).toThrow(/batchNs/);
    expect(() => host('sometimes' as ReservationPolicy)).toThrow(/policy/);
  });

  it('on small random hosts: invariants, claims never failing late, conservation (property)', () => {
    const seen = { lateFailures: 0, refusals: 0, freezes: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...RESERVATION_POLICIES),
        fc.integer({ min: 64, max: 4096 }),
        fc.array(fc.record({ pages: fc.nat(1000), atMs: fc.nat(50) }), { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.record({ min: fc.nat(1000), span: fc.nat(1000), periodMs: fc.integer({ min: 2, max: 40 }) }),
          { minLength: 1, maxLength: 2 },
        ),
        (policy, total, launches, guests) => {
          const kernel = new Kernel({ seed: 1 });
          const mem = new MemoryHost(kernel, new ActorHost(kernel), {
            totalPages: total,
            policy,
            batchPages: 16,
            batchNs: ms(1),
          });
          let domain = 1;
          for (const g of guests) {
            const min = Math.min(g.min % (total >> 2), total >> 2);
            const peak = Math.min(min + g.span, total);
            mem.addDynamicGuest({
              domain: domain++,
              minPages: min,
              peakPages: Math.max(peak, 1),
              periodNs: ms(g.periodMs),
              stepNs: ms(1),
            });
          }
          for (const l of launches)
            mem.launch({ domain: domain++, pages: 1 + (l.pages % total), atNs: ms(l.atMs) });
          kernel.runUntil(ms(400));
          expect(mem.invariantViolations()).toEqual([]);
          for (const b of mem.allBuilds()) {
            expect(b.outcome).not.toBe('building');
            if (policy === 'claim' || policy === 'freeze') expect(b.outcome).not.toBe('failed');
            if (b.outcome === 'failed') seen.lateFailures++;
            if (b.outcome === 'refused') seen.refusals++;
            if (policy === 'freeze' && b.outcome === 'done') seen.freezes++;
          }
          mem.shutdown();
          expect(mem.allocator.freePages).toBe(total);
        },
      ),
      { numRuns: 150, seed: 18 },
    );
    // The draws must reach the cases the property is about, or it proves little.
    expect(seen.lateFailures).toBeGreaterThan(5);
    expect(seen.refusals).toBeGreaterThan(5);
    expect(seen.freezes).toBeGreaterThan(5);
  });
});
