/**
 * Export a log as a binary trace in the layout Xen's `xentrace` writes, so that Xen's
 * own trace tools (xentrace_format, xenalyze) read a simulated run.
 *
 * Layout (xen/include/public/trace.h, tools/xentrace/xentrace.c; little-endian):
 * - a record is a 32-bit header word — event id in bits 0–27, the number of extra
 *   words in bits 28–30, bit 31 set when a TSC follows — then the TSC as two 32-bit
 *   words (low, high), then the extra words;
 * - the records of one physical CPU come in batches, each preceded by a
 *   `TRC_TRACE_CPU_CHANGE` record without TSC whose two extra words are the CPU and the
 *   byte count of the batch, as xentrace writes each per-CPU buffer window.
 *
 * Events, with the extra words Xen 4.x's scheduler gives them (xen/common/schedule.c,
 * before the TRACE_TIME packing of 4.19):
 * - `TRC_SCHED_DOM_ADD` [domid] when a domain's first vCPU joins the scheduler;
 * - `TRC_SCHED_WAKE` / `TRC_SCHED_BLOCK` [domid, vcpuid] when a vCPU becomes runnable /
 *   blocks (from `vcpu.state`);
 * - on every switch to a different vCPU (`cpu.switch`): `TRC_SCHED_SWITCH_INFPREV`
 *   [prev domid, prev vcpuid, ns it ran], `TRC_SCHED_SWITCH_INFNEXT` [next domid, next
 *   vcpuid, ns it waited runnable (0 if it was not), its slice ns], `TRC_SCHED_SWITCH`
 *   [prev domid, prev vcpuid, next domid, next vcpuid]. The idle vCPU is domain
 *   DOMID_IDLE with the pCPU's number as vCPU id, as Xen's idle vCPUs are.
 * Times in extra words are nanoseconds truncated to 32 bits, as Xen's are. The TSC is
 * the simulated time at `cpuKhz` (default 2.8 GHz, the paper's machines).
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { xentrace } from '@isosim/actors';
import { scanLog } from '@isosim/core';

const { DOMID_IDLE, TRC_SCHED_BLOCK, TRC_SCHED_DOM_ADD, TRC_SCHED_SWITCH, TRC_TRACE_CPU_CHANGE } = xentrace;
const { TRC_SCHED_SWITCH_INFNEXT, TRC_SCHED_SWITCH_INFPREV, TRC_SCHED_WAKE } = xentrace;

export const TRACE_EXTRA_SHIFT = 28;
export const TRACE_CYCLES_FLAG = 0x80000000;

export interface XentraceResult {
  readonly records: number;
  readonly cpus: number;
  readonly skipped: number;
  readonly damage?: string;
}

/** Per-CPU record bytes, flushed as batches behind CPU_CHANGE records. */
class Writer {
  private readonly fd: number;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private batchCpu = -1;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  records = 0;

  constructor(readonly path: string) {
    this.fd = openSync(`${path}.partial`, 'w');
  }

  record(cpu: number, event: number, tsc: bigint, extra: readonly number[]): void {
    if (cpu !== this.batchCpu) this.endBatch(cpu);
    const b = Buffer.alloc(12 + 4 * extra.length);
    b.writeUInt32LE(
      ((event & 0x0fffffff) | (extra.length << TRACE_EXTRA_SHIFT) | TRACE_CYCLES_FLAG) >>> 0,
      0,
    );
    b.writeUInt32LE(Number(tsc & 0xffffffffn), 4);
    b.writeUInt32LE(Number((tsc >> 32n) & 0xffffffffn), 8);
    extra.forEach((x, i) => {
      b.writeUInt32LE(x >>> 0, 12 + 4 * i);
    });
    this.batch.push(b);
    this.batchBytes += b.length;
    this.records++;
  }

  /** Closes the current CPU's batch (writing its CPU_CHANGE record first) and starts `next`'s. */
  endBatch(next: number): void {
    if (this.batchCpu >= 0 && this.batchBytes > 0) {
      const h = Buffer.alloc(12);
      h.writeUInt32LE((TRC_TRACE_CPU_CHANGE | (2 << TRACE_EXTRA_SHIFT)) >>> 0, 0);
      h.writeUInt32LE(this.batchCpu, 4);
      h.writeUInt32LE(this.batchBytes, 8);
      this.push(h);
      for (const b of this.batch) this.push(b);
    }
    this.batch = [];
    this.batchBytes = 0;
    this.batchCpu = next;
  }

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    writeSync(this.fd, Buffer.concat(this.chunks));
    this.chunks.length = 0;
    this.size = 0;
  }

  close(): void {
    this.endBatch(-1);
    this.flush();
    closeSync(this.fd);
    renameSync(`${this.path}.partial`, this.path);
  }
}

