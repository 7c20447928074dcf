/**
 * Model-based tests of the page allocator (fast-check `commands`): random sequences of
 * domain creation and destruction, claims, allocations, frees and `max_pages` changes
 * on small hosts, against a reference model of the hypercall semantics (Xen 4.22.0,
 * the module comment of packages/actors/src/memory/pageAllocator.ts).
 *
 * The reference keeps no running counters: only each domain's tot_pages, max_pages and
 * claim, with free pages and outstanding claims summed afresh at every step, and each
 * operation restated as a plain decision:
 *   - claim(d, n): no domain, EINVAL; n = 0: cancel; a claim standing, EINVAL;
 *     n ≤ tot or n > max, EINVAL; n − tot > free − claims, ENOMEM; else claim n − tot;
 *   - allocate(d, n): the pages d may take are all the free ones if its claim covers n,
 *     else the free ones no claim holds (its own included); n past that, ENOMEM; else the
 *     claim is drawn down by min(claim, n), then tot > max, EPERM; tot + n > max, E2BIG
 *     (the claim drawn stays drawn); else d owns n more;
 *   - free(d, n): n > tot, EINVAL; destroy(d): its claim and pages go back.
 * After every command the allocator must agree on the return value, on every counter
 * of every domain, on free pages and outstanding claims, on its last event's counters,
 * and both must satisfy the invariants: Σ tot + Σ claims ≤ total, counts never negative,
 * free = total − Σ tot. ISOSIM_PROPERTY_RUNS scales the number of sequences (250 per run);
 * with ISOSIM_VERIFY_SHARD=i/n the property runs its shard's part (test/verify/shard.ts).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
// Imported by path, not as @isosim/actors (see sedf.model.test.ts: Stryker's sandbox).
import {
  type AllocRefusal,
  type AllocResult,
  type MemEvent,
  PageAllocator,
} from '../../packages/actors/src/memory/pageAllocator.ts';
import { checkProperty, expectAbove, writeShardReport } from './shard.ts';

const RUNS = Number(process.env.ISOSIM_PROPERTY_RUNS ?? 8) * 250;
const IDS = 4; // domain ids 0..4: often unknown, often reused after destruction

interface Dom {
  tot: number;
  max: number;
  claim: number;
}

class Model {
  readonly doms = new Map<number, Dom>();
  constructor(readonly total: number) {}
  owned(): number {
    return [...this.doms.values()].reduce((s, d) => s + d.tot, 0);
  }
  claims(): number {
    return [...this.doms.values()].reduce((s, d) => s + d.claim, 0);
  }
  free(): number {
    return this.total - this.owned();
  }

  create(id: number, max: number): number {
    if (this.doms.has(id)) return -17;
    this.doms.set(id, { tot: 0, max, claim: 0 });
    return 0;
  }
  destroy(id: number): number {
    return this.doms.delete(id) ? 0 : -3;
  }
  setMax(id: number, n: number): number {
    const d = this.doms.get(id);
    if (d === undefined) return -3;
    d.max = n;
    return 0;
  }
  claim(id: number, n: number): number {
    const d = this.doms.get(id);
    if (d === undefined) return -22;
    if (n === 0) {
      d.claim = 0;
      return 0;
    }
    if (d.claim !== 0 || n <= d.tot || n > d.max) return -22;
    if (n - d.tot > this.free() - this.claims()) return -12;
    d.claim = n - d.tot;
    return 0;
  }
  allocate(id: number, n: number): AllocResult {
    const d = this.doms.get(id);
    if (d === undefined) return { ok: false, rc: -3, reason: 'no-domain', claimDrawnPages: 0 };
    const usable = d.claim >= n ? this.free() : this.free() - this.claims();
    if (n > usable)
      return { ok: false, rc: -12, reason: n > this.free() ? 'no-memory' : 'claimed', claimDrawnPages: 0 };
    const drawn = Math.min(d.claim, n);
    d.claim -= drawn;
    if (d.tot > d.max) return { ok: false, rc: -1, reason: 'max-below-tot', claimDrawnPages: drawn };
    if (d.tot + n > d.max) return { ok: false, rc: -7, reason: 'over-max', claimDrawnPages: drawn };
    d.tot += n;
    return { ok: true, rc: 0, claimDrawnPages: drawn };
  }
  freePages(id: number, n: number): number {
    const d = this.doms.get(id);
    if (d === undefined) return -3;
    if (n > d.tot) return -22;
    d.tot -= n;
    return 0;
  }
}

interface Real {
  mem: PageAllocator;
  last: MemEvent | undefined;
}

/** What the runs exercised, so that a test can fail if a rule was never reached. */
const seen = {
  sequences: 0,
  commands: 0,
  claimRc: new Map<number, number>(),
  alloc: new Map<AllocRefusal | 'ok', number>(),
  drawnOk: 0,
  drawnLost: 0,
  cancels: 0,
  destroyedWithClaim: 0,
};
const tally = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

