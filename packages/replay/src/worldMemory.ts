/**
 * The host's memory in replay's `World` (issue 18): the `mem.*` records of a
 * `MemoryHost` (packages/actors/src/memory/memoryHost.ts, docs/memory.md) folded into
 * `WorldState.memory`, so that a replay shows the page allocator's counters, the
 * toolstack's builds and the dynamic guests' memory at any record.
 *
 * What is rebuilt, and from which records (fields as the kernel log names them):
 * - the host: `freePages` from `mem.domain.create` (its `freePages`, the free pages
 *   after it), then by the pages each `mem.alloc`, `mem.free` and `mem.domain.destroy`
 *   moves; `totalPages` once, at the first `mem.domain.create`, as its free pages plus
 *   the pages the domains own then (-1 both until then); `outstandingClaims` from
 *   `mem.claim` (the host's claims after it), less each claim drawn by `mem.alloc`
 *   (`claimDrawnPages`, drawn even when the allocation is refused: Xen 4.22 loses it,
 *   pageAllocator.ts) and each claim cancelled by `mem.domain.destroy`;
 * - per domain id, the pseudo-owners `DOMID_XEN` (0x7FF2, tmem's pages) and `DOMID_COW`
 *   (0x7FF3, shared pages) included: `totPages`, `maxPages` and `outstandingPages`, as
 *   `PageAllocator.domain(d)` has them, from `mem.domain.create` (rc 0: owns nothing),
 *   `mem.alloc` (rc 0: owns `pages` more; any rc: its claim less `claimDrawnPages`),
 *   `mem.free` (rc 0: owns `totPages`), `mem.maxpages` (rc 0), `mem.claim` (rc 0: a
 *   claim of `pages` is `pages` − `totPages`, 0 cancels) and `mem.domain.destroy`
 *   (rc 0: gone). Refused operations change nothing but the claim drawn;
 * - `builds`, per domain: from `mem.build.start` (`building`, asked for `waitNs`
 *   before: the lock's wait), its `mem.alloc` batches (`populatedPages`),
 *   `mem.build.done` (`done`) or `mem.build.fail`: `failed` (late) if the build had
 *   started, its `wastedPages` populated; else `refused` at once, its size the
 *   `max_pages` of the domain destroyed just before (the toolstack sets it to the
 *   size first), -1 if none was (the id was taken). A launch waiting for the lock has
 *   no record until it starts, so it is not listed;
 * - `frozen`, domain → its frozen `max_pages` (its `tot_pages` when frozen): a
 *   `mem.freeze` freezes the domains of the last `frozenDomains` `mem.maxpages`
 *   records just before it (the toolstack lowers each, then logs the freeze; the
 *   running list is `maxPagesRun`); `mem.thaw` ends every freeze; a domain destroyed
 *   is no longer frozen;
 * - per guest: the balloon target the toolstack set last (`mem.balloon.target`; none
 *   before the first: a balloon guest's starting size is not logged as one), its
 *   tmem pools (`mem.tmem.put` rc 0 adds to pool 0, ephemeral, or 1, persistent; a
 *   refused put counts as refused pages; `mem.tmem.get` takes from a pool;
 *   `mem.tmem.evict` takes ephemeral pages the hypervisor reclaimed) and its shared
 *   pages broken on write (`mem.share.break` rc 0 adds, refused ones count as refused
 *   pages; `mem.share.merge` takes back). The pages themselves move by `mem.alloc` /
 *   `mem.free` of the guest, `DOMID_XEN` or `DOMID_COW`, in the domain table. A guest
 *   destroyed loses its target, pools and broken pages (Xen's tmem frees a client's
 *   pools with the domain);
 * - `lastDestroyed`: the last domain destroyed, when, with its counters just before.
 *
 * The part exists from the first `mem.*` record: a log with none has no `memory`, and
 * its saved worlds are as before. The maps are null-prototype objects keyed by domain
 * id (integer keys: ascending). Types of records not listed are ignored.
 */
import type { LogRecord } from '@isosim/core';
import type { WorldState } from './world.ts';

