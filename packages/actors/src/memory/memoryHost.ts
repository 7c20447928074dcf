/**
 * A host's memory on the kernel (issue 18, slice 2): the page allocator
 * (pageAllocator.ts), a toolstack actor that builds domains under a reservation
 * policy, and dynamic guests whose `tot_pages` follows a sine wave, the 2013 debate's
 * "worst-case domain" (../shared/seeds/003, docs/memory.md).
 *
 * Design
 * - Every allocator operation is logged as a `mem.*` record (its `onEvent`), and every
 *   launch, populate batch and guest step is a kernel event delivered to an XState
 *   actor (memoryMachines.ts) whose actions are provided here. Nothing reads a wall
 *   clock or draws a random number: the same calls give the same log.
 * - A build: create the domain, set `max_pages` to its size, reserve per the policy,
 *   then one populate-physmap batch of `batchPages` every `batchNs` (a batch's pages are
 *   allocated at the end of its time: the work is spent before the pages are known to
 *   be there). A refused batch fails the build late: the domain is destroyed and the
 *   pages it had populated count as wasted work. Builds run concurrently, interleaved.
 * - Policies (`ReservationPolicy`): `none` reserves nothing; `claim` stakes
 *   `XENMEM_claim_pages` for the whole size first, and a refused claim fails the launch
 *   at once; `freeze` is the toolstack-only scheme: every domain not being built gets
 *   `max_pages` = its `tot_pages`, then the toolstack checks that the free pages cover
 *   this build, the rest of the builds in progress and what frozen domains may regrow
 *   (up to their frozen `max_pages`); if not, the launch fails at once; the limits are
 *   restored when the last build holding the freeze ends; `lock` serializes builds
 *   (FIFO) and reserves nothing.
 * - A dynamic guest steps every `stepNs` toward min + (peak − min)·(1 − cos 2πt/P)/2
 *   pages (at its minimum at its start, as in the debate), allocating or freeing the
 *   difference in one all-or-nothing call. A refused allocation counts as a failure;
 *   the pages it wanted become paging I/O at `swapNsPerPage` each, so the guest is
 *   blocked for min(stepNs, shortfall × swapNsPerPage) of that step (the swap-storm
 *   proxy); it asks again for its whole shortfall at the next step. `Math.cos` is deterministic in V8 (fdlibm); the result is
 *   rounded to whole pages.
 *
 * Invariants (checked after every `mem.*` event unless `checkInvariants` is false): the
 * allocator's (Σ `tot_pages` + Σ claims ≤ total, free = total − Σ `tot_pages`, …), and
 * no frozen domain owns more than its frozen `max_pages` while the freeze holds.
 */
import { InvariantError, IsosimError, type Kernel } from '@isosim/core';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import { dynamicGuestMachine, toolstackMachine } from './memoryMachines.ts';
import { type AllocRefusal, DOMID_MAX, ENOMEM, type MemEvent, PageAllocator } from './pageAllocator.ts';

/** How the toolstack protects a build from other domains' allocations. */
export type ReservationPolicy = 'none' | 'claim' | 'freeze' | 'lock';

/** Every reservation policy, in the order reports list them. */
export const RESERVATION_POLICIES: readonly ReservationPolicy[] = ['none', 'claim', 'freeze', 'lock'];

/** Bytes per page (x86 4 KiB pages). */
export const PAGE_BYTES = 4096;

/** Pages in one 2 MiB extent (a populate-physmap superpage, order 9): the default batch. */
export const EXTENT_2M_PAGES = 512;

/**
 * Default time to populate one batch, ns. ASSUMPTION, not measured: 2 MiB per 2 ms, i.e.
 * 1 GiB/s, of the order of page scrubbing's rate; the debate says only that large
 * builds take "many minutes" in the worst case. Replace it with a measured rate.
 */
export const POPULATE_BATCH_NS = 2_000_000;

/**
 * Default cost of one page a guest could not get, ns (the swap-storm proxy).
 * ASSUMPTION, not measured: one 4 KiB page written to and read back from a disk at
 * ~200 MB/s is ~40 µs.
 */
export const SWAP_NS_PER_PAGE = 40_000;

