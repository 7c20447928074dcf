/**
 * Whole-host memory invariants over generated hosts (issue 18): random hosts of 512 to
 * 8,192 pages, each reservation policy, up to four dynamic guests of every kind
 * (sine, balloon, tmem, sharing) with awkward parameters (steps that do not divide
 * periods or bursts, zero rates, bursts as long as their period, offsets), and one to
 * six launches plus an optional storm (several at one instant), run for 2 simulated
 * seconds.
 *
 * The invariants are checked twice: inside `MemoryHost` after every `mem.*` event (an
 * `InvariantError` fails the run), and here, independently, by folding the log's
 * records into a reference that knows only the records' fields:
 *   1. Σ tot_pages + Σ outstanding ≤ total at every record, no count ever negative,
 *      free pages as the records report them = total − Σ tot_pages;
 *   2. under `claim`, a build whose claim succeeded (`mem.build.start`) never fails;
 *   3. under `freeze`, no frozen domain allocates past the `max_pages` it was frozen at;
 *   4. conservation: pages allocated − freed − released by destruction = Σ tot_pages at
 *      the end, and after `shutdown()` every page is free and no claim stands.
 * The draws must reach the corners: late failures, refused claims, frozen guests
 * refused, tmem evictions, broken shared pages. ISOSIM_PROPERTY_RUNS scales the hosts (10
 * per run); with ISOSIM_VERIFY_SHARD=i/n the property runs its shard's part, and the
 * corners must be reached by the shards together (test/verify/shard.ts).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ActorHost } from '../../packages/actors/src/host/actorHost.ts';
import type { Bursts, MemoryGuestSpec } from '../../packages/actors/src/memory/guestSpecs.ts';
import {
  MemoryHost,
  RESERVATION_POLICIES,
  type ReservationPolicy,
} from '../../packages/actors/src/memory/memoryHost.ts';
import { DOMID_MAX } from '../../packages/actors/src/memory/pageAllocator.ts';
import { Kernel, LogWriter, MemorySink, ms, scanBytes } from '../../packages/core/src/index.ts';
import { checkProperty, expectReached, writeShardReport } from './shard.ts';

const RUNS = Number(process.env.ISOSIM_PROPERTY_RUNS ?? 8) * 10;
const RUN_NS = ms(2000);

interface GenHost {
  totalPages: number;
  policy: ReservationPolicy;
  batchPages: number;
  batchMs: number;
  guests: MemoryGuestSpec[];
  launches: { pages: number; atNs: number }[];
}

const permille = fc.integer({ min: 0, max: 1000 });
const burstsArb: fc.Arbitrary<Bursts> = fc
  .record({ every: fc.integer({ min: 1, max: 700 }), len: permille, off: fc.integer({ min: 0, max: 900 }) })
  .map(({ every, len, off }) => ({
    everyNs: ms(every),
    lengthNs: Math.floor((ms(every) * len) / 1000),
    offsetNs: ms(off) + 333,
  }));
const stepArb = fc.integer({ min: 1, max: 37 }).map((m) => ms(m) + 17);
const rateArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400_000 }));

/** A guest of a random kind, sized as fractions (per mille) of the host. */
function guestArb(total: number): fc.Arbitrary<(domain: number) => MemoryGuestSpec> {
  const part = (pm: number) => Math.max(0, Math.floor((total * pm) / 1000));
  return fc.oneof(
    fc.record({ a: permille, b: permille, period: fc.integer({ min: 3, max: 900 }), step: stepArb }).map(
      ({ a, b, period, step }) =>
        (domain: number): MemoryGuestSpec => ({
          kind: 'sine',
          domain,
          minPages: part(Math.min(a, b) / 3),
          peakPages: Math.max(1, part(Math.max(a, b))),
          periodNs: ms(period) + 1,
          stepNs: step,
        }),
    ),
    fc
      .record({
        max: fc.integer({ min: 1, max: 900 }),
        init: permille,
        rate: fc.integer({ min: 1, max: 400_000 }),
        step: stepArb,
        targets: fc.array(fc.record({ at: fc.integer({ min: 0, max: 1900 }), pm: permille }), {
          maxLength: 4,
        }),
      })
      .map(({ max, init, rate, step, targets }) => (domain: number): MemoryGuestSpec => {
        const maxPages = Math.max(1, part(max));
        return {
          kind: 'balloon',
          domain,
          maxPages,
          initialPages: Math.floor((maxPages * init) / 3000),
          pagesPerS: rate,
          stepNs: step,
          targets: targets.map((t) => ({ atNs: ms(t.at) + 7, pages: Math.floor((maxPages * t.pm) / 1000) })),
        };
      }),
    fc
      .record({
        base: fc.integer({ min: 1, max: 300 }),
        floor: permille,
        sb: rateArb,
        step: stepArb,
        bursts: burstsArb,
        put: rateArb,
        get: rateArb,
        pers: permille,
      })
      .map(({ base, floor, sb, step, bursts, put, get, pers }) => (domain: number): MemoryGuestSpec => {
        const basePages = Math.max(1, part(base));
        const minPages = sb === 0 ? basePages : Math.floor((basePages * floor) / 1000);
        return {
          kind: 'tmem',
          domain,
          basePages,
          minPages,
          selfBalloonPagesPerS: sb,
          stepNs: step,
          bursts,
          putPagesPerS: put,
          getPagesPerS: get,
          persistentPermille: pers,
        };
      }),
    fc
      .record({
        priv: fc.integer({ min: 0, max: 200 }),
        shared: fc.integer({ min: 0, max: 400 }),
        step: stepArb,
        bursts: burstsArb,
        brk: rateArb,
        merge: rateArb,
      })
      .map(
        ({ priv, shared, step, bursts, brk, merge }) =>
          (domain: number): MemoryGuestSpec => ({
            kind: 'sharing',
            domain,
            privatePages: part(priv),
            sharedPages: part(shared),
            stepNs: step,
            bursts,
            breakPagesPerS: brk,
            mergePagesPerS: merge,
          }),
      ),
  );
}