function agree(m: Model, r: Real): void {
  seen.commands++;
  const { mem } = r;
  expect(mem.domainIds()).toEqual([...m.doms.keys()].sort((a, b) => a - b));
  for (const [id, d] of m.doms)
    expect(mem.domain(id)).toEqual({ totPages: d.tot, maxPages: d.max, outstandingPages: d.claim });
  expect(mem.freePages).toBe(m.free());
  expect(mem.outstandingClaims).toBe(m.claims());
  expect(mem.invariantViolations()).toEqual([]);
  // The model's own invariants: it is obviously right only if these hold too.
  expect(m.owned() + m.claims()).toBeLessThanOrEqual(m.total);
  for (const d of m.doms.values()) expect(Math.min(d.tot, d.claim)).toBeGreaterThanOrEqual(0);
  expect(r.last?.freePages).toBe(m.free());
  expect(r.last?.outstandingClaims).toBe(m.claims());
}

/** A page count chosen at run time, near a boundary of the current state or absolute. */
type Pages = {
  readonly base: 'abs' | 'tot' | 'max' | 'claim' | 'free' | 'unclaimed' | 'room';
  readonly delta: number;
};

function pages(m: Model, id: number, p: Pages, min: number): number {
  const d = m.doms.get(id);
  const base = {
    abs: 0,
    tot: d?.tot ?? 0,
    max: d?.max ?? 0,
    claim: d?.claim ?? 0,
    free: m.free(),
    unclaimed: m.free() - m.claims(),
    // The largest claim that fits: what it owns and every unclaimed page.
    room: (d?.tot ?? 0) + m.free() - m.claims(),
  }[p.base];
  return Math.max(min, base + p.delta);
}

const showPages = (p: Pages) =>
  p.base === 'abs' ? `${p.delta}` : `${p.base}${p.delta >= 0 ? '+' : ''}${p.delta}`;

abstract class Cmd implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  abstract run(m: Model, r: Real): void;
  abstract toString(): string;
}

class Create extends Cmd {
  constructor(
    readonly id: number,
    readonly max: Pages,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const max = pages(m, this.id, this.max, 0);
    expect(r.mem.createDomain(this.id, max)).toBe(m.create(this.id, max));
    agree(m, r);
  }
  toString(): string {
    return `create(${this.id}, max ${showPages(this.max)})`;
  }
}

class Destroy extends Cmd {
  constructor(readonly id: number) {
    super();
  }
  run(m: Model, r: Real): void {
    if ((m.doms.get(this.id)?.claim ?? 0) > 0) seen.destroyedWithClaim++;
    expect(r.mem.destroyDomain(this.id)).toBe(m.destroy(this.id));
    agree(m, r);
  }
  toString(): string {
    return `destroy(${this.id})`;
  }
}

class SetMax extends Cmd {
  constructor(
    readonly id: number,
    readonly n: Pages,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const n = pages(m, this.id, this.n, 0);
    expect(r.mem.setMaxPages(this.id, n)).toBe(m.setMax(this.id, n));
    agree(m, r);
  }
  toString(): string {
    return `setMax(${this.id}, ${showPages(this.n)})`;
  }
}

