/**
 * The hypervisor's page allocator, reduced to its accounting, with Xen's claims
 * (`XENMEM_claim_pages`). The first slice of issue 18 (memory isolation); what is and
 * is not modelled yet is in docs/memory.md.
 *
 * Source. Xen 4.22.0 (tag RELEASE-4.22.0, commit d45d5687f144): `xen/common/page_alloc.c`
 * (`domain_set_outstanding_pages`, `get_outstanding_claims`, `alloc_heap_pages`,
 * `assign_pages`), `xen/common/memory.c` (`XENMEM_claim_pages`), `xen/common/domain.c`
 * (`domain_kill`), `xen/common/domctl.c` (`XEN_DOMCTL_max_mem`) and
 * `xen/include/public/memory.h`. The claim rules have not changed since (checked
 * against 4.23-unstable, commit c447b7308b13). Only the arithmetic is restated here.
 *
 * Design. Xen keeps `total_avail_pages` (free pages) and `outstanding_claims` (the sum
 * of every domain's `outstanding_pages`) as running counters beside each domain's
 * `tot_pages`, `max_pages` and `outstanding_pages`; so does this class, and
 * `invariantViolations()` recomputes the sums from the domains to check them. Pages
 * are integers; there are no frames, zones, NUMA nodes, orders or scrubbing. Nothing
 * here reads a clock or draws a random number: the same calls give the same state.
 *
 * The rules, as Xen 4.22 has them:
 *  - `claim(d, n)` (`domain_set_outstanding_pages`): n = 0 cancels d's claim (always 0).
 *    Otherwise `-EINVAL` if d already has a claim, or if n ≤ `tot_pages` or
 *    n > `max_pages`; `-ENOMEM` if n − `tot_pages` (the claim counts the pages beyond
 *    what d already owns) exceeds free − all outstanding claims; else d's claim is
 *    n − `tot_pages`. An unknown domain is `-EINVAL` (the hypercall's lookup).
 *  - `allocate(d, n)`: first the heap (`alloc_heap_pages`): claimed pages count as
 *    unavailable unless d's own claim covers the whole request, so the request is
 *    refused if outstanding claims + n > free and d's claim < n. A request larger than
 *    d's claim must therefore fit in the unclaimed pages alone: d's own claim counts
 *    among the outstanding ones (claim 300, unclaimed 200: 500 is refused). A granted
 *    request draws d's claim down by min(claim, n). Then ownership (`assign_pages`): `-EPERM`
 *    if `tot_pages` > `max_pages` already (max lowered below it), `-E2BIG` if n >
 *    `max_pages` − `tot_pages`; the pages go back to the heap, but the claim drawn
 *    down is *not* given back (Xen accepts this since commit 75d29d9b5e: claims serve
 *    a domain's build, and a build that fails here is destroyed). One call is one
 *    allocation of n pages, all or nothing, like one extent of populate-physmap; a
 *    toolstack's batch of order-0 extents is many calls.
 *  - `free(d, n)`: d gives back n of its pages; its claim is not replenished.
 *  - `setMaxPages(d, n)` (`XEN_DOMCTL_max_mem`): any value, even below `tot_pages`
 *    (then every allocation for d fails until it is back under); claims are untouched.
 *  - `createDomain(d)`: `max_pages` 0 until set, as a fresh `struct domain` has it.
 *    `destroyDomain(d)` (`domain_kill`): cancels the claim, then frees all d's pages.
 *
 * Invariants (checked by `invariantViolations()`; they hold after every operation):
 *  1. Σ `tot_pages` + Σ `outstanding_pages` ≤ total (claims are backed by free pages);
 *  2. every `outstanding_pages` and `tot_pages` is a non-negative integer;
 *  3. free = total − Σ `tot_pages`, and the outstanding counter = Σ `outstanding_pages`.
 */
import { InvariantError, IsosimError } from '@isosim/core';

/** `EPERM` in Xen's `xen/include/public/errno.h`: operation not permitted. */
export const EPERM = 1;
/** `ESRCH` in Xen's public errno.h: no such domain. */
export const ESRCH = 3;
/** `E2BIG` in Xen's public errno.h: an allocation past the domain's `max_pages`. */
export const E2BIG = 7;
/** `ENOMEM` in Xen's public errno.h: not enough memory (free less others' claims). */
export const ENOMEM = 12;
/** `EEXIST` in Xen's public errno.h: the domain id is taken. */
export const EEXIST = 17;
/** `EINVAL` in Xen's public errno.h: an invalid argument (or a second claim). */
export const EINVAL = 22;

