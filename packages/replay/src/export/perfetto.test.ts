/**
 * The Perfetto export against the hypervisor's ground truth, on a host where the driver
 * domain is descheduled in the middle of its work items: per domain, the pCPU slices
 * add up to the domain's CPU, and per principal, the driver domain's work slices add
 * up to its accounted time for that principal, to the nanosecond.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XenSystem } from '@isosim/actors';
import { NS_PER_S } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cutsInLog, runExportHost } from './exportHost.testkit.ts';
import { driverDomains, exportPerfetto } from './perfetto.ts';

interface Slice {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur: number;
  args: { domain?: string; onBehalfOf?: string; preempted?: boolean; vcpu?: number };
}

const dir = mkdtempSync(join(tmpdir(), 'isosim-perfetto-'));

function slices(path: string): Slice[] {
  const trace = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: Slice[] };
  return trace.traceEvents.filter((e) => e.ph === 'X' && e.pid === 1);
}

/** ns per key; each slice's duration is rounded to whole ns first (µs decimals are exact to far below 1 ns). */
function sumNs(list: Slice[], key: (s: Slice) => string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of list) {
    const k = key(s);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + Math.round(s.dur * 1000));
  }
  return m;
}

/** Truth over [0, toNs): per domain name, its CPU, and the driver domain's time for it. */
function truth(sys: XenSystem, toNs: number): { cpu: Map<string, number>; idd: Map<string, number> } {
  const acc = sys.xen.accounting;
  const cpu = new Map<string, number>();
  const idd = new Map<string, number>();
  for (const d of sys.xen.domains) {
    cpu.set(d.name, acc.cpuBetween(d.id, 0, toNs));
    idd.set(d.name, acc.iddBetween(d.id, 0, toNs));
  }
  return { cpu, idd };
}

