/**
 * The World on a host with two driver domains and a disk (issue 16), against the live
 * run: the domains numbered as the host numbers them, every driver domain known, each
 * one's CPU per principal to the nanosecond (the hypervisor's accounting), XenMon's
 * per-driver samples, the disk's requests per guest (the disk's own counters), and
 * each driver domain's ShareGuard blocks told apart; `--until` clauses per driver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { XenSystem } from '@isosim/actors';
import { LogDictionary, type LogHeader, type LogRecord, NS_PER_S } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutsInLog } from './export/exportHost.testkit.ts';
import { runIddsHost } from './export/iddsHost.testkit.ts';
import { domainNames, hostLayout } from './layout.ts';
import { parseQuery } from './query.ts';
import { Replay } from './replay.ts';
import { World } from './world.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-world-idds-'));
const log = join(dir, 'idds.isolog');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const END = 1.5 * NS_PER_S;
let sys: XenSystem;
let header: LogHeader;
let replay: Replay;

beforeAll(() => {
  sys = runIddsHost(log, END / NS_PER_S);
  header = scanLog(log, { onRecord: () => false }).header;
  replay = Replay.open(log, { every: 20_000, indexPath: false });
});

/** ns driver `d` ran that the world has not attributed yet at `t`: cut stretches and the stretch running now. */
function unattributed(w: World, d: number, t: number): number {
  let ns = 0;
  w.s.vcpus.forEach((v, i) => {
    if (v.domain === d) ns += w.s.cutNs[i] ?? 0;
  });
  for (const p of w.s.pcpus) if (p.vcpu >= 0 && w.s.vcpus[p.vcpu]?.domain === d) ns += t - p.workNs;
  return ns;
}