class Claim extends Cmd {
  constructor(
    readonly id: number,
    readonly n: Pages,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const n = pages(m, this.id, this.n, 0);
    if (n === 0 && (m.doms.get(this.id)?.claim ?? 0) > 0) seen.cancels++;
    const want = m.claim(this.id, n);
    tally(seen.claimRc, want);
    expect(r.mem.claim(this.id, n)).toBe(want);
    agree(m, r);
  }
  toString(): string {
    return `claim(${this.id}, ${showPages(this.n)})`;
  }
}

class Alloc extends Cmd {
  constructor(
    readonly id: number,
    readonly n: Pages,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const n = pages(m, this.id, this.n, 1);
    const want = m.allocate(this.id, n);
    tally(seen.alloc, want.ok ? 'ok' : want.reason);
    if (want.claimDrawnPages > 0) {
      if (want.ok) seen.drawnOk++;
      else seen.drawnLost++;
    }
    expect(r.mem.allocate(this.id, n)).toEqual(want);
    agree(m, r);
  }
  toString(): string {
    return `alloc(${this.id}, ${showPages(this.n)})`;
  }
}

class Free extends Cmd {
  constructor(
    readonly id: number,
    readonly n: Pages,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const n = pages(m, this.id, this.n, 1);
    expect(r.mem.free(this.id, n)).toBe(m.freePages(this.id, n));
    agree(m, r);
  }
  toString(): string {
    return `free(${this.id}, ${showPages(this.n)})`;
  }
}

const idArb = fc.nat(IDS);
const pagesArb: fc.Arbitrary<Pages> = fc.oneof(
  fc.record({ base: fc.constant('abs' as const), delta: fc.nat(80) }),
  fc.record({
    base: fc.constantFrom(
      'tot' as const,
      'max' as const,
      'claim' as const,
      'free' as const,
      'unclaimed' as const,
      'room' as const,
    ),
    delta: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({
    base: fc.constantFrom('free' as const, 'unclaimed' as const, 'room' as const),
    delta: fc.integer({ min: -60, max: 0 }),
  }),
);

const commandsArb = fc.commands(
  [
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Create(id, p)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Create(id, p)),
    idArb.map((id) => new Destroy(id)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new SetMax(id, p)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Claim(id, p)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Claim(id, p)),
    idArb.map((id) => new Claim(id, { base: 'abs', delta: 0 })),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Alloc(id, p)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Alloc(id, p)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Alloc(id, p)),
    fc.tuple(idArb, pagesArb).map(([id, p]) => new Free(id, p)),
  ],
  { maxCommands: 60, size: 'large' },
);

const totalArb = fc.integer({ min: 1, max: 200 });
/** Domains 0..3 exist at the start, with these max_pages (often past the host's size). */
const initialMaxArb = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: IDS, maxLength: IDS });

function setup(
  total: number,
  initialMax: readonly number[],
  make: (o: ConstructorParameters<typeof PageAllocator>[0]) => PageAllocator,
) {
  const real: Real = { mem: undefined as unknown as PageAllocator, last: undefined };
  real.mem = make({
    totalPages: total,
    onEvent: (e) => {
      real.last = e;
    },
  });
  const model = new Model(total);
  initialMax.forEach((max, id) => {
    expect(real.mem.createDomain(id, max)).toBe(model.create(id, max));
  });
  return { model, real };
}

const property = (make: (o: ConstructorParameters<typeof PageAllocator>[0]) => PageAllocator) =>
  fc.property(totalArb, initialMaxArb, commandsArb, (total, initialMax, cmds) => {
    seen.sequences++;
    const s = setup(total, initialMax, make);
    fc.modelRun(() => s, cmds);
  });

