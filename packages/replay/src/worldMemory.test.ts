/**
 * The host's memory in the World (issue 18), against the live run: a `MemoryHost` with
 * the debate's sine guest and two 384 MiB launches, and one with a balloon, a tmem and
 * two sharing guests and a launch, under each reservation policy, its log folded from
 * the first record. After every record the World's allocator counters equal the live
 * allocator's as they were when that record was written (free pages, claims, every
 * domain's `tot_pages`, `max_pages` and claim, `DOMID_XEN` and `DOMID_COW` included);
 * between events (the kernel run to t, then on) its builds equal the toolstack's, its
 * frozen domains the freeze's, and the guests' balloon targets, tmem pools and broken
 * shared pages the host's; after `shutdown()` every page is free. Then save/load,
 * shared snapshots, a seek through a replay's index, and every rule of the fold on a
 * hand-made log (a claim beyond owned pages, a refused allocation drawing its claim).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ActorHost,
  DOMID_COW,
  DOMID_XEN,
  type MemoryGuestSpec,
  MemoryHost,
  RESERVATION_POLICIES,
  type ReservationPolicy,
} from '@isosim/actors';
import {
  type EventLog,
  Kernel,
  LogDictionary,
  type LogRecord,
  LogWriter,
  MemorySink,
  ms,
  scanBytes,
} from '@isosim/core';
import { afterAll, describe, expect, it } from 'vitest';
import { Replay } from './replay.ts';
import { emptyWorld, World } from './world.ts';
import { MEM_DOMID_COW, MEM_DOMID_XEN, type MemoryBuild } from './worldMemory.ts';

/** 1 GiB of 4 KiB pages. */
const TOTAL = 262_144;
/** The debate's worst-case domain (memoryHost.test.ts): 128 to 768 MiB, 200 ms period, a step a ms. */
const SINE = { domain: 1, minPages: 32_768, peakPages: 196_608, periodNs: ms(200), stepNs: ms(1) };
/** 384 MiB: 192 batches of 2 MiB, 384 ms at the default rate. */
const BIG = 98_304;
/**
 * The other kinds of guest (dynamicGuests.test.ts's mix): a balloon guest whose first
 * target is set at once (its starting size is not logged), a tmem guest in bursts with
 * self-ballooning, and two guests sharing pages (owned by DOMID_COW) broken in bursts.
 */
const MIXED: MemoryGuestSpec[] = [
  {
    kind: 'balloon',
    domain: 1,
    maxPages: 65_536,
    initialPages: 16_384,
    pagesPerS: 131_072,
    stepNs: ms(10),
    targets: [
      { atNs: 0, pages: 16_384 },
      { atNs: ms(100), pages: 65_536 },
      { atNs: ms(700), pages: 8_192 },
    ],
  },
  {
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
  },
  ...[0, ms(150)].map(
    (offsetNs, i): MemoryGuestSpec => ({
      kind: 'sharing',
      domain: 3 + i,
      privatePages: 8_192,
      sharedPages: 32_768,
      stepNs: ms(5),
      bursts: { everyNs: ms(300), lengthNs: ms(100), offsetNs },
      breakPagesPerS: 131_072,
      mergePagesPerS: 16_384,
    }),
  ),
];

/** Where the kernel stops to compare (ms): the first batch, the failure under none (288), a build's end (384), the second under lock (672). */
const STOPS = [0, 1, 2, 3, 50, 100, 150, 287, 288, 289, 383, 384, 385, 386, 500, 671, 672, 673, 800, 1000];

/** The allocator's accounting, as the World's memory part holds it. */
interface Accounts {
  totalPages: number;
  freePages: number;
  outstandingClaims: number;
  domains: Record<string, { totPages: number; maxPages: number; outstandingPages: number }>;
}

/** What the host says between events, at a stop. */
interface Stop {
  tNs: number;
  /** Records written by then. */
  n: number;
  accounts: Accounts;
  builds: Record<string, MemoryBuild>;
  frozen: Record<string, number>;
  guests: Record<string, GuestView>;
}

/** A guest's balloon target, tmem pools and broken shared pages, as the World keeps them. */
interface GuestView {
  target?: number;
  tmem?: {
    ephemeralPages: number;
    persistentPages: number;
    ephemeralRefusedPages: number;
    evictedPages: number;
  };
  brokenPages?: number;
}