describe('exportPerfetto: the driver domain work slices against the accounting', () => {
  const log = join(dir, 'host.isolog');
  let sys: XenSystem;
  const T = NS_PER_S;

  beforeAll(() => {
    sys = runExportHost(log, 1.2);
  });

  it('runs a host where the driver domain is descheduled in the middle of work items', () => {
    expect(sys.idd.vcpus.length).toBe(2);
    expect(cutsInLog(log)[sys.idd.id]).toBeGreaterThan(50);
  });

  it('gives each guest its driver-domain time and each domain its CPU, to the nanosecond', () => {
    const out = join(dir, 'window.json');
    exportPerfetto(log, out, { toNs: T });
    const all = slices(out);
    const { cpu, idd } = truth(sys, T);
    const names = sys.xen.domains.map((d) => d.name);
    expect(names).toEqual(['driver', 'web.a', 'sender', 'batch']);

    const ran = sumNs(all, (s) => s.args.domain);
    for (const n of names) expect(ran.get(n) ?? 0, `${n} CPU`).toBe(cpu.get(n));

    const work = all.filter((s) => s.args.onBehalfOf !== undefined);
    const forGuest = sumNs(work, (s) => (s.name.startsWith('for ') ? s.args.onBehalfOf : undefined));
    for (const n of names.filter((x) => x !== 'driver'))
      expect(forGuest.get(n) ?? 0, `driver for ${n}`).toBe(idd.get(n));
    expect(forGuest.get('web.a')).toBeGreaterThan(0.05 * T);
    expect(forGuest.get('sender')).toBeGreaterThan(0.01 * T);
    // `own work`: the driver domain's own principal (interrupt handling, netback's bookkeeping).
    const own = sumNs(work, (s) => (s.name === 'own work' ? s.args.onBehalfOf : undefined));
    expect([...own.keys()]).toEqual(['driver']);
    expect(own.get('driver')).toBe(idd.get('driver'));
    // The driver's slices are all work: own plus for each guest.
    let total = 0;
    for (const v of forGuest.values()) total += v;
    expect(total + (own.get('driver') ?? 0)).toBe(cpu.get('driver'));

    // Stretches cut by a deschedule got their slices, on both of the driver's vCPUs.
    const cut = work.filter((s) => s.args.preempted === true);
    expect(cut.length).toBeGreaterThan(50);
    expect(all.some((s) => s.name === 'unattributed work')).toBe(false);
    expect(new Set(work.map((s) => s.tid))).toEqual(new Set([0, 1]));
  });

  it('puts the virtual interrupts of a domain whose name has a dot on the pCPUs it runs on', () => {
    // `web.a.netfront` is domain `web.a`'s (names may hold dots); split at the first dot
    // it was domain `web`'s, which does not exist, and its arrows ended on another track.
    const events = (
      JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as {
        traceEvents: { name: string; ph: string; pid: number }[];
      }
    ).traceEvents;
    const ends = events.filter((e) => e.name === 'virq' && e.ph === 'f');
    expect(ends.length).toBeGreaterThan(0);
    const onPcpus = ends.filter((e) => e.pid === 1).length;
    expect(onPcpus / ends.length).toBeGreaterThan(0.9);
  });

  it('nests every work slice inside a slice of the driver domain on the same pCPU', () => {
    const all = slices(join(dir, 'window.json'));
    for (const tid of [0, 1]) {
      const top = all.filter((s) => s.tid === tid && s.args.domain === 'driver').sort((a, b) => a.ts - b.ts);
      const work = all.filter((s) => s.tid === tid && s.args.onBehalfOf !== undefined);
      expect(work.length).toBeGreaterThan(0);
      const starts = top.map((s) => s.ts);
      for (const w of work) {
        // The last driver slice starting at or before w.
        let lo = 0;
        let hi = starts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (starts[mid] <= w.ts + 1e-6) lo = mid;
          else hi = mid - 1;
        }
        const parent = top[lo];
        expect(parent.ts).toBeLessThanOrEqual(w.ts + 1e-6);
        expect(parent.ts + parent.dur).toBeGreaterThanOrEqual(w.ts + w.dur - 1e-6);
      }
    }
  });

  it("runs to the header's run length on a whole log; only the driver's last, unfinished item is unattributed", () => {
    const out = join(dir, 'whole.json');
    const r = exportPerfetto(log, out);
    expect(r.complete).toBe(true);
    const all = slices(out);
    const end = 1.2 * NS_PER_S;
    const { cpu, idd } = truth(sys, end);
    const ran = sumNs(all, (s) => s.args.domain);
    for (const d of sys.xen.domains) expect(ran.get(d.name) ?? 0).toBe(cpu.get(d.name));
    const forGuest = sumNs(all, (s) => (s.name.startsWith('for ') ? s.args.onBehalfOf : undefined));
    const unattributed = all.filter((s) => s.name === 'unattributed work');
    let missing = 0;
    for (const n of ['web.a', 'sender', 'batch']) {
      const got = forGuest.get(n) ?? 0;
      expect(got).toBeLessThanOrEqual(idd.get(n) ?? 0);
      missing += (idd.get(n) ?? 0) - got;
    }
    const own = sumNs(all, (s) => (s.name === 'own work' ? 'driver' : undefined)).get('driver') ?? 0;
    missing += (idd.get('driver') ?? 0) - own;
    expect(missing).toBe(unattributed.reduce((n, s) => n + Math.round(s.dur * 1000), 0));
    expect(unattributed.length).toBeLessThanOrEqual(2); // at most one per driver vCPU
  });

  it('finds the driver domain from the log itself when the header has no scenario', () => {
    const plain = join(dir, 'plain.isolog');
    const sys2 = runExportHost(plain, 0.5, false);
    const header = scanLog(plain, { onRecord: () => false }).header;
    expect(driverDomains(plain, header)).toEqual(new Set([sys2.idd.id]));
    const out = join(dir, 'plain.json');
    exportPerfetto(plain, out, { toNs: 0.4 * NS_PER_S });
    const all = slices(out);
    const acc = sys2.xen.accounting;
    const forGuest = sumNs(all, (s) => (s.name.startsWith('for ') ? s.args.onBehalfOf : undefined));
    for (const g of sys2.guests) {
      expect(forGuest.get(`dom${g.domain.id}`) ?? 0).toBe(acc.iddBetween(g.domain.id, 0, 0.4 * NS_PER_S));
    }
    const own = all.filter((s) => s.name === 'own work').reduce((n, s) => n + Math.round(s.dur * 1000), 0);
    expect(own).toBe(acc.iddBetween(sys2.idd.id, 0, 0.4 * NS_PER_S));
  });
});