describe('the page allocator against a reference model of XENMEM_claim_pages (fast-check commands)', () => {
  afterAll(() => {
    if (process.env.ISOSIM_VERIFY_REPORT)
      console.log(
        `memory model: ${seen.sequences} command sequences, ${seen.commands} commands agreed; claims ${JSON.stringify(Object.fromEntries(seen.claimRc))}, allocations ${JSON.stringify(Object.fromEntries(seen.alloc))}; claim drawn by ${seen.drawnOk} allocations, lost by ${seen.drawnLost}; ${seen.cancels} cancels, ${seen.destroyedWithClaim} domains destroyed with a claim`,
      );
    writeShardReport('memory.model');
  });

  it('agrees on every return value and every counter after every command', () => {
    const r = checkProperty(
      'memory-model',
      property((o) => new PageAllocator(o)),
      18,
      RUNS,
    );
    r.counts = {
      sequences: seen.sequences,
      commands: seen.commands,
      ...Object.fromEntries([...seen.claimRc].map(([rc, n]) => [`claim ${rc}`, n])),
      ...Object.fromEntries([...seen.alloc].map(([k, n]) => [`alloc ${k}`, n])),
      drawnOk: seen.drawnOk,
      drawnLost: seen.drawnLost,
      cancels: seen.cancels,
      destroyedWithClaim: seen.destroyedWithClaim,
    };
    // Every rule was reached, many times (in a shard: by the shards together).
    for (const rc of [0, -22, -12]) expectAbove(r, `claim ${rc}`, seen.claimRc.get(rc) ?? 0, RUNS / 4);
    for (const k of ['ok', 'claimed', 'no-memory', 'over-max', 'max-below-tot', 'no-domain'] as const)
      expectAbove(r, `alloc ${k}`, seen.alloc.get(k) ?? 0, k === 'max-below-tot' ? RUNS / 40 : RUNS / 10);
    expectAbove(r, 'drawnOk', seen.drawnOk, RUNS / 8);
    expectAbove(r, 'drawnLost', seen.drawnLost, RUNS / 50);
    expectAbove(r, 'cancels', seen.cancels, RUNS / 10);
    expectAbove(r, 'destroyedWithClaim', seen.destroyedWithClaim, RUNS / 20);
  });

  // The model is strict: allocators with one rule wrong are caught. Each mutant replaces
  // one private step of a real allocator (the state it touches is Xen's: free pages,
  // outstanding claims, the domains' counters).
  interface Inner {
    free_: number;
    outstanding_: number;
    doms: Map<number, { totPages: number; maxPages: number; outstandingPages: number }>;
  }
  const mutant =
    (patch: Record<string, (this: Inner, d: never, n: number) => unknown>) =>
    (o: ConstructorParameters<typeof PageAllocator>[0]) =>
      Object.assign(new PageAllocator(o), patch);
  const caught = (make: (o: ConstructorParameters<typeof PageAllocator>[0]) => PageAllocator) =>
    fc.check(property(make), { seed: 7, numRuns: 300 }).failed;

  it('the model is strict: an allocator that lets any domain take claimed pages is caught', () => {
    const ignoresClaims = mutant({
      alloc(this: Inner, id: number, n: number): AllocResult {
        const d = this.doms.get(id);
        if (d === undefined) return { ok: false, rc: -3, reason: 'no-domain', claimDrawnPages: 0 };
        if (n > this.free_) return { ok: false, rc: -12, reason: 'no-memory', claimDrawnPages: 0 };
        const drawn = Math.min(d.outstandingPages, n);
        d.outstandingPages -= drawn;
        this.outstanding_ -= drawn;
        if (d.totPages + n > d.maxPages)
          return { ok: false, rc: -7, reason: 'over-max', claimDrawnPages: drawn };
        d.totPages += n;
        this.free_ -= n;
        return { ok: true, rc: 0, claimDrawnPages: drawn };
      },
    });
    expect(caught(ignoresClaims)).toBe(true);
  });

  it('the model is strict: a claim that does not count the pages already owned is caught', () => {
    const claimsAll = mutant({
      setOutstanding(this: Inner, d: Inner['doms'] extends Map<number, infer D> ? D : never, n: number) {
        if (n === 0) {
          this.outstanding_ -= d.outstandingPages;
          d.outstandingPages = 0;
          return 0;
        }
        if (d.outstandingPages > 0 || n <= d.totPages || n > d.maxPages) return -22;
        if (n > this.free_ - this.outstanding_) return -12;
        d.outstandingPages = n;
        this.outstanding_ += n;
        return 0;
      },
    });
    expect(caught(claimsAll)).toBe(true);
  });
});