function guestsOf(mem: MemoryHost, guests: readonly MemoryGuestSpec[]): Record<string, GuestView> {
  const out: Record<string, GuestView> = {};
  for (const spec of guests) {
    const g = mem.guest(spec.domain);
    if (g === undefined) continue;
    out[spec.domain] = { target: g.targetPages, tmem: g.tmem, brokenPages: g.brokenPages };
  }
  return plain(out);
}

function guestsIn(w: World, guests: readonly MemoryGuestSpec[]): Record<string, GuestView> {
  const m = w.s.memory;
  const out: Record<string, GuestView> = {};
  for (const spec of guests) {
    const key = String(spec.domain);
    const t = m?.tmem[key];
    const pools =
      t === undefined
        ? { ephemeralPages: 0, persistentPages: 0, ephemeralRefusedPages: 0, evictedPages: 0 }
        : {
            ephemeralPages: t.ephemeralPages,
            persistentPages: t.persistentPages,
            ephemeralRefusedPages: t.ephemeralRefusedPages,
            evictedPages: t.evictedPages,
          };
    out[key] = {
      target: spec.kind === 'balloon' ? m?.balloonTargets[key] : undefined,
      tmem: spec.kind === 'tmem' ? pools : undefined,
      brokenPages: spec.kind === 'sharing' ? (m?.sharing[key]?.brokenPages ?? 0) : undefined,
    };
  }
  return plain(out);
}

function accountsOf(mem: MemoryHost): Accounts {
  const a = mem.allocator;
  const domains: Accounts['domains'] = {};
  for (const d of a.domainIds()) domains[d] = { ...(a.domain(d) as Accounts['domains'][string]) };
  return {
    totalPages: a.totalPages,
    freePages: a.freePages,
    outstandingClaims: a.outstandingClaims,
    domains,
  };
}

/** The toolstack's builds as the World keeps them (a launch waiting for the lock has no record yet). */
function buildsOf(mem: MemoryHost): Record<string, MemoryBuild> {
  const out: Record<string, MemoryBuild> = {};
  for (const b of mem.allBuilds()) {
    if (b.outcome === 'waiting') continue;
    out[b.domain] = {
      pages: b.pages,
      state: b.outcome,
      requestNs: b.requestNs,
      startNs: b.startNs,
      endNs: b.endNs,
      populatedPages: b.populatedPages,
      rc: b.rc,
    };
  }
  return out;
}

/** The domains frozen now that still exist, with their frozen max_pages. */
function frozenOf(mem: MemoryHost): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [d, max] of mem.frozenMaxPages()) if (mem.allocator.domain(d) !== undefined) out[d] = max;
  return out;
}

/** The World's memory part as plain data (no null prototypes), for `toEqual`. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function accountsIn(w: World): Accounts | undefined {
  const m = w.s.memory;
  if (m === undefined) return undefined;
  return plain({
    totalPages: m.totalPages,
    freePages: m.freePages,
    outstandingClaims: m.outstandingClaims,
    domains: m.domains,
  });
}

interface Run {
  bytes: Uint8Array;
  /** By record count n: the allocator's accounting when record n − 1 was written (JSON). */
  afterRecord: string[];
  stops: Stop[];
  /** After `shutdown()`. */
  end: Stop;
  guests: readonly MemoryGuestSpec[];
}

/**
 * One sine guest and launches of `BIG` pages at t = 0 (or, `mixed`, the `MIXED` guests
 * and the launches at 150 ms), run to each of `STOPS`, then shut down; the log is kept
 * in memory, and the allocator's accounting after every record.
 */
function run(policy: ReservationPolicy, launches: number[], mixed: boolean): Run {
  const sink = new MemorySink();
  const writer = new LogWriter(sink, {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'memory' },
    seed: 7,
    versions: {},
  });
  let mem: MemoryHost | undefined;
  const afterRecord: string[] = [''];
  // The log as the kernel sees it, noting the allocator after each record: a mem.*
  // record is written by the allocator's callback after the operation; a delivery
  // before its effects, which later records carry.
  const log: EventLog = {
    get records() {
      return writer.records;
    },
    append(type, timeNs, source, target, a0, a1, a2, a3) {
      writer.append(type, timeNs, source, target, a0, a1, a2, a3);
      afterRecord.push(mem?.allocator === undefined ? '' : JSON.stringify(accountsOf(mem)));
    },
    defineType: (id, name, fields) => writer.defineType(id, name, fields),
    defineName: (id, name) => writer.defineName(id, name),
    close: () => writer.close(),
  };
  const kernel = new Kernel({ seed: 7, log });
  mem = new MemoryHost(kernel, new ActorHost(kernel), { totalPages: TOTAL, policy });
  const host = mem;
  const guests = mixed ? MIXED : [];
  if (mixed) for (const g of MIXED) host.addGuest(g);
  else host.addDynamicGuest(SINE);
  for (const domain of launches) host.launch({ domain, pages: BIG, atNs: mixed ? ms(150) : 0 });
  const stop = (): Stop => ({
    tNs: kernel.nowNs,
    n: log.records,
    accounts: accountsOf(host),
    builds: buildsOf(host),
    frozen: frozenOf(host),
    guests: guestsOf(host, guests),
  });
  const stops = STOPS.map((t) => {
    kernel.runUntil(ms(t));
    return stop();
  });
  host.shutdown();
  const end = stop();
  log.close();
  return { bytes: sink.bytes(), afterRecord, stops, end, guests };
}

