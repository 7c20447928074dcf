/**
 * Export a log as Chrome trace-event JSON, which ui.perfetto.dev (and chrome://tracing)
 * open: the simulated host as a timeline.
 *
 * - Process "pCPUs": a track per pCPU with a slice per stretch a domain runs, named
 *   after it (from `cpu.switch`); on a driver domain's slices, nested slices for each
 *   stretch of its work, `for <guest>` on a guest's behalf or `own work`, with
 *   `args.onBehalfOf` naming the principal and `args.driver` the driver domain (from
 *   `cpu.timer`, which names the principal of the work item it ends). A stretch cut
 *   short because the driver domain was descheduled in the middle of a work item has
 *   no timer of its own: the item is still at the head of that vCPU's queue when it
 *   runs again, so the next `cpu.timer` on that vCPU names its principal, and the cut
 *   stretch gets its slice then (`args.preempted`). The driver domain's work is all
 *   kernel work, which nothing
 *   overtakes in its queue, so this is exact: per principal, the slices add up to the
 *   hypervisor's accounting to the nanosecond. The driver domains are the scenario's
 *   `role: "idd"` domains when the log's header has the scenario, else the domains
 *   whose vCPUs do work for another principal (found by a first pass over the log).
 * - Process "counters": per domain, SEDF's remaining slice and outstanding debt (the
 *   scheduler context folded from the log), the driver domain's CPU for it per 100 ms
 *   (XenMon's samples: true and estimated, percent), and its ring occupancy at each
 *   netback poll.
 * - Instant events for ShareGuard's blocks and restores and for every packet drop.
 * - Flow arrows for virtual interrupts: from the `evtchn.send` that raised a port to
 *   the `evtchn.pending` that handed it to the domain's driver actor.
 *
 * Several driver domains and disks (issue 16):
 * - Every driver domain's work is sliced as above (`onBehalfOf` on each), not only
 *   domain 0's: all the scenario's `role: "idd"` domains (ids from `hostLayout`).
 * - Process "disk <name>" per disk: a slice per block request, from when blkback
 *   submitted it to the block layer to when the device completed it, named
 *   `<guest> read` or `<guest> write` (`args`: disk, guest, op, sectors, bytes,
 *   latencyUs), and a counter `<disk> in flight` (dispatched to the device, not yet
 *   completed). The records carry no request id: `disk.dispatch` has (guest, op,
 *   sector, sectors) and `disk.complete` (guest, op, sectors, latencyNs), and the
 *   deadline and CFQ elevators complete a guest's requests out of order, so pairing a
 *   completion with its dispatch would be a guess. Each slice is built from its
 *   completion alone, which is exact: it ends at the completion and begins
 *   `latencyNs` earlier, at the submission (the latency counts from there, the
 *   elevator's queueing included). Requests overlap, so they are async slices
 *   (`b`/`e`, one id each): Perfetto lays a process's slices of one name out on as
 *   few rows as they need, so each disk shows a track per guest and direction. A
 *   request still in flight when the log (or the window) ends has no slice; the
 *   counter shows it.
 * - Counters `<domain> <driver> CPU true %` / `est %` per 100 ms from XenMon's
 *   per-driver samples (`xenmon.idd`), besides the sums over drivers.
 * - ShareGuard's instants from a driver domain's own ShareGuard (`shareguard.<driver>`)
 *   name that driver (`args.driver`).
 *
 * Times are microseconds (the format's unit), with nanosecond precision kept as
 * decimals. The output is written as a stream, one event per line.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import type { LogDictionary, LogHeader, LogRecord } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { hostLayout } from '../layout.ts';
import { diskName, World } from '../world.ts';

const PCPUS_PID = 1;
const COUNTERS_PID = 2;
const EVENTS_PID = 3;
/** Disk i (the scenario's order, then the order the log shows others in) is process 4 + i. */
const DISKS_PID = 4;
/** `disk.complete`'s `op` values (DiskOp in @isosim/actors). */
const DISK_OPS = ['read', 'write'] as const;
const SECTOR_BYTES = 512;

