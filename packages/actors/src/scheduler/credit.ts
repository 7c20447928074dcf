/**
 * Xen's Credit scheduler (credit1), after `xen/common/sched/credit.c` (xen-project/xen
 * at c447b7308b): written from its design, not its code. Functions named below are
 * Xen's.
 *
 * Design
 * - Credits are nanoseconds of CPU (Xen keeps `CSCHED_CREDITS_PER_MSEC` = 10 credits
 *   per ms plus a `residual`; in ns, `burn_credits` is exact with no residual).
 * - Every `TSLICE_NS` (30 ms, `CSCHED_DEFAULT_TSLICE_MS`) `csched_acct` hands out
 *   `pcpus * TSLICE_NS` to the active vCPUs in proportion to weight, none getting more
 *   than its peak: one full period (`credit_peak`), or its cap (`credit_cap`). We
 *   compute that water-filling split exactly (`splitCredits`) where Xen approximates it
 *   in one pass; sub-ns remainders are carried, so shares do not drift.
 * - After accounting: credit < 0 is OVER, else UNDER (BOOST is lost). A vCPU above its
 *   peak leaves the active list with its credit halved; one below -TSLICE_NS is raised
 *   to it. Xen's `credit_balance` feedback is not modelled.
 * - Ticks every `TICK_NS` (10 ms, `CSCHED_TICKS_PER_TSLICE` = 3 per slice): the running
 *   vCPU is charged and loses BOOST (`csched_tick`, `csched_unit_acct`).
 * - There is no timer here: ticks and accounting run, in time order, at the start of
 *   every operation (`catchUp`). Every decision's `runNs` ends at or before the next
 *   tick, so the driver calls `doSchedule` on every pCPU at every tick instant.
 * - Priorities BOOST > UNDER > OVER; per-pCPU runqueues ordered by priority, FIFO
 *   among equals (`__runq_insert`); re-sorted after accounting (`csched_runq_sort`).
 * - A vCPU waking with UNDER gets BOOST (`csched_unit_wake`); it preempts if its pCPU
 *   is idle or runs something of lower priority (`__runq_tickle`). Otherwise the
 *   running vCPU keeps the pCPU until its 30 ms slice ends. Xen's ratelimit is not
 *   modelled.
 * - Every vCPU is pinned to its `pcpu` (VcpuSpec has one), so idle pCPUs never steal
 *   (`csched_load_balance` finds nothing it may take).
 *
 * Where this differs from Xen, on purpose
 * - A vCPU joins the active list whenever it is charged, not only when a tick finds it
 *   running (`csched_unit_acct`): our ticks are exact, so a periodic vCPU could
 *   otherwise dodge them forever and never earn.
 * - Parking: a capped vCPU is parked as soon as it is charged below zero (at a tick, or
 *   when descheduled), not only at accounting below `-credit_cap`; it stays off its
 *   runqueue until accounting finds its credit >= 0 again (no BOOST on unpark).
 * - The "above its peak" test uses each vCPU's own peak (cap included), so a capped
 *   vCPU never holds more than one period's allowance.
 *
 * Invariants (tested)
 * - Ledger: sum of credits = issued - burned - forfeited, exactly; burned = CPU run.
 * - Cap bound. Let Q = cap% of 30 ms and T = TICK_NS. A capped vCPU runs only with
 *   credit >= 0 and is charged at least every T while running, so it stops with credit
 *   >= -T. Accounting gives it at most Q and leaves it with at most Q. Hence in every
 *   accounting period it runs at most Q + T, in any m consecutive periods at most
 *   m*Q + T, and from the start through period m at most (m - 1)*Q + T. Q + T is
 *   reached: credit exactly 0 at a tick does not park, so it can run one more tick.
 */
import { InvariantError, IsosimError } from '@isosim/core';
import {
  DEBT_MODES,
  type DebtLedger,
  type DebtOptions,
  type Decision,
  IDLE,
  type PrevRun,
  type SchedulerOps,
  type VcpuSpec,
} from './types.ts';