/** Folds `bytes`, calling `at(n, world)` before record n for each n in `points` (ascending), and at the end. */
function fold(bytes: Uint8Array, points: number[], at: (n: number, w: World) => void): World {
  const w = new World();
  let i = 0;
  scanBytes(bytes, {
    onRecord: (r, d) => {
      while (i < points.length && points[i] === r.seq) at(points[i++], w);
      w.apply(r, d);
      return undefined;
    },
  });
  while (i < points.length) at(points[i++], w);
  return w;
}

const CASES: { policy: ReservationPolicy; launches: number[]; guests: 'sine' | 'mixed' }[] = [
  ...RESERVATION_POLICIES.map((policy) => ({ policy, launches: [2, 3], guests: 'sine' as const })),
  // A third launch: refused at once under claim (its claim finds too few unclaimed pages).
  { policy: 'claim', launches: [2, 3, 4], guests: 'sine' },
  ...RESERVATION_POLICIES.map((policy) => ({ policy, launches: [10], guests: 'mixed' as const })),
];
const runs = new Map<string, Run>();
function runOf(policy: ReservationPolicy, launches: number[], guests: 'sine' | 'mixed' = 'sine'): Run {
  const key = `${policy}:${launches.join(',')}:${guests}`;
  let r = runs.get(key);
  if (r === undefined) {
    r = run(policy, launches, guests === 'mixed');
    runs.set(key, r);
  }
  return r;
}

