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
 *   difference page by page (it gets what it can). A shortfall counts as a failure;
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
import {
  checkGuestSpec,
  inBurst,
  type MemoryGuestKind,
  type MemoryGuestSpec,
  pagesIn,
  type SharingGuestSpec,
  type SineGuestSpec,
} from './guestSpecs.ts';
import { dynamicGuestMachine, toolstackMachine } from './memoryMachines.ts';
import {
  type AllocRefusal,
  DOMID_COW,
  DOMID_MAX,
  DOMID_XEN,
  ENOMEM,
  type MemEvent,
  PageAllocator,
} from './pageAllocator.ts';

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
  /**
   * Keep a sample of the host's memory every this many ns from time 0 (`samples()`):
   * the state after every event at or before the sample's time, taken when the next
   * `mem.*` event comes (no kernel events of its own: the log is unchanged). Default:
   * none kept.
   */
  readonly sampleEveryNs?: number;
}

/** The host's memory at one time (`MemoryHost.samples()`). */
export interface MemorySample {
  readonly tNs: number;
  readonly freePages: number;
  readonly outstandingClaims: number;
  /** Pages tmem holds (owned by `DOMID_XEN`). */
  readonly tmemPages: number;
  /** Pages shared copy-on-write (owned by `DOMID_COW`). */
  readonly sharedPages: number;
  /** `tot_pages` of every domain that exists, pseudo-owners excluded, by id. */
  readonly totPages: Readonly<Record<number, number>>;
}

/** A domain to build: its id, its size in pages, and when it is asked for. */
export interface LaunchSpec {
  readonly domain: number;
  readonly pages: number;
  /** Absolute time of the request, ns (default: now). */
  readonly atNs?: number;
}

/** A sine guest as `addDynamicGuest` takes it (`SineGuestSpec` without its kind). */
export type DynamicGuestSpec = Omit<SineGuestSpec, 'kind'>;

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
  readonly kind: MemoryGuestKind;
  readonly steps: number;
  /** Refused allocations, by reason. */
  readonly failures: number;
  readonly failuresByReason: Readonly<Partial<Record<AllocRefusal, number>>>;
  /**
   * Pages asked for and refused, summed over the refused calls: a shortfall that lasts
   * k steps counts k times (page-steps, not distinct pages).
   */
  readonly failedPages: number;
  /**
   * The swap-storm proxy: Σ per refused step of min(stepNs, shortfall × swapNsPerPage)
   * (sine; tmem, for its own memory and refused persistent puts), or the whole step
   * (sharing: Xen pauses a vCPU whose unshare gets `-ENOMEM`); 0 for balloon guests
   * (the balloon driver retries; the guest's own demand is not modelled).
   */
  readonly blockedNs: number;
  /** Balloon guests: the target now. */
  readonly targetPages?: number;
  /** Tmem guests: pages in its pools now, ephemeral puts refused, its pages evicted. */
  readonly tmem?: {
    readonly ephemeralPages: number;
    readonly persistentPages: number;
    readonly ephemeralRefusedPages: number;
    readonly evictedPages: number;
  };
  /** Sharing guests: shared pages it has broken (owns privately) now. */
  readonly brokenPages?: number;
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
  /** Most pages tmem held at once, and ephemeral pages the hypervisor evicted. */
  readonly tmemPagesPeak: number;
  readonly tmemEvictedPages: number;
  /** Most pages shared copy-on-write at once (owned by `DOMID_COW`). */
  readonly sharedPagesPeak: number;
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
  spec: MemoryGuestSpec;
  startNs: number;
  lastNs: number;
  actor: HostedActor;
  steps: number;
  failures: number;
  failuresByReason: Partial<Record<AllocRefusal, number>>;
  failedPages: number;
  blockedNs: number;
  /** Balloon: the target now. */
  target: number;
  /** Tmem: pool sizes, puts so far (for the persistent share), refused and evicted pages. */
  ephemeral: number;
  persistent: number;
  puts: number;
  ephemeralRefused: number;
  evicted: number;
  /** Sharing: shared pages broken, a prefix of its shared pages. */
  broken: number;
}