/** Xen's `CSCHED_DEFAULT_WEIGHT`. */
export const DEFAULT_WEIGHT = 256;
/** Xen's weights are `uint16_t`; also keeps `pot * weight` exact in a double. */
export const MAX_WEIGHT = 65_535;
/** Time slice and accounting period, ns: `CSCHED_DEFAULT_TSLICE_MS` = 30. */
export const TSLICE_NS = 30_000_000;
/** `CSCHED_TICKS_PER_TSLICE`. */
export const TICKS_PER_TSLICE = 3;
/** Tick period, ns: 10 ms (`tick_period_us` = tslice / ticks per tslice). */
export const TICK_NS = TSLICE_NS / TICKS_PER_TSLICE;

/** `CSCHED_PRI_TS_BOOST`, `_UNDER`, `_OVER`: larger runs first. */
export const BOOST = 0;
export const UNDER = -1;
export const OVER = -2;

export interface CreditVcpu {
  readonly domain: number;
  readonly pcpu: number;
  weight: number;
  /** Percent of one pCPU, in hundredths (10.25 is allowed); 0 = no cap. */
  capPct: number;
  /** Xen's `svc->credit`, in ns of CPU. */
  creditNs: number;
  pri: number;
  blocked: boolean;
  /** Capped and out of credit: not runnable until accounting unparks it. */
  parked: boolean;
  /** On the active list: takes part in accounting. */
  active: boolean;
  /** Carried remainder of its proportional share, in units of 1/W ns (W: total weight). */
  shareRemainder: number;
  /** Credit issued to it so far (statistics). */
  earnedNs: number;
  /** Credit-DC, `next-quantum` mode: IDD CPU still to be taken from its next credits. */
  debtNs: number;
}

export interface CreditPcpu {
  /** What the last decision runs (a vCPU or IDLE). */
  running: number;
  dispatchedNs: number;
  /** The running vCPU has been charged up to here. */
  chargedToNs: number;
  sliceEndNs: number;
  /** A wake asked this pCPU to reschedule now (preemption). */
  tickled: boolean;
  /** Waiting vCPUs, by priority then FIFO; the running one is not here. */
  runq: number[];
}

export interface CreditLedger {
  issuedNs: number;
  burnedNs: number;
  /** Net credit removed by the bounds: halving above the peak, less debt forgiven at -TSLICE_NS. */
  forfeitedNs: number;
  /** Credit taken for IDD work done on a vCPU's behalf (Credit-DC). */
  debtNs: number;
}

export interface CreditState {
  vcpus: CreditVcpu[];
  pcpus: CreditPcpu[];
  nextTickNs: number;
  /** Ticks processed; every `TICKS_PER_TSLICE`-th is also an accounting. */
  ticks: number;
  accountings: number;
  /** Who shared proportionally at the last accounting; remainders carry while it is unchanged. */
  shareKey: string;
  ledger: CreditLedger;
  debt: DebtOptions;
  debtLedger: DebtLedger;
}

export interface ShareEntry {
  readonly weight: number;
  readonly limitNs: number;
  readonly remainder: number;
}

/**
 * Splits `potNs` in proportion to weight, no entry above its limit; what a limited
 * entry cannot take goes to the others (water-filling). The entries that share
 * proportionally round by largest remainder, with each entry's remainder (units of
 * 1/W ns, in (-W, W), summing to 0) carried in and out, so repeated splits stay within
 * 1 ns of the exact share. Limited entries come back with remainder 0. Hands out
 * exactly `min(potNs, sum of limits)`.
 */
