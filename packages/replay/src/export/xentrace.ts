/**
 * Export a log as a binary trace in the layout Xen's `xentrace` writes, so that Xen's
 * own trace tools (xenalyze, and the older xentrace_format) read a simulated run.
 * docs/xentrace.md has the byte layout, the events and how to read the file.
 *
 * Layout (xen/include/public/trace.h `struct t_rec`; little-endian, as on x86):
 * - a record is a 32-bit header word (event id in bits 0–27, the number of extra
 *   words in bits 28–30, bit 31 set when a TSC follows), then the TSC as two 32-bit
 *   words (low, high), then the extra words. Every record here carries a TSC.
 * - the file is a sequence of windows, as tools/xentrace/xentrace.c writes them: a
 *   `TRC_TRACE_CPU_CHANGE` record without TSC whose two extra words are the CPU and
 *   the byte count of the window, then that many bytes of that CPU's records. Like
 *   xentrace's polling loop, the export writes rounds: every CPU that has records
 *   gets one window, in CPU order; a round is written when one CPU's pending records
 *   reach `WINDOW_BYTES`, and at the end. Each CPU's records are in time order.
 *
 * Events, with the extra words xen/common/sched/core.c gives them (one u32 per
 * argument of its TRACE_TIME calls; the same words as Xen 4.x's TRACE_nD calls):
 * - `TRC_SCHED_DOM_ADD` [domid]: a domain's first vCPU joins the scheduler;
 * - `TRC_SCHED_WAKE` [domid, vcpuid]: a vCPU goes from blocked to runnable;
 * - `TRC_SCHED_BLOCK` [domid, vcpuid]: a vCPU blocks;
 * - per change of vCPU on a pCPU (`cpu.switch` with prev ≠ next), in this order:
 *   `TRC_SCHED_SWITCH_INFPREV` [prev domid, prev vcpuid, ns prev ran since it was
 *   switched in], `TRC_SCHED_SWITCH_INFNEXT` [next domid, next vcpuid, ns next waited
 *   since it became runnable, next's slice ns], `TRC_SCHED_SWITCH` [prev domid, prev
 *   vcpuid, next domid, next vcpuid];
 *   then, as `sched_switch_units()` does, `TRC_SCHED_RUNSTATE_CHANGE` for prev
 *   (running → blocked, or → runnable if it still has work; idle always → runnable)
 *   and for next (runnable → running);
 * - per decision that keeps the vCPU (`cpu.switch` with prev = next):
 *   `TRC_SCHED_SWITCH_INFCONT` [domid, vcpuid, ns it ran since switched in, slice ns],
 *   then `TRC_SCHED_CONTINUE_RUNNING`, as `sched_context_switch()` does;
 * - a wake (blocked → runnable) writes `TRC_SCHED_RUNSTATE_CHANGE` blocked → runnable
 *   after its `TRC_SCHED_WAKE`, as `vcpu_wake()` does;
 * - at the end of the log (of the run, if the header gives its length and the log is
 *   whole), one `TRC_SCHED_CONTINUE_RUNNING` per pCPU for what runs there, so that a
 *   reader counts the last stretch up to the end (Xen writes nothing there).
 * The runstate records carry one word, `domid << 16 | vcpuid` (core.c's
 * `struct { uint16_t vcpu, domain; }`), and put the old and new runstate in bits 8–9
 * and 4–5 of the event id (RUNSTATE_running 0, runnable 1, blocked 2).
 * The idle vCPU of pCPU p is domain DOMID_IDLE, vCPU p, as Xen's idle vCPUs are. A
 * vCPU's id is its place among its domain's vCPUs in the order they first appear.
 * Times in extra words are nanoseconds cut to 32 bits, as Xen's are. The TSC is
 * `TSC_AT_ZERO` plus the simulated time at `cpuKhz` (default 2.8 GHz, the paper's
 * machines): xenalyze takes a TSC of 0 for "not set".
 *
 * Memory stays flat: the log is streamed, and only one window per CPU and one output
 * chunk are held. The file is written as `outPath.partial` and renamed at the end.
 *
 * Several driver domains (issue 16): every domain's scheduling is exported alike, from
 * its vCPUs' records, so each driver domain (0..k) is a domain of the trace as the
 * guests are, and xenalyze's summary lists each one's run time (`xaDomainRows` names
 * them from the log's header: `hostLayout`).
 *
 * Not exported: isosim's own records (`TRC_ISOSIM`: `TRC_NET_PKT`, `TRC_BLK_REQ`), and
 * so no block request. The export has never written netback's packets, and an event of
 * that class would stop xenalyze: its class field, 0xff0, has more than one bit set,
 * which xenalyze takes for a corrupt record (`xenalyzeSummary` does the same). Block
 * requests are in the Perfetto export and the World.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { xentrace } from '@isosim/actors';
import { IsosimError } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { hostLayout } from '../layout.ts';

const { DOMID_IDLE, TRC_TRACE_CPU_CHANGE, TRC_SCHED_DOM_ADD, TRC_SCHED_WAKE, TRC_SCHED_BLOCK } = xentrace;
const { TRC_SCHED_SWITCH, TRC_SCHED_SWITCH_INFPREV, TRC_SCHED_SWITCH_INFNEXT, TRC_SCHED_VERBOSE } = xentrace;

/** trace.h: `TRC_SCHED_SWITCH_INFCONT` (TRC_SCHED_VERBOSE + 17); @isosim/actors does not define it. */
export const TRC_SCHED_SWITCH_INFCONT = TRC_SCHED_VERBOSE + 17;
/** trace.h `TRC_SCHED_MIN`: the class of runstate records. */
export const TRC_SCHED_MIN = 0x00021000;
/** trace.h: a vCPU's runstate changed; old state in bits 8–11, new in bits 4–7 of the event. */
export const TRC_SCHED_RUNSTATE_CHANGE = TRC_SCHED_MIN + 1;
/** trace.h: the scheduler kept the running vCPU. */
export const TRC_SCHED_CONTINUE_RUNNING = TRC_SCHED_MIN + 2;
/** xen/include/public/vcpu.h runstates. */
export const RUNSTATE_RUNNING = 0;
export const RUNSTATE_RUNNABLE = 1;
export const RUNSTATE_BLOCKED = 2;
/** The TSC at simulated time 0: xenalyze reads a TSC of 0 as "not set". */
export const TSC_AT_ZERO = 1;