// The negated errnos that the operations return, typed as their literals.
const RC_EPERM = -EPERM as -1;
const RC_ESRCH = -ESRCH as -3;
const RC_E2BIG = -E2BIG as -7;
const RC_ENOMEM = -ENOMEM as -12;
const RC_EEXIST = -EEXIST as -17;
const RC_EINVAL = -EINVAL as -22;

/** Highest domain id a guest may have (`DOMID_FIRST_RESERVED` − 1 = 0x7FEF). */
export const DOMID_MAX = 0x7fef;

/**
 * `DOMID_XEN` (xen/include/public/xen.h): the hypervisor's own pages. `MemoryHost`
 * accounts tmem's pages to it: Xen's tmem allocates them with no owner (`d` = NULL),
 * which the claim test treats as a domain with no claim, and no `max_pages` bounds.
 */
export const DOMID_XEN = 0x7ff2;

/** `DOMID_COW` (public/xen.h): the owner of pages shared copy-on-write (`dom_cow`). */
export const DOMID_COW = 0x7ff3;

/** What `claim` returns, as the hypercall does: 0, `-EINVAL` or `-ENOMEM`. */
export type ClaimRc = 0 | -22 | -12;

/**
 * Why an allocation was refused: `no-domain` (`-ESRCH`); `no-memory`, fewer free pages
 * than asked, and `claimed`, enough free pages but some are other domains' claims
 * (both `-ENOMEM`, the same test in Xen); `over-max` (`-E2BIG`), past `max_pages`;
 * `max-below-tot` (`-EPERM`), `max_pages` was lowered below `tot_pages`.
 */
export type AllocRefusal = 'no-domain' | 'no-memory' | 'claimed' | 'over-max' | 'max-below-tot';

/** The result of `allocate`: `rc` 0 or a negative Xen errno, and the claim drawn down. */
export type AllocResult =
  | { readonly ok: true; readonly rc: 0; readonly claimDrawnPages: number }
  | {
      readonly ok: false;
      readonly rc: number;
      readonly reason: AllocRefusal;
      /** Claim consumed even so (Xen 4.22 loses it when `assign_pages` refuses). */
      readonly claimDrawnPages: number;
    };

/** The result of `free`: 0, `-ESRCH` (no such domain) or `-EINVAL` (more than it owns). */
export type FreeRc = 0 | -3 | -22;

/** One domain's memory counters, as `XEN_DOMCTL_getdomaininfo` reports them. */
export interface DomainMemory {
  /** Pages the domain owns (`tot_pages`). */
  readonly totPages: number;
  /** Most pages it may own (`max_pages`). */
  readonly maxPages: number;
  /** Pages still claimed for it and not yet allocated (`outstanding_pages`). */
  readonly outstandingPages: number;
}

/**
 * One operation on the allocator, as a later slice will log it (`mem.*`). Every record
 * ends with the host's free pages and outstanding claims after the operation.
 */
export type MemEvent =
  | MemRecord<'mem.domain.create', { rc: number; maxPages: number }>
  | MemRecord<'mem.domain.destroy', { rc: number; freedPages: number; cancelledPages: number }>
  | MemRecord<'mem.claim', { pages: number; rc: number; outstandingPages: number }>
  | MemRecord<'mem.alloc', { pages: number; rc: number; claimDrawnPages: number; totPages: number }>
  | MemRecord<'mem.free', { pages: number; rc: number; totPages: number }>
  | MemRecord<'mem.maxpages', { pages: number; rc: number }>;

/** A `MemEvent` of one type: the domain, the data, then free pages and claims after. */
export type MemRecord<Type extends string, Data> = Readonly<
  { type: Type; domain: number } & Data & { freePages: number; outstandingClaims: number }
>;

/** Options of a `PageAllocator`. */
export interface PageAllocatorOptions {
  /** The host's pages for domains (positive integer). */
  readonly totalPages: number;
  /** Called after every operation, refused or not (not for malformed arguments). */
  readonly onEvent?: (event: MemEvent) => void;
}

interface DomainState {
  totPages: number;
  maxPages: number;
  outstandingPages: number;
}

/**
 * The page allocator of one host with Xen's claim semantics (see the module comment).
 * Malformed arguments (a non-integer, a negative count, a bad domain id) throw an
 * `IsosimError`; refusals by the rules are return values, as hypercalls have them.
 *
 * @example
 * ```ts
 * const mem = new PageAllocator({ totalPages: 1000 });
 * mem.createDomain(1, 600);
 * mem.claim(1, 600);      // 0: 600 pages staked
 * mem.createDomain(2, 1000);
 * mem.allocate(2, 500);   // refused, reason 'claimed': only 400 are unclaimed
 * mem.allocate(1, 250);   // ok, the claim drops to 350
 * ```
 */
