/**
 * The dynamic guests of a `MemoryHost` (issue 18, slice 3): what each kind is, its
 * parameters (integers: pages, ns, pages per second), their checks, and the integer
 * arithmetic of rates and bursts that every kind shares. How each kind steps is in
 * memoryHost.ts; docs/memory.md describes them with their sources.
 *
 * - `sine`: the debate's "worst-case domain", `tot_pages` a fast, high-amplitude sine
 *   wave (page by page: it gets what it can; the shortfall is paging I/O).
 * - `balloon`: a guest whose balloon driver follows targets the toolstack sets
 *   (xenstore `memory/target`), inflating (freeing) or deflating (allocating) at a rate.
 * - `tmem`: a guest putting pages into transcendent memory in bursts (ephemeral pool:
 *   clean cache the hypervisor may evict; persistent pool: swapped pages it must
 *   keep), getting them back between bursts, and optionally self-ballooning (shrinking
 *   its own memory to a floor between bursts, growing back during them).
 * - `sharing`: a guest with pages shared copy-on-write with other guests (one copy,
 *   owned by `DOMID_COW`), which breaks them by writing in bursts (each break
 *   allocates a private page) while a scanner merges them back at a steady rate.
 */
import { IsosimError } from '@isosim/core';

/** On/off phases: in a burst when t ≥ offsetNs and (t − offsetNs) mod everyNs < lengthNs. */
export interface Bursts {
  readonly everyNs: number;
  readonly lengthNs: number;
  /** Start of the first burst, ns after the guest's start (default 0). */
  readonly offsetNs?: number;
}

/** The debate's worst-case domain: `tot_pages` on a sine wave from `minPages` to `peakPages`. */
export interface SineGuestSpec {
  readonly kind: 'sine';
  readonly domain: number;
  readonly minPages: number;
  /** Also its `max_pages` (its lifetime maximum). */
  readonly peakPages: number;
  /** The wave's period, ns. */
  readonly periodNs: number;
  /** Time between steps, ns. */
  readonly stepNs: number;
}

/** A guest with a balloon driver following the toolstack's targets. */
export interface BalloonGuestSpec {
  readonly kind: 'balloon';
  readonly domain: number;
  /** Its `max_pages`: no target may exceed it. */
  readonly maxPages: number;
  /** Pages it owns at start, and its first target. */
  readonly initialPages: number;
  /** How fast the balloon inflates or deflates, pages per second (≥ 1). */
  readonly pagesPerS: number;
  readonly stepNs: number;
  /** Targets the toolstack sets, at absolute times (ns, not before the guest's start). */
  readonly targets: readonly { readonly atNs: number; readonly pages: number }[];
}

/** A guest using tmem in bursts, optionally self-ballooning. */
export interface TmemGuestSpec {
  readonly kind: 'tmem';
  readonly domain: number;
  /** Its own memory outside self-ballooning, and its `max_pages`. */
  readonly basePages: number;
  /** Self-ballooning's floor between bursts; `basePages` for none. */
  readonly minPages: number;
  /** Self-ballooning's rate, pages per second (0 only when minPages = basePages). */
  readonly selfBalloonPagesPerS: number;
  readonly stepNs: number;
  readonly bursts: Bursts;
  /** Puts during a burst, pages per second. */
  readonly putPagesPerS: number;
  /** Gets between bursts, pages per second (persistent pool first). */
  readonly getPagesPerS: number;
  /** Share of puts that go to the persistent pool, per mille (0..1000). */
  readonly persistentPermille: number;
}

/** A guest whose shared pages break on write in bursts and are merged back steadily. */
export interface SharingGuestSpec {
  readonly kind: 'sharing';
  readonly domain: number;
  /** Pages it owns alone at start. */
  readonly privatePages: number;
  /** Pages it maps shared, identical to every other sharing guest's first pages. */
  readonly sharedPages: number;
  readonly stepNs: number;
  readonly bursts: Bursts;
  /** Pages broken by writes per second during a burst. */
  readonly breakPagesPerS: number;
  /** Pages merged back per second by the sharing scanner, always. */
  readonly mergePagesPerS: number;
}

/** Any dynamic guest. */
export type MemoryGuestSpec = SineGuestSpec | BalloonGuestSpec | TmemGuestSpec | SharingGuestSpec;

/** The kinds of dynamic guest. */
export type MemoryGuestKind = MemoryGuestSpec['kind'];

/** Every kind, in the order reports list them. */
export const MEMORY_GUEST_KINDS: readonly MemoryGuestKind[] = ['sine', 'balloon', 'tmem', 'sharing'];