describe('World memory', () => {
  it.each(CASES)(
    '$policy, $guests guests, launches $launches: equals the live allocator after every record',
    ({ policy, launches, guests }) => {
      const r = runOf(policy, launches, guests);
      const n = r.afterRecord.length - 1;
      const points = Array.from({ length: n + 1 }, (_, k) => k);
      let compared = 0;
      fold(r.bytes, points, (k, w) => {
        const want = r.afterRecord[k];
        if (want === '' || k === 0) {
          expect(w.s.memory, `record ${k}`).toBeUndefined();
          return;
        }
        const live = JSON.parse(want) as Accounts;
        const got = accountsIn(w);
        if (got === undefined) {
          // No mem.* record yet: the allocator is as it started.
          expect(live).toEqual({ totalPages: TOTAL, freePages: TOTAL, outstandingClaims: 0, domains: {} });
          return;
        }
        if (JSON.stringify(got) !== want) expect(got, `after ${k} records (policy ${policy})`).toEqual(live);
        compared++;
      });
      expect(compared).toBeGreaterThan(1_000);
    },
  );

  it.each(CASES)(
    '$policy, $guests guests, launches $launches: builds, frozen domains and guests between events, and after shutdown',
    ({ policy, launches, guests }) => {
      const r = runOf(policy, launches, guests);
      const stops = [...r.stops, r.end];
      const seen: Stop[] = [];
      const last = fold(
        r.bytes,
        stops.map((s) => s.n),
        (n, w) => {
          const s = stops[seen.length];
          expect(n).toBe(s.n);
          seen.push(s);
          const m = w.s.memory;
          expect(m, `at ${s.tNs}`).toBeDefined();
          expect(accountsIn(w), `at ${s.tNs}`).toEqual(s.accounts);
          expect(plain(m?.builds), `builds at ${s.tNs}`).toEqual(s.builds);
          expect(plain(m?.frozen), `frozen at ${s.tNs}`).toEqual(s.frozen);
          if (s !== r.end) expect(guestsIn(w, r.guests), `guests at ${s.tNs}`).toEqual(s.guests);
          for (const d of Object.keys(s.accounts.domains))
            expect(w.memoryDomain(Number(d))).toEqual(s.accounts.domains[d]);
        },
      );
      expect(seen).toHaveLength(stops.length);
      // After shutdown: every page free, no claim, no domain, nothing frozen.
      const m = last.s.memory;
      expect(m).toMatchObject({ totalPages: TOTAL, freePages: TOTAL, outstandingClaims: 0 });
      expect(Object.keys(m?.domains ?? { x: 1 })).toEqual([]);
      expect(Object.keys(m?.frozen ?? { x: 1 })).toEqual([]);
      // And no guest is left with a target, tmem pages or broken shared pages.
      for (const part of [m?.balloonTargets, m?.tmem, m?.sharing])
        expect(Object.keys(part ?? { x: 1 })).toEqual([]);
      expect(last.memoryDomain(1)).toBeUndefined();
      expect(last.s.memory?.lastDestroyed?.domain).toBeDefined();
    },
  );

  // The World equals the host at the stops (above); these say the runs reach every outcome.
  it('covers every outcome: failed late, done, frozen, refused at once, waiting for the lock', () => {
    const states = (policy: ReservationPolicy, launches: number[]) =>
      Object.values(runOf(policy, launches).end.builds).map((b) => b.state);
    expect(states('none', [2, 3])).toEqual(['failed', 'failed']);
    expect(states('claim', [2, 3])).toEqual(['done', 'done']);
    expect(states('claim', [2, 3, 4])).toEqual(['done', 'done', 'refused']);
    expect(states('freeze', [2, 3])).toEqual(['done', 'done']);
    expect(states('lock', [2, 3])).toEqual(['failed', 'failed']);
    // The refused launch's size comes from its domain's max_pages before it was destroyed.
    const refused = runOf('claim', [2, 3, 4]).end.builds[4];
    expect(refused).toMatchObject({ pages: BIG, state: 'refused', rc: -12, populatedPages: 0 });
    // Under freeze the guest is frozen at its minimum while the builds run (the stops checked the World).
    const atFreeze = runOf('freeze', [2, 3]).stops.find((s) => s.tNs === ms(100));
    expect(atFreeze?.frozen).toEqual({ [SINE.domain]: SINE.minPages });
    // Under lock the second launch is not in the World while it waits.
    const lock = runOf('lock', [2, 3]);
    const waiting = lock.stops.find((s) => s.tNs === ms(100));
    expect(Object.keys(waiting?.builds ?? {})).toEqual(['2']);
    // The second starts when the first ends (both fail late: the sine guest takes the pages).
    expect(lock.end.builds[3]).toMatchObject({ requestNs: 0, startNs: lock.end.builds[2].endNs });
    expect(lock.end.builds[2].endNs).toBeGreaterThan(0);
    // The mix: the build at 150 ms fails late without a reservation; tmem's ephemeral
    // pages are evicted and puts refused; the pseudo-owners hold tmem's and shared pages.
    const mixed = (policy: ReservationPolicy) => runOf(policy, [10], 'mixed');
    expect(RESERVATION_POLICIES.map((p) => mixed(p).end.builds[10].state)).toEqual([
      'failed',
      'done',
      'done',
      'failed',
    ]);
    const atEnd = mixed('claim').stops[STOPS.length - 1];
    expect(atEnd.guests[2].tmem?.evictedPages).toBeGreaterThan(0);
    expect(atEnd.guests[2].tmem?.ephemeralRefusedPages).toBeGreaterThan(0);
    expect(atEnd.guests[3].brokenPages).toBeGreaterThan(0);
    expect(atEnd.guests[1].target).toBe(8_192);
    expect(atEnd.accounts.domains[DOMID_XEN].totPages).toBeGreaterThan(0);
    expect(atEnd.accounts.domains[DOMID_COW].totPages).toBeGreaterThan(0);
  });
});