/** trace.h: the extra-word count sits at bit 28 of the header word. */
export const TRACE_EXTRA_SHIFT = 28;
/** trace.h `TRC_HD_CYCLE_FLAG`: a TSC follows the header word. */
export const TRACE_CYCLES_FLAG = 0x80000000;
/** xentrace.c `CPU_CHANGE_HEADER`: TRC_TRACE_CPU_CHANGE with two extra words, no TSC. */
export const CPU_CHANGE_HEADER = (TRC_TRACE_CPU_CHANGE | (2 << TRACE_EXTRA_SHIFT)) >>> 0;
/** 2.8 GHz, the clock of the paper's machines. */
export const DEFAULT_CPU_KHZ = 2_800_000;
/** A CPU's pending records are written out as a window once they reach this many bytes. */
export const WINDOW_BYTES = 128 * 1024;

const MAX_RECORD_BYTES = 12 + 4 * 7;
const CPU_CHANGE_BYTES = 12;
const OUT_CHUNK_BYTES = 1 << 20;
const TWO_32 = 0x1_0000_0000;
const IDLE = -1;

/** vCPU states as `vcpu.state` logs them (hypervisor.ts). */
const BLOCKED = 0;
const RUNNABLE = 1;
const RUNNING = 2;

export interface XentraceOptions {
  /** The TSC rate, kHz (a positive whole number; default 2,800,000, i.e. 2.8 GHz). */
  readonly cpuKhz?: number;
}

export interface XentraceResult {
  /** Trace records written, not counting the CPU_CHANGE record in front of each window. */
  readonly records: number;
  /** Physical CPUs of the run (the scheduler's `sched.init`, or the highest seen + 1). */
  readonly cpus: number;
  /** Log records of types the export does not translate. */
  readonly skipped: number;
  /** Set when the log is damaged part-way: what was verified before it was exported. */
  readonly damage?: string;
}