export function exportXentrace(
  logPath: string,
  outPath: string,
  options: { cpuKhz?: number } = {},
): XentraceResult {
  const khz = BigInt(options.cpuKhz ?? 2_800_000);
  const out = new Writer(outPath);
  const tsc = (ns: number): bigint => (BigInt(ns) * khz) / 1_000_000n;
  /** Per global vCPU index: domain, vCPU id within its domain, pCPU, state, since when. */
  const vcpus: {
    domain: number;
    id: number;
    pcpu: number;
    state: number;
    sinceNs: number;
    /** At its last stop running: how long it ran. At its last start: how long it waited runnable. */
    ranNs: number;
    waitedNs: number;
  }[] = [];
  const perDomain = new Map<number, number>();
  const idleSince: number[] = [];
  let pcpus = 0;
  let skipped = 0;
  const ids = (v: number, pcpu: number): [number, number] =>
    v < 0 ? [DOMID_IDLE, pcpu] : [vcpus[v]?.domain ?? DOMID_IDLE, vcpus[v]?.id ?? 0];

  const result = scanLog(logPath, {
    onRecord: (r, d) => {
      const type = d.typeName(r.type);
      const t = r.timeNs;
      switch (type) {
        case 'sched.init':
          pcpus = r.values[0];
          return undefined;
        case 'sched.add': {
          const domain = r.values[0];
          const pcpu = r.values[1];
          const id = perDomain.get(domain) ?? 0;
          perDomain.set(domain, id + 1);
          vcpus.push({ domain, id, pcpu, state: 0, sinceNs: t, ranNs: 0, waitedNs: 0 });
          pcpus = Math.max(pcpus, pcpu + 1);
          if (id === 0) out.record(pcpu, TRC_SCHED_DOM_ADD, tsc(t), [domain]);
          return undefined;
        }
        case 'vcpu.state': {
          const v = vcpus[r.values[0]];
          if (v === undefined) return undefined;
          const state = r.values[2];
          if (state === 1 && v.state === 0) out.record(v.pcpu, TRC_SCHED_WAKE, tsc(t), [v.domain, v.id]);
          else if (state === 0 && v.state !== 0)
            out.record(v.pcpu, TRC_SCHED_BLOCK, tsc(t), [v.domain, v.id]);
          if (v.state === 2 && state !== 2) v.ranNs = t - v.sinceNs;
          if (state === 2) v.waitedNs = v.state === 1 ? t - v.sinceNs : 0;
          v.state = state;
          v.sinceNs = t;
          return undefined;
        }
        case 'cpu.switch': {
          const [p, prev, next, runNs] = [r.values[0], r.values[1], r.values[2], r.values[3]];
          if (prev === next) return undefined;
          const [pd, pv] = ids(prev, p);
          const [nd, nv] = ids(next, p);
          // vcpu.state records for both came just before this switch (hypervisor.ts).
          const ranNs = prev >= 0 ? (vcpus[prev]?.ranNs ?? 0) : t - (idleSince[p] ?? 0);
          const waited = next >= 0 ? (vcpus[next]?.waitedNs ?? 0) : 0;
          if (next < 0) idleSince[p] = t;
          out.record(p, TRC_SCHED_SWITCH_INFPREV, tsc(t), [pd, pv, ranNs]);
          out.record(p, TRC_SCHED_SWITCH_INFNEXT, tsc(t), [nd, nv, waited, runNs]);
          out.record(p, TRC_SCHED_SWITCH, tsc(t), [pd, pv, nd, nv]);
          return undefined;
        }
        default:
          skipped++;
          return undefined;
      }
    },
  });
  out.close();
  return {
    records: out.records,
    cpus: pcpus,
    skipped,
    ...(result.damage ? { damage: `${result.damage.message} at byte ${result.damage.offset}` } : {}),
  };
}
