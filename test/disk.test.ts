/**
 * Disk I/O and several driver domains (issue 16): the block path moves every request
 * (none lost, none starved), each driver domain's work is told apart and sums to the
 * whole, XenMon's per-driver estimates sum to its totals, SEDF-DC bounds the combined
 * CPU only when it counts every driver domain, block ShareGuard holds requests without
 * failing them, and a single-IDD scenario that names its NIC gives the same log as one
 * that does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  combinedShare,
  conservation,
  runHost,
  shareGuardLimits,
} from '../packages/scenarios/src/invariants.ts';

// biome-ignore lint/suspicious/noExplicitAny: scenario JSON, edited freely; isosim is what checks it
type Json = Record<string, any>;

const builtin = (name: string): Json =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'scenarios', `${name}.json`), 'utf8'));

/**
 * disk-interference on an SSD (Dom-blk's CPU the bottleneck, thousands of requests a
 * second), shortened: the writer from 0.5 s to 1.5 s of a 2 s run.
 */
function shortInterference(extra: (s: Json) => void = () => {}): Json {
  const s = builtin('disk-interference');
  s.disks = [{ name: 'sda', model: 'ssd-sata', elevator: 'deadline', queueDepth: 32 }];
  s.durationS = 2;
  delete s.window;
  s.domains[2].workloads[0].startS = 0;
  s.domains[2].workloads[0].stopS = 1.5;
  s.domains[3].workloads[0].startS = 0.5;
  s.domains[3].workloads[0].stopS = 1.5;
  extra(s);
  return s;
}

describe('the block path', () => {
  it('completes every request it is given: after draining, nothing in flight, at every stage', () => {
    const run = runHost(shortInterference(), { drain: true });
    expect(run.drained).toBe(true);
    const c = conservation(run);
    expect(c.violations).toEqual([]);
    const fronts = run.sys.guests.flatMap((g) => g.blkfronts);
    expect(fronts.length).toBe(2);
    for (const f of fronts) {
      expect(f.issued).toBeGreaterThan(1000);
      expect(f.completed).toBe(f.issued);
    }
    // The random reader's requests never merge; the sequential writer's adjacent ones do.
    const [reader, writer] = fronts;
    expect(reader.merged).toBe(0);
    expect(writer.merged).toBeGreaterThan(writer.issued);
    const disk = run.sys.disks.get('sda');
    expect(disk?.stats.submitted).toBe(fronts.reduce((n, f) => n + f.issued, 0));
  });

  it('tells each driver domain apart, and the parts sum to the whole', () => {
    const run = runHost(shortInterference());
    const acc = run.sys.xen.accounting;
    const [net, blk] = run.sys.drivers;
    expect(net.name).toBe('Dom-0');
    expect(blk.name).toBe('Dom-blk');
    for (const g of run.sys.guests) {
      const id = g.domain.id;
      const parts = run.sys.drivers.reduce((n, d) => n + (acc.iddOfDriver(d.id)[id] ?? 0), 0);
      expect(parts).toBe(acc.iddForNs[id]);
      // Exact windows per driver domain agree with the cumulative totals.
      expect(acc.iddOfDriverBetween(blk.id, id, 0, run.durationNs)).toBe(acc.iddOfDriver(blk.id)[id] ?? 0);
      // Disk guests cost the block domain, not the network one.
      expect(acc.iddOfDriver(net.id)[id] ?? 0).toBe(0);
      expect(acc.iddOfDriver(blk.id)[id]).toBeGreaterThan(0);
      // XenMon's estimate per driver domain sums to its estimate.
      const est = run.sys.drivers.reduce((n, d) => n + (run.sys.xenmon.estimatedOfDriver(d.id)[id] ?? 0), 0);
      expect(est).toBe(run.sys.xenmon.estimatedNs[id]);
      // Within 10% of the truth (block weights measured on the model, profiles.ts).
      expect(Math.abs(est - acc.iddForNs[id]) / acc.iddForNs[id]).toBeLessThan(0.1);
    }
  });

  it('block ShareGuard holds the writer: its requests wait, none fails, the bound holds', () => {
    const run = runHost(
      shortInterference((s) => {
        s.mechanisms = {
          shareGuard: { periodMs: 100, limitsPct: { 'Dom-2': { 'Dom-blk': 5 } }, source: 'truth' },
        };
      }),
      { drain: true },
    );
    const sg = run.sys.shareGuards.get(run.sys.drivers[1].id);
    expect(sg?.actions.some((a) => a.kind === 'block')).toBe(true);
    expect(shareGuardLimits(run).violations).toEqual([]);
    expect(conservation(run).violations).toEqual([]);
  });
});

describe('several driver domains under SEDF-DC', () => {
  /** two-idds, 6 s. */
  function twoIdds(drivers?: string[]): Json {
    const s = builtin('two-idds');
    s.durationS = 6;
    s.window = { startS: 1, endS: 6 };
    s.mechanisms.debt.source = 'truth';
    if (drivers) s.mechanisms.debt.drivers = drivers;
    return s;
  }

  it('holds combined CPU (own + both driver domains) within the share when both are charged', () => {
    const r = combinedShare(runHost(twoIdds()));
    expect(r.checked).toBeGreaterThan(100);
    expect(r.violations).toEqual([]);
  });

  it('does the same under Credit-DC: caps instead of slices, debt from both driver domains', () => {
    const s = twoIdds();
    s.host.scheduler = 'credit';
    const caps: Record<string, number> = { 'Dom-0': 15, 'Dom-blk': 15, 'Dom-1': 22, 'Dom-2': 0 };
    for (const d of s.domains) {
      for (const v of d.vcpus) {
        delete v.sedf;
        v.credit = { weight: 256, capPct: caps[d.name] };
      }
    }
    const run = runHost(s);
    const r = combinedShare(run);
    expect(r.checked).toBeGreaterThan(100);
    expect(r.violations).toEqual([]);
    // Both driver domains worked for Dom-1, and its debt counted both.
    const dom1 = run.sys.guest('Dom-1').domain.id;
    for (const d of run.sys.drivers)
      expect(run.sys.xen.accounting.iddOfDriver(d.id)[dom1]).toBeGreaterThan(0);
  });

  it('lets it exceed the share when only the network domain is charged', () => {
    const r = combinedShare(runHost(twoIdds(['Dom-0'])));
    expect(r.failures).toBeGreaterThan(0);
  });
});

describe('backward compatibility', () => {
  it('a single driver domain naming its NIC gives the log of one that does not', () => {
    const s = builtin('table1-sedf');
    s.durationS = 0.5;
    const plain = runHost(structuredClone(s), {});
    s.domains[0].devices = ['nic0'];
    s.disks = [];
    const named = runHost(s, {});
    expect(named.sys.xen.accounting.cpuNs).toEqual(plain.sys.xen.accounting.cpuNs);
    expect(named.sys.xenmon.estimatedNs).toEqual(plain.sys.xenmon.estimatedNs);
  });
});