/**
 * The fastest rate, pages per second: `rate × 10^9` must stay an exact double (2^53),
 * so that `pagesIn` is exact integer arithmetic (9·10^6 pages/s is 34 GiB/s).
 */
export const MAX_PAGES_PER_S = 9_000_000;

const NS_PER_S = 1_000_000_000;

/** Pages a rate gives from time 0 to `tNs` on a fixed grid: ⌊rate · t / 10^9⌋, exactly. */
export function pagesBy(ratePerS: number, tNs: number): number {
  const whole = Math.floor(tNs / NS_PER_S);
  return ratePerS * whole + Math.floor((ratePerS * (tNs - whole * NS_PER_S)) / NS_PER_S);
}

/** Pages a rate gives in (aNs, bNs]: the same whatever the steps, no drift. */
export function pagesIn(ratePerS: number, aNs: number, bNs: number): number {
  return pagesBy(ratePerS, bNs) - pagesBy(ratePerS, aNs);
}

/** Whether `tNs` (since the guest's start) is in a burst. */
export function inBurst(b: Bursts, tNs: number): boolean {
  const t = tNs - (b.offsetNs ?? 0);
  return t >= 0 && t % b.everyNs < b.lengthNs;
}

/**
 * Checks a guest's parameters against the host's size; throws an `IsosimError` naming
 * the field and the fix.
 */
export function checkGuestSpec(spec: MemoryGuestSpec, totalPages: number): void {
  const where = `MemoryHost.addGuest(${spec.kind} ${spec.domain})`;
  const int = (field: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isSafeInteger(v) || v < min || v > max)
      throw new IsosimError(where, field, `${v} is not an integer in ${min}..${max}`, `give ${min}..${max}`);
  };
  const fits = (field: string, v: number) => {
    if (v > totalPages)
      throw new IsosimError(
        where,
        field,
        `${v} pages exceed the host's ${totalPages}`,
        'a smaller guest or a larger host',
      );
  };
  const rate = (field: string, v: number, min = 0) => int(field, v, min, MAX_PAGES_PER_S);
  const bursts = (b: Bursts) => {
    int('bursts.everyNs', b.everyNs, 1);
    int('bursts.lengthNs', b.lengthNs, 0, b.everyNs);
    int('bursts.offsetNs', b.offsetNs ?? 0, 0);
  };
  int('stepNs', spec.stepNs, 1);
  switch (spec.kind) {
    case 'sine':
      int('minPages', spec.minPages, 0);
      int('peakPages', spec.peakPages, Math.max(spec.minPages, 1));
      int('periodNs', spec.periodNs, 1);
      fits('peakPages', spec.peakPages);
      return;
    case 'balloon': {
      int('maxPages', spec.maxPages, 1);
      fits('maxPages', spec.maxPages);
      int('initialPages', spec.initialPages, 0, spec.maxPages);
      rate('pagesPerS', spec.pagesPerS, 1);
      spec.targets.forEach((t, i) => {
        int(`targets[${i}].atNs`, t.atNs, 0);
        if (!Number.isSafeInteger(t.pages) || t.pages < 0 || t.pages > spec.maxPages)
          throw new IsosimError(
            where,
            `targets[${i}].pages`,
            `${t.pages} is not a target in 0..max_pages ${spec.maxPages}`,
            "a balloon target at most the guest's max_pages",
          );
      });
      return;
    }
    case 'tmem':
      int('basePages', spec.basePages, 1);
      fits('basePages', spec.basePages);
      int('minPages', spec.minPages, 0, spec.basePages);
      rate('selfBalloonPagesPerS', spec.selfBalloonPagesPerS, spec.minPages < spec.basePages ? 1 : 0);
      bursts(spec.bursts);
      rate('putPagesPerS', spec.putPagesPerS);
      rate('getPagesPerS', spec.getPagesPerS);
      int('persistentPermille', spec.persistentPermille, 0, 1000);
      return;
    case 'sharing':
      int('privatePages', spec.privatePages, 0);
      int('sharedPages', spec.sharedPages, 0);
      fits('privatePages + sharedPages', spec.privatePages + spec.sharedPages);
      bursts(spec.bursts);
      rate('breakPagesPerS', spec.breakPagesPerS);
      rate('mergePagesPerS', spec.mergePagesPerS);
      return;
    default:
      throw new IsosimError(
        'MemoryHost.addGuest',
        'kind',
        `${String((spec as { kind: unknown }).kind)} is not a kind of guest`,
        MEMORY_GUEST_KINDS.join(', '),
      );
  }
}
