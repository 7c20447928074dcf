/**
 * `xenalyze --summary`'s per-domain and per-vCPU run times, computed by
 * `xenalyzeSummary` (xenalyze.c's arithmetic) from the xentrace export of a simulated
 * host, against the run's own figures: each domain's CPU % as metrics.json computes it
 * (the hypervisor's accounting over the whole run) and each vCPU's run time from the
 * log's `cpu.switch` records (the accounting has no per-vCPU figures). The host has two
 * pCPUs, domains not named Dom-N, the driver domain second in the scenario's list, and
 * two domains with a vCPU on each pCPU.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XenSystem } from '@isosim/actors';
import { NS_PER_S } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { domainNames } from '../query.ts';
import { runExportHost } from './exportHost.testkit.ts';
import { xaCpuPct, xaSeconds, xenalyzeSummary } from './xenalyzeSummary.ts';
import { exportXentrace } from './xentrace.ts';

const IDLE_DOM = 0x7fff;
const DURATION_S = 1.2;
const dir = mkdtempSync(join(tmpdir(), 'isosim-xenalyze-'));

/** From the log: domain names by id, and each vCPU's run time (ns) as [domain, vid, ns]. */
function fromLog(path: string, endNs: number): { names: string[]; specOrder: string[]; runs: number[][] } {
  let names: string[] = [];
  let specOrder: string[] = [];
  const domainOf: number[] = [];
  const vidOf: number[] = [];
  const perDomain = new Map<number, number>();
  const ranNs: number[] = [];
  const on: { vcpu: number; since: number }[] = [];
  let added = 0;
  scanLog(path, {
    onHeader: (h) => {
      names = domainNames(h);
      specOrder = ((h.scenario.spec as { domains: { name: string }[] }).domains ?? []).map((d) => d.name);
    },
    onRecord: (r, d) => {
      const a = r.values;
      switch (d.typeName(r.type)) {
        case 'sched.add': {
          const v = added++;
          domainOf[v] = a[0];
          vidOf[v] = perDomain.get(a[0]) ?? 0;
          perDomain.set(a[0], vidOf[v] + 1);
          break;
        }
        case 'cpu.switch': {
          const cur = on[a[0]];
          if (cur !== undefined && cur.vcpu !== a[2]) {
            if (cur.vcpu >= 0) ranNs[cur.vcpu] = (ranNs[cur.vcpu] ?? 0) + r.timeNs - cur.since;
            on[a[0]] = { vcpu: a[2], since: r.timeNs };
          } else if (cur === undefined) {
            on[a[0]] = { vcpu: a[2], since: r.timeNs };
          }
          break;
        }
      }
      return undefined;
    },
  });
  for (const cur of on) if (cur.vcpu >= 0) ranNs[cur.vcpu] = (ranNs[cur.vcpu] ?? 0) + endNs - cur.since;
  return { names, specOrder, runs: domainOf.map((dom, v) => [dom, vidOf[v], ranNs[v] ?? 0]) };
}

describe('xenalyze --summary on the xentrace export, against the run', () => {
  const log = join(dir, 'host.isolog');
  const out = join(dir, 'host.bin');
  const endNs = DURATION_S * NS_PER_S;
  let sys: XenSystem;

  beforeAll(() => {
    sys = runExportHost(log, DURATION_S);
    exportXentrace(log, out); // 2.8 GHz
  });

  it('reads the whole file without a complaint xenalyze would make', () => {
    const s = xenalyzeSummary(out, { cpuHz: 2.8e9 });
    expect(s.warnings).toEqual([]);
    expect(s.pcpus).toEqual([0, 1]);
    expect(s.firstTsc).toBe(1);
    expect(s.totalCycles).toBe(Math.round(endNs * 2.8)); // "Total time: 1.20 seconds"
    // Every cycle of both pCPUs is some vCPU's running time (idle's included).
    let running = 0;
    for (const d of s.domains) for (const v of d.vcpus) running += v.runstates[0].cycles;
    expect(running).toBe(2 * s.totalCycles);
  });

  it("gives each domain metrics.json's CPU % (within 0.1 point) and each vCPU its run time", () => {
    const s = xenalyzeSummary(out, { cpuHz: 2.8e9 });
    const { names, specOrder, runs } = fromLog(log, endNs);
    expect(specOrder).toEqual(['web.a', 'driver', 'sender', 'batch']);
    expect(names).toEqual(sys.xen.domains.map((d) => d.name));
    const acc = sys.xen.accounting;
    const worst = { domain: 0, vcpu: 0 };
    for (const dom of sys.xen.domains) {
      // metrics.json: cpuBetween over the window (here the whole run), percent of one pCPU.
      const metricsPct = acc.cpuBetween(dom.id, 0, endNs) / (endNs / 100);
      const xa = s.domains.find((d) => d.did === dom.id);
      expect(xa, `${dom.name} in the summary`).toBeDefined();
      if (xa === undefined) continue;
      const pct = xaCpuPct(s, xa);
      expect(Math.abs(pct - metricsPct), `${dom.name}: ${pct} vs ${metricsPct}`).toBeLessThan(0.1);
      worst.domain = Math.max(worst.domain, Math.abs(pct - metricsPct));
      expect(metricsPct).toBeGreaterThan(1);
      for (const [d, vid, ns] of runs.filter(([d]) => d === dom.id)) {
        const v = xa.vcpus.find((x) => x.vid === vid);
        const cycles = v?.runstates[0].cycles ?? 0; // a vCPU that never ran has no records
        // Per stretch, each end's TSC is rounded: at most a cycle off per stretch.
        expect(Math.abs(cycles - ns * 2.8), `d${d}v${vid}`).toBeLessThanOrEqual(
          (v?.runstates[0].count ?? 0) + 1,
        );
        const seconds = xaSeconds(s, cycles);
        worst.vcpu = Math.max(worst.vcpu, Math.abs(seconds - ns / 1e9));
        expect(Math.abs(seconds - ns / 1e9) / DURATION_S).toBeLessThan(0.001);
      }
    }
    // Two vCPUs of the driver domain and of web.a ran; the idle domain has one per pCPU.
    expect(s.domains.find((d) => d.did === sys.idd.id)?.vcpus.length).toBe(2);
    expect(s.domains.find((d) => d.did === IDLE_DOM)?.vcpus.map((v) => v.vid)).toEqual([0, 1]);
    // Only the TSC's rounding separates them.
    expect(worst.domain).toBeLessThan(1e-3);
  });

  it('would stop, as xenalyze does, if time 0 were TSC 0 (why the export starts at TSC 1)', () => {
    const b = Buffer.from(readFileSync(out));
    for (let off = 0; off < b.length; ) {
      const end = off + 12 + b.readUInt32LE(off + 8);
      for (off += 12; off < end; off += 12 + 4 * ((b.readUInt32LE(off) >>> 28) & 7)) {
        const tsc = b.readUInt32LE(off + 4) + b.readUInt32LE(off + 8) * 2 ** 32 - 1;
        b.writeUInt32LE(tsc % 2 ** 32, off + 4);
        b.writeUInt32LE(Math.floor(tsc / 2 ** 32), off + 8);
      }
    }
    // pCPU 1 starts with a switch from idle at time 0: its idle vCPU leaves running at TSC 0.
    expect(() => xenalyzeSummary(b, { cpuHz: 2.8e9 })).toThrow(/Strange, p1 first_tsc 0!/);
  });
});