export class PageAllocator {
  /** The host's pages for domains. */
  readonly totalPages: number;
  private free_ = 0;
  private outstanding_ = 0;
  private readonly doms = new Map<number, DomainState>();
  private readonly onEvent: ((event: MemEvent) => void) | undefined;

  constructor(options: PageAllocatorOptions) {
    pagesArg('PageAllocator', 'totalPages', options.totalPages, 1);
    this.totalPages = options.totalPages;
    this.free_ = options.totalPages;
    this.onEvent = options.onEvent;
  }

  /** Free pages (`total_avail_pages`), claimed or not. */
  get freePages(): number {
    return this.free_;
  }

  /** Sum of every domain's claim (`outstanding_claims`). */
  get outstandingClaims(): number {
    return this.outstanding_;
  }

  /** Free pages no claim holds: what an allocation without a claim may take. */
  get unclaimedPages(): number {
    return this.free_ - this.outstanding_;
  }

  /** Free pages and outstanding claims, as `get_outstanding_claims` (XEN_SYSCTL_physinfo). */
  getOutstandingClaims(): { readonly freePages: number; readonly outstandingPages: number } {
    return { freePages: this.free_, outstandingPages: this.outstanding_ };
  }

  /** A domain's counters, or undefined if it does not exist. */
  domain(domain: number): DomainMemory | undefined {
    const d = this.doms.get(domain);
    return d === undefined ? undefined : { ...d };
  }

  /** The ids of the domains that exist, ascending. */
  domainIds(): number[] {
    return [...this.doms.keys()].sort((a, b) => a - b);
  }

  /** Creates a domain owning nothing: 0, or `-EEXIST` if the id is taken. */
  createDomain(domain: number, maxPages = 0): 0 | -17 {
    domainArg('createDomain', domain);
    pagesArg('createDomain', 'maxPages', maxPages, 0);
    const rc = this.doms.has(domain) ? RC_EEXIST : 0;
    if (rc === 0) this.doms.set(domain, { totPages: 0, maxPages, outstandingPages: 0 });
    this.emit({ type: 'mem.domain.create', domain, rc, maxPages });
    return rc;
  }

  /** Destroys a domain: cancels its claim, frees its pages. 0, or `-ESRCH`. */
  destroyDomain(domain: number): 0 | -3 {
    domainArg('destroyDomain', domain);
    const d = this.doms.get(domain);
    if (d === undefined) {
      this.emit({ type: 'mem.domain.destroy', domain, rc: RC_ESRCH, freedPages: 0, cancelledPages: 0 });
      return RC_ESRCH;
    }
    const cancelledPages = d.outstandingPages;
    this.outstanding_ -= cancelledPages;
    this.free_ += d.totPages;
    this.doms.delete(domain);
    this.emit({ type: 'mem.domain.destroy', domain, rc: 0, freedPages: d.totPages, cancelledPages });
    return 0;
  }

  /** Sets `max_pages` (`XEN_DOMCTL_max_mem`), even below `tot_pages`. 0, or `-ESRCH`. */
  setMaxPages(domain: number, pages: number): 0 | -3 {
    domainArg('setMaxPages', domain);
    pagesArg('setMaxPages', 'pages', pages, 0);
    const d = this.doms.get(domain);
    if (d !== undefined) d.maxPages = pages;
    const rc = d === undefined ? RC_ESRCH : 0;
    this.emit({ type: 'mem.maxpages', domain, pages, rc });
    return rc;
  }

  /**
   * `XENMEM_claim_pages`: stakes a claim so that the domain will own `pages` in all;
   * 0 cancels the domain's claim. Returns 0, `-EINVAL` or `-ENOMEM`.
   */
  claim(domain: number, pages: number): ClaimRc {
    domainArg('claim', domain);
    pagesArg('claim', 'pages', pages, 0);
    const d = this.doms.get(domain);
    const rc = d === undefined ? RC_EINVAL : this.setOutstanding(d, pages);
    this.emit({ type: 'mem.claim', domain, pages, rc, outstandingPages: d?.outstandingPages ?? 0 });
    return rc;
  }

  private setOutstanding(d: DomainState, pages: number): ClaimRc {
    if (pages === 0) {
      this.outstanding_ -= d.outstandingPages;
      d.outstandingPages = 0;
      return 0;
    }
    if (d.outstandingPages > 0) return RC_EINVAL;
    if (pages <= d.totPages || pages > d.maxPages) return RC_EINVAL;
    const claim = pages - d.totPages;
    if (claim > this.free_ - this.outstanding_) return RC_ENOMEM;
    d.outstandingPages = claim;
    this.outstanding_ += claim;
    return 0;
  }