/** `DOMID_XEN` (xen/include/public/xen.h): owner of the hypervisor's pages (tmem's). */
export const MEM_DOMID_XEN = 0x7ff2;
/** `DOMID_COW` (public/xen.h): owner of pages shared copy-on-write. */
export const MEM_DOMID_COW = 0x7ff3;

/** One domain's counters, as `PageAllocator.domain(d)` gives them. */
export interface MemoryDomainState {
  /** Pages it owns (`tot_pages`). */
  totPages: number;
  /** Most pages it may own (`max_pages`). */
  maxPages: number;
  /** Its claim not yet drawn (`outstanding_pages`). */
  outstandingPages: number;
}

/** Where a build is: populating, done, failed late, or refused before any work. */
export type MemoryBuildState = 'building' | 'done' | 'failed' | 'refused';

/** One launch of the toolstack, from `mem.build.*` and its `mem.alloc` batches. */
export interface MemoryBuild {
  /** Its size in pages; -1 for a launch refused before its domain was created (id taken). */
  pages: number;
  state: MemoryBuildState;
  /** When the launch was asked for (`waitNs` or `latencyNs` before its record). */
  requestNs: number;
  /** When it began (after the lock, if any). */
  startNs: number;
  /** When it ended; -1 while building. */
  endNs: number;
  /** Pages populated (failed: those wasted). */
  populatedPages: number;
  /** 0, or the negative errno that ended it. */
  rc: number;
}

/** A guest's tmem pools (`mem.tmem.*`), pages. */
export interface TmemPools {
  /** In its ephemeral pool (pool 0: clean cache the hypervisor may evict). */
  ephemeralPages: number;
  /** In its persistent pool (pool 1: pages it must get back). */
  persistentPages: number;
  /** Puts refused so far, per pool. */
  ephemeralRefusedPages: number;
  persistentRefusedPages: number;
  /** Its ephemeral pages evicted so far. */
  evictedPages: number;
}

/** A guest's shared pages broken on write (`mem.share.*`). */
export interface SharingCounts {
  /** Shared pages it has broken and owns privately now. */
  brokenPages: number;
  /** Pages of breaks refused so far. */
  refusedPages: number;
}

/** The last domain destroyed: its id, when, and its counters just before. */
export interface DestroyedDomain extends MemoryDomainState {
  domain: number;
  atNs: number;
}

/** The host's memory (`WorldState.memory`); maps by domain id, null prototype. */
export interface MemoryState {
  /** The host's pages for domains; -1 until the first `mem.domain.create`. */
  totalPages: number;
  /** Free pages, claimed or not; -1 until the first `mem.domain.create`. */
  freePages: number;
  /** Σ of the domains' claims. */
  outstandingClaims: number;
  /** Every domain that exists, pseudo-owners included. */
  domains: Record<string, MemoryDomainState>;
  builds: Record<string, MemoryBuild>;
  /** Domains frozen now → their frozen `max_pages`. */
  frozen: Record<string, number>;
  /** Balloon guests → the target the toolstack set last, pages. */
  balloonTargets: Record<string, number>;
  tmem: Record<string, TmemPools>;
  sharing: Record<string, SharingCounts>;
  lastDestroyed?: DestroyedDomain;
  /**
   * Domains whose `max_pages` the `mem.maxpages` records since the last other `mem.*`
   * record set, in order: a `mem.freeze` names how many of the last ones it froze.
   */
  maxPagesRun: number[];
}

function nullObj<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A null-prototype copy of `o` (keys in order). */
function nulled<T>(o: Record<string, T> | undefined): Record<string, T> {
  const out = nullObj<T>();
  if (o !== undefined) for (const k of Object.keys(o)) out[k] = o[k];
  return out;
}

export function emptyMemory(): MemoryState {
  return {
    totalPages: -1,
    freePages: -1,
    outstandingClaims: 0,
    domains: nullObj(),
    builds: nullObj(),
    frozen: nullObj(),
    balloonTargets: nullObj(),
    tmem: nullObj(),
    sharing: nullObj(),
    maxPagesRun: [],
  };
}

