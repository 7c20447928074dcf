/**
 * The isolation invariants, each a check over one run of a generated host. Every
 * check returns how many instances it examined and the violations it found (with
 * enough detail to start debugging), so a property can count what it verified and a
 * counterexample can say what broke. The bounds (ε) and why they hold are in
 * docs/verification.md; the numbers here must match it.
 */
import {
  type ActorSchedulerPort,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  CHARGING_INFO,
  type DiskModel,
  type ElevatorKind,
  IDLE,
  MAX_PENDING_REQS,
  MAX_REQUEST_BYTES,
  SEGMENT_BYTES,
  type SystemConfig,
  TX_BATCH,
  type XenSystem,
} from '@isosim/actors';
import { type LogSink, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { parseScenario } from './load.ts';
import type { ScenarioMemory } from './memoryScenario.ts';
import { buildRun, runSeconds } from './runScenario.ts';
import type { Scenario } from './schema.ts';

export interface CheckResult {
  readonly name: string;
  checked: number;
  /** Instances that broke the bound. */
  failures: number;
  /** The first MAX_KEPT of them, described. */
  readonly violations: string[];
  /** Largest (observed − bound without ε) / ε over the instances: how close ε came to binding. */
  worst: number;
}

export interface Run {
  readonly scenario: Scenario;
  readonly cfg: SystemConfig;
  readonly sys: XenSystem;
  readonly durationNs: number;
  /** Per vCPU: own CPU in each of its periods (SEDF), filled during the run. */
  readonly perPeriod: Map<number, number[]>;
  readonly digest: string | undefined;
  /** With `drain`: whether the host went quiet before DRAIN_LIMIT_NS. */
  readonly drained: boolean;
  /** The scenario's memory (its `memory` block), if it has one. */
  readonly memory?: ScenarioMemory;
}

/** How long `runHost` may run past the scenario's end waiting for the host to drain. */
export const DRAIN_LIMIT_NS = 60 * NS_PER_S;
const DRAIN_STEP_NS = 100 * NS_PER_MS;

/**
 * Runs a scenario object (validated as a file would be) with its own seed. With
 * `drain`, keeps running past the scenario's end, in 100 ms steps, until the host is
 * quiet: every vCPU blocked and no block request out at two steps in a row, and no
 * packet delivered or dropped and no block request completed between them (a guest
 * with little CPU can take seconds to send what it queued; ShareGuard can hold a
 * guest's block requests for seconds), for at most DRAIN_LIMIT_NS; `drained` says
 * whether it got there.
 */
export function runHost(json: unknown, options: RunOptions = {}): Run {
  return runChecked(parseScenario(json, 'generated host'), options);
}

export interface RunOptions {
  /** Where the event log goes (none: no log). */
  readonly sink?: LogSink;
  readonly drain?: boolean;
  /** Called after each simulated second with the fraction of the scenario done. */
  readonly onProgress?: (fraction: number) => void;
}

/** `runHost` for a scenario already validated (`loadScenario`, `parseScenario`). */
export function runChecked(scenario: Scenario, options: RunOptions = {}): Run {
  // Built and run as `isosim run` builds and runs it, so that without draining the log
  // is the one `isosim run` writes for this scenario and seed.
  const { cfg, sys, kernel, log, memory } = buildRun(
    scenario,
    scenario.seed,
    scenario.durationS,
    true,
    options.sink,
  );
  const perPeriod = new Map<number, number[]>();
  const since: number[] = [];
  sys.xen.observers.push({
    switched(pcpu, prev, _next, _ran, now) {
      if (prev !== IDLE) {
        const periodNs = periodOf(cfg, sys, prev);
        if (periodNs !== undefined) {
          const row = perPeriod.get(prev) ?? [];
          for (let t = since[pcpu]; t < now; ) {
            const k = Math.floor(t / periodNs);
            const end = Math.min(now, (k + 1) * periodNs);
            row[k] = (row[k] ?? 0) + end - t;
            t = end;
          }
          perPeriod.set(prev, row);
        }
      }
      since[pcpu] = now;
    },
  });
  let durationNs = Math.round(scenario.durationS * NS_PER_S);
  // ShareGuard acts at multiples of its period (which need not be on the accounting's
  // 100 ms grid); invariant 3 sums IDD time between such instants, so mark them.
  const sgPeriod = cfg.mechanisms?.shareGuard?.periodNs;
  if (sgPeriod !== undefined) {
    const until = durationNs + (options.drain ? DRAIN_LIMIT_NS : 0);
    for (let t = sgPeriod; t <= until; t += sgPeriod) sys.xen.accounting.mark(t);
  }
  sys.start();
  runSeconds(kernel, durationNs, options.onProgress);
  let drained = false;
  if (options.drain) {
    const moved = () =>
      sys.guests.reduce(
        (n, g) =>
          n +
          g.stats.delivered[0] +
          g.stats.delivered[1] +
          g.stats.dropCount() +
          g.blkfronts.reduce((k, f) => k + f.completed, 0),
        0,
      );
    // A block request still out is not quiet even when every vCPU is blocked: blkback
    // holds a ShareGuard-blocked guest's requests in its ring until the block ends.
    const quiet = () =>
      sys.xen.vcpus.every((v) => v.state === 'blocked') &&
      [...sys.disks.values()].every((d) => d.inFlight === 0) &&
      sys.guests.every((g) => g.blkfronts.every((f) => f.inFlight === 0));
    let last = quiet() ? moved() : -1;
    const limit = durationNs + DRAIN_LIMIT_NS;
    while (!drained && durationNs < limit) {
      durationNs += DRAIN_STEP_NS;
      kernel.runUntil(durationNs);
      const now = quiet() ? moved() : -1;
      drained = now >= 0 && now === last;
      last = now;
    }
  }
  sys.xen.settle();
  sys.xenmon.sample();
  const digest = log?.close().digest;
  return {
    scenario,
    cfg,
    sys,
    durationNs,
    perPeriod,
    digest,
    drained,
    ...(memory === undefined ? {} : { memory }),
  };
}

/** The configuration of a domain, by id (driver domains first, from 0; then guests in order). */
function domainConfig(cfg: SystemConfig, domain: number) {
  const drivers = [cfg.idd, ...(cfg.drivers ?? [])];
  return domain < drivers.length ? drivers[domain] : cfg.guests[domain - drivers.length];
}

/** A domain's SEDF slices, summed over its vCPUs, ns (0 under Credit). */
function sliceSum(cfg: SystemConfig, domain: number): number {
  return domainConfig(cfg, domain).vcpus.reduce((n, v) => n + (v.sedf?.sliceNs ?? 0), 0);
}

/** The configuration of one vCPU, by its global index. */
function vcpuConfig(cfg: SystemConfig, sys: XenSystem, vcpu: number) {
  const v = sys.xen.vcpus[vcpu];
  return domainConfig(cfg, v.domain.id).vcpus[v.domain.vcpus.indexOf(v)];
}

/** Credit's accounting period (`CSCHED_MSECS_PER_TSLICE`) and tick. */
export const CREDIT_PERIOD_NS = 30 * NS_PER_MS;
export const CREDIT_TICK_NS = 10 * NS_PER_MS;

/** The period a vCPU's own CPU is summed over: its SEDF period, or Credit's accounting period if capped. */
function periodOf(cfg: SystemConfig, sys: XenSystem, vcpu: number): number | undefined {
  const v = vcpuConfig(cfg, sys, vcpu);
  if (v.sedf !== undefined) return v.sedf.periodNs;
  if (v.credit !== undefined && v.credit.capPct > 0) return CREDIT_PERIOD_NS;
  return undefined;
}

function result(name: string): CheckResult {
  return { name, checked: 0, failures: 0, violations: [], worst: Number.NEGATIVE_INFINITY };
}

/** How many violations a check describes (it counts them all). */
export const MAX_KEPT = 100;

function fail(r: CheckResult, what: string): void {
  r.failures++;
  if (r.violations.length < MAX_KEPT) r.violations.push(what);
}

/**
 * 1. SEDF hard reservations: own CPU in every period of every vCPU without extratime ≤
 * its slice, exactly. A vCPU with extratime may run in slack time past its slice: the
 * reservation is a floor for it, not a cap, and it is not checked.
 */
export function hardReservations(run: Run): CheckResult {
  const r = result('hard reservations');
  for (const [vcpu, row] of run.perPeriod) {
    const d = run.sys.xen.vcpus[vcpu].domain.id;
    const sedf = vcpuConfig(run.cfg, run.sys, vcpu).sedf;
    if (sedf === undefined || sedf.extratime) continue;
    row.forEach((ns, k) => {
      r.checked++;
      if (ns > sedf.sliceNs)
        fail(r, `vCPU ${vcpu} (domain ${d}) ran ${ns} ns in period ${k}, slice ${sedf.sliceNs}`);
    });
  }
  return r;
}

/**
 * 1b. Credit caps: a capped vCPU gets at most Q = cap·30 ms of credit per accounting
 * period and is charged at every 10 ms tick, so in any m consecutive accounting
 * periods (on the scheduler's grid, which starts at 0) it runs at most m·Q + 10 ms
 * (the proof is in the header of scheduler/credit.ts). Exact: no ε.
 */
export function creditCaps(run: Run): CheckResult {
  const r = result('Credit caps');
  for (const [vcpu, row] of run.perPeriod) {
    const d = run.sys.xen.vcpus[vcpu].domain.id;
    const c = vcpuConfig(run.cfg, run.sys, vcpu).credit;
    if (c === undefined || c.capPct <= 0) continue;
    // Whole ns, as the scheduler computes it (credit.ts peakNs: 3,000 ns per 0.01%).
    const q = Math.round((c.capPct * CREDIT_PERIOD_NS) / 100);
    const prefix = [0];
    for (let k = 0; k < row.length; k++) prefix.push(prefix[k] + (row[k] ?? 0));
    for (let a = 0; a < row.length; a++) {
      for (let b = a + 1; b <= row.length; b++) {
        const ran = prefix[b] - prefix[a];
        const bound = (b - a) * q + CREDIT_TICK_NS;
        r.checked++;
        r.worst = Math.max(r.worst, (ran - (b - a) * q) / CREDIT_TICK_NS);
        if (ran > bound)
          fail(
            r,
            `vCPU ${vcpu} (domain ${d}) ran ${ran} ns in accounting periods [${a}, ${b}), cap ${c.capPct}%: bound ${bound}`,
          );
      }
    }
  }
  return r;
}

/** Feedback interval of debt collection when a host has none configured (the paper's). */
export const FEEDBACK_NS = 500 * NS_PER_MS;

/**
 * A guest's share and the slack of its scheduler for invariant 2, over the whole
 * domain (every vCPU): share = Σ slice/period (SEDF) or Σ cap/100 (Credit), and
 * base = 2 Σ s_i (SEDF) or 2·Σ cap_i·30 ms + n·10 ms (Credit: one tick per vCPU).
 * Undefined when some vCPU is unconstrained (no slice, extratime, or an uncapped
 * Credit vCPU): such a guest may use slack time, so its share is no bound.
 */
export function guestBound(g: SystemConfig['guests'][number]): { share: number; base: number } | undefined {
  let share = 0;
  let base = 0;
  for (const v of g.vcpus) {
    if (v.sedf?.extratime) return undefined;
    if (v.sedf !== undefined) {
      share += v.sedf.sliceNs / v.sedf.periodNs;
      base += 2 * v.sedf.sliceNs;
    } else if (v.credit !== undefined && v.credit.capPct > 0) {
      share += v.credit.capPct / 100;
      base += 2 * (v.credit.capPct / 100) * CREDIT_PERIOD_NS + CREDIT_TICK_NS;
    } else {
      return undefined;
    }
  }
  return g.vcpus.length === 0 ? undefined : { share, base };
}

/**
 * 2. SEDF-DC / Credit-DC: combined CPU (own + IDD ground truth) of every guest over
 * every window [a, b) with b − a ≥ 2T, a ≥ T (T the feedback interval), on the
 * accounting's 100 ms grid (the last bucket ends at the run's end), ≤ share·(b − a) + ε,
 * with share and slices summed over the guest's vCPUs (`guestBound`):
 *   SEDF-DC:   ε = 2 Σ s_i + 2D     (s_i the slices, D the most IDD time for the guest in one T)
 *   Credit-DC: ε = 2·Σ cap_i·30 ms + n·10 ms + 2D   (30 ms accounting period, 10 ms tick)
 * Why the sum over vCPUs holds: control/debtCollector.ts (debt split by shares).
 * Window sums come from prefix sums over the buckets, so a long run costs O(buckets²).
 */
export function combinedShare(run: Run): CheckResult {
  const r = result('combined CPU within share + ε');
  const acc = run.sys.xen.accounting;
  const B = acc.bucketNs;
  const T = run.cfg.mechanisms?.debt?.feedbackNs ?? FEEDBACK_NS;
  const buckets = Math.ceil(run.durationNs / B);
  const step = Math.max(1, Math.ceil(T / B));
  const edge = (k: number) => Math.min(k * B, run.durationNs);
  // Read once: the accounting may hand its series out as copies (kept as columns, issue 15).
  const { cpuSeries, iddSeries } = acc;
  run.cfg.guests.forEach((g, i) => {
    // IDD time summed over every driver domain (the accounting's IDD series is that sum).
    const id = run.sys.guests[i].domain.id;
    const bound = guestBound(g);
    if (bound === undefined) return;
    const { share, base } = bound;
    // prefix[k]: combined ns in buckets [0, k); idd[k]: IDD ns for the guest in [0, k).
    const prefix = new Array<number>(buckets + 1).fill(0);
    const idd = new Array<number>(buckets + 1).fill(0);
    for (let k = 0; k < buckets; k++) {
      const own = cpuSeries[k]?.[id] ?? 0;
      const forIt = iddSeries[k]?.[id] ?? 0;
      prefix[k + 1] = prefix[k] + own + forIt;
      idd[k + 1] = idd[k] + forIt;
    }
    let D = 0;
    for (let k = 0; k < buckets; k += step) D = Math.max(D, idd[Math.min(buckets, k + step)] - idd[k]);
    const eps = base + 2 * D;
    for (let a = step; a < buckets; a++) {
      for (let b = a + 2 * step; b <= buckets; b++) {
        const combined = prefix[b] - prefix[a];
        const span = edge(b) - edge(a);
        const over = combined - share * span;
        r.checked++;
        r.worst = Math.max(r.worst, over / eps);
        if (over > eps)
          fail(
            r,
            `${g.name} combined ${combined} ns in [${edge(a)}, ${edge(b)}) > ${share} x ${span} + ε ${eps}`,
          );
      }
    }
  });
  return r;
}

/**
 * 3. ShareGuard: for each block ShareGuard decides at time t (on the use it measured
 * over [t − T, t)), the IDD's CPU for that guest over [t − T, t + t_def) is at most
 * limit·(T + t_def) + ε, ε = the IDD work already queued for the guest when the block
 * starts (netback takes up to TX_BATCH = 238 requests a pass: 3.5 ms of sends on
 * p4-2.8) plus the driver's cost for inbound packets that still arrive during the block
 * (dropped after the driver paid): max(2 ms, TX_BATCH sends) + 1% of t_def.
 */
export function shareGuardLimits(run: Run): CheckResult {
  const r = result('ShareGuard limit over t + t_def');
  const { iddRecvNs, weight, block } = run.cfg.profile;
  for (const [driver, sg] of run.sys.shareGuards) {
    const T = sg.periodNs;
    const drv = run.sys.xen.domains[driver];
    // What the driver domain may still spend for a held guest (docs/verification.md):
    // netback's queued sends, and blkback's requests already taken (each completes).
    const netNs =
      drv === run.sys.netIdd ? Math.max(2 * NS_PER_MS, TX_BATCH * Math.round(iddRecvNs * weight)) : 0;
    const blkNs = run.sys.blkbacks.has(driver)
      ? MAX_PENDING_REQS * (block.reqNs + BLKIF_MAX_SEGMENTS_PER_REQUEST * block.segNs + block.doneNs)
      : 0;
    // With XenMon's estimate, ShareGuard reads the samples taken by t: at its own tick it
    // runs before XenMon's sample of that instant, so what it measured ends one sample
    // (S) early, and the last S before t is unseen. In S the driver domain spends at most
    // its share for anyone, plus a slice at the edge (docs/verification.md, invariant 3).
    const lagNs =
      run.cfg.mechanisms?.shareGuard?.source === 'estimate'
        ? Math.round(run.sys.xenmon.sampleNs * run.sys.driverShare(drv)) + sliceSum(run.cfg, driver)
        : 0;
    const queuedNs = netNs + blkNs + lagNs;
    for (const a of sg.actions) {
      if (a.kind !== 'block') continue;
      const limit = sg.limits.find((l) => l.guest === a.guest)?.limit ?? 0;
      const from = a.timeNs - T;
      const to = Math.min(a.timeNs + a.tdefNs, run.durationNs);
      if (to - a.timeNs < a.tdefNs) continue; // the block outlasts the run
      const used = run.sys.xen.accounting.iddOfDriverBetween(driver, a.guest, from, to);
      const eps = queuedNs + 0.01 * a.tdefNs;
      const over = used - limit * (to - from);
      r.checked++;
      r.worst = Math.max(r.worst, over / eps);
      if (over > eps)
        fail(
          r,
          `${run.sys.xen.domains[a.guest]?.name ?? a.guest} in ${drv.name}: IDD ${used} ns in [${from}, ${to}) > ${limit} x ${to - from} + ε ${eps}`,
        );
    }
  }
  return r;
}

/**
 * 9. Memory (a scenario with a `memory` block, docs/memory.md): `MemoryHost` checks its
 * invariants after every `mem.*` event (Σ `tot_pages` + Σ claims ≤ total, free = total −
 * Σ `tot_pages`, no frozen domain above its frozen `max_pages`) and a break stops the
 * run; this checks, from each of its samples and at the end, that every page is
 * accounted for (the domains' `tot_pages`, tmem's and the shared copies, and the free
 * pages add up to the host's) and that the outstanding claims fit in the free pages.
 */
export function memoryAccounting(run: Run): CheckResult {
  const r = result('memory accounting');
  const mem = run.memory;
  if (mem === undefined) return r;
  const total = mem.plan.options.totalPages;
  const check = (at: string, free: number, claims: number, owned: number) => {
    r.checked++;
    if (owned + free !== total) fail(r, `${at}: owned ${owned} + free ${free} ≠ the host's ${total} pages`);
    if (claims > free) fail(r, `${at}: outstanding claims ${claims} > free ${free} pages`);
  };
  for (const x of mem.host.samples()) {
    let owned = x.tmemPages + x.sharedPages;
    for (const id in x.totPages) owned += x.totPages[id];
    check(`t=${x.tNs} ns`, x.freePages, x.outstandingClaims, owned);
  }
  const a = mem.host.allocator;
  const owned = a.domainIds().reduce((n, d) => n + (a.domain(d)?.totPages ?? 0), 0);
  check('the end', a.freePages, a.outstandingClaims, owned);
  r.checked++;
  for (const v of mem.host.invariantViolations()) fail(r, `the end: ${v}`);
  return r;
}

/**
 * 4. Conservation: per pCPU, busy + idle = elapsed; debt added = paid + outstanding;
 * after every workload has stopped and the host has drained, packets offered =
 * delivered + dropped (nothing left in flight).
 */
export function conservation(run: Run): CheckResult {
  const r = result('conservation');
  const acc = run.sys.xen.accounting;
  for (let p = 0; p < run.sys.xen.pcpus; p++) {
    r.checked++;
    if (acc.busyNs[p] + acc.idleNs[p] !== run.durationNs)
      fail(r, `pCPU ${p}: busy ${acc.busyNs[p]} + idle ${acc.idleNs[p]} ≠ ${run.durationNs}`);
  }
  const ledger = (run.sys.scheduler as ActorSchedulerPort).debtLedger?.();
  if (ledger !== undefined) {
    r.checked++;
    if (ledger.addedNs !== ledger.paidNs + ledger.outstandingNs)
      fail(r, `debt added ${ledger.addedNs} ≠ paid ${ledger.paidNs} + outstanding ${ledger.outstandingNs}`);
  }
  // Block requests at every stage: blkback took = answered + pending; a disk's submitted =
  // completed + in flight (completed counts those the driver has not yet taken too).
  for (const [driver, back] of run.sys.blkbacks) {
    r.checked++;
    if (back.taken !== back.answered + back.pending)
      fail(
        r,
        `blkback of domain ${driver}: took ${back.taken} ≠ answered ${back.answered} + pending ${back.pending}`,
      );
  }
  for (const [name, disk] of run.sys.disks) {
    r.checked++;
    const st = disk.stats;
    if (st.submitted !== st.completed + disk.inFlight - disk.completedWaiting)
      fail(
        r,
        `disk ${name}: submitted ${st.submitted} ≠ completed ${st.completed} + in flight ${disk.inFlight - disk.completedWaiting}`,
      );
  }
  const drained = run.scenario.durationS * NS_PER_S < run.durationNs;
  blockStages(run, r, drained);
  if (drained) {
    r.checked++;
    if (!run.drained) fail(r, `the host did not go quiet within ${DRAIN_LIMIT_NS / NS_PER_S} s of the end`);
    for (const g of run.sys.guests) {
      // Block requests: none lost, none starved (every one issued has completed).
      for (const f of g.blkfronts) {
        r.checked++;
        if (f.inFlight !== 0)
          fail(
            r,
            `${g.domain.name} vbd ${f.vbd.index}: issued ${f.issued} ≠ completed ${f.completed} (${f.inFlight} in flight after draining)`,
          );
      }
      const s = g.stats;
      r.checked++;
      const offered = s.offered[0] + s.offered[1];
      const done = s.delivered[0] + s.delivered[1] + s.dropCount();
      if (offered !== done)
        fail(
          r,
          `${g.domain.name}: offered ${offered} ≠ delivered ${s.delivered[0] + s.delivered[1]} + dropped ${s.dropCount()} (in flight after draining)`,
        );
    }
  }
  return r;
}

/**
 * Block requests from stage to stage (part of invariant 4): what a stage passed on
 * never exceeds what it was given, at any instant, per driver domain and per disk:
 *   Σ blkfront completed ≤ blkback answered ≤ Σ disk completed ≤ Σ disk submitted
 *   ≤ blkback taken ≤ Σ blkfront issued        (per blkback, over the vbds it serves)
 *   disk submitted ≤ Σ blkfront issued          (per disk, over the vbds on it)
 * and once the host has drained each ≤ is =: no request was lost between two stages.
 */
function blockStages(run: Run, r: CheckResult, drained: boolean): void {
  const fronts = run.sys.guests.flatMap((g) => g.blkfronts);
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  for (const [driver, back] of run.sys.blkbacks) {
    const mine = fronts.filter((f) => f.vbd.backend.id === driver);
    const disks = [...new Set(mine.map((f) => f.vbd.disk))].map((n) => run.sys.disks.get(n));
    const chain: [string, number][] = [
      ['blkfronts completed', sum(mine.map((f) => f.completed))],
      ['blkback answered', back.answered],
      ['disks completed', sum(disks.map((d) => d?.stats.completed ?? 0))],
      ['disks submitted', sum(disks.map((d) => d?.stats.submitted ?? 0))],
      ['blkback took', back.taken],
      ['blkfronts issued', sum(mine.map((f) => f.issued))],
    ];
    for (let k = 1; k < chain.length; k++) {
      const [a, x] = chain[k - 1];
      const [b, y] = chain[k];
      r.checked++;
      if (drained ? x !== y : x > y)
        fail(r, `blkback of domain ${driver}: ${a} ${x} ${drained ? '≠' : '>'} ${b} ${y}`);
    }
  }
  for (const [name, disk] of run.sys.disks) {
    const issued = sum(fronts.filter((f) => f.vbd.disk === name).map((f) => f.issued));
    const submitted = disk.stats.submitted;
    r.checked++;
    if (drained ? submitted !== issued : submitted > issued)
      fail(r, `disk ${name}: submitted ${submitted} ${drained ? '≠' : '>'} issued to its vbds ${issued}`);
  }
}

/**
 * The elevators' tunables the bounds of invariant 7 are made of, restated from Linux's
 * defaults as the model uses them (actors' hardware/elevator.ts `DEADLINE`, `CFQ`; the
 * verification suite checks that they agree): deadline's read_expire, write_expire and
 * fifo_batch (2.6.16), CFQ's longer slice (cfq_slice_sync) and FIFO expiries (2.6.18).
 */
export const ELEVATOR_LIMITS = {
  readExpireNs: 500 * NS_PER_MS,
  writeExpireNs: 5_000 * NS_PER_MS,
  fifoBatch: 16,
  cfqSliceNs: 100 * NS_PER_MS,
  cfqExpireReadNs: 125 * NS_PER_MS,
  cfqExpireWriteNs: 250 * NS_PER_MS,
} as const;

/** What can be at one disk at once, from the disk jobs on its vbds. */
export interface DiskLoad {
  /** Requests at most, in all and per direction (0 reads, 1 writes), ≤ MAX_PENDING_REQS. */
  readonly k: number;
  readonly kDir: readonly [number, number];
  /** Per guest (a CFQ queue): requests at most, and whether it writes. */
  readonly guests: Map<number, { k: number; writes: boolean }>;
  /** The largest blkif request, bytes (`mergedBytesMax`). */
  readonly maxBytes: number;
}

/**
 * The largest blkif request a job of `blockBytes` I/Os can make, bytes: an I/O is split
 * into parts of at most 11 segments (pages), and blkfront merges parts that continue
 * one another (the block layer's back merge) while together they span at most 11
 * segments. A part of b bytes spans ⌈b / 4 KiB⌉ segments, so a request is at most 11
 * times the most bytes per segment of any part: 11 × 1.5 KiB for 1.5 KiB I/Os, 44 KiB
 * for whole pages. (Merges need contiguous parts; a random job's may be, by chance.)
 */
export function mergedBytesMax(blockBytes: number): number {
  const perSegment = (b: number) => b / Math.ceil(b / SEGMENT_BYTES);
  const head = Math.min(blockBytes, MAX_REQUEST_BYTES);
  const tail = blockBytes % MAX_REQUEST_BYTES;
  const most = Math.max(perSegment(head), tail > 0 ? perSegment(tail) : 0);
  return Math.min(MAX_REQUEST_BYTES, Math.floor(BLKIF_MAX_SEGMENTS_PER_REQUEST * most));
}

function diskLoads(run: Run): Map<string, DiskLoad> {
  type Acc = {
    k: number;
    kDir: [number, number];
    guests: Map<number, { k: number; writes: boolean }>;
    maxBytes: number;
  };
  const loads = new Map<string, Acc>();
  run.cfg.guests.forEach((g, i) => {
    const id = run.sys.guests[i].domain.id;
    for (const w of g.workloads ?? []) {
      if (w.kind !== 'disk') continue;
      const vbd = g.vbds?.[w.vbd ?? 0];
      if (vbd === undefined) continue;
      const l = loads.get(vbd.disk) ?? { k: 0, kDir: [0, 0], guests: new Map(), maxBytes: 0 };
      // An I/O is ⌈bytes / 44 KiB⌉ blkif requests; a job keeps iodepth I/Os out.
      const reqs = w.iodepth * Math.ceil(w.blockBytes / MAX_REQUEST_BYTES);
      l.k += reqs;
      if (w.readPct > 0) l.kDir[0] += reqs;
      if (w.readPct < 100) l.kDir[1] += reqs;
      const q = l.guests.get(id) ?? { k: 0, writes: false };
      q.k += reqs;
      q.writes ||= w.readPct < 100;
      l.guests.set(id, q);
      l.maxBytes = Math.max(l.maxBytes, mergedBytesMax(w.blockBytes));
      loads.set(vbd.disk, l);
    }
  });
  // blkback has at most MAX_PENDING_REQS out at its disks (blkback.ts).
  const cap = (n: number) => Math.min(n, MAX_PENDING_REQS);
  return new Map(
    [...loads].map(([name, l]) => [
      name,
      {
        k: cap(l.k),
        kDir: [cap(l.kDir[0]), cap(l.kDir[1])],
        guests: new Map([...l.guests].map(([g, q]) => [g, { k: cap(q.k), writes: q.writes }])),
        maxBytes: l.maxBytes,
      },
    ]),
  );
}

/** The longest the device may take for one request of at most `bytes`, ns (disk.ts's model). */
export function serviceMaxNs(model: DiskModel, bytes: number): number {
  const xfer = (rate: number) => Math.ceil((bytes * NS_PER_S) / rate);
  if (model.kind === 'ssd')
    return Math.max(model.readLatencyNs, model.writeLatencyNs) + xfer(model.channelBytesPerSec);
  // Controller, a seek across the whole stroke, a whole rotation, the transfer (a
  // request continuing the media stream needs only the controller and the transfer).
  return (
    model.controllerNs +
    model.fullStrokeSeekNs +
    Math.ceil((60 * NS_PER_S) / model.rpm) +
    xfer(model.mediaBytesPerSec)
  );
}

/**
 * The bound of invariant 7 on one disk: the longest a request may wait from blkback's
 * submit to the device's completion, ns, under its elevator (docs/verification.md has
 * the argument). S is `serviceMaxNs`, c the requests the device serves at once (1 for a
 * hard disk; an SSD's channels, at most the queue depth D), K the requests the disk can
 * hold (from its jobs, at most MAX_PENDING_REQS), and once dispatched a request waits for
 * at most the D − 1 before it at the device: dev = (⌊(D − 1)/c⌋ + 1)·S.
 *   fifo:     (⌊(K − 1)/c⌋ + 1)·S
 *   deadline: expire + ⌈N/c⌉·S + dev, N = 2·fifo_batch·K_read (reads), 3·fifo_batch·K_write (writes)
 *   cfq:      expire_g + K_g·Q·(slice + S) + dev   (Q guests on the disk; per guest g)
 * Undefined for a disk no job uses.
 */
export function diskWaitBoundNs(
  elevator: ElevatorKind,
  model: DiskModel,
  queueDepth: number,
  load: DiskLoad,
): number | undefined {
  if (load.k === 0) return undefined;
  const L = ELEVATOR_LIMITS;
  const S = serviceMaxNs(model, load.maxBytes);
  const c = model.kind === 'hdd' ? 1 : Math.min(model.channels, queueDepth);
  const dev = (Math.floor((queueDepth - 1) / c) + 1) * S;
  switch (elevator) {
    case 'fifo':
      return (Math.floor((load.k - 1) / c) + 1) * S;
    case 'deadline': {
      let bound = 0;
      for (const dir of [0, 1] as const) {
        if (load.kDir[dir] === 0) continue;
        const expire = dir === 0 ? L.readExpireNs : L.writeExpireNs;
        const calls = (dir === 0 ? 2 : 3) * L.fifoBatch * load.kDir[dir];
        bound = Math.max(bound, expire + 1 + Math.ceil(calls / c) * S + dev);
      }
      return bound;
    }
    case 'cfq': {
      const Q = load.guests.size;
      let bound = 0;
      for (const q of load.guests.values()) {
        const expire = q.writes ? L.cfqExpireWriteNs : L.cfqExpireReadNs;
        bound = Math.max(bound, expire + 1 + q.k * Q * (L.cfqSliceNs + S) + dev);
      }
      return bound;
    }
  }
}

/**
 * 7. No request starves: on every disk, the longest any request waited from blkback's
 * submit to the device's completion (`Disk.stats.maxWaitNs`) is within the bound of its
 * elevator (`diskWaitBoundNs`); once the host has drained, no request is left at any
 * disk (with invariant 4: every request issued has completed). `worst` is the longest
 * wait over its bound.
 */
export function diskWaits(run: Run): CheckResult {
  const r = result('disk waits within the elevator bound');
  const loads = diskLoads(run);
  const drained = run.scenario.durationS * NS_PER_S < run.durationNs;
  for (const [name, disk] of run.sys.disks) {
    const load = loads.get(name);
    const bound =
      load === undefined
        ? undefined
        : diskWaitBoundNs(disk.options.elevator, disk.model, disk.options.queueDepth, load);
    if (bound !== undefined) {
      const waited = disk.stats.maxWaitNs;
      r.checked++;
      r.worst = Math.max(r.worst, waited / bound);
      if (waited > bound)
        fail(r, `disk ${name} (${disk.options.elevator}): a request waited ${waited} ns > bound ${bound}`);
    }
    if (drained) {
      r.checked++;
      if (disk.inFlight !== 0)
        fail(r, `disk ${name} (${disk.options.elevator}): ${disk.inFlight} request(s) left after draining`);
    }
  }
  return r;
}

/**
 * 8. Exact charging: under a cycle-accurate charging policy (1A–1E,
 * `mechanisms.charging`), what XenMon reports for each guest in each driver domain in
 * each of its samples equals the ground truth for that sample, to the nanosecond: the
 * driver domain's work on behalf of the guest (1B–1E, the policy's own costs included,
 * since they run on the guest's behalf), or under 1A all of the work of the driver
 * domain dedicated to the guest (a domain that exists for one guest works for it
 * whatever it runs). Checks nothing under the near-accurate policies (2A–2C).
 */
export function chargingExact(run: Run): CheckResult {
  const r = result('exact charging equals the ground truth');
  const { sys } = run;
  if (!CHARGING_INFO[sys.charging].exact) return r;
  const acc = sys.xen.accounting;
  const xm = sys.xenmon;
  const domains = sys.xen.domains.map((d) => d.id);
  const guests = sys.guests.map((g) => g.domain.id);
  for (const s of xm.history) {
    for (const drv of sys.drivers) {
      const served = sys.dedicated?.get(drv.id);
      for (const g of guests) {
        const est = xm.estimatedOfDriverBetween(drv.id, g, s.startNs, s.endNs);
        let truth = 0;
        if (sys.charging !== '1A') truth = acc.iddOfDriverBetween(drv.id, g, s.startNs, s.endNs);
        else if (served === g)
          for (const p of domains) truth += acc.iddOfDriverBetween(drv.id, p, s.startNs, s.endNs);
        r.checked++;
        if (est !== truth)
          fail(
            r,
            `${sys.charging}: ${drv.name} for domain ${g} in sample [${s.startNs}, ${s.endNs}): estimate ${est} ns ≠ truth ${truth} ns`,
          );
      }
    }
  }
  return r;
}