  /** Allocates `pages` (≥ 1) to a domain, all or nothing (see the module comment). */
  allocate(domain: number, pages: number): AllocResult {
    domainArg('allocate', domain);
    pagesArg('allocate', 'pages', pages, 1);
    const result = this.alloc(domain, pages);
    const d = this.doms.get(domain);
    this.emit({
      type: 'mem.alloc',
      domain,
      pages,
      rc: result.rc,
      claimDrawnPages: result.claimDrawnPages,
      totPages: d?.totPages ?? 0,
    });
    return result;
  }

  private alloc(domain: number, pages: number): AllocResult {
    const d = this.doms.get(domain);
    if (d === undefined) return refused('no-domain', RC_ESRCH, 0);
    // alloc_heap_pages: claimed pages are unavailable unless d's claim covers it all.
    if (this.outstanding_ + pages > this.free_ && d.outstandingPages < pages)
      return refused(pages > this.free_ ? 'no-memory' : 'claimed', RC_ENOMEM, 0);
    const drawn = Math.min(d.outstandingPages, pages);
    d.outstandingPages -= drawn;
    this.outstanding_ -= drawn;
    // assign_pages: on refusal the pages return to the heap, the drawn claim does not.
    if (d.totPages > d.maxPages) return refused('max-below-tot', RC_EPERM, drawn);
    if (pages > d.maxPages - d.totPages) return refused('over-max', RC_E2BIG, drawn);
    d.totPages += pages;
    this.free_ -= pages;
    return { ok: true, rc: 0, claimDrawnPages: drawn };
  }

  /** A domain gives back `pages` (≥ 1) of its own. 0, `-ESRCH`, or `-EINVAL` (owns fewer). */
  free(domain: number, pages: number): FreeRc {
    domainArg('free', domain);
    pagesArg('free', 'pages', pages, 1);
    const d = this.doms.get(domain);
    const rc = d === undefined ? RC_ESRCH : pages > d.totPages ? RC_EINVAL : 0;
    if (d !== undefined && rc === 0) {
      d.totPages -= pages;
      this.free_ += pages;
    }
    this.emit({ type: 'mem.free', domain, pages, rc, totPages: d?.totPages ?? 0 });
    return rc;
  }

  /** The invariants that do not hold (empty when all do); see the module comment. */
  invariantViolations(): string[] {
    const out: string[] = [];
    let tot = 0;
    let claimed = 0;
    for (const [id, d] of this.doms) {
      for (const k of ['totPages', 'maxPages', 'outstandingPages'] as const)
        if (!Number.isSafeInteger(d[k]) || d[k] < 0) out.push(`domain ${id}: ${k} ${d[k]} is not a count`);
      tot += d.totPages;
      claimed += d.outstandingPages;
    }
    if (tot + claimed > this.totalPages)
      out.push(`owned ${tot} + claimed ${claimed} pages exceed the host's ${this.totalPages}`);
    if (this.free_ !== this.totalPages - tot)
      out.push(`free pages ${this.free_} != total ${this.totalPages} - owned ${tot}`);
    if (this.outstanding_ !== claimed)
      out.push(`outstanding claims ${this.outstanding_} != sum of the domains' claims ${claimed}`);
    return out;
  }

  /** Throws an `InvariantError` naming every invariant that does not hold. */
  checkInvariants(): void {
    const v = this.invariantViolations();
    if (v.length > 0) throw new InvariantError(`page allocator: ${v.join('; ')}`);
  }

  private emit(e: DistributiveOmit<MemEvent, 'freePages' | 'outstandingClaims'>): void {
    this.onEvent?.({ ...e, freePages: this.free_, outstandingClaims: this.outstanding_ } as MemEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function refused(reason: AllocRefusal, rc: number, claimDrawnPages: number): AllocResult {
  return { ok: false, rc, reason, claimDrawnPages };
}

function domainArg(op: string, domain: number): void {
  if (
    !Number.isInteger(domain) ||
    domain < 0 ||
    (domain > DOMID_MAX && domain !== DOMID_XEN && domain !== DOMID_COW)
  )
    throw new IsosimError(
      `PageAllocator.${op}`,
      'domain',
      `${domain} is not a domain id`,
      `0..${DOMID_MAX}, DOMID_XEN or DOMID_COW`,
    );
}

function pagesArg(op: string, field: string, pages: number, min: number): void {
  if (!Number.isSafeInteger(pages) || pages < min)
    throw new IsosimError(
      `PageAllocator.${op}`,
      field,
      `${pages} is not a page count`,
      `an integer ≥ ${min}, at most 2^53 − 1`,
    );
}