export interface PerfettoResult {
  readonly records: number;
  readonly events: number;
  readonly complete: boolean;
  readonly damage?: string;
}

class JsonStream {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  events = 0;
  constructor(readonly path: string) {
    this.fd = openSync(`${path}.partial`, 'w');
    writeSync(this.fd, '{"displayTimeUnit":"ns","traceEvents":[\n');
  }
  push(e: object): void {
    const line = `${this.events === 0 ? '' : ',\n'}${JSON.stringify(e)}`;
    this.events++;
    this.buf.push(line);
    this.size += line.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    writeSync(this.fd, '\n]}\n');
    closeSync(this.fd);
    renameSync(`${this.path}.partial`, this.path);
  }
}

const us = (ns: number): number => ns / 1000;

/** One trace event (the format's fields; the rest in `args`). */
interface TraceEvent {
  readonly ph: string;
  readonly ts?: number;
  readonly dur?: number;
  readonly [key: string]: unknown;
}

export interface PerfettoOptions {
  /** Only events in [fromNs, toNs] (default: the whole run); the state is still folded from 0. */
  readonly fromNs?: number;
  readonly toNs?: number;
}

/** A stretch a driver domain's vCPU ran on `pcpu` whose principal the log names later. */
interface Stretch {
  readonly pcpu: number;
  readonly fromNs: number;
  readonly toNs: number;
}

/**
 * The driver domains of the log at `logPath`: every `role: "idd"` domain of the
 * scenario if the header has it (domains 0..k), else every domain whose vCPUs run work
 * for another principal (a pass over the log's `sched.add`, `vcpu.state`, `cpu.switch`
 * and `cpu.timer`).
 */
export function driverDomains(logPath: string, header: LogHeader): Set<number> {
  const found = new Set(hostLayout(header).drivers);
  if (found.size > 0) return found;
  const domainOf: number[] = [];
  const running: number[] = [];
  let added = 0;
  scanLog(logPath, {
    onRecord: (r, d) => {
      switch (d.typeName(r.type)) {
        case 'sched.add':
          domainOf[added++] ??= r.values[0];
          break;
        case 'vcpu.state':
          domainOf[r.values[0]] = r.values[1];
          break;
        case 'cpu.switch':
          running[r.values[0]] = r.values[2];
          break;
        case 'cpu.timer': {
          const domain = domainOf[running[r.values[0]] ?? -1] ?? -1;
          if (domain >= 0 && r.values[1] >= 0 && r.values[1] !== domain) found.add(domain);
          break;
        }
      }
      return undefined;
    },
  });
  return found;
}

