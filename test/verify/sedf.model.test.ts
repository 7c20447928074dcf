/**
 * Model-based tests of SEDF and SEDF-DC (fast-check `commands`): random sequences of
 * wakes, blocks, time passing to (or short of) each decision's end, and debt feedback,
 * driven the way the hypervisor drives a scheduler, against a small reference model.
 *
 * The reference model knows nothing of SEDF's queues. Per vCPU it keeps the slice s,
 * the period p, the period grid (origin: when the vCPU was added), whether it is
 * runnable, the CPU it got in each grid period and, under debt collection, its debt
 * and the debt each grid period's slice has paid. From that alone it predicts every
 * decision exactly, for SEDF without extratime and for SEDF-DC in each debt mode:
 *   - budget(v) = s − CPU v got in its current grid period − debt paid from it;
 *   - the vCPU to run: among runnable vCPUs with budget, the earliest deadline (end of
 *     its current grid period), ties to the lower index; none: idle;
 *   - for how long: until its budget is used, its deadline, or the next period start
 *     of a runnable vCPU whose budget is used up, whichever comes first; idle: until
 *     that next period start, or 1 s;
 *   - whether a wake preempts: the pCPU idles, or the woken vCPU has budget and an
 *     earlier deadline than the one running.
 * Debt is paid where the spec says (docs/mechanisms.md): `immediate` from what is left
 * of the slice whenever the vCPU is descheduled or wakes within its period (steps 1 and
 * 6), and in both modes from a new period's slice (step 3) and from the unused time of
 * the periods missed while blocked (step 6); with spread-debt, at most
 * max(1, floor(debt / floor(t / p))) a period.
 *
 * ISOSIM_PROPERTY_RUNS scales the sequences (25 per run); with ISOSIM_VERIFY_SHARD=i/n
 * each property runs its shard's part (test/verify/shard.ts).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
// Imported by path, not as @isosim/actors: Stryker mutates the sandbox's copy of the
// source, and the package name resolves to the original through node_modules.
import { sedf } from '../../packages/actors/src/scheduler/sedf.ts';
import { IDLE } from '../../packages/actors/src/scheduler/types.ts';
import { checkProperty, expectAbove, type PropertyRecord, writeShardReport } from './shard.ts';

const RUNS = Number(process.env.ISOSIM_PROPERTY_RUNS ?? 8) * 25;
const FEEDBACK_NS = 500_000_000;
/** Decisions the model predicted, how many broke a tie of deadlines, and debt it saw paid. */
const seen = { decisions: 0, ties: 0, paidNs: 0 };
type St = ReturnType<typeof sedf.init>;
type Mode = 'off' | 'immediate' | 'next-quantum';

interface VModel {
  s: number;
  p: number;
  origin: number;
  runnable: boolean;
  got: Map<number, number>;
  /** Debt paid from each grid period's slice. */
  paid: Map<number, number>;
  /** The grid period the scheduler's view of this vCPU is in (its deadline's period). */
  per: number;
  debt: number;
  /** Spread-debt allowance per period (−1: none), and what is left of it this period. */
  spread: number;
  spreadLeft: number;
}

class Model {
  t = 0;
  vcpus: VModel[] = [];
  running = IDLE;
  decStart = 0;
  decEnd = 0;
  debtAdded = 0;
  debtPaid = 0;
  constructor(
    readonly mode: Mode,
    readonly spread: boolean,
  ) {}

