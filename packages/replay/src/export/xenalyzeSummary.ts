/**
 * The per-domain and per-vCPU run times that `xenalyze --summary` reports for a
 * xentrace file, computed the way tools/xentrace/xenalyze.c computes them, so that a
 * file from `exportXentrace` can be checked without xenalyze (which Debian does not
 * ship). Written from a reading of xenalyze.c (Xen commit c447b7308b, docs/xentrace.md),
 * not from the exporter; the names below are xenalyze's.
 *
 * What it follows:
 * - Reading: per-CPU readers walk the file's `TRC_TRACE_CPU_CHANGE` windows, each
 *   skipping the windows of other CPUs (`process_cpu_change`); CPUs are found by
 *   scanning the first windows (`init_pcpus`, `scan_for_new_pcpu`) and whenever a
 *   window names a CPU not seen yet. Records are taken across CPUs in TSC order, the
 *   CPU processed last first among equal TSCs (`record_order_*`). A record without a
 *   TSC has its CPU's last TSC. Each CPU starts with a "default domain" vCPU running.
 * - Time: the trace's total is the last TSC minus the first nonzero one
 *   (`process_record_tsc`).
 * - Runstates: only `TRC_SCHED_RUNSTATE_CHANGE` and `TRC_SCHED_CONTINUE_RUNNING` (class
 *   `TRC_SCHED_MIN`) move them (`sched_runstate_process`): start-of-day (`vcpu_start`),
 *   the consistency checks, `vcpu_prev_update` / `vcpu_next_update`, and
 *   `runstate_update`, which charges the cycles since a vCPU's last change to its old
 *   state (and, when that was running, to its domain's `total_time`) only when that
 *   last TSC is nonzero and earlier. At the end of the file each CPU's current vCPU
 *   goes to `lost` at that CPU's last TSC (`deactivate_pcpu`).
 * - Domain runstates (`domain_runstate`): full run, partial run, contention … from the
 *   states of the domain's vCPUs that have left `init`.
 * xenalyze's messages become `warnings`; where xenalyze would stop (an error above its
 * default tolerance), this throws. Not followed: lost-records and TSC-skew correction
 * (reported as warnings), HVM/PV data, and anything not needed for run times. TSCs must
 * stay below 2^53.
 */
import { readFileSync } from 'node:fs';

/** xenalyze's runstates (RUNSTATE_* in xenalyze.c: Xen's four, then its own). */
export const XA_RUNSTATES = ['running', 'runnable', 'blocked', 'offline', 'lost', 'queued', 'init'] as const;
/** xenalyze's domain runstates. */
export const XA_DOMAIN_RUNSTATES = [
  'blocked',
  'partial run',
  'full run',
  'partial contention',
  'concurrency_hazard',
  'full_contention',
  'lost',
] as const;

const RUNNING = 0;
const RUNNABLE = 1;
const BLOCKED = 2;
const OFFLINE = 3;
const LOST = 4;
const QUEUED = 5;
const INIT = 6;
const DOMAIN_BLOCKED = 0;
const DOMAIN_PARTIAL_RUN = 1;
const DOMAIN_FULL_RUN = 2;
const DOMAIN_PARTIAL_CONTENTION = 3;
const DOMAIN_CONCURRENCY_HAZARD = 4;
const DOMAIN_FULL_CONTENTION = 5;
const DOMAIN_LOST = 6;

const DEFAULT_DOMAIN = 32768;
const MAX_CPUS = 256;
const TRC_TRACE_CPU_CHANGE = 0x0001f003;
const TRC_SCHED_MAIN_BIT = 1;

/** `struct cycle_summary`, the parts a summary prints. */
export class CycleSummary {
  /** Updates, including those of 0 cycles. */
  eventCount = 0;
  /** Updates of more than 0 cycles. */
  count = 0;
  cycles = 0;
  update(c: number): void {
    this.eventCount++;
    if (c === 0) return;
    this.count++;
    this.cycles += c;
  }
}

export interface XaVcpu {
  readonly vid: number;
  /** The runstate it ended in (an index into XA_RUNSTATES). */
  readonly state: number;
  /** Per XA_RUNSTATES entry. */
  readonly runstates: readonly CycleSummary[];
}

export interface XaDomain {
  readonly did: number;
  /** Cycles any of its vCPUs ran (`total_time`). */
  readonly totalTime: CycleSummary;
  /** Per XA_DOMAIN_RUNSTATES entry. */
  readonly runstates: readonly CycleSummary[];
  readonly vcpus: readonly XaVcpu[];
}