/** The memory maps of a state parsed from JSON, with null prototypes again (`World.load`). */
export function loadMemory(m: MemoryState): MemoryState {
  const out = Object.assign(emptyMemory(), m);
  out.domains = nulled(m.domains);
  out.builds = nulled(m.builds);
  out.frozen = nulled(m.frozen);
  out.balloonTargets = nulled(m.balloonTargets);
  out.tmem = nulled(m.tmem);
  out.sharing = nulled(m.sharing);
  return out;
}

type MemHandler = (m: MemoryState, r: LogRecord) => void;

function domainOf(m: MemoryState, domain: number): MemoryDomainState | undefined {
  const key = String(domain);
  return Object.hasOwn(m.domains, key) ? m.domains[key] : undefined;
}

function tmemOf(m: MemoryState, domain: number): TmemPools {
  const key = String(domain);
  let t = m.tmem[key];
  if (t === undefined) {
    t = {
      ephemeralPages: 0,
      persistentPages: 0,
      ephemeralRefusedPages: 0,
      persistentRefusedPages: 0,
      evictedPages: 0,
    };
    m.tmem[key] = t;
  }
  return t;
}

function sharingOf(m: MemoryState, domain: number): SharingCounts {
  const key = String(domain);
  let c = m.sharing[key];
  if (c === undefined) {
    c = { brokenPages: 0, refusedPages: 0 };
    m.sharing[key] = c;
  }
  return c;
}

function endRun(m: MemoryState): void {
  if (m.maxPagesRun.length > 0) m.maxPagesRun.length = 0;
}