const hostArb: fc.Arbitrary<GenHost> = fc
  .record({
    totalPages: fc.integer({ min: 512, max: 8192 }),
    policy: fc.constantFrom(...RESERVATION_POLICIES),
    batchPages: fc.integer({ min: 1, max: 512 }),
    batchMs: fc.integer({ min: 1, max: 20 }),
  })
  .chain((h) =>
    fc.record({
      totalPages: fc.constant(h.totalPages),
      policy: fc.constant(h.policy),
      batchPages: fc.constant(h.batchPages),
      batchMs: fc.constant(h.batchMs),
      guests: fc.array(guestArb(h.totalPages), { maxLength: 4 }).map((gs) => gs.map((g, i) => g(i + 1))),
      launches: fc
        .tuple(
          fc.array(
            fc.record({ pm: fc.integer({ min: 1, max: 900 }), at: fc.integer({ min: 0, max: 1500 }) }),
            {
              minLength: 1,
              maxLength: 6,
            },
          ),
          fc.option(
            fc.record({
              count: fc.integer({ min: 2, max: 8 }),
              pm: fc.integer({ min: 1, max: 300 }),
              at: fc.integer({ min: 0, max: 1000 }),
            }),
          ),
        )
        .map(([ls, storm]) => [
          ...ls.map((l) => ({
            pages: Math.max(1, Math.floor((h.totalPages * l.pm) / 1000)),
            atNs: ms(l.at),
          })),
          ...Array.from({ length: storm?.count ?? 0 }, () => ({
            pages: Math.max(1, Math.floor((h.totalPages * (storm?.pm ?? 1)) / 1000)),
            atNs: ms(storm?.at ?? 0),
          })),
        ]),
    }),
  );

/** What the draws reached, over all hosts (the corners must be reached). */
const reached = {
  hosts: 0,
  lateFailures: 0,
  claimRefusals: 0,
  freezeOverMax: 0,
  evictions: 0,
  breaks: 0,
  guestsSkipped: 0,
  records: 0,
};