  k(v: VModel, t = this.t): number {
    return Math.floor((t - v.origin) / v.p);
  }
  deadline(v: VModel): number {
    return v.origin + (this.k(v) + 1) * v.p;
  }
  /** What is left of v's slice in grid period k. */
  left(v: VModel, k: number): number {
    return v.s - (v.got.get(k) ?? 0) - (v.paid.get(k) ?? 0);
  }
  budget(v: VModel): number {
    return this.left(v, this.k(v));
  }
  /** Credits [from, to) of own CPU to v, split over its grid periods. */
  credit(v: VModel, from: number, to: number): void {
    for (let t = from; t < to; ) {
      const k = this.k(v, t);
      const end = Math.min(to, v.origin + (k + 1) * v.p);
      v.got.set(k, (v.got.get(k) ?? 0) + end - t);
      t = end;
    }
  }
  allowance(v: VModel): number {
    return v.spread < 0 ? Number.POSITIVE_INFINITY : Math.max(0, v.spreadLeft);
  }
  /** Pays up to `most` of v's debt, from period k's slice (k undefined: from missed periods). */
  pay(v: VModel, most: number, k?: number): void {
    const c = Math.min(v.debt, most);
    if (c <= 0) return;
    v.debt -= c;
    this.debtPaid += c;
    seen.paidNs += c;
    if (v.spread >= 0) v.spreadLeft -= c;
    if (k !== undefined) v.paid.set(k, (v.paid.get(k) ?? 0) + c);
  }
  /** Steps 1 and 6 within the period: `immediate` pays from what is left of period k. */
  payFromLeft(v: VModel, k: number): void {
    if (this.mode === 'immediate') this.pay(v, Math.min(this.left(v, k), this.allowance(v)), k);
  }
  /** Step 3: v's period k begins; its slice pays what it can. */
  renew(v: VModel, k: number): void {
    v.per = k;
    if (this.mode === 'off') return;
    v.spreadLeft = v.spread;
    this.pay(v, Math.min(v.s, this.allowance(v)), k);
  }
  expected(): { vcpu: number; runNs: number } {
    let best = IDLE;
    let tie = false;
    this.vcpus.forEach((v, i) => {
      if (!v.runnable || this.budget(v) <= 0) return;
      if (best !== IDLE && this.deadline(v) === this.deadline(this.vcpus[best])) tie = true;
      if (best === IDLE || this.deadline(v) < this.deadline(this.vcpus[best])) {
        best = i;
        tie = false;
      }
    });
    seen.decisions++;
    if (tie) seen.ties++;
    let release = Number.POSITIVE_INFINITY;
    for (const v of this.vcpus)
      if (v.runnable && this.budget(v) <= 0) release = Math.min(release, this.deadline(v));
    if (best === IDLE)
      return { vcpu: IDLE, runNs: release === Number.POSITIVE_INFINITY ? 1e9 : release - this.t };
    const v = this.vcpus[best];
    return { vcpu: best, runNs: Math.min(this.t + this.budget(v), this.deadline(v), release) - this.t };
  }
}

interface Real {
  st: St;
}

function schedule(m: Model, r: Real, runnablePrev: boolean): void {
  const prev = m.running;
  const ran = m.t - m.decStart;
  if (prev !== IDLE) {
    const v = m.vcpus[prev];
    m.credit(v, m.decStart, m.t);
    m.payFromLeft(v, v.per); // Step 1, in the period it ran in.
    if (!runnablePrev) v.runnable = false;
  }
  for (const v of m.vcpus) if (v.runnable && v.per < m.k(v)) m.renew(v, m.k(v)); // Step 3.
  const want = m.expected();
  const d = sedf.doSchedule(r.st, 0, m.t, { vcpu: prev, ranNs: ran, runnable: runnablePrev });
  expect(d).toEqual(want);
  m.running = d.vcpu;
  m.decStart = m.t;
  m.decEnd = m.t + d.runNs;
  checkTotals(m, r);
}

function checkTotals(m: Model, r: Real): void {
  for (const v of m.vcpus)
    for (const [k, got] of v.got) expect(got + (v.paid.get(k) ?? 0)).toBeLessThanOrEqual(v.s);
  const l = sedf.debtLedger?.(r.st);
  if (l === undefined) throw new Error('no ledger');
  expect(l).toEqual({ addedNs: m.debtAdded, paidNs: m.debtPaid, outstandingNs: m.debtAdded - m.debtPaid });
  const st = r.st as unknown as { vcpus: { debtNs: number }[] };
  expect(st.vcpus.map((v) => v.debtNs)).toEqual(m.vcpus.map((v) => v.debt));
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly frac: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const left = m.decEnd - m.t;
    const step = Math.max(1, Math.floor(left * this.frac));
    m.t += Math.min(step, left);
    if (m.t === m.decEnd) schedule(m, r, m.running === IDLE || m.vcpus[m.running].runnable);
  }
  toString(): string {
    return `advance(${this.frac.toFixed(2)})`;
  }
}