export function splitCredits(
  potNs: number,
  entries: readonly ShareEntry[],
): { sharesNs: number[]; remainders: number[] } {
  const n = entries.length;
  const sharesNs = new Array<number>(n).fill(0);
  const remainders = new Array<number>(n).fill(0);
  const open = new Set<number>();
  for (let i = 0; i < n; i++) open.add(i);
  let pot = potNs;
  for (;;) {
    let w = 0;
    for (const i of open) w += entries[i].weight;
    const full = [...open].filter((i) => pot * entries[i].weight >= entries[i].limitNs * w);
    if (full.length === 0) break;
    for (const i of full) {
      sharesNs[i] = entries[i].limitNs;
      pot -= entries[i].limitNs;
      open.delete(i);
    }
    if (open.size === 0) return { sharesNs, remainders };
  }
  let w = 0;
  for (const i of open) w += entries[i].weight;
  // A carried (negative) remainder may exceed a tiny share: then drop the carry.
  let carry = true;
  for (const i of open) if (pot * entries[i].weight + entries[i].remainder < 0) carry = false;
  const frac: number[] = [];
  let given = 0;
  for (const i of open) {
    const a = pot * entries[i].weight + (carry ? entries[i].remainder : 0);
    const q = Math.floor(a / w);
    sharesNs[i] = q;
    remainders[i] = a - q * w;
    frac.push(i);
    given += q;
  }
  // Hand the last `pot - given` (< open.size) ns to the largest remainders, never past a limit.
  frac.sort((x, y) => remainders[y] - remainders[x] || x - y);
  for (let k = 0, left = pot - given; left > 0; k++) {
    const i = frac[k];
    if (i === undefined)
      throw new InvariantError(`splitCredits: ${left} ns left with every entry at its limit`);
    if (sharesNs[i] >= entries[i].limitNs) continue;
    sharesNs[i]++;
    remainders[i] -= w;
    left--;
  }
  return { sharesNs, remainders };
}

function capped(v: CreditVcpu): boolean {
  return v.capPct > 0;
}

/**
 * The most one accounting may give it (`credit_peak`, lowered to `credit_cap`): with a
 * cap in hundredths of a percent, a whole number of ns (3 000 ns per 0.01%), rounded
 * only to undo the binary fraction of a decimal cap such as 0.29.
 */
export function peakNs(v: CreditVcpu): number {
  return capped(v) ? Math.min(TSLICE_NS, Math.round((v.capPct * TSLICE_NS) / 100)) : TSLICE_NS;
}

/** A cap is a percentage in hundredths: 0 (none), 0.01, …, 10.25, … */
function isCap(capPct: number): boolean {
  const hundredths = Math.round(capPct * 100);
  return capPct >= 0 && Number.isSafeInteger(hundredths) && hundredths / 100 === capPct;
}

function runqInsert(st: CreditState, vcpu: number): void {
  const q = st.pcpus[st.vcpus[vcpu].pcpu].runq;
  const pri = st.vcpus[vcpu].pri;
  let at = 0;
  while (at < q.length && st.vcpus[q[at]].pri >= pri) at++;
  q.splice(at, 0, vcpu);
}

function runqRemove(st: CreditState, vcpu: number): void {
  const q = st.pcpus[st.vcpus[vcpu].pcpu].runq;
  const at = q.indexOf(vcpu);
  if (at >= 0) q.splice(at, 1);
}

/** `burn_credits`, plus activation and parking (see the header). */
function charge(st: CreditState, vcpu: number, ns: number): void {
  if (ns < 0) throw new InvariantError(`credit: charging vCPU ${vcpu} ${ns} ns`);
  const v = st.vcpus[vcpu];
  v.creditNs -= ns;
  st.ledger.burnedNs += ns;
  v.active = true;
  if (capped(v) && v.creditNs < 0) park(st, vcpu);
}

function park(st: CreditState, vcpu: number): void {
  // A running vCPU is descheduled by its pCPU's next doSchedule, at this same instant.
  st.vcpus[vcpu].parked = true;
  runqRemove(st, vcpu);
}

function unpark(st: CreditState, vcpu: number): void {
  const v = st.vcpus[vcpu];
  v.parked = false;
  const pc = st.pcpus[v.pcpu];
  if (!v.blocked && pc.running !== vcpu && !pc.runq.includes(vcpu)) runqInsert(st, vcpu);
}

