/**
 * A scenario's `memory` block on the kernel (docs/memory.md, "Scenario files"): the
 * file's human units turned into `MemoryHost`'s integers, the memory domains numbered
 * after the scenario's `domains`, and what a run measured as `metrics.memory`
 * (docs/metrics.md).
 *
 * Units: sizes in MiB are whole 4 KiB pages (× 256, exact once load.ts has checked
 * them); rates in MiB/s become pages per second, × 256 rounded to the nearest integer;
 * times in s, ms and µs are rounded to the nearest ns, as every time of a scenario is;
 * `persistentPct` becomes per mille (× 10, in tenths of a percent).
 */
import {
  type ActorHost,
  type BuildStatus,
  type LaunchSpec,
  type MemoryGuestSpec,
  MemoryHost,
  type MemoryHostOptions,
  type MemorySample,
  type ReservationPolicy,
} from '@isosim/actors';
import { IsosimError, type Kernel, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { recordOf } from './metrics.ts';
import { LIMITS, type MemoryGuest, type Scenario } from './schema.ts';

/** Pages in a MiB (4 KiB pages). */
export const PAGES_PER_MIB = 256;

/** Pages in `mib` MiB (a whole number once the file is checked). */
export const pagesOfMiB = (mib: number): number => Math.round(mib * PAGES_PER_MIB);
/** Pages per second of a rate in MiB/s, rounded to the nearest page. */
export const pagesPerSOf = (mibps: number): number => Math.round(mibps * PAGES_PER_MIB);
/** MiB in `pages` (exact: a multiple of 1/256). */
export const mibOfPages = (pages: number): number => pages / PAGES_PER_MIB;

const nsS = (s: number): number => Math.round(s * NS_PER_S);
const nsMs = (ms: number): number => Math.round(ms * NS_PER_MS);
const ms3 = (ns: number): number => Math.round(ns / 1000) / 1000;

/**
 * The default sample period of a run of `durationS`: 500 samples, the period rounded
 * to the ms, at least 1 ms.
 */
export function defaultSampleMs(durationS: number): number {
  return Math.max(1, Math.round((durationS * 1000) / 500));
}

/**
 * `s` as a run of `durationS` runs it: with a shorter run than the file's (`--duration`),
 * without the memory events after its end (launches, the storm's last launches, balloon
 * targets), which would not happen in it. The log's header records this, so that it is
 * a valid scenario (no time after its `durationS`) and `isosim resim` runs the same.
 * Leaving out a launch renumbers the memory domains after it.
 */
export function trimMemory(s: Scenario, durationS: number): Scenario {
  const m = s.memory;
  if (m === undefined || durationS >= s.durationS) return s;
  const end = nsS(durationS);
  const inRun = (atS: number) => nsS(atS) <= end;
  const st = m.storm;
  let count = 0;
  while (
    st !== undefined &&
    count < st.count &&
    Math.round(st.atS * NS_PER_S + count * st.spreadMs * NS_PER_MS) <= end
  )
    count++;
  const { storm: _, ...rest } = m;
  return {
    ...s,
    memory: {
      ...rest,
      guests: m.guests.map((g) =>
        g.kind === 'balloon' ? { ...g, targets: g.targets.filter((t) => inRun(t.atS)) } : g,
      ),
      launches: m.launches.filter((l) => inRun(l.atS)),
      ...(st === undefined || count === 0 ? {} : { storm: { ...st, count } }),
    },
  };
}

/** A memory domain of the scenario: a dynamic guest or a launch, with its id. */
export interface MemoryDomain {
  readonly id: number;
  readonly name: string;
  /** The guest's kind, or 'launch'. */
  readonly kind: MemoryGuest['kind'] | 'launch';
}

/** What a scenario's memory block asks of a `MemoryHost`, in its integers. */
export interface MemoryPlan {
  readonly options: MemoryHostOptions;
  readonly sampleMs: number;
  /** Every memory domain, by id ascending: guests, launches, then the storm's. */
  readonly domains: readonly MemoryDomain[];
  readonly guests: readonly MemoryGuestSpec[];
  readonly launches: readonly LaunchSpec[];
}

/**
 * The memory plan of `s` for a run of `durationS`, or undefined without a memory block.
 * Memory domains get ids after the scenario's `domains` (0 … n − 1): guests in file
 * order, then `launches`, then the storm's `prefix-1` … `prefix-count`.
 */
export function memoryPlan(s: Scenario, durationS: number): MemoryPlan | undefined {
  const m = s.memory;
  if (m === undefined) return undefined;
  const sampleMs = m.sampleMs ?? defaultSampleMs(durationS);
  if ((durationS * 1000) / sampleMs > LIMITS.memorySamples)
    throw new IsosimError(
      s.name,
      'memory.sampleMs',
      `${sampleMs} ms gives ${Math.ceil((durationS * 1000) / sampleMs)} samples over ${durationS} s`,
      `give a shorter --duration, or memory.sampleMs of at least ${(durationS * 1000) / LIMITS.memorySamples} ms`,
    );
  let next = s.domains.length;
  const domains: MemoryDomain[] = [];
  const guests = m.guests.map((g): MemoryGuestSpec => {
    const domain = next++;
    domains.push({ id: domain, name: g.name, kind: g.kind });
    return guestSpec(g, domain);
  });
  const launches: LaunchSpec[] = [];
  for (const l of m.launches) {
    const domain = next++;
    domains.push({ id: domain, name: l.name, kind: 'launch' });
    launches.push({ domain, pages: pagesOfMiB(l.sizeMiB), atNs: nsS(l.atS) });
  }
  const st = m.storm;
  for (let k = 0; st !== undefined && k < st.count; k++) {
    const domain = next++;
    domains.push({ id: domain, name: `${st.prefix}-${k + 1}`, kind: 'launch' });
    launches.push({
      domain,
      pages: pagesOfMiB(st.sizeMiB),
      atNs: Math.round(st.atS * NS_PER_S + k * st.spreadMs * NS_PER_MS),
    });
  }
  return {
    options: {
      totalPages: pagesOfMiB(m.totalMiB),
      policy: m.policy as ReservationPolicy,
      ...(m.populate?.batchMiB === undefined ? {} : { batchPages: pagesOfMiB(m.populate.batchMiB) }),
      ...(m.populate?.batchMs === undefined ? {} : { batchNs: nsMs(m.populate.batchMs) }),
      ...(m.swapUsPerPage === undefined ? {} : { swapNsPerPage: Math.round(m.swapUsPerPage * 1000) }),
      sampleEveryNs: nsMs(sampleMs),
    },
    sampleMs,
    domains,
    guests,
    launches,
  };
}

function guestSpec(g: MemoryGuest, domain: number): MemoryGuestSpec {
  const bursts = (b: { everyMs: number; lengthMs: number; offsetMs?: number }) => ({
    everyNs: nsMs(b.everyMs),
    lengthNs: nsMs(b.lengthMs),
    offsetNs: nsMs(b.offsetMs ?? 0),
  });
  const stepNs = nsMs(g.stepMs);
  switch (g.kind) {
    case 'sine':
      return {
        kind: 'sine',
        domain,
        minPages: pagesOfMiB(g.minMiB),
        peakPages: pagesOfMiB(g.peakMiB),
        periodNs: nsMs(g.periodMs),
        stepNs,
      };
    case 'balloon':
      return {
        kind: 'balloon',
        domain,
        maxPages: pagesOfMiB(g.maxMiB),
        initialPages: pagesOfMiB(g.initialMiB),
        pagesPerS: pagesPerSOf(g.rateMiBps),
        stepNs,
        targets: g.targets.map((t) => ({ atNs: nsS(t.atS), pages: pagesOfMiB(t.targetMiB) })),
      };
    case 'tmem':
      return {
        kind: 'tmem',
        domain,
        basePages: pagesOfMiB(g.baseMiB),
        minPages: pagesOfMiB(g.minMiB ?? g.baseMiB),
        selfBalloonPagesPerS: pagesPerSOf(g.selfBalloonMiBps ?? 0),
        stepNs,
        bursts: bursts(g.bursts),
        putPagesPerS: pagesPerSOf(g.putMiBps),
        getPagesPerS: pagesPerSOf(g.getMiBps),
        persistentPermille: Math.round(g.persistentPct * 10),
      };
    case 'sharing':
      return {
        kind: 'sharing',
        domain,
        privatePages: pagesOfMiB(g.privateMiB),
        sharedPages: pagesOfMiB(g.sharedMiB),
        stepNs,
        bursts: bursts(g.bursts),
        breakPagesPerS: pagesPerSOf(g.breakMiBps),
        mergePagesPerS: pagesPerSOf(g.mergeMiBps),
      };
  }
}

/** A scenario's memory on a kernel: the host and the plan it was built from. */
export interface ScenarioMemory {
  readonly host: MemoryHost;
  readonly plan: MemoryPlan;
}

/**
 * Builds the memory of `plan` on `kernel` and `actors` (the system's `ActorHost`):
 * the guests now (each owning its starting memory), the launches posted for their times.
 */
export function buildMemory(kernel: Kernel, actors: ActorHost, plan: MemoryPlan): ScenarioMemory {
  const host = new MemoryHost(kernel, actors, plan.options);
  for (const g of plan.guests) host.addGuest(g);
  for (const l of plan.launches) host.launch(l);
  return { host, plan };
}

/** One launch in `metrics.memory.builds`. */
export interface BuildMetrics {
  sizeMiB: number;
  /** When it was asked for, s. */
  requestS: number;
  /** done, failed (late, while populating), refused (at once), building or waiting (at the end). */
  outcome: BuildStatus['outcome'];
  /** 0, or Xen's negated errno that ended it (-12 ENOMEM, -17 EEXIST). */
  rc: number;
  /** What it had populated (for a failed build: the wasted work). */
  populatedMiB: number;
  /** Request to done, ms (done builds). */
  latencyMs?: number;
  /** Request to start, ms (builds that started: under `lock`, the wait for the lock). */
  waitMs?: number;
}

/** One dynamic guest in `metrics.memory.guests`. */
export interface GuestMetrics {
  kind: MemoryGuest['kind'];
  steps: number;
  /** Allocations refused, and by reason (claimed, no-memory, over-max). */
  failures: number;
  failuresByReason: Record<string, number>;
  /** Pages asked for and refused, summed over the refused steps (page-steps), MiB. */
  failedMiB: number;
  /** The swap-storm proxy: time the guest was blocked for want of memory, ms. */
  blockedMs: number;
}

/**
 * The host's memory over time in `metrics.memory.series`, a column per quantity: the
 * i-th entry of every column is the sample at `tMs[i]`.
 */
export interface MemorySeries {
  tMs: number[];
  freeMiB: number[];
  claimsMiB: number[];
  tmemMiB: number[];
  sharedMiB: number[];
  /** Per memory domain name, its `tot_pages` in MiB (0 before it exists and after it is destroyed). */
  totMiB: Record<string, number[]>;
}

/** The samples as columns, every memory domain's by name in id order. */
function memorySeries(samples: readonly MemorySample[], domains: readonly MemoryDomain[]): MemorySeries {
  const col = (f: (x: MemorySample) => number) => samples.map(f);
  return {
    tMs: col((x) => x.tNs / NS_PER_MS),
    freeMiB: col((x) => mibOfPages(x.freePages)),
    claimsMiB: col((x) => mibOfPages(x.outstandingClaims)),
    tmemMiB: col((x) => mibOfPages(x.tmemPages)),
    sharedMiB: col((x) => mibOfPages(x.sharedPages)),
    totMiB: recordOf(domains.map((d) => [d.name, col((x) => mibOfPages(x.totPages[d.id] ?? 0))])),
  };
}

/** `metrics.memory` (docs/metrics.md): what the memory of a run did. */
export interface MemoryRunMetrics {
  policy: ReservationPolicy;
  totalMiB: number;
  launches: {
    requested: number;
    succeeded: number;
    /** failedLate + refused. */
    failed: number;
    failedLate: number;
    refused: number;
    /** Still waiting or building when the run ended. */
    pending: number;
  };
  /** Populated by builds that later failed. */
  wastedMiB: number;
  /** Over the done builds, request to done, ms; absent when none was done. */
  latencyMs?: { mean: number; p50: number; max: number };
  builds: Record<string, BuildMetrics>;
  guests: Record<string, GuestMetrics>;
  guestFailures: number;
  guestBlockedMs: number;
  /** Time-weighted mean of owned / total pages over the run, percent (to 0.1). */
  utilisationPct: number;
  ownedPeakMiB: number;
  tmemPeakMiB: number;
  tmemEvictedMiB: number;
  sharedPeakMiB: number;
  sampleMs: number;
  series: MemorySeries;
}

/** The median of sorted `xs`: the lower middle one for an even count (nearest rank). */
function p50(sorted: readonly number[]): number {
  return sorted[Math.ceil(sorted.length / 2) - 1];
}

/** `metrics.memory` of a finished run. */
export function memoryMetrics(mem: ScenarioMemory): MemoryRunMetrics {
  const { host, plan } = mem;
  const m = host.metrics();
  const nameOf = new Map(plan.domains.map((d) => [d.id, d.name]));
  const builds = host.allBuilds();
  const done = builds.filter((b) => b.outcome === 'done').map((b) => b.endNs - b.requestNs);
  const sorted = [...done].sort((a, b) => a - b);
  const guests = plan.domains.filter((d) => d.kind !== 'launch');
  const pending = builds.filter((b) => b.outcome === 'waiting' || b.outcome === 'building').length;
  return {
    policy: m.policy,
    totalMiB: mibOfPages(plan.options.totalPages),
    launches: {
      requested: plan.launches.length,
      succeeded: m.launchesSucceeded,
      failed: m.launchesFailed,
      failedLate: m.launchesFailedLate,
      refused: m.launchesRefused,
      pending,
    },
    wastedMiB: mibOfPages(m.wastedPages),
    ...(sorted.length === 0
      ? {}
      : {
          latencyMs: {
            mean: ms3(sorted.reduce((a, b) => a + b, 0) / sorted.length),
            p50: ms3(p50(sorted)),
            max: ms3(sorted[sorted.length - 1]),
          },
        }),
    builds: recordOf(
      builds.map((b): [string, BuildMetrics] => [
        nameOf.get(b.domain) ?? String(b.domain),
        {
          sizeMiB: mibOfPages(b.pages),
          requestS: b.requestNs / NS_PER_S,
          outcome: b.outcome,
          rc: b.rc,
          populatedMiB: mibOfPages(b.populatedPages),
          ...(b.outcome === 'done' ? { latencyMs: ms3(b.endNs - b.requestNs) } : {}),
          ...(b.startNs >= 0 ? { waitMs: ms3(b.startNs - b.requestNs) } : {}),
        },
      ]),
    ),
    guests: recordOf(
      guests.map((d): [string, GuestMetrics] => {
        const g = host.guest(d.id);
        if (g === undefined) throw new Error(`memory guest ${d.name} (${d.id}) was not added`);
        return [
          d.name,
          {
            kind: g.kind,
            steps: g.steps,
            failures: g.failures,
            failuresByReason: { ...g.failuresByReason },
            failedMiB: mibOfPages(g.failedPages),
            blockedMs: ms3(g.blockedNs),
          },
        ];
      }),
    ),
    guestFailures: m.guestFailures,
    guestBlockedMs: ms3(m.guestBlockedNs),
    utilisationPct: m.utilisationPermille / 10,
    ownedPeakMiB: mibOfPages(m.ownedPagesPeak),
    tmemPeakMiB: mibOfPages(m.tmemPagesPeak),
    tmemEvictedMiB: mibOfPages(m.tmemEvictedPages),
    sharedPeakMiB: mibOfPages(m.sharedPagesPeak),
    sampleMs: plan.sampleMs,
    series: memorySeries(host.samples(), plan.domains),
  };
}