class Block implements fc.Command<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.running !== IDLE;
  }
  run(m: Model, r: Real): void {
    schedule(m, r, false);
  }
  toString(): string {
    return 'block-running';
  }
}

class Wake implements fc.Command<Model, Real> {
  constructor(readonly v: number) {}
  check(m: Readonly<Model>): boolean {
    return this.v < m.vcpus.length && !m.vcpus[this.v].runnable;
  }
  run(m: Model, r: Real): void {
    const v = m.vcpus[this.v];
    v.runnable = true;
    const k = m.k(v);
    if (k === v.per) {
      m.payFromLeft(v, k); // Step 6, NOW < d.
    } else {
      // Step 6, NOW >= d: the unused time of its last period and of the `bl` whole
      // periods missed pays debt, then the period containing NOW starts.
      const bl = k - v.per - 1;
      if (m.mode !== 'off') m.pay(v, Math.max(0, m.left(v, v.per)) + bl * v.s);
      m.renew(v, k);
    }
    const pre = sedf.wake(r.st, this.v, m.t);
    const running = m.running === IDLE ? undefined : m.vcpus[m.running];
    const want = running === undefined || (m.budget(v) > 0 && m.deadline(v) < m.deadline(running));
    expect(pre).toBe(want);
    checkTotals(m, r);
    if (pre) schedule(m, r, m.running === IDLE || m.vcpus[m.running].runnable);
  }
  toString(): string {
    return `wake(${this.v})`;
  }
}

class Sleep implements fc.Command<Model, Real> {
  constructor(readonly v: number) {}
  check(m: Readonly<Model>): boolean {
    return this.v < m.vcpus.length && m.vcpus[this.v].runnable && m.running !== this.v;
  }
  run(m: Model, r: Real): void {
    m.vcpus[this.v].runnable = false;
    sedf.sleep(r.st, this.v, m.t);
  }
  toString(): string {
    return `sleep(${this.v})`;
  }
}

class Debt implements fc.Command<Model, Real> {
  constructor(
    readonly v: number,
    readonly ns: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.mode !== 'off' && this.v < m.vcpus.length;
  }
  run(m: Model, r: Real): void {
    sedf.addDebt?.(r.st, this.v, this.ns, m.t);
    const v = m.vcpus[this.v];
    v.debt += this.ns;
    m.debtAdded += this.ns;
    const freq = Math.floor(FEEDBACK_NS / v.p);
    v.spread = m.spread && freq > 1 ? Math.max(1, Math.floor(v.debt / freq)) : -1;
    v.spreadLeft = Math.max(v.spread, 0);
    checkTotals(m, r);
  }
  toString(): string {
    return `debt(${this.v}, ${this.ns})`;
  }
}

const vcpusArb = fc.array(
  fc.record({
    p: fc.constantFrom(10, 20, 30, 50).map((ms) => ms * 1_000_000),
    pct: fc.integer({ min: 5, max: 60 }),
  }),
  { minLength: 1, maxLength: 4 },
);

const commandsArb = (dc: boolean) =>
  fc.commands(
    [
      fc.double({ min: 0.05, max: 1, noNaN: true }).map((f) => new Advance(f)),
      fc.constant(1).map(() => new Advance(1)),
      fc.constant(1).map(() => new Advance(1)),
      fc.constant(new Block()),
      fc.nat(3).map((v) => new Wake(v)),
      fc.nat(3).map((v) => new Sleep(v)),
      ...(dc
        ? [fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 20_000_000 })).map(([v, ns]) => new Debt(v, ns))]
        : []),
    ],
    { maxCommands: 300, size: 'large' },
  );

