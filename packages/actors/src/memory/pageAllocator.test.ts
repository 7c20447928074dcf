/**
 * The page allocator's rules one at a time, each as Xen 4.22 has it (module comment of
 * pageAllocator.ts): claims (0 cancels, a second is -EINVAL, the range checks, -ENOMEM
 * against free less all claims, counted beyond tot_pages), allocations (others' claims
 * refused, own claim drawn down, max_pages), frees, destruction, events and bad input.
 */
import { InvariantError, IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import {
  E2BIG,
  EEXIST,
  EINVAL,
  ENOMEM,
  EPERM,
  ESRCH,
  type MemEvent,
  PageAllocator,
} from './pageAllocator.ts';

function host(totalPages = 1000): PageAllocator {
  const mem = new PageAllocator({ totalPages });
  mem.createDomain(1, totalPages);
  mem.createDomain(2, totalPages);
  return mem;
}

function counters(mem: PageAllocator, d: number): [number, number, number] {
  const s = mem.domain(d);
  if (s === undefined) throw new Error(`no domain ${d}`);
  return [s.totPages, s.maxPages, s.outstandingPages];
}

describe('PageAllocator', () => {
  it("has Xen's errno values", () => {
    expect([EPERM, ESRCH, E2BIG, ENOMEM, EEXIST, EINVAL]).toEqual([1, 3, 7, 12, 17, 22]);
  });

  it('stakes a claim without allocating: free pages stay, unclaimed pages drop', () => {
    const mem = host();
    expect(mem.claim(1, 600)).toBe(0);
    expect(counters(mem, 1)).toEqual([0, 1000, 600]);
    expect(mem.freePages).toBe(1000);
    expect(mem.outstandingClaims).toBe(600);
    expect(mem.unclaimedPages).toBe(400);
    expect(mem.getOutstandingClaims()).toEqual({ freePages: 1000, outstandingPages: 600 });
    mem.checkInvariants();
  });

  it('a claim of 0 cancels, and succeeds with no claim standing', () => {
    const mem = host();
    expect(mem.claim(1, 0)).toBe(0);
    expect(mem.claim(1, 600)).toBe(0);
    expect(mem.claim(1, 0)).toBe(0);
    expect(counters(mem, 1)[2]).toBe(0);
    expect(mem.outstandingClaims).toBe(0);
    expect(mem.claim(1, 700)).toBe(0); // a new claim after the cancel
  });

  it('a second claim while one stands is -EINVAL, whatever its size', () => {
    const mem = host();
    expect(mem.claim(1, 300)).toBe(0);
    expect(mem.claim(1, 300)).toBe(-EINVAL);
    expect(mem.claim(1, 10)).toBe(-EINVAL);
    expect(mem.claim(1, 5000)).toBe(-EINVAL); // EINVAL before any other check
    expect(counters(mem, 1)[2]).toBe(300);
  });

  it('a claim not above tot_pages, above max_pages, or for no domain is -EINVAL', () => {
    const mem = host();
    mem.setMaxPages(1, 500);
    expect(mem.allocate(1, 100).ok).toBe(true);
    expect(mem.claim(1, 100)).toBe(-EINVAL); // = tot_pages
    expect(mem.claim(1, 50)).toBe(-EINVAL); // < tot_pages
    expect(mem.claim(1, 501)).toBe(-EINVAL); // > max_pages
    expect(mem.claim(9, 10)).toBe(-EINVAL);
    expect(mem.claim(1, 500)).toBe(0);
  });

  it('counts the claim beyond what the domain owns', () => {
    const mem = host();
    mem.allocate(1, 300);
    expect(mem.claim(1, 1000)).toBe(0);
    expect(counters(mem, 1)).toEqual([300, 1000, 700]);
    expect(mem.unclaimedPages).toBe(0);
  });

  it('a claim larger than free less all outstanding claims is -ENOMEM', () => {
    const mem = host();
    mem.createDomain(3, 1000);
    expect(mem.allocate(3, 200).ok).toBe(true); // free 800
    expect(mem.claim(1, 500)).toBe(0); // unclaimed 300
    expect(mem.claim(2, 301)).toBe(-ENOMEM);
    expect(counters(mem, 2)[2]).toBe(0);
    expect(mem.claim(2, 300)).toBe(0); // exactly what is left
    expect(mem.unclaimedPages).toBe(0);
    mem.checkInvariants();
  });

  it("refuses an allocation that would dip into another domain's claim", () => {
    const mem = host();
    mem.claim(1, 600);
    const r = mem.allocate(2, 401);
    expect(r).toEqual({ ok: false, rc: -ENOMEM, reason: 'claimed', claimDrawnPages: 0 });
    expect(mem.allocate(2, 400).ok).toBe(true);
    expect(mem.allocate(2, 1)).toMatchObject({ ok: false, reason: 'claimed' });
    expect(counters(mem, 2)[0]).toBe(400);
    expect(mem.freePages).toBe(600);
  });

  it('tells a host out of pages from one whose free pages are claimed', () => {
    const mem = host(100);
    expect(mem.allocate(2, 101)).toMatchObject({ ok: false, rc: -ENOMEM, reason: 'no-memory' });
  });

  it('draws its own claim down, past the unclaimed pages, and the claim then expires', () => {
    const mem = host();
    mem.allocate(2, 300); // free 700
    mem.claim(1, 700); // all of it
    const r = mem.allocate(1, 250);
    expect(r).toEqual({ ok: true, rc: 0, claimDrawnPages: 250 });
    expect(counters(mem, 1)).toEqual([250, 1000, 450]);
    expect(mem.outstandingClaims).toBe(450);
    mem.allocate(1, 450);
    expect(counters(mem, 1)).toEqual([700, 1000, 0]);
    expect(mem.claim(1, 800)).toBe(-ENOMEM); // expired: a new claim may be staked, if it fits
  });

  it('an allocation larger than its own claim must fit in the unclaimed pages alone (its claim counts too)', () => {
    const mem = host();
    mem.claim(1, 300);
    mem.claim(2, 500); // unclaimed 200
    // 300 claimed + 200 unclaimed would cover 500, but Xen counts the domain's own claim
    // among the outstanding ones when the claim does not cover the whole request.
    expect(mem.allocate(1, 500)).toMatchObject({ ok: false, reason: 'claimed' });
    expect(mem.allocate(1, 301)).toMatchObject({ ok: false, reason: 'claimed' });
    mem.allocate(2, 400); // free 600, unclaimed 200 (claims 300 + 100)
    expect(mem.allocate(1, 200)).toEqual({ ok: true, rc: 0, claimDrawnPages: 200 });
    expect(counters(mem, 1)).toEqual([200, 1000, 100]);
    // Now 150 > its claim of 100 and fits in the 200 unclaimed: granted, the claim drawn to 0.
    expect(mem.allocate(1, 150)).toEqual({ ok: true, rc: 0, claimDrawnPages: 100 });
    expect(counters(mem, 1)).toEqual([350, 1000, 0]);
    expect(mem.outstandingClaims).toBe(100);
    mem.checkInvariants();
  });

  it('respects max_pages: -E2BIG past it, -EPERM once it is below tot_pages', () => {
    const mem = host();
    mem.setMaxPages(1, 100);
    expect(mem.allocate(1, 101)).toEqual({ ok: false, rc: -E2BIG, reason: 'over-max', claimDrawnPages: 0 });
    expect(mem.allocate(1, 100).ok).toBe(true);
    expect(mem.allocate(1, 1)).toMatchObject({ rc: -E2BIG });
    expect(mem.setMaxPages(1, 50)).toBe(0); // allowed below tot_pages (it may ratchet down)
    expect(mem.allocate(1, 1)).toMatchObject({ ok: false, rc: -EPERM, reason: 'max-below-tot' });
    expect(mem.free(1, 60)).toBe(0);
    expect(mem.allocate(1, 10).ok).toBe(true);
    expect(counters(mem, 1)).toEqual([50, 50, 0]);
    expect(mem.freePages).toBe(950);
  });

  it('loses the claim drawn down when max_pages refuses the pages (Xen 4.22)', () => {
    const mem = host();
    mem.setMaxPages(1, 500);
    mem.claim(1, 500);
    mem.setMaxPages(1, 200);
    const r = mem.allocate(1, 300);
    expect(r).toEqual({ ok: false, rc: -E2BIG, reason: 'over-max', claimDrawnPages: 300 });
    expect(counters(mem, 1)).toEqual([0, 200, 200]);
    expect(mem.freePages).toBe(1000);
    expect(mem.outstandingClaims).toBe(200);
    mem.checkInvariants();
  });

  it('frees pages without replenishing the claim; never more than owned', () => {
    const mem = host();
    mem.claim(1, 500);
    mem.allocate(1, 200);
    expect(mem.free(1, 150)).toBe(0);
    expect(counters(mem, 1)).toEqual([50, 1000, 300]);
    expect(mem.free(1, 51)).toBe(-EINVAL);
    expect(mem.free(7, 1)).toBe(-ESRCH);
    expect(mem.freePages).toBe(950);
  });

  it('destroying a domain frees its pages and cancels its claim', () => {
    const mem = host();
    mem.claim(1, 800);
    mem.allocate(1, 300);
    expect(mem.destroyDomain(1)).toBe(0);
    expect(mem.domain(1)).toBeUndefined();
    expect(mem.freePages).toBe(1000);
    expect(mem.outstandingClaims).toBe(0);
    expect(mem.allocate(2, 1000).ok).toBe(true);
    expect(mem.destroyDomain(1)).toBe(-ESRCH);
    expect(mem.allocate(1, 1)).toMatchObject({ ok: false, rc: -ESRCH, reason: 'no-domain' });
    expect(mem.setMaxPages(1, 1)).toBe(-ESRCH);
    expect(mem.domainIds()).toEqual([2]);
  });

  it('a new domain owns nothing and may own nothing until max_pages is set', () => {
    const mem = new PageAllocator({ totalPages: 10 });
    expect(mem.createDomain(4)).toBe(0);
    expect(mem.createDomain(4)).toBe(-EEXIST);
    expect(counters(mem, 4)).toEqual([0, 0, 0]);
    expect(mem.allocate(4, 1)).toMatchObject({ rc: -E2BIG });
    expect(mem.claim(4, 1)).toBe(-EINVAL);
  });

  it('reports every operation, refused or not, with the host counters after it', () => {
    const events: MemEvent[] = [];
    const mem = new PageAllocator({ totalPages: 10, onEvent: (e) => events.push(e) });
    mem.createDomain(1, 10);
    mem.claim(1, 6);
    mem.allocate(1, 4);
    mem.free(1, 1);
    mem.setMaxPages(1, 8);
    mem.claim(1, 9);
    mem.destroyDomain(1);
    expect(events).toEqual([
      { type: 'mem.domain.create', domain: 1, rc: 0, maxPages: 10, freePages: 10, outstandingClaims: 0 },
      {
        type: 'mem.claim',
        domain: 1,
        pages: 6,
        rc: 0,
        outstandingPages: 6,
        freePages: 10,
        outstandingClaims: 6,
      },
      {
        type: 'mem.alloc',
        domain: 1,
        pages: 4,
        rc: 0,
        claimDrawnPages: 4,
        totPages: 4,
        freePages: 6,
        outstandingClaims: 2,
      },
      { type: 'mem.free', domain: 1, pages: 1, rc: 0, totPages: 3, freePages: 7, outstandingClaims: 2 },
      { type: 'mem.maxpages', domain: 1, pages: 8, rc: 0, freePages: 7, outstandingClaims: 2 },
      {
        type: 'mem.claim',
        domain: 1,
        pages: 9,
        rc: -EINVAL,
        outstandingPages: 2,
        freePages: 7,
        outstandingClaims: 2,
      },
      {
        type: 'mem.domain.destroy',
        domain: 1,
        rc: 0,
        freedPages: 3,
        cancelledPages: 2,
        freePages: 10,
        outstandingClaims: 0,
      },
    ]);
  });

  it('throws a clear error for malformed arguments', () => {
    expect(() => new PageAllocator({ totalPages: 0 })).toThrow(IsosimError);
    expect(() => new PageAllocator({ totalPages: 1.5 })).toThrow(/totalPages: 1.5 is not a page count/);
    const mem = host();
    expect(() => mem.claim(1, -1)).toThrow(/PageAllocator.claim: pages: -1 is not a page count/);
    expect(() => mem.allocate(1, 0)).toThrow(IsosimError);
    expect(() => mem.free(1, Number.NaN)).toThrow(IsosimError);
    expect(() => mem.setMaxPages(1, 2 ** 53)).toThrow(IsosimError);
    expect(() => mem.createDomain(0x7ff0)).toThrow(/domain: 32752 is not a domain id/);
    expect(() => mem.destroyDomain(-1)).toThrow(IsosimError);
  });

  it('its invariant check catches counters that disagree', () => {
    const mem = host();
    mem.claim(1, 500);
    expect(mem.invariantViolations()).toEqual([]);
    const inner = mem as unknown as { free_: number; outstanding_: number };
    inner.outstanding_ += 1;
    expect(mem.invariantViolations()).toEqual(["outstanding claims 501 != sum of the domains' claims 500"]);
    inner.outstanding_ -= 1;
    inner.free_ -= 1;
    expect(() => mem.checkInvariants()).toThrow(InvariantError);
  });
});