/** Options of a `MemoryHost`. */
export interface MemoryHostOptions {
  /** The host's pages for domains (positive integer). */
  readonly totalPages: number;
  /** The toolstack's reservation policy. */
  readonly policy: ReservationPolicy;
  /** Pages per populate batch (default `EXTENT_2M_PAGES`). */
  readonly batchPages?: number;
  /** Time per populate batch, ns (default `POPULATE_BATCH_NS`). */
  readonly batchNs?: number;
  /** Blocked time per page a guest could not get, ns (default `SWAP_NS_PER_PAGE`). */
  readonly swapNsPerPage?: number;
  /** Check the invariants after every `mem.*` event (default true). */
  readonly checkInvariants?: boolean;
}

/** A domain to build: its id, its size in pages, and when it is asked for. */
export interface LaunchSpec {
  readonly domain: number;
  readonly pages: number;
  /** Absolute time of the request, ns (default: now). */
  readonly atNs?: number;
}

/** A dynamic guest: `tot_pages` follows a sine wave between `minPages` and `peakPages`. */
export interface DynamicGuestSpec {
  readonly domain: number;
  readonly minPages: number;
  /** Also its `max_pages` (its lifetime maximum). */
  readonly peakPages: number;
  /** The wave's period, ns. */
  readonly periodNs: number;
  /** Time between steps, ns. */
  readonly stepNs: number;
}

/** Where a build is: waiting for the lock, building, done, failed late, or refused at once. */
export type BuildOutcome = 'waiting' | 'building' | 'done' | 'failed' | 'refused';

/** One launch and what became of it. */
export interface BuildStatus {
  readonly domain: number;
  readonly pages: number;
  readonly requestNs: number;
  /** When the build began (after the lock, if any); -1 before. */
  readonly startNs: number;
  /** When it ended; -1 before. */
  readonly endNs: number;
  readonly populatedPages: number;
  readonly outcome: BuildOutcome;
  /** 0, or the errno (negative) that ended it. */
  readonly rc: number;
}

/** A dynamic guest's allocation failures and the time it spent blocked. */
export interface GuestMemoryStats {
  readonly domain: number;
  readonly steps: number;
  /** Refused allocations, by reason. */
  readonly failures: number;
  readonly failuresByReason: Readonly<Partial<Record<AllocRefusal, number>>>;
  /**
   * Pages asked for and refused, summed over the refused calls: a shortfall that lasts
   * k steps counts k times (page-steps, not distinct pages).
   */
  readonly failedPages: number;
  /** Σ per refused step of min(stepNs, shortfall × swapNsPerPage): the swap-storm proxy. */
  readonly blockedNs: number;
}

/** A host's memory metrics so far. */
export interface MemoryMetrics {
  readonly policy: ReservationPolicy;
  readonly launchesSucceeded: number;
  /** Late failures plus refusals. */
  readonly launchesFailed: number;
  /** Builds that failed while populating. */
  readonly launchesFailedLate: number;
  /** Launches refused before any work (claim or freeze check refused, id taken). */
  readonly launchesRefused: number;
  /** Pages populated by builds that later failed. */
  readonly wastedPages: number;
  /** Request-to-done time of each successful launch, ns, in completion order. */
  readonly latencyNs: readonly number[];
  readonly guestFailures: number;
  readonly guestFailedPages: number;
  readonly guestBlockedNs: number;
  /** Time-weighted mean of owned / total pages since time 0, in permille. */
  readonly utilisationPermille: number;
  readonly ownedPagesPeak: number;
}

interface Build {
  domain: number;
  pages: number;
  requestNs: number;
  startNs: number;
  endNs: number;
  populatedPages: number;
  outcome: BuildOutcome;
  rc: number;
  holds: 'freeze' | 'lock' | undefined;
}

interface Guest {
  spec: DynamicGuestSpec;
  startNs: number;
  actor: HostedActor;
  steps: number;
  failures: number;
  failuresByReason: Partial<Record<AllocRefusal, number>>;
  failedPages: number;
  blockedNs: number;
}

/**
 * A host's memory: allocator, toolstack and dynamic guests, on a kernel.
 *
 * @example
 * ```ts
 * const kernel = new Kernel({ seed: 1 });
 * const mem = new MemoryHost(kernel, new ActorHost(kernel), { totalPages: 262_144, policy: 'claim' });
 * mem.addDynamicGuest({ domain: 1, minPages: 32_768, peakPages: 196_608, periodNs: 200_000_000, stepNs: 1_000_000 });
 * mem.launch({ domain: 2, pages: 98_304 });
 * kernel.runUntil(1_000_000_000);
 * mem.metrics().launchesSucceeded; // 1
 * ```
 */