function setupRun(
  mode: Mode,
  spread: boolean,
  vs: { p: number; pct: number }[],
): { model: Model; real: Real } {
  // Reservations within 100% of the pCPU.
  const total = vs.reduce((s, v) => s + v.pct, 0);
  const scale = total > 100 ? 100 / total : 1;
  const m = new Model(mode, spread);
  const st = sedf.init(1, 0);
  if (mode !== 'off') sedf.configureDebt?.(st, { mode, spread, feedbackNs: FEEDBACK_NS });
  vs.forEach((v, i) => {
    const s = Math.floor((v.p * v.pct * scale) / 100);
    const idx = sedf.addVcpu(
      st,
      { domain: i + 1, pcpu: 0, sedf: { sliceNs: s, periodNs: v.p, extratime: false } },
      0,
    );
    expect(idx).toBe(i);
    m.vcpus.push({
      s,
      p: v.p,
      origin: 0,
      runnable: false,
      got: new Map(),
      paid: new Map(),
      per: 0,
      debt: 0,
      spread: -1,
      spreadLeft: 0,
    });
  });
  const real = { st };
  schedule(m, real, true);
  return { model: m, real };
}

let runs = 0;
/** Checks the model in one mode on this shard's part of RUNS sequences; the record counts what it saw. */
function check(mode: Mode, spread: boolean, seed: number): PropertyRecord {
  const before = { ...seen, runs };
  const r = checkProperty(
    `sedf-model-${mode}${spread ? '-spread' : ''}`,
    fc.property(vcpusArb, commandsArb(mode !== 'off'), (vs, cmds) => {
      runs++;
      const { model, real } = setupRun(mode, spread, vs);
      fc.modelRun(() => ({ model, real }), cmds);
    }),
    seed,
    RUNS,
  );
  r.counts = {
    sequences: runs - before.runs,
    decisions: seen.decisions - before.decisions,
    ties: seen.ties - before.ties,
    paidNs: seen.paidNs - before.paidNs,
  };
  return r;
}

describe('SEDF against a reference model (fast-check commands)', () => {
  afterAll(() => {
    if (process.env.ISOSIM_VERIFY_REPORT)
      console.log(
        `SEDF model: ${runs} command sequences, ${seen.decisions} decisions predicted (${seen.ties} ties), ${(seen.paidNs / 1e9).toFixed(1)} s of debt paid as predicted`,
      );
    writeShardReport('sedf.model');
  });
  it('predicts every decision and every preemption of plain SEDF exactly', () => {
    const r = check('off', false, 42);
    expectAbove(r, 'decisions', r.counts.decisions, 20 * RUNS);
    expectAbove(r, 'ties', r.counts.ties, RUNS);
  });

  it('predicts SEDF-DC exactly, debt charged immediately (the paper)', () => {
    const r = check('immediate', false, 43);
    expectAbove(r, 'paidNs', r.counts.paidNs, RUNS * 1_000_000);
  });

  it('predicts SEDF-DC exactly with spread-debt', () => {
    check('immediate', true, 44);
  });

  it('predicts SEDF-DC exactly, debt charged to the next quantum', () => {
    check('next-quantum', false, 45);
    check('next-quantum', true, 46);
  });

  it('the model is strict: a scheduler that hands out more than the slice is caught', () => {
    const { model, real } = setupRun('off', false, [{ p: 10_000_000, pct: 30 }]);
    new Wake(0).run(model, real);
    // Tamper with the real scheduler: 1 ms more than its slice left in this period.
    (real.st as unknown as { vcpus: { remainingNs: number }[] }).vcpus[0].remainingNs += 1_000_000;
    expect(() => new Advance(1).run(model, real)).toThrow();
  });

  it('the model is strict: debt that is not charged is caught', () => {
    const { model, real } = setupRun('immediate', false, [{ p: 10_000_000, pct: 30 }]);
    new Wake(0).run(model, real);
    new Debt(0, 1_000_000).run(model, real);
    (real.st as unknown as { vcpus: { debtNs: number }[] }).vcpus[0].debtNs = 0;
    expect(() => new Advance(1).run(model, real)).toThrow();
  });
});