/** Per-CPU windows of encoded records, written out in rounds through a chunked writer. */
class TraceFile {
  readonly partial: string;
  records = 0;
  private fd: number;
  private readonly out = Buffer.allocUnsafe(OUT_CHUNK_BYTES);
  private outLen = 0;
  private readonly windows: Buffer[] = [];
  private readonly lengths: number[] = [];

  constructor(readonly path: string) {
    this.partial = `${path}.partial`;
    try {
      this.fd = openSync(this.partial, 'w');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new IsosimError(
        this.partial,
        'xentrace output',
        `cannot create (${code})`,
        'give a path in a directory that exists and is writable',
      );
    }
  }

  /** Appends one record with a TSC to `cpu`'s window. */
  record(cpu: number, event: number, tsc: number, extra: readonly number[]): void {
    let w = this.windows[cpu];
    if (w === undefined) {
      w = Buffer.allocUnsafe(WINDOW_BYTES + MAX_RECORD_BYTES);
      this.windows[cpu] = w;
      this.lengths[cpu] = 0;
    }
    let o = this.lengths[cpu];
    const lo = tsc % TWO_32;
    w.writeUInt32LE((event | (extra.length << TRACE_EXTRA_SHIFT) | TRACE_CYCLES_FLAG) >>> 0, o);
    w.writeUInt32LE(lo, o + 4);
    w.writeUInt32LE((tsc - lo) / TWO_32, o + 8);
    o += 12;
    for (const x of extra) {
      w.writeUInt32LE(x >>> 0, o);
      o += 4;
    }
    this.lengths[cpu] = o;
    this.records++;
    if (o >= WINDOW_BYTES) this.round();
  }

  /** Writes every CPU's pending records, each behind its CPU_CHANGE record, in CPU order. */
  round(): void {
    for (let cpu = 0; cpu < this.windows.length; cpu++) {
      const len = this.lengths[cpu];
      if (len === undefined || len === 0) continue;
      if (this.outLen + CPU_CHANGE_BYTES > OUT_CHUNK_BYTES) this.flush();
      this.out.writeUInt32LE(CPU_CHANGE_HEADER, this.outLen);
      this.out.writeUInt32LE(cpu, this.outLen + 4);
      this.out.writeUInt32LE(len, this.outLen + 8);
      this.outLen += CPU_CHANGE_BYTES;
      this.copy(this.windows[cpu], len);
      this.lengths[cpu] = 0;
    }
  }

  private copy(from: Buffer, len: number): void {
    let done = 0;
    while (done < len) {
      if (this.outLen === OUT_CHUNK_BYTES) this.flush();
      const n = Math.min(len - done, OUT_CHUNK_BYTES - this.outLen);
      from.copy(this.out, this.outLen, done, done + n);
      this.outLen += n;
      done += n;
    }
  }

  private flush(): void {
    let done = 0;
    while (done < this.outLen) done += writeSync(this.fd, this.out, done, this.outLen - done);
    this.outLen = 0;
  }

  /** Writes what is pending and puts the file in place. */
  finish(): void {
    this.round();
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.partial, this.path);
  }

  /** Drops the partial file (after a failure). */
  abandon(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed or unusable: the file is removed either way.
      }
      this.fd = -1;
    }
    rmSync(this.partial, { force: true });
  }
}

interface VcpuInfo {
  readonly domain: number;
  /** Its place among its domain's vCPUs. */
  readonly id: number;
  /** The pCPU its WAKE/BLOCK records go to: its sched.add's, else the first it ran on. */
  pcpu: number;
  state: number;
  /** Its runstate as the trace has it (RUNSTATE_*). */
  runstate: number;
  runnableSinceNs: number;
  /** How long it had been runnable when it last started running. */
  waitedNs: number;
}

/**
 * Writes the scheduler's story of the log at `logPath` as a xentrace binary at
 * `outPath`. Throws `IsosimError` if the log cannot be read at all; a log damaged
 * part-way is exported up to the damage, which the result reports.
 */