describe('World memory: snapshots, save/load and the index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isosim-world-memory-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The state after records [0, n), folded from the first record. */
  function fresh(bytes: Uint8Array, n: number): World {
    const w = new World();
    scanBytes(bytes, {
      onRecord: (r, d) => {
        if (r.seq >= n) return false;
        w.apply(r, d);
        return undefined;
      },
    });
    return w;
  }

  it('round-trips through save/load with null-prototype maps, and snapshots share what did not change', () => {
    const { bytes, stops } = runOf('claim', [2, 3, 4]);
    const n = stops.find((s) => s.tNs === ms(100))?.n ?? 0;
    const w = fresh(bytes, n);
    const text = w.save();
    const back = World.load(text);
    expect(back.save()).toBe(text);
    const m = back.s.memory;
    for (const map of [m?.domains, m?.builds, m?.frozen, m?.balloonTargets, m?.tmem, m?.sharing])
      expect(Object.getPrototypeOf(map)).toBeNull();
    expect(back.memoryDomain(2)).toEqual(w.memoryDomain(2));
    // A world saved before memory existed loads without it; a log without mem.* records has none.
    const old = JSON.parse(text);
    delete old.memory;
    expect(World.load(JSON.stringify(old)).s.memory).toBeUndefined();
    expect(emptyWorld().memory).toBeUndefined();
    expect(new World().save()).not.toContain('memory');

    // Snapshots 1 ms apart: the builds changed, the guest's entry too, but the frozen
    // map (empty) and the maps never written are shared.
    const a = w.snapshot();
    const later = stops.find((s) => s.tNs === ms(150))?.n ?? 0;
    scanBytes(bytes, {
      onRecord: (r, d) => {
        if (r.seq < n) return undefined;
        if (r.seq >= later) return false;
        w.apply(r, d);
        return undefined;
      },
    });
    const b = w.snapshot();
    expect(Object.isFrozen(b.memory)).toBe(true);
    expect(Object.isFrozen(b.memory?.domains[2])).toBe(true);
    expect(b.memory).not.toBe(a.memory);
    expect(b.memory?.frozen).toBe(a.memory?.frozen);
    expect(b.memory?.tmem).toBe(a.memory?.tmem);
    expect(b.memory?.builds[4]).toBe(a.memory?.builds[4]);
    expect(b.memory?.domains[2]).not.toBe(a.memory?.domains[2]);
    expect(new World(a).save()).toBe(text);
    expect(new World(b).save()).toBe(fresh(bytes, later).save());
    expect(() => {
      (b.memory as { freePages: number }).freePages = 0;
    }).toThrow(TypeError);
  });

  it('seeks through a replay index to the world a fresh fold gives', () => {
    const { bytes, stops, end } = runOf('freeze', [2, 3]);
    const path = join(dir, 'freeze.isolog');
    writeFileSync(path, bytes);
    const r = Replay.open(path, { every: 500, indexPath: false });
    for (const s of [...stops.slice(3), end]) {
      const w = r.seek(s.n);
      expect(w.save(), `at ${s.tNs}`).toBe(fresh(bytes, s.n).save());
      expect(plain(w.s.memory?.frozen)).toEqual(s.frozen);
    }
    // Stepping back from the end.
    expect(r.seek(stops[5].n).save()).toBe(fresh(bytes, stops[5].n).save());
  });
});