describe('World on a host with two driver domains and a disk', () => {
  it('numbers domains as the host does: every driver domain first, whatever the scenario lists first', () => {
    const layout = hostLayout(header);
    expect(layout.domains).toEqual(sys.xen.domains.map((d) => d.name));
    expect(layout.domains).toEqual(['net', 'blk', 'web', 'writer', 'sender']);
    expect(layout.drivers).toEqual(sys.drivers.map((d) => d.id));
    expect(layout.drivers).toEqual([0, 1]);
    expect(layout.disks).toEqual(['sda']);
    expect(layout.durationNs).toBe(END);
    expect(domainNames(header)).toEqual(layout.domains);
  });

  it("knows every driver domain and each one's CPU per principal, to the nanosecond", () => {
    const acc = sys.xen.accounting;
    const principals = sys.xen.domains.map((d) => d.id);
    // Bucket boundaries, where the accounting's window sums are exact.
    for (const t of [0.3, 0.7, 1.1, 1.5].map((s) => s * NS_PER_S)) {
      const { world: w } = replay.seekTime(t);
      expect(w.s.drivers).toEqual([0, 1]);
      for (const d of [0, 1]) {
        let attributed = 0;
        for (const p of principals) {
          const got = w.workFor(d, p);
          expect(got, `driver ${d} for ${p} at ${t}`).toBeLessThanOrEqual(acc.iddOfDriverBetween(d, p, 0, t));
          attributed += got;
        }
        expect(attributed + unattributed(w, d, t), `driver ${d} at ${t}`).toBe(acc.cpuBetween(d, 0, t));
        expect(w.workOf(d).reduce((n, x) => n + x.ns, 0)).toBe(attributed);
      }
    }
    // At the end, each driver domain's work for each guest it served, exact where nothing is left over.
    const w = replay.seek(replay.records);
    const web = 2;
    const writer = 3;
    const sender = 4;
    expect(w.workFor(0, web)).toBeGreaterThan(0.05 * END);
    expect(w.workFor(0, sender)).toBeGreaterThan(0.01 * END);
    expect(w.workFor(1, writer)).toBeGreaterThan(0.01 * END);
    expect(w.workFor(1, web)).toBeGreaterThan(0);
    expect(w.workFor(1, sender)).toBe(0);
    for (const d of [0, 1])
      if (unattributed(w, d, END) === 0)
        for (const p of principals) expect(w.workFor(d, p)).toBe(acc.iddOfDriverBetween(d, p, 0, END));
  });

  it('stretches cut by a deschedule were exercised on both driver domains', () => {
    // Switched out with no timer at that instant: the case the cut stretches handle.
    const cuts = cutsInLog(log);
    expect(cuts[0]).toBeGreaterThan(50);
    expect(cuts[1]).toBeGreaterThan(20);
  });

  it("has XenMon's last second per driver domain, adding up to its sums, true to the accounting", () => {
    const acc = sys.xen.accounting;
    const w = replay.seek(replay.records);
    expect(Object.keys(w.s.xenmonIdd).length).toBe(2 * sys.xen.domains.length);
    for (const g of [2, 3, 4]) {
      const sums = w.lastSecond(g);
      const net = w.lastSecond(g, 0);
      const blk = w.lastSecond(g, 1);
      expect(net.ownNs).toBe(sums.ownNs);
      expect(net.iddTrueNs + blk.iddTrueNs).toBe(sums.iddTrueNs);
      expect(net.iddEstNs + blk.iddEstNs).toBeCloseTo(sums.iddEstNs, 3);
      // Ten samples, the last at the end: (0.5 s, 1.5 s].
      for (const d of [0, 1])
        expect(w.lastSecond(g, d).iddTrueNs).toBe(acc.iddOfDriverBetween(d, g, END - NS_PER_S, END));
    }
    expect(w.lastSecond(3, 1).iddTrueNs).toBeGreaterThan(0);
    expect(w.lastSecond(4, 1).iddTrueNs).toBe(0);
  });

  it("counts the disk's requests per guest as the disk does", () => {
    const w = replay.seek(replay.records);
    const disk = sys.disks.get('sda');
    expect(disk).toBeDefined();
    const live = disk?.stats;
    const sda = w.s.disks.sda;
    expect(Object.keys(w.s.disks)).toEqual(['sda']);
    expect(sda.completed).toBe(live?.completed);
    expect(sda.readSectors * 512).toBe(live?.bytesRead);
    expect(sda.writeSectors * 512).toBe(live?.bytesWritten);
    expect(sda.maxLatencyNs).toBe(live?.maxWaitNs);
    expect(sda.inFlight).toBe(disk?.atDevice);
    expect(sda.dispatched).toBe(sda.completed + sda.inFlight);
    expect(Object.keys(sda.guests)).toEqual(['2', '3']);
    const sum = (
      k: 'dispatched' | 'completed' | 'inFlight' | 'readSectors' | 'writeSectors' | 'latencySumNs',
    ) => Object.values(sda.guests).reduce((n, c) => n + c[k], 0);
    for (const k of [
      'dispatched',
      'completed',
      'inFlight',
      'readSectors',
      'writeSectors',
      'latencySumNs',
    ] as const)
      expect(sum(k), k).toBe(sda[k]);
    expect(sda.guests['2'].writeSectors).toBe(0); // web only reads
    expect(sda.guests['3'].writeSectors).toBeGreaterThan(sda.guests['3'].readSectors);
    expect(sda.completed).toBeGreaterThan(500);
    // Mid-run, in flight is what the records say so far.
    const mid = replay.seek(Math.floor(replay.records / 2)).s.disks.sda;
    expect(mid.inFlight).toBe(mid.dispatched - mid.completed);
    expect(mid.completed).toBeLessThan(sda.completed);
  });

  it("keeps each driver domain's ShareGuard blocks apart, as the live guard acted", () => {
    const guard = sys.shareGuards.get(1);
    expect(guard).toBeDefined();
    const actions = guard?.actions ?? [];
    expect(actions.some((a) => a.kind === 'block')).toBe(true);
    // At each action, the world after it shows the block (or its end) keyed by guest and driver.
    for (const a of actions) {
      const { world: w } = replay.seekTime(a.timeNs);
      const b = w.blocks().find((x) => x.guest === a.guest && x.driver === 'blk');
      if (a.kind === 'block') {
        expect(b).toEqual({ guest: a.guest, driver: 'blk', sinceNs: a.timeNs, tdefNs: a.tdefNs });
        expect(Object.keys(w.s.shareGuard)).toContain(`${a.guest}@blk`);
      } else expect(b).toBeUndefined();
    }
  });

  it('tells apart two ShareGuards blocking one guest, and saves and loads disks named like Object.prototype', () => {
    const d = new LogDictionary();
    d.names.push('shareguard', 'shareguard.Dom-blk', '__proto__.io', 'constructor.io');
    d.types.push(
      { name: 'shareguard.block', fields: ['guest', 'tdefNs', 'usedPpm', 'limitPpm'] },
      { name: 'shareguard.restore', fields: ['guest'] },
      { name: 'disk.dispatch', fields: ['guest', 'op', 'sector', 'sectors'] },
      { name: 'disk.complete', fields: ['guest', 'op', 'sectors', 'latencyNs'] },
    );
    let seq = 0;
    const rec = (type: number, target: number, ...values: number[]): LogRecord => ({
      seq: seq++,
      timeNs: seq * 1000,
      type,
      source: target,
      target,
      values: Float64Array.from([...values, 0, 0, 0, 0]),
      fieldCount: values.length,
    });
    const w = new World();
    w.apply(rec(0, 0, 2, 5e6, 0, 0), d); // the single ShareGuard blocks guest 2
    w.apply(rec(0, 1, 2, 7e6, 0, 0), d); // Dom-blk's blocks it too
    expect(w.blocks()).toEqual([
      { guest: 2, sinceNs: 1000, tdefNs: 5e6 },
      { guest: 2, driver: 'Dom-blk', sinceNs: 2000, tdefNs: 7e6 },
    ]);
    w.apply(rec(1, 0, 2), d); // the first restores: Dom-blk's block stays
    expect(w.blocks()).toEqual([{ guest: 2, driver: 'Dom-blk', sinceNs: 2000, tdefNs: 7e6 }]);
    w.apply(rec(2, 2, 3, 0, 8, 8), d);
    w.apply(rec(2, 2, 3, 1, 16, 8), d);
    w.apply(rec(2, 3, 4, 1, 0, 16), d);
    w.apply(rec(3, 2, 3, 1, 8, 4000), d); // the write completes first
    const s = w.snapshot();
    const PROTO = '__proto__';
    expect(Object.getPrototypeOf(s.disks)).toBeNull();
    expect(Object.hasOwn(s.disks, PROTO)).toBe(true);
    const p = s.disks[PROTO];
    expect([p.dispatched, p.completed, p.inFlight, p.writeSectors, p.readSectors]).toEqual([2, 1, 1, 8, 0]);
    expect([p.lastLatencyNs, p.lastAtNs]).toEqual([4000, 7000]);
    const CTOR = 'constructor';
    expect(s.disks[CTOR].inFlight).toBe(1);
    const back = World.load(w.save());
    expect(back.save()).toBe(w.save());
    expect(Object.getPrototypeOf(back.s.disks)).toBeNull();
    expect(Object.getPrototypeOf(back.s.disks[PROTO].guests)).toBeNull();
    expect(back.s.disks[PROTO].guests['3'].inFlight).toBe(1);
  });

  it('loads a world saved before it had driver domains, work and disks, with those empty', () => {
    const old = JSON.parse(new World().save());
    for (const k of ['drivers', 'work', 'cutNs', 'xenmonIdd', 'disks']) delete old[k];
    old.pcpus = [{ vcpu: 1, sinceNs: 5, runNs: 10, principal: -1 }];
    const back = World.load(JSON.stringify(old));
    expect(back.s.pcpus[0].workNs).toBe(5);
    expect([back.s.drivers, back.s.work, back.s.cutNs]).toEqual([[], [], []]);
    expect(Object.keys(back.s.disks)).toEqual([]);
    expect(Object.getPrototypeOf(back.s.disks)).toBeNull();
    expect(back.blocks()).toEqual([]);
  });

  it('reads --until clauses on one driver domain, named as the host numbers them', () => {
    const hit = replay.until(parseQuery('idd(writer, blk) > 1', header), 0);
    expect(hit).toBeDefined();
    const w = hit?.world as World;
    expect(w.lastSecond(3, 1).iddTrueNs).toBeGreaterThan(1e7);
    // The sum over drivers got there no later.
    const sum = replay.until(parseQuery('idd(writer) > 1', header), 0);
    expect(sum?.n).toBeLessThanOrEqual(hit?.n ?? 0);
    // `own(sender)` is domain 4's, not the fifth domain listed in the scenario.
    const own = replay.until(parseQuery('own(sender) > 2', header), 0);
    expect(own?.world.lastSecond(4).ownNs).toBeGreaterThan(2e7);
    expect(own?.world.lastSecond(2).ownNs).not.toBe(own?.world.lastSecond(4).ownNs);
    expect(() => parseQuery('idd(writer, web) > 1', header)).toThrow(
      /web is not a driver domain \(the driver domains: net, blk\)/,
    );
    expect(() => parseQuery('own(writer, blk) > 1', header)).toThrow(/takes one domain/);
    expect(() => parseQuery('idd(writer, nope) > 1', header)).toThrow(/no domain nope/);
  });
});