/** What `take` got: the pages granted, and why the rest (if any) was refused. */
interface Taken {
  readonly granted: number;
  readonly reason?: AllocRefusal;
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
  private readonly guestTypes: {
    target: number;
    put: number;
    get: number;
    evict: number;
    share: number;
    merge: number;
  };
  private readonly check: boolean;
  private ownedPageNs = 0;
  private ownedLast = 0;
  private lastNs = 0;
  private ownedPeak = 0;
  private tmemPeak = 0;
  private sharedPeak = 0;
  private evictedTotal = 0;
  /** Sampling: the period (0: none), the next sample's time, the samples so far. */
  private readonly sampleEvery: number;
  private nextSampleNs = 0;
  private readonly sampled: MemorySample[] = [];
  /** `tot_pages` by domain as of the last `mem.*` event, for the samples. */
  private readonly totNow = new Map<number, number>();
  private claimsNow = 0;

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
    this.sampleEvery = intArg('sampleEveryNs', options.sampleEveryNs ?? 0, 0);
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
    this.guestTypes = {
      target: kernel.type('mem.balloon.target', ['domain', 'pages']),
      put: kernel.type('mem.tmem.put', ['domain', 'pool', 'pages', 'rc']),
      get: kernel.type('mem.tmem.get', ['domain', 'pool', 'pages']),
      evict: kernel.type('mem.tmem.evict', ['domain', 'pages']),
      share: kernel.type('mem.share.break', ['domain', 'pages', 'rc']),
      merge: kernel.type('mem.share.merge', ['domain', 'pages']),
    };
    this.toolstack = host.spawn(
      'toolstack',
      toolstackMachine.provide({
        actions: {
          launch: ({ event }) => this.start(event.domain),
          populate: ({ event }) => this.populate(event.domain),
          setTarget: ({ event }) => {
            if (event.type === 'toolstack.balloon') this.setTarget(event.domain, event.pages);
          },
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

  /** Creates a sine guest now, owning `minPages`, and starts its steps (`addGuest`). */
  addDynamicGuest(spec: DynamicGuestSpec): void {
    this.addGuest({ kind: 'sine', ...spec });
  }

  /**
   * Creates a dynamic guest of any kind now (guestSpecs.ts) with the memory it starts
   * with, and starts its steps; a balloon guest's targets are posted to the toolstack.
   * Parameters that do not fit, or memory that is not free, are `IsosimError`s.
   */
  addGuest(spec: MemoryGuestSpec): void {
    domainFree(this, spec.domain, 'addGuest');
    checkGuestSpec(spec, this.allocator.totalPages);
    const now = this.kernel.nowNs;
    for (const [i, t] of (spec.kind === 'balloon' ? spec.targets : []).entries())
      if (t.atNs < now)
        throw new IsosimError(
          `MemoryHost.addGuest(balloon ${spec.domain})`,
          `targets[${i}].atNs`,
          `${t.atNs} is before the guest's start at ${now}`,
          'a time at or after the guest is added',
        );
    const [maxPages, startPages] = guestSizes(spec);
    this.allocator.createDomain(spec.domain, maxPages);
    if (startPages > 0 && this.take(spec.domain, startPages, false).granted < startPages)
      throw new IsosimError(
        `MemoryHost.addGuest(${spec.kind} ${spec.domain})`,
        'pages',
        `its ${startPages} starting pages are not free`,
        'a smaller guest or a larger host',
      );
    if (spec.kind === 'tmem' && this.allocator.domain(DOMID_XEN) === undefined)
      this.allocator.createDomain(DOMID_XEN, this.allocator.totalPages);
    const domain = spec.domain;
    const actor = this.host.spawn(
      `guest-${domain}`,
      dynamicGuestMachine.provide({ actions: { step: () => this.step(domain) } }),
    );
    this.guests.set(domain, {
      spec,
      startNs: now,
      lastNs: now,
      actor,
      steps: 0,
      failures: 0,
      failuresByReason: {},
      failedPages: 0,
      blockedNs: 0,
      target: spec.kind === 'balloon' ? spec.initialPages : 0,
      ephemeral: 0,
      persistent: 0,
      puts: 0,
      ephemeralRefused: 0,
      evicted: 0,
      broken: 0,
    });
    if (spec.kind === 'sharing' && !this.syncShared())
      throw new IsosimError(
        `MemoryHost.addGuest(sharing ${domain})`,
        'sharedPages',
        'its shared pages are not free',
        'fewer shared pages or a larger host',
      );
    for (const t of spec.kind === 'balloon' ? spec.targets : [])
      this.host.send(this.toolstack, { type: 'toolstack.balloon', domain, pages: t.pages }, t.atNs - now);
    this.host.send(actor, { type: 'guest.step', domain }, spec.stepNs);
  }

  /** Samples every period up to (not including) `endNs`, from the state before this event (at `endNs`). */
  private sampleUpTo(endNs: number): void {
    if (this.sampleEvery === 0) return;
    while (this.nextSampleNs < endNs) {
      const totPages: Record<number, number> = {};
      for (const [d, t] of [...this.totNow].sort((x, y) => x[0] - y[0])) if (d <= DOMID_MAX) totPages[d] = t;
      this.sampled.push({
        tNs: this.nextSampleNs,
        freePages: this.allocator.totalPages - this.ownedLast,
        outstandingClaims: this.claimsNow,
        tmemPages: this.totNow.get(DOMID_XEN) ?? 0,
        sharedPages: this.totNow.get(DOMID_COW) ?? 0,
        totPages,
      });
      this.nextSampleNs += this.sampleEvery;
    }
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
    const kind = g.spec.kind;
    return {
      domain,
      kind,
      steps: g.steps,
      failures: g.failures,
      failuresByReason: { ...g.failuresByReason },
      failedPages: g.failedPages,
      blockedNs: g.blockedNs,
      ...(kind === 'balloon' ? { targetPages: g.target } : {}),
      ...(kind === 'tmem'
        ? {
            tmem: {
              ephemeralPages: g.ephemeral,
              persistentPages: g.persistent,
              ephemeralRefusedPages: g.ephemeralRefused,
              evictedPages: g.evicted,
            },
          }
        : {}),
      ...(kind === 'sharing' ? { brokenPages: g.broken } : {}),
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
      tmemPagesPeak: this.tmemPeak,
      tmemEvictedPages: this.evictedTotal,
      sharedPagesPeak: this.sharedPeak,
    };
  }

  /** The samples so far, every `sampleEveryNs` up to now (none if not asked for). */
  samples(): readonly MemorySample[] {
    this.sampleUpTo(this.kernel.nowNs + 1);
    return this.sampled;
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
    for (const g of this.guests.values()) {
      g.actor.stop();
      g.ephemeral = 0;
      g.persistent = 0;
    }
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
      // Xen 4.3-4.12 counted tmem's freeable (ephemeral) pages as available to a claim
      // (domain_set_outstanding_pages); here they are evicted for it first.
      const short = b.pages - mem.unclaimedPages;
      if (short > 0) this.evictEphemeral(short);
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
    const r = this.take(domain, n, false);
    if (r.granted < n) {
      this.end(b, 'failed', this.lastRc);
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
      if (d > DOMID_MAX) continue; // the hypervisor's own (tmem, shared pages): no max_pages to lower
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

  // ---- allocating, with tmem's ephemeral pages reclaimed ----

  /** The errno of the last refused allocation `take` made. */
  private lastRc = 0;

  /**
   * Allocates `n` pages to `d`: all or nothing, or as many as it can (`partial`, as a
   * balloon driver's or tmem's page-at-a-time allocations get). When memory is short,
   * tmem's ephemeral pages are evicted first, as Xen's `alloc_heap_pages` falls back on
   * `tmem_relinquish_pages`. A refusal is one refused `allocate` call (logged with its
   * errno); `reason` says why.
   */
  private take(d: number, n: number, partial: boolean): Taken {
    const mem = this.allocator;
    const dm = mem.domain(d);
    if (dm !== undefined) {
      const room = Math.max(0, dm.maxPages - dm.totPages);
      const need = partial ? Math.min(n, room) : n <= room ? n : 0;
      const avail = Math.max(mem.unclaimedPages, dm.outstandingPages);
      if (need > avail) this.evictEphemeral(need - avail);
    }
    if (partial && dm !== undefined) {
      const room = Math.max(0, dm.maxPages - dm.totPages);
      const g = Math.min(n, room, Math.max(mem.unclaimedPages, dm.outstandingPages, 0));
      if (g > 0 && !mem.allocate(d, g).ok)
        throw new InvariantError(`memory: a grant of ${g} pages to domain ${d} was refused`);
      if (g === n) return { granted: n };
      const r = mem.allocate(d, n - g);
      if (r.ok) return { granted: n };
      this.lastRc = r.rc;
      return { granted: g, reason: r.reason };
    }
    const r = mem.allocate(d, n);
    if (r.ok) return { granted: n };
    this.lastRc = r.rc;
    return { granted: 0, reason: r.reason };
  }

  /**
   * Evicts up to `n` ephemeral tmem pages, from the guest with the largest ephemeral
   * pool first (ties: lowest id); returns the pages evicted.
   */
  private evictEphemeral(n: number): number {
    let left = n;
    while (left > 0) {
      let victim: Guest | undefined;
      for (const g of this.guests.values())
        if (g.ephemeral > 0 && (victim === undefined || g.ephemeral > victim.ephemeral)) victim = g;
      if (victim === undefined) break;
      const k = Math.min(left, victim.ephemeral);
      victim.ephemeral -= k;
      victim.evicted += k;
      this.evictedTotal += k;
      left -= k;
      this.allocator.free(DOMID_XEN, k);
      this.kernel.record(this.guestTypes.evict, this.source, this.toolstack.endpoint, victim.spec.domain, k);
    }
    return n - left;
  }

  // ---- the dynamic guests ----

  private setTarget(domain: number, pages: number): void {
    const g = this.guests.get(domain);
    if (g === undefined) return;
    g.target = pages;
    this.kernel.record(this.guestTypes.target, this.source, this.toolstack.endpoint, domain, pages);
  }

  private step(domain: number): void {
    const g = this.guests.get(domain) as Guest;
    const now = this.kernel.nowNs;
    g.steps++;
    const s = g.spec;
    switch (s.kind) {
      case 'sine':
        this.stepSine(g, s);
        break;
      case 'balloon':
        this.grow(g, g.target, pagesIn(s.pagesPerS, g.lastNs - g.startNs, now - g.startNs), false);
        break;
      case 'tmem':
        this.stepTmem(g);
        break;
      case 'sharing':
        this.stepSharing(g, s);
        break;
    }
    g.lastNs = now;
    this.host.send(g.actor, { type: 'guest.step', domain }, s.stepNs);
  }

  /** Counts a refused allocation of `pages` for guest `g`. */
  private refused(g: Guest, pages: number, reason: AllocRefusal | undefined): void {
    g.failures++;
    if (reason !== undefined) g.failuresByReason[reason] = (g.failuresByReason[reason] ?? 0) + 1;
    g.failedPages += pages;
  }

  /** min(stepNs, pages × swapNsPerPage): a step's paging I/O for pages it could not get. */
  private swapNs(g: Guest, pages: number): number {
    return Math.min(g.spec.stepNs, pages * this.swapNsPerPage);
  }

  private stepSine(g: Guest, s: SineGuestSpec): void {
    const phase = (2 * Math.PI * ((this.kernel.nowNs - g.startNs) % s.periodNs)) / s.periodNs;
    const target = s.minPages + Math.round(((s.peakPages - s.minPages) * (1 - Math.cos(phase))) / 2);
    const tot = this.tot(s.domain);
    if (target > tot) {
      const r = this.take(s.domain, target - tot, true);
      const short = target - tot - r.granted;
      if (short > 0) {
        this.refused(g, short, r.reason);
        g.blockedNs += this.swapNs(g, short);
      }
    } else if (target < tot) {
      this.allocator.free(s.domain, tot - target);
    }
  }

  /**
   * Moves a guest's own memory toward `goal` by at most `maxPages` this step: frees, or
   * allocates page by page; returns the pages it could not get.
   */
  private grow(g: Guest, goal: number, maxPages: number, blocks: boolean): number {
    const d = g.spec.domain;
    const tot = this.tot(d);
    const n = Math.min(Math.abs(goal - tot), maxPages);
    if (n === 0) return 0;
    if (goal < tot) {
      this.allocator.free(d, n);
      return 0;
    }
    const r = this.take(d, n, true);
    const short = n - r.granted;
    if (short > 0) {
      this.refused(g, short, r.reason);
      if (blocks) g.blockedNs += this.swapNs(g, short);
    }
    return short;
  }

  private stepTmem(g: Guest): void {
    const s = g.spec;
    if (s.kind !== 'tmem') return;
    const now = this.kernel.nowNs;
    const a = g.lastNs - g.startNs;
    const b = now - g.startNs;
    const burst = inBurst(s.bursts, b);
    let short = 0;
    // Self-ballooning: down to the floor between bursts, back to the base in them.
    if (s.minPages < s.basePages) {
      const goal = burst ? s.basePages : s.minPages;
      const tot = this.tot(s.domain);
      const n = Math.min(Math.abs(goal - tot), pagesIn(s.selfBalloonPagesPerS, a, b));
      if (goal < tot && n > 0) this.allocator.free(s.domain, n);
      else if (n > 0) {
        const r = this.take(s.domain, n, true);
        if (r.granted < n) {
          this.refused(g, n - r.granted, r.reason);
          short += n - r.granted;
        }
      }
    }
    const ep = this.toolstack.endpoint;
    if (burst) {
      const n = pagesIn(s.putPagesPerS, a, b);
      const pers =
        Math.floor(((g.puts + n) * s.persistentPermille) / 1000) -
        Math.floor((g.puts * s.persistentPermille) / 1000);
      g.puts += n;
      if (pers > 0) {
        const r = this.take(DOMID_XEN, pers, true);
        g.persistent += r.granted;
        this.kernel.record(this.guestTypes.put, this.source, ep, s.domain, 1, r.granted, 0);
        if (r.granted < pers) {
          // A refused frontswap put goes to the guest's swap disk.
          this.kernel.record(this.guestTypes.put, this.source, ep, s.domain, 1, pers - r.granted, -ENOMEM);
          this.refused(g, pers - r.granted, r.reason);
          short += pers - r.granted;
        }
      }
      if (n - pers > 0) {
        const r = this.take(DOMID_XEN, n - pers, true);
        g.ephemeral += r.granted;
        this.kernel.record(this.guestTypes.put, this.source, ep, s.domain, 0, r.granted, 0);
        if (r.granted < n - pers) {
          // A refused cleancache put is dropped: clean pages, read again from disk if needed.
          g.ephemeralRefused += n - pers - r.granted;
          this.kernel.record(
            this.guestTypes.put,
            this.source,
            ep,
            s.domain,
            0,
            n - pers - r.granted,
            -ENOMEM,
          );
        }
      }
    } else {
      let n = pagesIn(s.getPagesPerS, a, b);
      for (const pool of [1, 0] as const) {
        const k = Math.min(n, pool === 1 ? g.persistent : g.ephemeral);
        if (k === 0) continue;
        if (pool === 1) g.persistent -= k;
        else g.ephemeral -= k;
        n -= k;
        this.allocator.free(DOMID_XEN, k);
        this.kernel.record(this.guestTypes.get, this.source, ep, s.domain, pool, k);
      }
    }
    if (short > 0) g.blockedNs += this.swapNs(g, short);
  }

  private stepSharing(g: Guest, s: SharingGuestSpec): void {
    const a = g.lastNs - g.startNs;
    const b = this.kernel.nowNs - g.startNs;
    const ep = this.toolstack.endpoint;
    if (inBurst(s.bursts, b)) {
      const n = Math.min(pagesIn(s.breakPagesPerS, a, b), s.sharedPages - g.broken);
      if (n > 0) {
        const r = this.take(s.domain, n, true);
        g.broken += r.granted;
        if (r.granted > 0) this.kernel.record(this.guestTypes.share, this.source, ep, s.domain, r.granted, 0);
        if (r.granted < n) {
          // mem_sharing_notify_enomem: the writing vCPU is paused until memory is freed.
          this.kernel.record(this.guestTypes.share, this.source, ep, s.domain, n - r.granted, -ENOMEM);
          this.refused(g, n - r.granted, r.reason);
          g.blockedNs += s.stepNs;
        }
        this.syncShared();
      }
    }
    const m = Math.min(pagesIn(s.mergePagesPerS, a, b), g.broken);
    if (m > 0) {
      this.allocator.free(s.domain, m);
      g.broken -= m;
      this.kernel.record(this.guestTypes.merge, this.source, ep, s.domain, m);
      if (!this.syncShared()) throw new InvariantError(`memory: a merge of domain ${s.domain} found no page`);
    }
  }

  /**
   * Gives `DOMID_COW` one copy of every shared page some guest still maps: the union of
   * each sharing guest's unbroken pages [broken, sharedPages). False if it must grow
   * and cannot.
   */
  private syncShared(): boolean {
    const spans: [number, number][] = [];
    for (const g of this.guests.values())
      if (g.spec.kind === 'sharing' && g.broken < g.spec.sharedPages)
        spans.push([g.broken, g.spec.sharedPages]);
    spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let want = 0;
    let end = 0;
    for (const [lo, hi] of spans) {
      const from = Math.max(lo, end);
      if (hi > from) want += hi - from;
      end = Math.max(end, hi);
    }
    const mem = this.allocator;
    if (mem.domain(DOMID_COW) === undefined) {
      if (want === 0) return true;
      mem.createDomain(DOMID_COW, mem.totalPages);
    }
    const have = this.tot(DOMID_COW);
    if (want < have) mem.free(DOMID_COW, have - want);
    else if (want > have) return this.take(DOMID_COW, want - have, false).granted > 0;
    return true;
  }

  private tot(d: number): number {
    return this.allocator.domain(d)?.totPages ?? 0;
  }

  // ---- the log ----

  private onMem(e: MemEvent): void {
    const now = this.kernel.nowNs;
    if (this.sampleEvery > 0) this.sampleUpTo(now);
    const dm = this.allocator.domain(e.domain);
    if (dm === undefined) this.totNow.delete(e.domain);
    else this.totNow.set(e.domain, dm.totPages);
    if (e.domain === DOMID_XEN && (dm?.totPages ?? 0) > this.tmemPeak) this.tmemPeak = dm?.totPages ?? 0;
    if (e.domain === DOMID_COW && (dm?.totPages ?? 0) > this.sharedPeak) this.sharedPeak = dm?.totPages ?? 0;
    this.ownedPageNs += this.ownedLast * (now - this.lastNs);
    this.lastNs = now;
    this.ownedLast = this.allocator.totalPages - e.freePages;
    this.claimsNow = e.outstandingClaims;
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

/** A guest's `max_pages` and the pages it owns at start. */
function guestSizes(spec: MemoryGuestSpec): [number, number] {
  switch (spec.kind) {
    case 'sine':
      return [spec.peakPages, spec.minPages];
    case 'balloon':
      return [spec.maxPages, spec.initialPages];
    case 'tmem':
      return [spec.basePages, spec.basePages];
    case 'sharing':
      return [spec.privatePages + spec.sharedPages, spec.privatePages];
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