/** Folds the log's mem.* records, checking invariants 1-4; returns Σ tot at the end. */
function foldAndCheck(bytes: Uint8Array, total: number, policy: ReservationPolicy): void {
  const tot = new Map<number, number>();
  const out = new Map<number, number>();
  const max = new Map<number, number>();
  const frozen = new Map<number, number>();
  const building = new Set<number>();
  const started = new Set<number>();
  let freezes = 0;
  let allocated = 0;
  let released = 0;
  const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  scanBytes(bytes, {
    onRecord: (r, dict) => {
      const name = dict.typeName(r.type);
      if (!name.startsWith('mem.')) return undefined;
      reached.records++;
      const v = (i: number) => r.values[i] as number;
      const d = v(0);
      switch (name) {
        case 'mem.domain.create':
          if (v(1) === 0) {
            tot.set(d, 0);
            out.set(d, 0);
            max.set(d, v(2));
          }
          expect(v(3), 'free pages at create').toBe(total - sum(tot));
          break;
        case 'mem.domain.destroy':
          if (v(1) === 0) {
            expect(v(2)).toBe(tot.get(d));
            expect(v(3)).toBe(out.get(d));
            released += v(2);
            tot.delete(d);
            out.delete(d);
            max.delete(d);
            frozen.delete(d);
          }
          break;
        case 'mem.claim':
          if (v(2) === 0) out.set(d, v(1) === 0 ? 0 : v(1) - (tot.get(d) ?? 0));
          expect(v(3), 'outstanding claims').toBe(sum(out));
          break;
        case 'mem.alloc':
          out.set(d, (out.get(d) ?? 0) - v(3));
          if (v(2) === 0) {
            tot.set(d, (tot.get(d) ?? 0) + v(1));
            allocated += v(1);
            const f = frozen.get(d);
            if (f !== undefined) expect(tot.get(d), `frozen domain ${d}`).toBeLessThanOrEqual(f);
          }
          break;
        case 'mem.free':
          if (v(2) === 0) {
            tot.set(d, (tot.get(d) ?? 0) - v(1));
            released += v(1);
            expect(v(3)).toBe(tot.get(d));
          }
          break;
        case 'mem.maxpages':
          if (v(2) === 0) {
            max.set(d, v(1));
            if (freezes > 0 && d <= DOMID_MAX && !building.has(d) && v(1) === tot.get(d)) frozen.set(d, v(1));
          }
          break;
        case 'mem.freeze':
          freezes = 1;
          break;
        case 'mem.thaw':
          freezes = 0;
          frozen.clear();
          break;
        case 'mem.build.start':
          building.add(d);
          started.add(d);
          break;
        case 'mem.build.done':
          building.delete(d);
          break;
        case 'mem.build.fail':
          building.delete(d);
          if (started.has(d)) {
            reached.lateFailures++;
            expect(policy, `build ${d} failed after its start`).not.toBe('claim');
          } else if (policy === 'claim') reached.claimRefusals++;
          break;
        case 'mem.tmem.evict':
          reached.evictions += v(1);
          break;
        case 'mem.share.break':
          if (v(2) === 0) reached.breaks += v(1);
          break;
      }
      for (const m of [tot, out]) for (const x of m.values()) expect(x).toBeGreaterThanOrEqual(0);
      expect(sum(tot) + sum(out), 'owned + claimed').toBeLessThanOrEqual(total);
      return undefined;
    },
  });
  expect(allocated - released, 'conservation').toBe(sum(tot));
  expect(sum(tot), 'after shutdown').toBe(0);
  expect(sum(out)).toBe(0);
}

function runHost(h: GenHost): void {
  const sink = new MemorySink();
  const log = new LogWriter(sink, {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'memory-verify' },
    seed: 1,
    versions: {},
  });
  const kernel = new Kernel({ seed: 1, log });
  const mem = new MemoryHost(kernel, new ActorHost(kernel), {
    totalPages: h.totalPages,
    policy: h.policy,
    batchPages: h.batchPages,
    batchNs: ms(h.batchMs),
  });
  for (const g of h.guests) {
    try {
      mem.addGuest(g);
    } catch (e) {
      // Guests whose starting memory does not fit are refused with an IsosimError.
      if (!(e instanceof Error) || e.name !== 'IsosimError') throw e;
      reached.guestsSkipped++;
    }
  }
  h.launches.forEach((l, i) => {
    mem.launch({ domain: 100 + i, pages: Math.min(l.pages, h.totalPages), atNs: l.atNs });
  });
  kernel.runUntil(RUN_NS);
  for (const g of h.guests) {
    const s = mem.guest(g.domain);
    if (h.policy === 'freeze') reached.freezeOverMax += s?.failuresByReason['over-max'] ?? 0;
  }
  const m = mem.metrics();
  expect(
    m.launchesSucceeded +
      m.launchesFailed +
      mem.allBuilds().filter((b) => b.outcome === 'building' || b.outcome === 'waiting').length,
  ).toBe(h.launches.length);
  if (h.policy === 'claim') expect(m.launchesFailedLate).toBe(0);
  mem.shutdown();
  expect(mem.allocator.freePages).toBe(h.totalPages);
  expect(mem.allocator.outstandingClaims).toBe(0);
  log.close();
  foldAndCheck(sink.bytes(), h.totalPages, h.policy);
  reached.hosts++;
}

describe('memory: whole-host invariants over generated hosts', () => {
  afterAll(() => {
    if (process.env.ISOSIM_VERIFY_REPORT) console.log('memory hosts reached', JSON.stringify(reached));
    writeShardReport('memoryHost.verify');
  });

  it('every policy, every kind of guest: invariants 1-4 at every record', () => {
    const r = checkProperty('memory-hosts', fc.property(hostArb, runHost), 1818, RUNS);
    r.counts = { ...reached };
    expectReached(r, 'lateFailures', reached.lateFailures);
    expectReached(r, 'claimRefusals', reached.claimRefusals);
    expectReached(r, 'freezeOverMax', reached.freezeOverMax);
    expectReached(r, 'evictions', reached.evictions);
    expectReached(r, 'breaks', reached.breaks);
  });
});