/** `csched_acct`. */
function account(st: CreditState): void {
  st.accountings++;
  const who: number[] = [];
  for (let i = 0; i < st.vcpus.length; i++) if (st.vcpus[i].active) who.push(i);
  if (who.length === 0) return;
  const key = who.map((i) => `${i}:${st.vcpus[i].weight}:${peakNs(st.vcpus[i])}`).join(',');
  if (key !== st.shareKey) for (const v of st.vcpus) v.shareRemainder = 0;
  st.shareKey = key;
  const entries = who.map((i) => ({
    weight: st.vcpus[i].weight,
    limitNs: peakNs(st.vcpus[i]),
    remainder: st.vcpus[i].shareRemainder,
  }));
  const { sharesNs, remainders } = splitCredits(st.pcpus.length * TSLICE_NS, entries);
  who.forEach((i, k) => {
    const v = st.vcpus[i];
    v.shareRemainder = remainders[k];
    v.creditNs += sharesNs[k];
    v.earnedNs += sharesNs[k];
    st.ledger.issuedNs += sharesNs[k];
    if (v.debtNs > 0 && st.debt.mode !== 'off') {
      // Credit-DC: outstanding debt comes out of the credit just handed out.
      const c = Math.min(v.debtNs, sharesNs[k]);
      v.debtNs -= c;
      v.creditNs -= c;
      st.ledger.debtNs += c;
      st.debtLedger.paidNs += c;
    }
    if (v.creditNs < 0) {
      v.pri = OVER;
      if (capped(v) && !v.parked) park(st, i);
      if (v.creditNs < -TSLICE_NS) {
        st.ledger.forfeitedNs -= -TSLICE_NS - v.creditNs;
        v.creditNs = -TSLICE_NS;
      }
    } else {
      v.pri = UNDER;
      if (v.parked) unpark(st, i);
      if (v.creditNs > peakNs(v)) {
        // Stops earning; halved "so that when it starts accounting again, it starts a
        // little bit ahead" (Xen's comment).
        v.active = false;
        const half = Math.floor(v.creditNs / 2);
        st.ledger.forfeitedNs += v.creditNs - half;
        v.creditNs = half;
      }
    }
  });
  // `csched_runq_sort`: priorities changed; a stable sort keeps FIFO among equals.
  for (const pc of st.pcpus) pc.runq.sort((a, b) => st.vcpus[b].pri - st.vcpus[a].pri);
}

/** Runs every tick (and every third one's accounting) due at or before `nowNs`. */
function catchUp(st: CreditState, nowNs: number): void {
  while (st.nextTickNs <= nowNs) {
    const t = st.nextTickNs;
    for (const pc of st.pcpus) {
      if (pc.running === IDLE) continue;
      charge(st, pc.running, t - pc.chargedToNs);
      pc.chargedToNs = t;
      const v = st.vcpus[pc.running];
      if (v.pri === BOOST) v.pri = UNDER; // `csched_unit_acct`
    }
    st.ticks++;
    if (st.ticks % TICKS_PER_TSLICE === 0) account(st);
    st.nextTickNs = t + TICK_NS;
  }
}

function vcpuOf(st: CreditState, vcpu: number): CreditVcpu {
  const v = st.vcpus[vcpu];
  if (v === undefined) throw new InvariantError(`credit: no vCPU ${vcpu}`);
  return v;
}

function checkParams(weight: number, capPct: number, where: string): void {
  if (!Number.isSafeInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw new IsosimError(
      where,
      'weight',
      `${weight} is not a weight`,
      `give a whole number in 1..${MAX_WEIGHT}`,
    );
  }
  if (!isCap(capPct)) {
    throw new IsosimError(
      where,
      'capPct',
      `${capPct} is not a cap`,
      'give a percentage >= 0 in hundredths, such as 10.25 (0 = no cap)',
    );
  }
}