/** The handlers by record type. All but `mem.maxpages` and `mem.freeze` end a run of `mem.maxpages`. */
const MEM: Record<string, MemHandler> = {
  'mem.domain.create': (m, r) => {
    const [domain, rc, maxPages, freePages] = r.values;
    if (rc === 0) m.domains[String(domain)] = { totPages: 0, maxPages, outstandingPages: 0 };
    if (m.totalPages < 0) {
      let owned = 0;
      for (const d of Object.values(m.domains)) owned += d.totPages;
      m.totalPages = freePages + owned;
    }
    m.freePages = freePages;
  },
  'mem.domain.destroy': (m, r) => {
    const [domain, rc, freedPages, cancelledPages] = r.values;
    const d = domainOf(m, domain);
    if (rc !== 0 || d === undefined) return;
    m.freePages += freedPages;
    m.outstandingClaims -= cancelledPages;
    m.lastDestroyed = { domain, atNs: r.timeNs, ...d };
    const key = String(domain);
    delete m.domains[key];
    delete m.frozen[key];
    delete m.balloonTargets[key];
    delete m.tmem[key];
    delete m.sharing[key];
  },
  'mem.claim': (m, r) => {
    const [domain, pages, rc, outstandingClaims] = r.values;
    const d = domainOf(m, domain);
    if (rc === 0 && d !== undefined) d.outstandingPages = pages === 0 ? 0 : pages - d.totPages;
    m.outstandingClaims = outstandingClaims;
  },
  'mem.alloc': (m, r) => {
    const [domain, pages, rc, claimDrawnPages] = r.values;
    const d = domainOf(m, domain);
    if (d === undefined) return;
    d.outstandingPages -= claimDrawnPages;
    m.outstandingClaims -= claimDrawnPages;
    if (rc !== 0) return;
    d.totPages += pages;
    m.freePages -= pages;
    const b = m.builds[String(domain)];
    if (b !== undefined && b.state === 'building') b.populatedPages += pages;
  },
  'mem.free': (m, r) => {
    const [domain, pages, rc, totPages] = r.values;
    const d = domainOf(m, domain);
    if (rc !== 0 || d === undefined) return;
    d.totPages = totPages;
    m.freePages += pages;
  },
  'mem.maxpages': (m, r) => {
    const [domain, pages, rc] = r.values;
    const d = domainOf(m, domain);
    if (rc !== 0 || d === undefined) return;
    d.maxPages = pages;
    m.maxPagesRun.push(domain);
  },
  'mem.build.start': (m, r) => {
    const [domain, pages, waitNs] = r.values;
    m.builds[String(domain)] = {
      pages,
      state: 'building',
      requestNs: r.timeNs - waitNs,
      startNs: r.timeNs,
      endNs: -1,
      populatedPages: 0,
      rc: 0,
    };
  },
  'mem.build.done': (m, r) => {
    const [domain, pages, latencyNs] = r.values;
    const key = String(domain);
    const b = m.builds[key];
    m.builds[key] = {
      pages,
      state: 'done',
      requestNs: r.timeNs - latencyNs,
      startNs: b?.startNs ?? r.timeNs,
      endNs: r.timeNs,
      populatedPages: pages,
      rc: 0,
    };
  },
  'mem.build.fail': (m, r) => {
    const [domain, rc, wastedPages, latencyNs] = r.values;
    const key = String(domain);
    const b = m.builds[key];
    const t = r.timeNs;
    if (b !== undefined && b.state === 'building') {
      m.builds[key] = { ...b, state: 'failed', endNs: t, populatedPages: wastedPages, rc };
      return;
    }
    const gone = m.lastDestroyed;
    const sized = gone !== undefined && gone.domain === domain && gone.atNs === t;
    m.builds[key] = {
      pages: sized ? gone.maxPages : -1,
      state: 'refused',
      requestNs: t - latencyNs,
      startNs: t,
      endNs: t,
      populatedPages: 0,
      rc,
    };
  },
  'mem.freeze': (m, r) => {
    const [build, frozenDomains] = r.values;
    const run = m.maxPagesRun;
    for (let i = Math.max(0, run.length - frozenDomains); i < run.length; i++) {
      const d = domainOf(m, run[i]);
      if (run[i] !== build && d !== undefined) m.frozen[String(run[i])] = d.maxPages;
    }
    endRun(m);
  },
  'mem.thaw': (m) => {
    for (const k of Object.keys(m.frozen)) delete m.frozen[k];
  },
  'mem.balloon.target': (m, r) => {
    m.balloonTargets[String(r.values[0])] = r.values[1];
  },
  'mem.tmem.put': (m, r) => {
    const [domain, pool, pages, rc] = r.values;
    const t = tmemOf(m, domain);
    if (rc === 0) {
      if (pool === 0) t.ephemeralPages += pages;
      else t.persistentPages += pages;
    } else if (pool === 0) t.ephemeralRefusedPages += pages;
    else t.persistentRefusedPages += pages;
  },
  'mem.tmem.get': (m, r) => {
    const [domain, pool, pages] = r.values;
    const t = tmemOf(m, domain);
    if (pool === 0) t.ephemeralPages -= pages;
    else t.persistentPages -= pages;
  },
  'mem.tmem.evict': (m, r) => {
    const t = tmemOf(m, r.values[0]);
    t.ephemeralPages -= r.values[1];
    t.evictedPages += r.values[1];
  },
  'mem.share.break': (m, r) => {
    const [domain, pages, rc] = r.values;
    const c = sharingOf(m, domain);
    if (rc === 0) c.brokenPages += pages;
    else c.refusedPages += pages;
  },
  'mem.share.merge': (m, r) => {
    sharingOf(m, r.values[0]).brokenPages -= r.values[1];
  },
};

/** The World's handlers of `mem.*` records, by type name: each makes `s.memory` first if need be. */
export const MEMORY_HANDLERS: ReadonlyMap<string, (s: WorldState, r: LogRecord) => void> = new Map(
  Object.entries(MEM).map(([name, h]) => {
    const keepsRun = name === 'mem.maxpages' || name === 'mem.freeze';
    return [
      name,
      (s: WorldState, r: LogRecord) => {
        s.memory ??= emptyMemory();
        if (!keepsRun) endRun(s.memory);
        h(s.memory, r);
      },
    ];
  }),
);