export function exportXentrace(
  logPath: string,
  outPath: string,
  options: XentraceOptions = {},
): XentraceResult {
  const khz = options.cpuKhz ?? DEFAULT_CPU_KHZ;
  if (!Number.isSafeInteger(khz) || khz <= 0) {
    throw new IsosimError(
      'exportXentrace',
      'cpuKhz',
      `is ${khz}`,
      'give the TSC rate in kHz as a positive whole number (2800000 for 2.8 GHz)',
    );
  }
  /** round(ns × kHz / 10^6), exact while the TSC is below 2^53. */
  const tscOf = (ns: number): number => {
    const ms = Math.floor(ns / 1e6);
    const tsc = TSC_AT_ZERO + ms * khz + Math.round(((ns - ms * 1e6) * khz) / 1e6);
    if (!Number.isSafeInteger(tsc)) {
      throw new IsosimError(
        logPath,
        'record time',
        `${ns} ns at ${khz} kHz overflows the TSC`,
        'lower cpuKhz',
      );
    }
    return tsc;
  };

  const vcpus: (VcpuInfo | undefined)[] = [];
  const vcpusOfDomain = new Map<number, number>();
  /** Per pCPU: when what runs there now (a vCPU or idle) was switched in. */
  const runningSince: number[] = [];
  /** Per pCPU: the vCPU running there (IDLE for its idle vCPU). */
  const current: number[] = [];
  let added = 0;
  let cpus = 0;
  let skipped = 0;
  let lastNs = 0;
  /** The run's length from the header's scenario, ns (0: not given). */
  let durationNs = 0;

  const file = new TraceFile(outPath);
  const newVcpu = (index: number, domain: number, pcpu: number, t: number): VcpuInfo => {
    const id = vcpusOfDomain.get(domain) ?? 0;
    vcpusOfDomain.set(domain, id + 1);
    const v: VcpuInfo = {
      domain,
      id,
      pcpu,
      state: BLOCKED,
      runstate: RUNSTATE_BLOCKED,
      runnableSinceNs: t,
      waitedNs: 0,
    };
    vcpus[index] = v;
    if (id === 0) file.record(Math.max(pcpu, 0), TRC_SCHED_DOM_ADD, tscOf(t), [domain]);
    return v;
  };
  const seeCpu = (pcpu: number): void => {
    cpus = Math.max(cpus, pcpu + 1);
  };
  /** core.c `trace_runstate_change()`: [vcpu | domain << 16], old and new state in the event id. */
  const runstate = (cpu: number, tsc: number, domain: number, id: number, from: number, to: number): void => {
    const event = TRC_SCHED_RUNSTATE_CHANGE | ((from & 3) << 8) | ((to & 3) << 4);
    file.record(cpu, event, tsc, [((domain << 16) | (id & 0xffff)) >>> 0]);
  };
  /** core.c `trace_continue_running()`. */
  const continueRunning = (cpu: number, tsc: number, domain: number, id: number): void => {
    file.record(cpu, TRC_SCHED_CONTINUE_RUNNING, tsc, [((domain << 16) | (id & 0xffff)) >>> 0]);
  };

  try {
    const result = scanLog(logPath, {
      onHeader: (h) => {
        durationNs = hostLayout(h).durationNs;
      },
      onRecord: (r, d) => {
        const t = r.timeNs;
        const a = r.values;
        lastNs = t;
        switch (d.typeName(r.type)) {
          case 'sched.init':
            cpus = Math.max(cpus, a[0]);
            break;
          case 'sched.add': {
            // The n-th vCPU added is global vCPU n (schedulerPort.ts).
            const index = added++;
            const v = vcpus[index];
            if (v === undefined) newVcpu(index, a[0], a[1], t);
            else v.pcpu = a[1];
            seeCpu(a[1]);
            break;
          }
          case 'vcpu.state': {
            const v = vcpus[a[0]] ?? newVcpu(a[0], a[1], -1, t);
            const from = v.state;
            const to = a[2];
            const cpu = Math.max(v.pcpu, 0);
            if (to === RUNNABLE && from === BLOCKED) {
              const tsc = tscOf(t);
              file.record(cpu, TRC_SCHED_WAKE, tsc, [v.domain, v.id]);
              if (v.runstate === RUNSTATE_BLOCKED) {
                runstate(cpu, tsc, v.domain, v.id, RUNSTATE_BLOCKED, RUNSTATE_RUNNABLE);
                v.runstate = RUNSTATE_RUNNABLE;
              }
            }
            if (to === BLOCKED && from !== BLOCKED)
              file.record(cpu, TRC_SCHED_BLOCK, tscOf(t), [v.domain, v.id]);
            if (to === RUNNABLE && from !== RUNNABLE) v.runnableSinceNs = t;
            if (to === RUNNING && from !== RUNNING)
              v.waitedNs = from === RUNNABLE ? t - v.runnableSinceNs : 0;
            v.state = to;
            break;
          }
          case 'cpu.switch': {
            const p = a[0];
            const prev = a[1];
            const next = a[2];
            seeCpu(p);
            const pv = prev === IDLE ? undefined : vcpus[prev];
            const nv = next === IDLE ? undefined : vcpus[next];
            if ((prev !== IDLE && pv === undefined) || (next !== IDLE && nv === undefined)) {
              skipped++; // a vCPU the log never introduced: its domain is unknown
              break;
            }
            if (nv !== undefined && nv.pcpu < 0) nv.pcpu = p;
            const pd = pv?.domain ?? DOMID_IDLE;
            const pi = pv?.id ?? p;
            const tsc = tscOf(t);
            // Xen's "now - state_entry_time": since it was switched in, across decisions that kept it.
            const ranNs = t - (runningSince[p] ?? 0);
            current[p] = next;
            if (prev === next) {
              file.record(p, TRC_SCHED_SWITCH_INFCONT, tsc, [pd, pi, ranNs, a[3]]);
              continueRunning(p, tsc, pd, pi);
              break;
            }
            const nd = nv?.domain ?? DOMID_IDLE;
            const ni = nv?.id ?? p;
            file.record(p, TRC_SCHED_SWITCH_INFPREV, tsc, [pd, pi, ranNs]);
            file.record(p, TRC_SCHED_SWITCH_INFNEXT, tsc, [nd, ni, nv?.waitedNs ?? 0, a[3]]);
            file.record(p, TRC_SCHED_SWITCH, tsc, [pd, pi, nd, ni]);
            // sched_switch_units(): prev leaves running (blocked, or runnable if it still has
            // work; the idle vCPU is always runnable), then next enters it.
            if (pv === undefined) {
              runstate(p, tsc, pd, pi, RUNSTATE_RUNNING, RUNSTATE_RUNNABLE);
            } else {
              const to = pv.state === BLOCKED ? RUNSTATE_BLOCKED : RUNSTATE_RUNNABLE;
              runstate(p, tsc, pd, pi, pv.runstate, to);
              pv.runstate = to;
            }
            if (nv === undefined) {
              runstate(p, tsc, nd, ni, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING);
            } else {
              runstate(p, tsc, nd, ni, nv.runstate, RUNSTATE_RUNNING);
              nv.runstate = RUNSTATE_RUNNING;
            }
            runningSince[p] = t;
            break;
          }
          default:
            skipped++;
        }
        return undefined;
      },
    });
    // The last stretch on each pCPU, up to the end of the run (of the log, if it is cut short).
    const endNs = result.complete ? Math.max(lastNs, durationNs) : lastNs;
    const endTsc = tscOf(endNs);
    current.forEach((c, p) => {
      const v = c === IDLE ? undefined : vcpus[c];
      continueRunning(p, endTsc, v?.domain ?? DOMID_IDLE, v?.id ?? p);
    });
    file.finish();
    const damage = result.damage;
    return {
      records: file.records,
      cpus,
      skipped,
      ...(damage ? { damage: `${damage.message} at byte ${damage.offset} (record ${damage.seq})` } : {}),
    };
  } catch (err) {
    file.abandon();
    throw err;
  }
}