export const credit: SchedulerOps<CreditState> = {
  name: 'credit',

  init(pcpus: number, nowNs: number): CreditState {
    if (!Number.isSafeInteger(pcpus) || pcpus < 1) {
      throw new IsosimError('credit', 'pcpus', `${pcpus} is not a CPU count`, 'give a whole number >= 1');
    }
    const cpus: CreditPcpu[] = [];
    for (let p = 0; p < pcpus; p++) {
      cpus.push({
        running: IDLE,
        dispatchedNs: nowNs,
        chargedToNs: nowNs,
        sliceEndNs: nowNs,
        tickled: false,
        runq: [],
      });
    }
    return {
      vcpus: [],
      pcpus: cpus,
      nextTickNs: nowNs + TICK_NS,
      ticks: 0,
      accountings: 0,
      shareKey: '',
      ledger: { issuedNs: 0, burnedNs: 0, forfeitedNs: 0, debtNs: 0 },
      debt: { mode: 'off', spread: false, feedbackNs: 500_000_000 },
      debtLedger: { addedNs: 0, paidNs: 0 },
    };
  },

  addVcpu(st: CreditState, spec: VcpuSpec, nowNs: number): number {
    catchUp(st, nowNs);
    if (!(spec.pcpu >= 0 && spec.pcpu < st.pcpus.length && Number.isInteger(spec.pcpu))) {
      throw new IsosimError(
        'credit',
        'pcpu',
        `${spec.pcpu} is not a pCPU of this host`,
        `give 0..${st.pcpus.length - 1}`,
      );
    }
    const weight = spec.credit?.weight ?? DEFAULT_WEIGHT;
    const capPct = spec.credit?.capPct ?? 0;
    checkParams(weight, capPct, 'credit');
    st.vcpus.push({
      domain: spec.domain,
      pcpu: spec.pcpu,
      weight,
      capPct,
      creditNs: 0,
      pri: UNDER, // `csched_alloc_udata`
      blocked: true,
      parked: false,
      active: false,
      shareRemainder: 0,
      earnedNs: 0,
      debtNs: 0,
    });
    return st.vcpus.length - 1;
  },

  wake(st: CreditState, vcpu: number, nowNs: number): boolean {
    catchUp(st, nowNs);
    const v = vcpuOf(st, vcpu);
    if (!v.blocked) return false;
    v.blocked = false;
    const pc = st.pcpus[v.pcpu];
    if (v.parked || pc.running === vcpu) return false;
    if (v.pri === UNDER) v.pri = BOOST;
    runqInsert(st, vcpu);
    const preempt = pc.running === IDLE || st.vcpus[pc.running].parked || v.pri > st.vcpus[pc.running].pri;
    if (preempt) pc.tickled = true;
    return preempt;
  },

  sleep(st: CreditState, vcpu: number, nowNs: number): void {
    catchUp(st, nowNs);
    vcpuOf(st, vcpu).blocked = true;
    runqRemove(st, vcpu);
  },

  doSchedule(st: CreditState, pcpu: number, nowNs: number, prev: PrevRun): Decision {
    catchUp(st, nowNs);
    const pc = st.pcpus[pcpu];
    if (pc === undefined) throw new InvariantError(`credit: no pCPU ${pcpu}`);
    if (prev.vcpu !== pc.running || (prev.vcpu !== IDLE && prev.ranNs !== nowNs - pc.dispatchedNs)) {
      throw new InvariantError(
        `credit: pCPU ${pcpu} runs ${pc.running} since ${pc.dispatchedNs} ns; the driver says ${prev.vcpu} ran ${prev.ranNs} ns at ${nowNs}`,
      );
    }
    let next = IDLE;
    if (prev.vcpu !== IDLE) {
      charge(st, prev.vcpu, nowNs - pc.chargedToNs);
      const v = st.vcpus[prev.vcpu];
      if (!prev.runnable) v.blocked = true;
      if (!v.blocked && !v.parked) {
        if (!pc.tickled && nowNs < pc.sliceEndNs) next = prev.vcpu;
        else runqInsert(st, prev.vcpu);
      }
    }
    if (next === IDLE) {
      next = pc.runq.shift() ?? IDLE;
      pc.sliceEndNs = nowNs + TSLICE_NS;
    }
    pc.running = next;
    pc.dispatchedNs = nowNs;
    pc.chargedToNs = nowNs;
    pc.tickled = false;
    const endNs = next === IDLE ? st.nextTickNs : Math.min(pc.sliceEndNs, st.nextTickNs);
    return { vcpu: next, runNs: endNs - nowNs };
  },

  adjust(st: CreditState, vcpu: number, spec: Partial<VcpuSpec>, nowNs: number): void {
    catchUp(st, nowNs);
    const v = vcpuOf(st, vcpu);
    if (spec.pcpu !== undefined && spec.pcpu !== v.pcpu) {
      throw new IsosimError(
        'credit.adjust',
        'pcpu',
        `vCPU ${vcpu} is pinned to pCPU ${v.pcpu}`,
        'migration is not modelled',
      );
    }
    const c = spec.credit;
    if (c === undefined) return;
    checkParams(c.weight, c.capPct, 'credit.adjust');
    v.weight = c.weight;
    v.capPct = c.capPct;
    if (capped(v) && v.creditNs > peakNs(v)) {
      st.ledger.forfeitedNs += v.creditNs - peakNs(v);
      v.creditNs = peakNs(v);
    }
    if (capped(v) && v.creditNs < 0 && !v.parked) park(st, vcpu);
    if (!capped(v) && v.parked) unpark(st, vcpu);
  },

  /**
   * Credit-DC (past the paper): IDD work done for a vCPU is charged against its
   * credits. `immediate`: taken at once (down to the credit floor; the rest from the
   * next accountings), so a capped vCPU may be parked by it; `next-quantum`: taken
   * from the credit its next accountings hand out. Spreading is
   * not needed: accounting already spreads credit over 30 ms periods.
   */
  configureDebt(st: CreditState, options: DebtOptions): void {
    if (!DEBT_MODES.includes(options.mode)) {
      throw new IsosimError(
        'credit',
        'debt.mode',
        `'${options.mode}' is not a mode`,
        `use ${DEBT_MODES.join(', ')}`,
      );
    }
    st.debt = { ...options };
  },

  addDebt(st: CreditState, vcpu: number, debtNs: number, nowNs: number): void {
    if (!Number.isSafeInteger(debtNs) || debtNs < 0)
      throw new InvariantError(`credit: debt ${debtNs} for vCPU ${vcpu}`);
    catchUp(st, nowNs);
    const v = vcpuOf(st, vcpu);
    st.debtLedger.addedNs += debtNs;
    if (st.debt.mode !== 'immediate') {
      // 'off' records it and never takes it (as SEDF does); 'next-quantum' takes it from
      // the next accountings. Either way it is outstanding until paid, so switching
      // modes keeps added = paid + outstanding.
      v.debtNs += debtNs;
      return;
    }
    // Taken now as far as Xen's credit floor (-TSLICE_NS) allows; accounting forgives
    // credit below the floor, so the rest waits and comes out of the next accountings.
    const now = Math.min(debtNs, Math.max(0, v.creditNs + TSLICE_NS));
    v.creditNs -= now;
    v.debtNs += debtNs - now;
    v.active = true;
    st.ledger.debtNs += now;
    st.debtLedger.paidNs += now;
    if (capped(v) && v.creditNs < 0 && !v.parked) park(st, vcpu);
  },

  debtLedger(st: CreditState) {
    let outstandingNs = 0;
    for (const v of st.vcpus) outstandingNs += v.debtNs;
    return { ...st.debtLedger, outstandingNs };
  },
};