export interface XenalyzeSummary {
  readonly cpuHz: number;
  readonly firstTsc: number;
  readonly lastTsc: number;
  /** `P.f.total_cycles`: the "Total time" line, in cycles. */
  readonly totalCycles: number;
  /** Physical CPUs that had records. */
  readonly pcpus: readonly number[];
  /** Domains by id, as `domain_summary` lists them (the idle domain, 32767, among them). */
  readonly domains: readonly XaDomain[];
  /** Records processed (CPU_CHANGE included). */
  readonly records: number;
  /** xenalyze's messages that point at something wrong in the trace. */
  readonly warnings: readonly string[];
}

interface Vcpu {
  vid: number;
  d: Domain;
  state: number;
  tsc: number;
  activated: boolean;
  delayedInit: boolean;
  p: Pcpu | undefined;
  lastOldstate: { wrong: number; actual: number; tsc: number; pid: number };
  runstates: CycleSummary[];
}

interface Domain {
  did: number;
  vcpus: (Vcpu | undefined)[];
  maxVid: number;
  runstate: number;
  runstateTsc: number;
  totalTime: CycleSummary;
  runstates: CycleSummary[];
}

interface Pcpu {
  pid: number;
  active: boolean;
  summary: boolean;
  fileOffset: number;
  nextCpuChangeOffset: number;
  firstTsc: number;
  lastTsc: number;
  orderTsc: number;
  current: Vcpu | undefined;
  /** The record read and not yet processed. */
  ri: { event: number; extra: number; cycles: boolean; tsc: number; size: number; data: number };
}

const summaries = (n: number): CycleSummary[] => Array.from({ length: n }, () => new CycleSummary());