export class MemoryHost {
  readonly allocator: PageAllocator;
  readonly policy: ReservationPolicy;
  readonly batchPages: number;
  readonly batchNs: number;
  readonly swapNsPerPage: number;
  /** The toolstack actor. */
  readonly toolstack: HostedActor;
  private readonly builds = new Map<number, Build>();
  private readonly guests = new Map<number, Guest>();
  private readonly lockQueue: Build[] = [];
  private lockHeld = false;
  private freezeHolders = 0;
  /** Frozen domains: their `max_pages` before the freeze and while it holds. */
  private readonly frozen = new Map<number, { originalMax: number; frozenMax: number }>();
  private readonly source: number;
  private readonly memTypes: Record<MemEvent['type'], number>;
  private readonly buildTypes: { start: number; done: number; fail: number; freeze: number; thaw: number };
  private readonly check: boolean;
  private ownedPageNs = 0;
  private ownedLast = 0;
  private lastNs = 0;
  private ownedPeak = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly host: ActorHost,
    options: MemoryHostOptions,
  ) {
    if (!(RESERVATION_POLICIES as readonly string[]).includes(options.policy))
      throw new IsosimError(
        'MemoryHost',
        'policy',
        `${String(options.policy)} is not a policy`,
        RESERVATION_POLICIES.join(', '),
      );
    this.policy = options.policy;
    this.batchPages = intArg('batchPages', options.batchPages ?? EXTENT_2M_PAGES, 1);
    this.batchNs = intArg('batchNs', options.batchNs ?? POPULATE_BATCH_NS, 1);
    this.swapNsPerPage = intArg('swapNsPerPage', options.swapNsPerPage ?? SWAP_NS_PER_PAGE, 0);
    this.check = options.checkInvariants ?? true;
    this.source = kernel.registry.name('memory');
    this.memTypes = {
      'mem.domain.create': kernel.type('mem.domain.create', ['domain', 'rc', 'maxPages', 'freePages']),
      'mem.domain.destroy': kernel.type('mem.domain.destroy', [
        'domain',
        'rc',
        'freedPages',
        'cancelledPages',
      ]),
      'mem.claim': kernel.type('mem.claim', ['domain', 'pages', 'rc', 'outstandingClaims']),
      'mem.alloc': kernel.type('mem.alloc', ['domain', 'pages', 'rc', 'claimDrawnPages']),
      'mem.free': kernel.type('mem.free', ['domain', 'pages', 'rc', 'totPages']),
      'mem.maxpages': kernel.type('mem.maxpages', ['domain', 'pages', 'rc']),
    };
    this.buildTypes = {
      start: kernel.type('mem.build.start', ['domain', 'pages', 'waitNs']),
      done: kernel.type('mem.build.done', ['domain', 'pages', 'latencyNs']),
      fail: kernel.type('mem.build.fail', ['domain', 'rc', 'wastedPages', 'latencyNs']),
      freeze: kernel.type('mem.freeze', ['domain', 'frozenDomains']),
      thaw: kernel.type('mem.thaw', ['domain', 'restoredDomains']),
    };
    this.toolstack = host.spawn(
      'toolstack',
      toolstackMachine.provide({
        actions: {
          launch: ({ event }) => this.start(event.domain),
          populate: ({ event }) => this.populate(event.domain),
        },
      }),
    );
    this.allocator = new PageAllocator({ totalPages: options.totalPages, onEvent: (e) => this.onMem(e) });
  }

  /** Asks the toolstack to build a domain of `pages` at `atNs` (default now). */
  launch(spec: LaunchSpec): void {
    domainFree(this, spec.domain, 'launch');
    const pages = intArg('launch.pages', spec.pages, 1);
    if (pages > this.allocator.totalPages)
      throw new IsosimError(
        'MemoryHost.launch',
        'pages',
        `${pages} exceeds the host's ${this.allocator.totalPages}`,
        'launch a domain that fits the host',
      );
    const atNs = intArg('launch.atNs', spec.atNs ?? this.kernel.nowNs, this.kernel.nowNs);
    this.builds.set(spec.domain, {
      domain: spec.domain,
      pages,
      requestNs: atNs,
      startNs: -1,
      endNs: -1,
      populatedPages: 0,
      outcome: 'waiting',
      rc: 0,
      holds: undefined,
    });
    this.host.send(
      this.toolstack,
      { type: 'toolstack.launch', domain: spec.domain },
      atNs - this.kernel.nowNs,
    );
  }

  /** Creates a dynamic guest now, owning `minPages`, and starts its steps. */
  addDynamicGuest(spec: DynamicGuestSpec): void {
    domainFree(this, spec.domain, 'addDynamicGuest');
    const min = intArg('guest.minPages', spec.minPages, 0);
    const peak = intArg('guest.peakPages', spec.peakPages, Math.max(min, 1));
    intArg('guest.periodNs', spec.periodNs, 1);
    intArg('guest.stepNs', spec.stepNs, 1);
    if (peak > this.allocator.totalPages)
      throw new IsosimError(
        'MemoryHost.addDynamicGuest',
        'peakPages',
        `${peak} exceeds the host's ${this.allocator.totalPages}`,
        'a peak that fits the host',
      );
    this.allocator.createDomain(spec.domain, peak);
    if (min > 0 && !this.allocator.allocate(spec.domain, min).ok)
      throw new IsosimError(
        'MemoryHost.addDynamicGuest',
        'minPages',
        `${min} pages are not free for guest ${spec.domain}`,
        'a smaller guest or a larger host',
      );
    const domain = spec.domain;
    const actor = this.host.spawn(
      `guest-${domain}`,
      dynamicGuestMachine.provide({ actions: { step: () => this.step(domain) } }),
    );
    this.guests.set(domain, {
      spec,
      startNs: this.kernel.nowNs,
      actor,
      steps: 0,
      failures: 0,
      failuresByReason: {},
      failedPages: 0,
      blockedNs: 0,
    });
    this.host.send(actor, { type: 'guest.step', domain }, spec.stepNs);
  }

  /** A launch and what became of it, or undefined if never launched. */
  build(domain: number): BuildStatus | undefined {
    const b = this.builds.get(domain);
    return b === undefined ? undefined : { ...b };
  }

  /** Every launch, by domain id ascending. */
  allBuilds(): BuildStatus[] {
    return [...this.builds.keys()].sort((a, b) => a - b).map((d) => ({ ...(this.builds.get(d) as Build) }));
  }

  /** A dynamic guest's stats, or undefined. */
  guest(domain: number): GuestMemoryStats | undefined {
    const g = this.guests.get(domain);
    if (g === undefined) return undefined;
    return {
      domain,
      steps: g.steps,
      failures: g.failures,
      failuresByReason: { ...g.failuresByReason },
      failedPages: g.failedPages,
      blockedNs: g.blockedNs,
    };
  }

  /** The frozen `max_pages` of each domain frozen now (empty when no freeze holds). */
  frozenMaxPages(): ReadonlyMap<number, number> {
    return new Map([...this.frozen].map(([d, f]) => [d, f.frozenMax]));
  }

  /** The metrics so far (utilisation up to now). */
  metrics(): MemoryMetrics {
    const builds = [...this.builds.values()];
    const count = (o: BuildOutcome) => builds.filter((b) => b.outcome === o).length;
    const guests = [...this.guests.keys()].map((d) => this.guest(d) as GuestMemoryStats);
    const now = this.kernel.nowNs;
    const area = this.ownedPageNs + this.ownedLast * (now - this.lastNs);
    return {
      policy: this.policy,
      launchesSucceeded: count('done'),
      launchesFailed: count('failed') + count('refused'),
      launchesFailedLate: count('failed'),
      launchesRefused: count('refused'),
      wastedPages: builds.reduce((s, b) => s + (b.outcome === 'failed' ? b.populatedPages : 0), 0),
      latencyNs: builds
        .filter((b) => b.outcome === 'done')
        .sort((a, b) => a.endNs - b.endNs || a.domain - b.domain)
        .map((b) => b.endNs - b.requestNs),
      guestFailures: guests.reduce((s, g) => s + g.failures, 0),
      guestFailedPages: guests.reduce((s, g) => s + g.failedPages, 0),
      guestBlockedNs: guests.reduce((s, g) => s + g.blockedNs, 0),
      utilisationPermille: now === 0 ? 0 : Math.floor((area * 1000) / (now * this.allocator.totalPages)),
      ownedPagesPeak: this.ownedPeak,
    };
  }

  /** The invariants that do not hold: the allocator's and the freeze's. */
  invariantViolations(): string[] {
    const out = this.allocator.invariantViolations();
    for (const [d, f] of this.frozen) {
      const tot = this.allocator.domain(d)?.totPages ?? 0;
      if (tot > f.frozenMax)
        out.push(`frozen domain ${d} owns ${tot} pages, above its frozen max ${f.frozenMax}`);
    }
    return out;
  }

  /** Destroys every domain (guests stop stepping): then every page must be free. */
  shutdown(): void {
    for (const g of this.guests.values()) g.actor.stop();
    for (const d of this.allocator.domainIds()) this.allocator.destroyDomain(d);
  }

  // ---- the toolstack's actions ----

  private start(domain: number): void {
    const b = this.builds.get(domain) as Build;
    if (this.policy === 'lock') {
      if (this.lockHeld) {
        this.lockQueue.push(b);
        return;
      }
      this.lockHeld = true;
      b.holds = 'lock';
    }
    this.begin(b);
  }

  private begin(b: Build): void {
    const mem = this.allocator;
    b.startNs = this.kernel.nowNs;
    b.outcome = 'building';
    if (mem.createDomain(b.domain, 0) !== 0) {
      this.end(b, 'refused', -17);
      return;
    }
    mem.setMaxPages(b.domain, b.pages);
    if (this.policy === 'claim') {
      const rc = mem.claim(b.domain, b.pages);
      if (rc !== 0) {
        this.end(b, 'refused', rc);
        return;
      }
    } else if (this.policy === 'freeze') {
      b.holds = 'freeze';
      if (!this.freeze(b)) {
        this.end(b, 'refused', -ENOMEM);
        return;
      }
    }
    this.kernel.record(
      this.buildTypes.start,
      this.source,
      this.toolstack.endpoint,
      b.domain,
      b.pages,
      b.startNs - b.requestNs,
    );
    this.host.send(this.toolstack, { type: 'toolstack.batch', domain: b.domain }, this.batchNs);
  }

  private populate(domain: number): void {
    const b = this.builds.get(domain) as Build;
    const n = Math.min(this.batchPages, b.pages - b.populatedPages);
    const r = this.allocator.allocate(domain, n);
    if (!r.ok) {
      this.end(b, 'failed', r.rc);
      return;
    }
    b.populatedPages += n;
    if (b.populatedPages === b.pages) {
      this.end(b, 'done', 0);
      return;
    }
    this.host.send(this.toolstack, { type: 'toolstack.batch', domain }, this.batchNs);
  }

  private end(b: Build, outcome: 'done' | 'failed' | 'refused', rc: number): void {
    b.outcome = outcome;
    b.rc = rc;
    b.endNs = this.kernel.nowNs;
    const latency = b.endNs - b.requestNs;
    if (outcome === 'done') {
      this.kernel.record(
        this.buildTypes.done,
        this.source,
        this.toolstack.endpoint,
        b.domain,
        b.pages,
        latency,
      );
    } else {
      // A refused create (id taken) must not destroy the domain that owns the id.
      if (rc !== -17) this.allocator.destroyDomain(b.domain);
      const wasted = outcome === 'failed' ? b.populatedPages : 0;
      this.kernel.record(
        this.buildTypes.fail,
        this.source,
        this.toolstack.endpoint,
        b.domain,
        rc,
        wasted,
        latency,
      );
    }
    if (b.holds === 'freeze') this.thaw(b);
    if (b.holds === 'lock') {
      this.lockHeld = false;
      const next = this.lockQueue.shift();
      if (next !== undefined) {
        this.lockHeld = true;
        next.holds = 'lock';
        this.begin(next);
      }
    }
    b.holds = undefined;
  }

  /** Freezes every domain not being built and checks this build fits; false if not. */
  private freeze(b: Build): boolean {
    const mem = this.allocator;
    this.freezeHolders++;
    let frozenNow = 0;
    for (const d of mem.domainIds()) {
      if (d === b.domain || this.frozen.has(d) || this.builds.get(d)?.outcome === 'building') continue;
      const dm = mem.domain(d);
      if (dm === undefined) continue;
      this.frozen.set(d, { originalMax: dm.maxPages, frozenMax: dm.totPages });
      mem.setMaxPages(d, dm.totPages);
      frozenNow++;
    }
    this.kernel.record(this.buildTypes.freeze, this.source, this.toolstack.endpoint, b.domain, frozenNow);
    let need = b.pages;
    for (const o of this.builds.values())
      if (o !== b && o.outcome === 'building') need += o.pages - o.populatedPages;
    for (const [d, f] of this.frozen) need += Math.max(0, f.frozenMax - (mem.domain(d)?.totPages ?? 0));
    return need <= mem.unclaimedPages;
  }

  private thaw(b: Build): void {
    this.freezeHolders--;
    if (this.freezeHolders > 0) return;
    let restored = 0;
    for (const [d, f] of this.frozen) {
      if (this.allocator.domain(d) === undefined) continue;
      this.allocator.setMaxPages(d, f.originalMax);
      restored++;
    }
    this.frozen.clear();
    this.kernel.record(this.buildTypes.thaw, this.source, this.toolstack.endpoint, b.domain, restored);
  }

  // ---- the dynamic guests ----

  private step(domain: number): void {
    const g = this.guests.get(domain) as Guest;
    const s = g.spec;
    g.steps++;
    const phase = (2 * Math.PI * ((this.kernel.nowNs - g.startNs) % s.periodNs)) / s.periodNs;
    const target = s.minPages + Math.round(((s.peakPages - s.minPages) * (1 - Math.cos(phase))) / 2);
    const tot = this.allocator.domain(domain)?.totPages ?? 0;
    if (target > tot) {
      const r = this.allocator.allocate(domain, target - tot);
      if (!r.ok) {
        g.failures++;
        g.failuresByReason[r.reason] = (g.failuresByReason[r.reason] ?? 0) + 1;
        g.failedPages += target - tot;
        g.blockedNs += Math.min(s.stepNs, (target - tot) * this.swapNsPerPage);
      }
    } else if (target < tot) {
      this.allocator.free(domain, tot - target);
    }
    this.host.send(g.actor, { type: 'guest.step', domain }, s.stepNs);
  }

  // ---- the log ----

  private onMem(e: MemEvent): void {
    const now = this.kernel.nowNs;
    this.ownedPageNs += this.ownedLast * (now - this.lastNs);
    this.lastNs = now;
    this.ownedLast = this.allocator.totalPages - e.freePages;
    if (this.ownedLast > this.ownedPeak) this.ownedPeak = this.ownedLast;
    const t = this.memTypes[e.type];
    const ep = this.toolstack.endpoint;
    switch (e.type) {
      case 'mem.domain.create':
        this.kernel.record(t, this.source, ep, e.domain, e.rc, e.maxPages, e.freePages);
        break;
      case 'mem.domain.destroy':
        this.kernel.record(t, this.source, ep, e.domain, e.rc, e.freedPages, e.cancelledPages);
        break;
      case 'mem.claim':
        this.kernel.record(t, this.source, ep, e.domain, e.pages, e.rc, e.outstandingClaims);
        break;
      case 'mem.alloc':
        this.kernel.record(t, this.source, ep, e.domain, e.pages, e.rc, e.claimDrawnPages);
        break;
      case 'mem.free':
        this.kernel.record(t, this.source, ep, e.domain, e.pages, e.rc, e.totPages);
        break;
      case 'mem.maxpages':
        this.kernel.record(t, this.source, ep, e.domain, e.pages, e.rc);
        break;
    }
    if (this.check) {
      const v = this.invariantViolations();
      if (v.length > 0)
        throw new InvariantError(
          `memory at t=${now} ns after ${e.type} of domain ${e.domain}: ${v.join('; ')}`,
        );
    }
  }
}

function intArg(field: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new IsosimError(
      'MemoryHost',
      field,
      `${value} is not an integer ≥ ${min}`,
      `give an integer ≥ ${min}`,
    );
  return value;
}

function domainFree(host: MemoryHost, domain: number, op: string): void {
  if (!Number.isInteger(domain) || domain < 1 || domain > DOMID_MAX)
    throw new IsosimError(
      `MemoryHost.${op}`,
      'domain',
      `${domain} is not a guest's domain id`,
      `1..${DOMID_MAX}`,
    );
  if (host.build(domain) !== undefined || host.guest(domain) !== undefined)
    throw new IsosimError(
      `MemoryHost.${op}`,
      'domain',
      `${domain} is already used on this host`,
      'give each domain its own id',
    );
}