describe('World memory: a hand-made log', () => {
  const d = new LogDictionary();
  d.names.push('memory', 'toolstack');
  const TYPES: [string, string[]][] = [
    ['mem.domain.create', ['domain', 'rc', 'maxPages', 'freePages']],
    ['mem.domain.destroy', ['domain', 'rc', 'freedPages', 'cancelledPages']],
    ['mem.claim', ['domain', 'pages', 'rc', 'outstandingClaims']],
    ['mem.alloc', ['domain', 'pages', 'rc', 'claimDrawnPages']],
    ['mem.free', ['domain', 'pages', 'rc', 'totPages']],
    ['mem.maxpages', ['domain', 'pages', 'rc']],
    ['mem.balloon.target', ['domain', 'pages']],
    ['mem.tmem.put', ['domain', 'pool', 'pages', 'rc']],
    ['mem.tmem.get', ['domain', 'pool', 'pages']],
    ['mem.tmem.evict', ['domain', 'pages']],
    ['mem.share.break', ['domain', 'pages', 'rc']],
    ['mem.share.merge', ['domain', 'pages']],
    ['mem.something.new', ['domain', 'pages']],
  ];
  for (const [name, fields] of TYPES) d.types.push({ name, fields });
  const type = (name: string) => TYPES.findIndex(([n]) => n === name);
  let seq = 0;
  const rec = (name: string, ...values: number[]): LogRecord => ({
    seq: seq++,
    timeNs: seq * 1000,
    type: type(name),
    source: 0,
    target: 1,
    values: Float64Array.from([...values, 0, 0, 0, 0].slice(0, 4)),
    fieldCount: values.length,
  });

  it('keeps targets, pools, broken pages and the pseudo-owners, and forgets a guest destroyed', () => {
    expect([MEM_DOMID_XEN, MEM_DOMID_COW]).toEqual([DOMID_XEN, DOMID_COW]);
    const w = new World();
    const apply = (name: string, ...values: number[]) => w.apply(rec(name, ...values), d);
    apply('mem.domain.create', 5, 0, 400, 1000);
    apply('mem.domain.create', DOMID_XEN, 0, 1000, 1000);
    apply('mem.domain.create', DOMID_COW, 0, 1000, 1000);
    apply('mem.domain.create', 6, 0, 300, 1000);
    apply('mem.alloc', 5, 200, 0, 0);
    apply('mem.balloon.target', 5, 150);
    apply('mem.free', 5, 50, 0, 150);
    // Guest 6: tmem puts (one refused), gets, an eviction; the pages move to DOMID_XEN.
    apply('mem.tmem.put', 6, 0, 40, 0);
    apply('mem.alloc', DOMID_XEN, 40, 0, 0);
    apply('mem.tmem.put', 6, 1, 30, 0);
    apply('mem.alloc', DOMID_XEN, 30, 0, 0);
    apply('mem.tmem.put', 6, 0, 500, -12);
    apply('mem.tmem.get', 6, 1, 10);
    apply('mem.free', DOMID_XEN, 10, 0, 60);
    apply('mem.tmem.evict', 6, 15);
    apply('mem.free', DOMID_XEN, 15, 0, 45);
    // Guest 5 shares 20 pages (owned by DOMID_COW), breaks 8 (one break refused), 3 merged back.
    apply('mem.alloc', DOMID_COW, 20, 0, 0);
    apply('mem.share.break', 5, 8, 0);
    apply('mem.alloc', 5, 8, 0, 0);
    apply('mem.share.break', 5, 4, -12);
    apply('mem.share.merge', 5, 3);
    apply('mem.free', 5, 3, 0, 155);
    apply('mem.something.new', 5, 1);
    const m = w.snapshot().memory;
    expect(m).toMatchObject({ totalPages: 1000, freePages: 1000 - 155 - 45 - 20, outstandingClaims: 0 });
    expect(plain(m?.domains)).toEqual({
      5: { totPages: 155, maxPages: 400, outstandingPages: 0 },
      6: { totPages: 0, maxPages: 300, outstandingPages: 0 },
      [DOMID_XEN]: { totPages: 45, maxPages: 1000, outstandingPages: 0 },
      [DOMID_COW]: { totPages: 20, maxPages: 1000, outstandingPages: 0 },
    });
    expect(plain(m?.balloonTargets)).toEqual({ 5: 150 });
    expect(plain(m?.tmem)).toEqual({
      6: {
        ephemeralPages: 25,
        persistentPages: 20,
        ephemeralRefusedPages: 500,
        persistentRefusedPages: 0,
        evictedPages: 15,
      },
    });
    expect(plain(m?.sharing)).toEqual({ 5: { brokenPages: 5, refusedPages: 4 } });
    const text = w.save();
    expect(World.load(text).save()).toBe(text);
    // A claim, one refused allocation that draws it anyway, then the guests destroyed.
    apply('mem.claim', 6, 100, 0, 100);
    expect(w.memoryDomain(6)?.outstandingPages).toBe(100);
    apply('mem.alloc', 6, 120, -7, 100);
    expect(w.memoryDomain(6)).toEqual({ totPages: 0, maxPages: 300, outstandingPages: 0 });
    expect(w.s.memory?.outstandingClaims).toBe(0);
    // A claim by a domain that owns pages is for the pages beyond them; destroying it cancels it.
    apply('mem.claim', 5, 300, 0, 145);
    expect(w.memoryDomain(5)?.outstandingPages).toBe(145);
    expect(w.s.memory?.outstandingClaims).toBe(145);
    apply('mem.domain.destroy', 6, 0, 0, 0);
    apply('mem.domain.destroy', 5, 0, 155, 145);
    expect(w.s.memory?.outstandingClaims).toBe(0);
    const after = w.snapshot().memory;
    expect(Object.keys(after?.domains ?? {})).toEqual([String(DOMID_XEN), String(DOMID_COW)]);
    expect(Object.keys(after?.tmem ?? { x: 1 })).toEqual([]);
    expect(Object.keys(after?.sharing ?? { x: 1 })).toEqual([]);
    expect(Object.keys(after?.balloonTargets ?? { x: 1 })).toEqual([]);
    expect(after?.freePages).toBe(1000 - 45 - 20);
    expect(after?.lastDestroyed).toEqual({
      domain: 5,
      atNs: seq * 1000,
      totPages: 155,
      maxPages: 400,
      outstandingPages: 145,
    });
  });
});