/** Reads the trace at `trace` (a path or the bytes) as `xenalyze --summary --cpu-hz=cpuHz` would. */
export function xenalyzeSummary(
  trace: string | Uint8Array,
  options: { cpuHz?: number } = {},
): XenalyzeSummary {
  const bytes = typeof trace === 'string' ? readFileSync(trace) : trace;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fileSize = bytes.byteLength;
  const cpuHz = options.cpuHz ?? 2_400_000_000; // xenalyze's default
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
  };
  /** xenalyze's error() above its default tolerance (ERR_SANITY): it exits. */
  const fatal = (m: string): never => {
    throw new Error(`xenalyze would stop here: ${m}`);
  };

  const P = {
    firstTsc: 0,
    lastTsc: 0,
    totalCycles: 0,
    maxActivePcpu: -1,
    records: 0,
    pcpu: [] as Pcpu[],
  };
  const pcpuOf = (i: number): Pcpu => {
    let p = P.pcpu[i];
    if (p === undefined) {
      p = {
        pid: i,
        active: false,
        summary: false,
        fileOffset: 0,
        nextCpuChangeOffset: 0,
        firstTsc: 0,
        lastTsc: 0,
        orderTsc: 0,
        current: undefined,
        ri: { event: 0, extra: 0, cycles: false, tsc: 0, size: 0, data: 0 },
      };
      P.pcpu[i] = p;
    }
    return p;
  };
  const newDomain = (did: number): Domain => ({
    did,
    vcpus: [],
    maxVid: 0,
    runstate: 0,
    runstateTsc: 0,
    totalTime: new CycleSummary(),
    runstates: summaries(XA_DOMAIN_RUNSTATES.length),
  });
  const defaultDomain = newDomain(DEFAULT_DOMAIN);
  const domains = new Map<number, Domain>();
  const vcpuCreate = (d: Domain, vid: number): Vcpu => {
    const v: Vcpu = {
      vid,
      d,
      state: INIT,
      tsc: 0,
      activated: false,
      delayedInit: false,
      p: undefined,
      lastOldstate: { wrong: INIT, actual: 0, tsc: 0, pid: 0 },
      runstates: summaries(XA_RUNSTATES.length),
    };
    d.vcpus[vid] = v;
    if (vid > d.maxVid) d.maxVid = vid;
    return v;
  };
  const vcpuFind = (did: number, vid: number): Vcpu => {
    let d = domains.get(did);
    if (d === undefined) {
      d = newDomain(did);
      domains.set(did, d);
    }
    return d.vcpus[vid] ?? vcpuCreate(d, vid);
  };

  const domainRunstate = (d: Domain): number => {
    if (d.did === DEFAULT_DOMAIN) return 0;
    const n = new Array(XA_RUNSTATES.length).fill(0);
    let max = 0;
    for (let i = 0; i <= d.maxVid; i++) {
      const v = d.vcpus[i];
      if (v !== undefined && v.state !== INIT) {
        max++;
        n[v.state]++;
      }
    }
    if (n[LOST] === max) return DOMAIN_LOST;
    if (n[RUNNING]) {
      if (n[RUNNABLE]) return DOMAIN_CONCURRENCY_HAZARD;
      if (n[BLOCKED] || n[OFFLINE]) return DOMAIN_PARTIAL_RUN;
      return DOMAIN_FULL_RUN;
    }
    if (n[RUNNABLE]) return n[BLOCKED] || n[OFFLINE] ? DOMAIN_PARTIAL_CONTENTION : DOMAIN_FULL_CONTENTION;
    if (n[BLOCKED] || n[OFFLINE]) return DOMAIN_BLOCKED;
    return fatal(`Strange, no meaningful runstates for d${d.did}!`);
  };

  const runstateUpdate = (v: Vcpu, next: number, tsc: number): void => {
    const d = v.d;
    if (v.tsc > 0 && v.tsc < tsc) {
      v.runstates[v.state].update(tsc - v.tsc);
      if (v.state === RUNNING) d.totalTime.update(tsc - v.tsc);
    }
    v.state = next;
    v.tsc = tsc;
    if (d.runstateTsc > 0 && d.runstateTsc < tsc) d.runstates[d.runstate].update(tsc - d.runstateTsc);
    d.runstate = domainRunstate(d);
    d.runstateTsc = tsc;
  };

  const vcpuPrevUpdate = (p: Pcpu, prev: Vcpu, tsc: number, next: number): void => {
    if (prev.p !== p) {
      warn(`Strange, sched_switch on pcpu ${p.pid}, prev->pcpu ${prev.p?.pid}!`);
      prev.tsc = 0;
    } else if (p.current === undefined) {
      fatal('vcpu_prev_update: FATAL: p->current NULL!');
    } else if (p.current !== prev) {
      warn(
        `Strange, sched_switch prev d${prev.d.did}v${prev.vid}, pcpu ${p.pid} current d${p.current.d.did}v${p.current.vid}!`,
      );
      prev.tsc = 0;
    } else if (prev.state !== RUNNING) {
      warn(`Strange, prev d${prev.d.did}v${prev.vid} not running!`);
      prev.tsc = 0;
    }
    p.current = undefined;
    runstateUpdate(prev, next, tsc);
  };

  const vcpuNextUpdate = (p: Pcpu, next: Vcpu, tsc: number): void => {
    if (p.current !== undefined) {
      fatal(`vcpu_next_update: FATAL: p->current not NULL! (d${p.current.d.did}v${p.current.vid})`);
    }
    if (next.activated) {
      if (next.state === RUNNING && next.d.did !== DEFAULT_DOMAIN) {
        warn(`Strange, next d${next.d.did}v${next.vid} already running on proc ${next.p?.pid}!`);
        next.tsc = 0;
      }
    } else {
      next.activated = true;
    }
    runstateUpdate(next, RUNNING, tsc);
    next.p = p;
    p.current = next;
  };

  const vcpuStart = (p: Pcpu, v: Vcpu, oldState: number, newState: number, riTsc: number): void => {
    if (oldState === RUNNING) {
      const cur = p.current;
      if (cur === undefined || cur.d.did !== DEFAULT_DOMAIN) {
        fatal('Strange, p->current not default domain!');
        return;
      }
      if (!p.firstTsc) fatal(`Strange, p${p.pid} first_tsc 0!`);
      if (p.firstTsc <= cur.tsc)
        fatal(`Strange, first_tsc ${p.firstTsc} < default_domain runstate tsc ${cur.tsc}!`);
      runstateUpdate(cur, QUEUED, p.firstTsc);
      p.current = undefined;
    }
    if (newState !== RUNNING) {
      v.delayedInit = true; // "First schedule … doesn't take us into a running state; leaving in INIT"
      return;
    }
    v.delayedInit = false;
    const tsc = oldState === RUNNING ? p.firstTsc : riTsc;
    runstateUpdate(v, RUNNING, tsc);
    p.current = v;
    v.p = p;
  };

  /** `sched_runstate_process`. */
  const runstateProcess = (p: Pcpu): void => {
    const ri = p.ri;
    const lo = ri.event & 0xf;
    const isContinue = lo === 2;
    if (lo !== 1 && lo !== 2) fatal(`FATAL: Unexpected runstate change type ${lo}!`);
    const newState = isContinue ? RUNNING : (ri.event >>> 4) & 0xf;
    const oldState = isContinue ? RUNNING : (ri.event >>> 8) & 0xf;
    if (ri.extra < 1) fatal('runstate record without its word');
    const word = view.getUint32(ri.data, true);
    const vid = word & 0xffff;
    const did = word >>> 16;
    if (
      !isContinue &&
      ((newState === RUNNING && oldState !== RUNNABLE) || (newState === BLOCKED && oldState === RUNNABLE))
    ) {
      warn(
        `Strange, d${did}v${vid} unexpected runstate transition ${XA_RUNSTATES[oldState]}->${XA_RUNSTATES[newState]}`,
      );
    }
    if (vid > MAX_CPUS) {
      warn(`sched_runstate_process: vcpu ${vid} > MAX_VCPUS ${MAX_CPUS}!`);
      return;
    }
    const v = vcpuFind(did, vid);
    const last = { ...v.lastOldstate };
    v.lastOldstate.wrong = INIT;
    if (v.state === INIT) {
      vcpuStart(p, v, oldState, newState, ri.tsc);
      return;
    }
    if (v.state !== oldState) {
      if (v.state === LOST) {
        if (newState !== RUNNING) return;
      } else if (last.wrong === newState && last.actual === oldState) {
        warn(`TSC skew detected p${p.pid}->p${last.pid} (not corrected here)`);
        return;
      } else {
        warn(
          `runstate_change old_runstate ${XA_RUNSTATES[oldState]}, d${did}v${vid} runstate ${XA_RUNSTATES[v.state]}.  Possible tsc skew.`,
        );
        v.lastOldstate = { wrong: oldState, actual: v.state, tsc: ri.tsc, pid: p.pid };
        if (v.state === RUNNING) return;
      }
    }
    if (isContinue) {
      if (v.state === LOST) {
        warn(`WARNING: continue with d${did}v${vid} in RUNSTATE_LOST.  Resetting current.`);
        if (p.current !== undefined) vcpuPrevUpdate(p, p.current, ri.tsc, LOST);
        vcpuNextUpdate(p, v, ri.tsc);
      } else if (v.state !== RUNNING) {
        fatal(`FATAL: sevt.old_runstate running, but d${did}v${vid} runstate ${XA_RUNSTATES[v.state]}!`);
      } else if (v.p !== p) {
        fatal(`FATAL: continue on p${p.pid}, but d${did}v${vid} p${v.p?.pid ?? -1}!`);
      }
      runstateUpdate(v, RUNNING, ri.tsc);
    } else if (oldState === RUNNING || v.state === RUNNING) {
      if (oldState === RUNNING) {
        if (v.state !== RUNNING && v.state !== LOST) {
          fatal(`FATAL: sevt.old_runstate running, but d${did}v${vid} runstate ${XA_RUNSTATES[v.state]}!`);
        }
        vcpuPrevUpdate(p, v, ri.tsc, newState);
      } else if (v.p !== undefined) {
        vcpuPrevUpdate(v.p, v, ri.tsc, newState);
      }
    } else if (newState === RUNNING) {
      vcpuNextUpdate(p, v, ri.tsc);
    } else {
      runstateUpdate(v, newState, ri.tsc);
    }
  };

  // --- Reading the file ---

  /** `__read_record` + `__fill_in_record_info`: false at the end of the file. */
  const readRecordAt = (p: Pcpu, offset: number): boolean => {
    if (offset >= fileSize) return false;
    if (offset + 4 > fileSize) fatal(`__read_record: short read (${fileSize - offset} bytes)`);
    const h = view.getUint32(offset, true);
    const extra = (h >>> 28) & 7;
    const cycles = h >>> 31 === 1;
    const size = 4 + (cycles ? 8 : 0) + 4 * extra;
    if (offset + size > fileSize) return false;
    const ri = p.ri;
    ri.event = h & 0x0fffffff;
    ri.extra = extra;
    ri.cycles = cycles;
    ri.size = size;
    if (cycles) {
      const tsc = view.getUint32(offset + 4, true) + view.getUint32(offset + 8, true) * 2 ** 32;
      if (!Number.isSafeInteger(tsc)) fatal(`TSC ${tsc} at byte ${offset} is above 2^53`);
      ri.tsc = tsc;
      ri.data = offset + 12;
      if (p.firstTsc === 0) p.firstTsc = tsc;
      p.orderTsc = tsc;
      p.lastTsc = tsc;
    } else {
      ri.tsc = p.lastTsc;
      ri.data = offset + 4;
    }
    return true;
  };

  const order: Pcpu[] = [];
  const orderInsert = (n: Pcpu): void => {
    let i = 0;
    while (i < order.length && order[i].orderTsc < n.orderTsc) i++;
    order.splice(i, 0, n);
  };
  const orderBubble = (last: Pcpu): void => {
    let i = order.indexOf(last);
    while (i + 1 < order.length && order[i + 1].orderTsc < last.orderTsc) {
      order[i] = order[i + 1];
      i++;
    }
    order[i] = last;
  };

  const defaultVcpuActivate = (p: Pcpu): void => {
    const v = defaultDomain.vcpus[p.pid] ?? vcpuCreate(defaultDomain, p.pid);
    v.activated = true;
    v.p = p;
    v.state = RUNNING;
    p.current = v;
  };

  const deactivate = (p: Pcpu): void => {
    if (p.current !== undefined) runstateUpdate(p.current, LOST, p.lastTsc); // lose_vcpu
    p.active = false;
    order.splice(order.indexOf(p), 1);
    if (p.pid === P.maxActivePcpu) {
      P.maxActivePcpu = -1;
      for (let i = 0; i < P.pcpu.length; i++) if (P.pcpu[i]?.active) P.maxActivePcpu = i;
    }
  };

  /** `scan_for_new_pcpu`: the offset after the window it activated a CPU for, or 0. */
  const scanForNewPcpu = (offset: number): number => {
    if (offset + 4 > fileSize) return 0;
    const h = view.getUint32(offset, true);
    if ((h & 0x0fffffff) !== TRC_TRACE_CPU_CHANGE || h >>> 31 === 1) {
      fatal(`scan_for_new_pcpu: Unexpected record event ${(h & 0x0fffffff).toString(16)}!`);
    }
    if (offset + 12 > fileSize) return 0;
    const cpu = view.getInt32(offset + 4, true);
    const window = view.getUint32(offset + 8, true);
    if (cpu > MAX_CPUS) fatal(`cpu ${cpu} exceeds MAX_CPU ${MAX_CPUS}!`);
    const p = pcpuOf(cpu);
    if (cpu > P.maxActivePcpu || !p.active) {
      p.active = true;
      readRecordAt(p, offset);
      p.fileOffset = offset;
      p.nextCpuChangeOffset = offset;
      orderInsert(p);
      defaultVcpuActivate(p);
      if (cpu > P.maxActivePcpu) P.maxActivePcpu = cpu;
      return offset + 12 + window;
    }
    return 0;
  };

  const processCpuChange = (p: Pcpu): void => {
    const ri = p.ri;
    const cpu = view.getInt32(ri.data, true);
    const window = view.getUint32(ri.data + 4, true);
    if (p.fileOffset !== p.nextCpuChangeOffset) {
      warn(`Strange, pcpu ${p.pid} expected offset ${p.nextCpuChangeOffset}, actual ${p.fileOffset}!`);
    }
    if (cpu > MAX_CPUS) fatal(`FATAL: cpu ${cpu} > MAX_CPUS ${MAX_CPUS}.`);
    const p2 = pcpuOf(cpu);
    if (!p2.active && p2.fileOffset === 0) {
      p2.active = true;
      if (cpu > P.maxActivePcpu) P.maxActivePcpu = cpu;
      p2.ri = { ...ri };
      p2.fileOffset = p.fileOffset;
      p2.nextCpuChangeOffset = p.fileOffset;
      orderInsert(p2);
      defaultVcpuActivate(p2);
    }
    if (p.pid !== cpu) {
      p.fileOffset += ri.size + window;
      p.nextCpuChangeOffset = p.fileOffset;
      if (p.fileOffset > fileSize) warn('Short cpu_change window, activating early_eof');
    } else {
      p.fileOffset += ri.size;
      p.nextCpuChangeOffset = p.fileOffset + window;
      if (p.nextCpuChangeOffset > fileSize) warn('Short cpu_change window, activating early_eof');
      else if (p.pid === P.maxActivePcpu) scanForNewPcpu(p.nextCpuChangeOffset);
    }
  };

  const processRecord = (p: Pcpu): void => {
    const ri = p.ri;
    P.records++;
    if (ri.event === TRC_TRACE_CPU_CHANGE) {
      processCpuChange(p);
      return;
    }
    p.summary = true;
    // process_record_tsc
    if (ri.tsc && ri.tsc >= P.firstTsc) {
      if (P.firstTsc === 0) P.firstTsc = p.orderTsc;
      P.lastTsc = p.orderTsc;
      P.totalCycles = P.lastTsc - P.firstTsc;
    }
    const main = (ri.event >>> 16) & 0xfff;
    let bits = 0;
    let top = -1;
    for (let i = 0; i < 12; i++) {
      if (main & (1 << i)) {
        bits++;
        top = i;
      }
    }
    if (bits !== 1)
      fatal(`FATAL: unexpected number bits(${bits}) in evt.main! event ${ri.event.toString(16)}`);
    if (top === TRC_SCHED_MAIN_BIT && ((ri.event >>> 12) & 0xf) === 1) runstateProcess(p);
    p.fileOffset += ri.size;
  };

  // init_pcpus, then process_records.
  for (let offset = scanForNewPcpu(0); offset !== 0; ) offset = scanForNewPcpu(offset);
  while (order.length > 0) {
    const p = order[0];
    processRecord(p);
    if (!readRecordAt(p, p.fileOffset)) deactivate(p);
    if (p.active) orderBubble(p);
  }

  const out: XaDomain[] = [...domains.values()]
    .sort((a, b) => a.did - b.did)
    .map((d) => ({
      did: d.did,
      totalTime: d.totalTime,
      runstates: d.runstates,
      vcpus: d.vcpus
        .filter((v): v is Vcpu => v !== undefined)
        .map((v) => ({ vid: v.vid, state: v.state, runstates: v.runstates })),
    }));
  return {
    cpuHz,
    firstTsc: P.firstTsc,
    lastTsc: P.lastTsc,
    totalCycles: P.totalCycles,
    pcpus: P.pcpu.filter((p) => p?.summary).map((p) => p.pid),
    domains: out,
    records: P.records,
    warnings,
  };
}