export function exportPerfetto(
  logPath: string,
  outPath: string,
  options: PerfettoOptions = {},
): PerfettoResult {
  const fromNs = options.fromNs ?? 0;
  const toNs = options.toNs ?? Number.POSITIVE_INFINITY;
  const stream = new JsonStream(outPath);
  let now = 0;
  // Metadata always; timed events only inside the window (slices clipped to it).
  const out = {
    push(e: TraceEvent): void {
      const ts = e.ts ?? 0;
      if (e.ph === 'M') {
        stream.push(e);
      } else if (e.ph === 'X') {
        const end = ts + (e.dur ?? 0);
        if (end < us(fromNs) || ts > us(toNs)) return;
        const a = Math.max(ts, us(fromNs));
        const b = Math.min(end, us(toNs));
        stream.push({ ...e, ts: a, dur: b - a });
      } else if (now >= fromNs && now <= toNs) {
        stream.push(e);
      }
    },
  };
  const world = new World();
  let names: string[] = [];
  let drivers = new Set<number>();
  /** The run's length from the header's scenario (ns), if it has one. */
  let durationNs = 0;
  const dom = (id: number): string => names[id] ?? `dom${id}`;
  /** Disk name → its process id. */
  const disks = new Map<string, number>();
  const diskPid = (name: string): number => {
    let pid = disks.get(name);
    if (pid === undefined) {
      pid = DISKS_PID + disks.size;
      disks.set(name, pid);
      out.push({ name: 'process_name', ph: 'M', pid, args: { name: `disk ${name}` } });
    }
    return pid;
  };
  let requestId = 0;
  /** One block request's slice [fromNs, toNs], clipped to the window (none if outside it). */
  const request = (pid: number, name: string, fromNs0: number, toNs0: number, args: object): void => {
    if (toNs0 < fromNs || fromNs0 > toNs) return;
    const id = ++requestId;
    const a = us(Math.max(fromNs0, fromNs));
    const b = us(Math.min(toNs0, toNs));
    stream.push({ name, cat: 'disk', ph: 'b', id, pid, tid: 0, ts: a, args });
    stream.push({ name, cat: 'disk', ph: 'e', id, pid, tid: 0, ts: b });
  };
  /**
   * The domain an actor or channel set belongs to: the longest domain name it starts
   * with, followed by `.` (`cache.1.netfront` is domain `cache.1`'s; names may hold dots).
   */
  const owners = new Map<string, string>();
  const ownerOf = (actor: string): string => {
    let owner = owners.get(actor);
    if (owner === undefined) {
      owner = '';
      for (const n of names)
        if (n.length > owner.length && (actor === n || actor.startsWith(`${n}.`))) owner = n;
      if (owner === '') owner = actor.split('.')[0];
      owners.set(actor, owner);
    }
    return owner;
  };
  /** Per pCPU: the open slice (vCPU, start) and the start of the current work stretch. */
  const open: { vcpu: number; startNs: number; workNs: number }[] = [];
  /** Per vCPU of a driver domain: stretches cut short by a deschedule, principal not yet known. */
  const pending = new Map<number, Stretch[]>();
  const driverDomainOf = (vcpu: number): number => {
    const domain = vcpu >= 0 ? (world.s.vcpus[vcpu]?.domain ?? -1) : -1;
    return drivers.has(domain) ? domain : -1;
  };
  const workSlice = (
    s: Stretch,
    vcpu: number,
    domain: number,
    principal: number,
    preempted: boolean,
  ): void => {
    const attributed = principal >= 0;
    out.push({
      name: !attributed ? 'unattributed work' : principal === domain ? 'own work' : `for ${dom(principal)}`,
      ph: 'X',
      pid: PCPUS_PID,
      tid: s.pcpu,
      ts: us(s.fromNs),
      dur: us(s.toNs - s.fromNs),
      args: attributed
        ? { onBehalfOf: dom(principal), driver: dom(domain), vcpu, ...(preempted ? { preempted: true } : {}) }
        : {
            driver: dom(domain),
            vcpu,
            note: 'the log ends before this work item does, so it does not say whose work it is',
          },
    });
  };
  /** Keeps the stretch [workNs, atNs) of the driver vCPU on `p` until a timer names its principal. */
  const cut = (p: number, atNs: number): void => {
    const o = open[p];
    if (o === undefined || atNs <= o.workNs || driverDomainOf(o.vcpu) < 0) return;
    const list = pending.get(o.vcpu) ?? [];
    list.push({ pcpu: p, fromNs: o.workNs, toNs: atNs });
    pending.set(o.vcpu, list);
    o.workNs = atNs;
  };
  /** Per (domain, counter): the last value written. */
  const last = new Map<string, number>();
  /** Per event-channel actor target: pending flow ids waiting for their delivery. */
  const flows = new Map<string, number[]>();
  let flowId = 0;
  const counter = (name: string, ts: number, value: number, pid = COUNTERS_PID): void => {
    if (last.get(name) === value && ts > fromNs) return;
    last.set(name, value);
    out.push({ name, ph: 'C', pid, ts: us(ts), args: { value } });
  };
  const trackOf = (r: LogRecord, d: LogDictionary): { pid: number; tid: number } => {
    // A driver actor's events go on the pCPU its domain's vCPU runs on, if it runs now.
    const target = d.name(r.target);
    const domName = ownerOf(target);
    const id = names.indexOf(domName);
    for (let p = 0; p < world.s.pcpus.length; p++) {
      const v = world.s.pcpus[p]?.vcpu ?? -1;
      if (v >= 0 && world.s.vcpus[v]?.domain === id) return { pid: PCPUS_PID, tid: p };
    }
    return { pid: EVENTS_PID, tid: Math.max(0, id) };
  };
  const closeSlice = (p: number, atNs: number): void => {
    const o = open[p];
    if (o === undefined || o.vcpu < 0) return;
    const domain = world.s.vcpus[o.vcpu]?.domain ?? -1;
    out.push({
      name: dom(domain),
      ph: 'X',
      pid: PCPUS_PID,
      tid: p,
      ts: us(o.startNs),
      dur: us(atNs - o.startNs),
      args: { vcpu: o.vcpu, domain: dom(domain) },
    });
  };

  const result = scanLog(logPath, {
    onHeader: (h) => {
      const layout = hostLayout(h);
      names = [...layout.domains];
      drivers = driverDomains(logPath, h);
      durationNs = layout.durationNs;
      out.push({ name: 'process_name', ph: 'M', pid: PCPUS_PID, args: { name: 'pCPUs' } });
      out.push({ name: 'process_name', ph: 'M', pid: COUNTERS_PID, args: { name: 'counters' } });
      out.push({ name: 'process_name', ph: 'M', pid: EVENTS_PID, args: { name: 'domains (not running)' } });
      names.forEach((n, i) => {
        out.push({ name: 'thread_name', ph: 'M', pid: EVENTS_PID, tid: i, args: { name: n } });
      });
      for (const disk of layout.disks) diskPid(disk);
    },
    onRecord: (r, d) => {
      const type = d.typeName(r.type);
      const t = r.timeNs;
      now = t;
      if (t > toNs + 1e9) return false;
      switch (type) {
        case 'sched.init':
          for (let p = 0; p < r.values[0]; p++)
            out.push({ name: 'thread_name', ph: 'M', pid: PCPUS_PID, tid: p, args: { name: `pCPU ${p}` } });
          break;
        case 'cpu.switch': {
          const p = r.values[0];
          const next = r.values[2];
          if (open[p]?.vcpu !== next) {
            // A driver vCPU switched out with no timer now stopped in the middle of an item.
            cut(p, t);
            closeSlice(p, t);
            open[p] = { vcpu: next, startNs: t, workNs: t };
          }
          break;
        }
        case 'cpu.timer': {
          const p = r.values[0];
          const principal = r.values[1];
          const o = open[p];
          const domain = o === undefined ? -1 : driverDomainOf(o.vcpu);
          if (o !== undefined && domain >= 0 && principal >= 0) {
            // The item this timer ends is the one every cut stretch of this vCPU was running.
            for (const c of pending.get(o.vcpu) ?? []) workSlice(c, o.vcpu, domain, principal, true);
            pending.delete(o.vcpu);
            if (t > o.workNs)
              workSlice({ pcpu: p, fromNs: o.workNs, toNs: t }, o.vcpu, domain, principal, false);
          }
          if (o !== undefined) o.workNs = t;
          break;
        }
        case 'xenmon.sample':
          counter(`${dom(r.values[0])} IDD CPU true %`, t, r.values[3] / 1e6);
          counter(`${dom(r.values[0])} IDD CPU est %`, t, r.values[2] / 1e6);
          break;
        case 'xenmon.idd': {
          const [driver, domain, estNs, trueNs] = r.values;
          counter(`${dom(domain)} ${dom(driver)} CPU true %`, t, trueNs / 1e6);
          counter(`${dom(domain)} ${dom(driver)} CPU est %`, t, estNs / 1e6);
          break;
        }
        case 'disk.complete': {
          const [guest, op, sectors, latencyNs] = r.values;
          const disk = diskName(d.name(r.target));
          const what = DISK_OPS[op] ?? `op ${op}`;
          request(diskPid(disk), `${dom(guest)} ${what}`, t - latencyNs, t, {
            disk,
            guest: dom(guest),
            op: what,
            sectors,
            bytes: sectors * SECTOR_BYTES,
            latencyUs: us(latencyNs),
          });
          break;
        }
        case 'ring.occupancy':
          counter(`${dom(r.values[0])} tx ring requests`, t, r.values[1]);
          counter(`${dom(r.values[0])} rx buffers posted`, t, r.values[2]);
          break;
        case 'shareguard.block':
        case 'shareguard.restore': {
          // A driver domain's own ShareGuard (several driver domains) logs from `shareguard.<driver>`.
          const endpoint = d.name(r.target);
          const driver = endpoint.startsWith('shareguard.')
            ? endpoint.slice('shareguard.'.length)
            : undefined;
          const by = driver === undefined ? {} : { driver };
          out.push({
            name: `${type} ${dom(r.values[0])}${driver === undefined ? '' : ` (${driver})`}`,
            ph: 'i',
            s: 'g',
            pid: EVENTS_PID,
            tid: r.values[0],
            ts: us(t),
            args:
              type === 'shareguard.block'
                ? { guest: dom(r.values[0]), tdefMs: r.values[1] / 1e6, usedPct: r.values[2] / 1e4, ...by }
                : { guest: dom(r.values[0]), ...by },
          });
          break;
        }
        case 'net.drop':
          out.push({
            name: 'drop',
            ph: 'i',
            s: 't',
            pid: EVENTS_PID,
            tid: r.values[0],
            ts: us(t),
            args: { guest: dom(r.values[0]), reason: r.values[1] },
          });
          break;
        case 'evtchn.send': {
          // The channel set named DOM.evtchn is the receiver's; the arrow starts where
          // the sender runs (its endpoint is the record's source).
          const receiver = ownerOf(d.name(r.target));
          const id = ++flowId;
          const list = flows.get(receiver) ?? [];
          list.push(id);
          flows.set(receiver, list);
          const src = { ...r, target: r.source } as LogRecord;
          const tr = trackOf(src, d);
          out.push({ name: 'virq', cat: 'evtchn', ph: 's', id, ...tr, ts: us(t) });
          break;
        }
        case 'evtchn.pending': {
          const receiver = ownerOf(d.name(r.target));
          const list = flows.get(receiver);
          if (list && list.length > 0) {
            const tr = trackOf(r, d);
            for (const id of list)
              out.push({ name: 'virq', cat: 'evtchn', ph: 'f', bp: 'e', id, ...tr, ts: us(t) });
            list.length = 0;
          }
          break;
        }
      }
      world.apply(r, d);
      if (type === 'disk.dispatch' || type === 'disk.complete') {
        const disk = diskName(d.name(r.target));
        const inFlight = Object.hasOwn(world.s.disks, disk) ? world.s.disks[disk].inFlight : 0;
        counter(`${disk} in flight`, t, inFlight, diskPid(disk));
      }
      if (type === 'sched.do_schedule' || type === 'sched.debt' || type === 'sched.init') {
        const vcpus = (world.s.scheduler?.context.state as { vcpus?: Record<string, number>[] } | undefined)
          ?.vcpus;
        vcpus?.forEach((v, i) => {
          const name = dom(typeof v.domain === 'number' ? v.domain : (world.s.vcpus[i]?.domain ?? i));
          if (typeof v.debtNs === 'number') counter(`${name} debt ms`, t, v.debtNs / 1e6);
          if (typeof v.remainingNs === 'number') counter(`${name} slice left ms`, t, v.remainingNs / 1e6);
        });
      }
      return undefined;
    },
  });
  // A whole log ends at the run's end (the header's length), which may be after its last record.
  const endNs = Math.min(result.complete ? Math.max(world.s.timeNs, durationNs) : world.s.timeNs, toNs);
  for (let p = 0; p < open.length; p++) {
    cut(p, endNs);
    closeSlice(p, endNs);
  }
  for (const [vcpu, list] of pending) {
    const domain = driverDomainOf(vcpu);
    for (const c of list) workSlice(c, vcpu, domain, -1, false);
  }
  stream.close();
  return {
    records: result.records,
    events: stream.events,
    complete: result.complete,
    ...(result.damage ? { damage: `${result.damage.message} at byte ${result.damage.offset}` } : {}),
  };
}
