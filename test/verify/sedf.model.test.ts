/**
 * Model-based tests of SEDF and SEDF-DC (fast-check `commands`): random sequences of
 * wakes, blocks, time passing to (or short of) each decision's end, and debt feedback,
 * driven the way the hypervisor drives a scheduler, against a small reference model.
 *
 * The reference model knows nothing of SEDF's queues. Per vCPU it keeps the slice s,
 * the period p, the period grid (origin: when the vCPU was added), whether it is
 * runnable, and the CPU it got in each grid period. From that alone it predicts, for
 * plain SEDF without extratime, every decision exactly:
 *   - budget(v) = s − CPU v got in its current grid period;
 *   - the vCPU to run: among runnable vCPUs with budget, the earliest deadline (end of
 *     its current grid period), ties to the lower index; none: idle;
 *   - for how long: until its budget is used, its deadline, or the next period start
 *     of a runnable vCPU whose budget is used up, whichever comes first; idle: until
 *     that next period start, or 1 s;
 *   - whether a wake preempts: the pCPU idles, or the woken vCPU has budget and an
 *     earlier deadline than the one running.
 * For SEDF-DC the model cannot see debt paid from a slice, so it checks what must hold
 * anyway: only runnable vCPUs run, never past their deadline, never more than s in a
 * grid period; every nanosecond of debt is outstanding or paid; and the CPU the vCPUs
 * got plus the debt they paid fits in the slices of the periods elapsed.
 */
import { IDLE, sedf } from '@isosim/actors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const RUNS = Number(process.env.ISOSIM_PROPERTY_RUNS ?? 8) * 25;
/** Decisions the model predicted, and how many of them broke a tie of deadlines. */
const seen = { decisions: 0, ties: 0 };
type St = ReturnType<typeof sedf.init>;

interface VModel {
  s: number;
  p: number;
  origin: number;
  runnable: boolean;
  got: Map<number, number>;
}

class Model {
  t = 0;
  vcpus: VModel[] = [];
  running = IDLE;
  decStart = 0;
  decEnd = 0;
  debtAdded = 0;
  constructor(readonly dc: boolean) {}

  k(v: VModel, t = this.t): number {
    return Math.floor((t - v.origin) / v.p);
  }
  deadline(v: VModel): number {
    return v.origin + (this.k(v) + 1) * v.p;
  }
  budget(v: VModel): number {
    return v.s - (v.got.get(this.k(v)) ?? 0);
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
    m.credit(m.vcpus[prev], m.decStart, m.t);
    if (!runnablePrev) m.vcpus[prev].runnable = false;
  }
  const want = m.dc ? undefined : m.expected();
  const d = sedf.doSchedule(r.st, 0, m.t, { vcpu: prev, ranNs: ran, runnable: runnablePrev });
  expect(Number.isSafeInteger(d.runNs) && d.runNs > 0).toBe(true);
  if (want !== undefined) expect(d).toEqual(want);
  if (d.vcpu !== IDLE) {
    const v = m.vcpus[d.vcpu];
    expect(v.runnable).toBe(true);
    expect(m.t + d.runNs).toBeLessThanOrEqual(m.deadline(v));
    expect(d.runNs).toBeLessThanOrEqual(m.budget(v));
  }
  m.running = d.vcpu;
  m.decStart = m.t;
  m.decEnd = m.t + d.runNs;
  checkTotals(m, r);
}

function checkTotals(m: Model, r: Real): void {
  for (const v of m.vcpus) for (const got of v.got.values()) expect(got).toBeLessThanOrEqual(v.s);
  if (!m.dc) return;
  const l = sedf.debtLedger?.(r.st);
  if (l === undefined) throw new Error('no ledger');
  expect(l.addedNs).toBe(m.debtAdded);
  expect(l.addedNs).toBe(l.paidNs + l.outstandingNs);
  // Own CPU plus debt paid never exceeds the slices of the periods begun so far.
  let got = 0;
  let slices = 0;
  for (const v of m.vcpus) {
    for (const g of v.got.values()) got += g;
    slices += (m.k(v) + 1) * v.s;
  }
  expect(got + l.paidNs).toBeLessThanOrEqual(slices);
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
    const pre = sedf.wake(r.st, this.v, m.t);
    if (!m.dc) {
      const running = m.running === IDLE ? undefined : m.vcpus[m.running];
      const want = running === undefined || (m.budget(v) > 0 && m.deadline(v) < m.deadline(running));
      expect(pre).toBe(want);
    }
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
    return m.dc && this.v < m.vcpus.length;
  }
  run(m: Model, r: Real): void {
    sedf.addDebt?.(r.st, this.v, this.ns, m.t);
    m.debtAdded += this.ns;
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

function setupRun(dc: boolean, vs: { p: number; pct: number }[]): { model: Model; real: Real } {
  // Reservations within 100% of the pCPU.
  const total = vs.reduce((s, v) => s + v.pct, 0);
  const scale = total > 100 ? 100 / total : 1;
  const m = new Model(dc);
  const st = sedf.init(1, 0);
  if (dc) sedf.configureDebt?.(st, { mode: 'immediate', spread: false, feedbackNs: 500_000_000 });
  vs.forEach((v, i) => {
    const s = Math.floor((v.p * v.pct * scale) / 100);
    const idx = sedf.addVcpu(
      st,
      { domain: i + 1, pcpu: 0, sedf: { sliceNs: s, periodNs: v.p, extratime: false } },
      0,
    );
    expect(idx).toBe(i);
    m.vcpus.push({ s, p: v.p, origin: 0, runnable: false, got: new Map() });
  });
  const real = { st };
  schedule(m, real, true);
  return { model: m, real };
}

describe('SEDF against a reference model (fast-check commands)', () => {
  it('predicts every decision and every preemption of plain SEDF exactly', () => {
    fc.assert(
      fc.property(vcpusArb, commandsArb(false), (vs, cmds) => {
        const { model, real } = setupRun(false, vs);
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { seed: 42, numRuns: RUNS },
    );
    expect(seen.decisions).toBeGreaterThan(20 * RUNS);
    expect(seen.ties).toBeGreaterThan(RUNS);
  });

  it('SEDF-DC: runs only runnable vCPUs within slice and deadline, and every debt ns is paid or outstanding', () => {
    fc.assert(
      fc.property(vcpusArb, commandsArb(true), (vs, cmds) => {
        const { model, real } = setupRun(true, vs);
        fc.modelRun(() => ({ model, real }), cmds);
      }),
      { seed: 43, numRuns: RUNS },
    );
  });

  it('the model is strict: a scheduler that hands out more than the slice is caught', () => {
    const { model, real } = setupRun(false, [{ p: 10_000_000, pct: 30 }]);
    new Wake(0).run(model, real);
    // Tamper with the real scheduler: 1 ms more than its slice left in this period.
    (real.st as unknown as { vcpus: { remainingNs: number }[] }).vcpus[0].remainingNs += 1_000_000;
    expect(() => new Advance(1).run(model, real)).toThrow();
  });
});