/** A domain's run time as a percentage of the trace's total time (one CPU = 100). */
export function xaCpuPct(s: XenalyzeSummary, d: XaDomain): number {
  return s.totalCycles > 0 ? (d.totalTime.cycles * 100) / s.totalCycles : 0;
}

/** Seconds, as the summary prints them (`cycles / cpu_hz`). */
export function xaSeconds(s: XenalyzeSummary, cycles: number): number {
  return cycles / s.cpuHz;
}

/** A domain of a summary, named from the log's host, with its run time. */
export interface XaDomainRow {
  /** xenalyze's domain id (`d<id>`); the idle domain is 32767. */
  readonly did: number;
  /** The log's name for it (`idle` for the idle domain, `dom<id>` if the log has none). */
  readonly name: string;
  /** Whether it is a driver domain. */
  readonly driver: boolean;
  /** Seconds any of its vCPUs ran (xenalyze's `total_time`). */
  readonly runS: number;
  /** That, as a percentage of the trace's total time (one CPU = 100). */
  readonly cpuPct: number;
}

/** xenalyze's id for Xen's idle domain (DOMID_IDLE). */
const IDLE_DOMAIN = 0x7fff;

/**
 * The summary's domains with the log's names, by id: every driver domain first (the
 * host numbers them 0..k), then the guests, then the idle domain. `host` is what
 * `hostLayout` reads from the log's header.
 *
 * @example
 * ```ts
 * exportXentrace(log, 'trace.bin');
 * const host = hostLayout(scanLog(log, { onRecord: () => false }).header);
 * for (const row of xaDomainRows(xenalyzeSummary('trace.bin', { cpuHz: 2.8e9 }), host))
 *   console.log(row.name, row.driver ? 'driver domain' : '', row.cpuPct.toFixed(2));
 * ```
 */
export function xaDomainRows(
  s: XenalyzeSummary,
  host: { readonly domains: readonly string[]; readonly drivers: readonly number[] },
): XaDomainRow[] {
  return s.domains
    .filter((d) => d.did !== DEFAULT_DOMAIN)
    .map((d) => ({
      did: d.did,
      name: d.did === IDLE_DOMAIN ? 'idle' : (host.domains[d.did] ?? `dom${d.did}`),
      driver: host.drivers.includes(d.did),
      runS: xaSeconds(s, d.totalTime.cycles),
      cpuPct: xaCpuPct(s, d),
    }));
}
