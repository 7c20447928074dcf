/**
 * The exports of a host with two driver domains and a disk (issue 16), against the
 * live run. Perfetto: every driver domain's work slices name the guest served
 * (`onBehalfOf`) and add up, per driver and guest, to the hypervisor's accounting to
 * the nanosecond; the disk has its own track with a slice per request, from
 * submission to completion, as the disk timed it. xentrace: every driver domain is a
 * domain of the trace, and xenalyze's run times for each match the accounting; no
 * isosim-class record is written (xenalyze would stop at one).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type XenSystem, xentrace } from '@isosim/actors';
import { NS_PER_S } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLayout } from '../layout.ts';
import { runIddsHost } from './iddsHost.testkit.ts';
import { exportPerfetto } from './perfetto.ts';
import { xaDomainRows, xenalyzeSummary } from './xenalyzeSummary.ts';
import { exportXentrace } from './xentrace.ts';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts: number;
  dur?: number;
  id?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

const dir = mkdtempSync(join(tmpdir(), 'isosim-export-idds-'));
const log = join(dir, 'idds.isolog');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const END = 1.5 * NS_PER_S;
let sys: XenSystem;

beforeAll(() => {
  sys = runIddsHost(log, END / NS_PER_S);
});

function events(path: string): TraceEvent[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
}

/** ns per key; each duration rounded to whole ns first (µs decimals are exact to far below 1 ns). */
function sumNs(list: TraceEvent[], key: (e: TraceEvent) => string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of list) {
    const k = key(e);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + Math.round((e.dur ?? 0) * 1000));
  }
  return m;
}

describe('exportPerfetto on a host with two driver domains and a disk', () => {
  const T = 1.4 * NS_PER_S;
  let all: TraceEvent[];

  beforeAll(() => {
    const out = join(dir, 'window.json');
    exportPerfetto(log, out, { toNs: T });
    all = events(out);
  });

  it("slices every driver domain's work with onBehalfOf, adding up per driver and guest to the accounting", () => {
    const acc = sys.xen.accounting;
    const names = sys.xen.domains.map((d) => d.name);
    const work = all.filter((e) => e.ph === 'X' && e.pid === 1 && e.args?.onBehalfOf !== undefined);
    const byPair = sumNs(work, (e) => `${e.args?.driver} for ${e.args?.onBehalfOf}`);
    for (const drv of sys.drivers) {
      for (const d of sys.xen.domains) {
        const want = acc.iddOfDriverBetween(drv.id, d.id, 0, T);
        expect(byPair.get(`${drv.name} for ${d.name}`) ?? 0, `${drv.name} for ${d.name}`).toBe(want);
      }
      // Slices cut by a deschedule got their principal too, on each driver domain.
      expect(
        work.filter((e) => e.args?.driver === drv.name && e.args?.preempted === true).length,
      ).toBeGreaterThan(10);
    }
    expect(byPair.get('net for web')).toBeGreaterThan(0.05 * T);
    expect(byPair.get('blk for writer')).toBeGreaterThan(0.01 * T);
    expect(byPair.get('blk for web')).toBeGreaterThan(0);
    // Each domain's pCPU slices add up to its CPU; each driver's are all work.
    const ran = sumNs(
      all.filter((e) => e.ph === 'X' && e.pid === 1),
      (e) => e.args?.domain as string | undefined,
    );
    for (const d of sys.xen.domains) expect(ran.get(d.name) ?? 0, d.name).toBe(acc.cpuBetween(d.id, 0, T));
    for (const drv of sys.drivers) {
      const total = [...byPair]
        .filter(([k]) => k.startsWith(`${drv.name} for `))
        .reduce((n, [, v]) => n + v, 0);
      expect(total).toBe(acc.cpuBetween(drv.id, 0, T));
    }
    expect(all.some((e) => e.name === 'unattributed work')).toBe(false);
    expect(names).toEqual(['net', 'blk', 'web', 'writer', 'sender']);
  });

  it('gives the disk a track with a slice per request, from submission to completion', () => {
    const meta = all.find((e) => e.ph === 'M' && e.name === 'process_name' && e.args?.name === 'disk sda');
    expect(meta).toBeDefined();
    const pid = meta?.pid;
    const begins = all.filter((e) => e.ph === 'b' && e.pid === pid);
    const ends = new Map(all.filter((e) => e.ph === 'e' && e.pid === pid).map((e) => [e.id, e]));
    // The log's completions up to T, with their latencies.
    const done: { guest: number; op: number; sectors: number; atNs: number; latencyNs: number }[] = [];
    scanLog(log, {
      onRecord: (r, d) => {
        if (r.timeNs > T) return false;
        if (d.typeName(r.type) === 'disk.complete') {
          const [guest, op, sectors, latencyNs] = r.values;
          done.push({ guest, op, sectors, atNs: r.timeNs, latencyNs });
        }
        return undefined;
      },
    });
    expect(done.length).toBeGreaterThan(500);
    expect(begins.length).toBe(done.length);
    expect(ends.size).toBe(done.length);
    const names = sys.xen.domains.map((d) => d.name);
    begins.forEach((b, i) => {
      const c = done[i];
      const e = ends.get(b.id);
      expect(e?.name).toBe(b.name);
      expect(b.cat).toBe('disk');
      expect(b.name).toBe(`${names[c.guest]} ${c.op === 0 ? 'read' : 'write'}`);
      expect(b.args).toMatchObject({
        disk: 'sda',
        guest: names[c.guest],
        sectors: c.sectors,
        bytes: c.sectors * 512,
      });
      expect(Math.round((e?.ts ?? 0) * 1000)).toBe(c.atNs);
      expect(Math.round(b.ts * 1000)).toBe(c.atNs - c.latencyNs);
    });
    expect(new Set(begins.map((b) => b.name))).toEqual(new Set(['web read', 'writer read', 'writer write']));
    // Requests of one guest overlap without nesting (CFQ and the device complete them out
    // of order): why they are async slices and not slices on one thread.
    const writer = begins
      .filter((b) => b.args?.guest === 'writer')
      .map((b) => ({ from: b.ts, to: ends.get(b.id)?.ts ?? 0 }));
    let crossing = 0;
    let overtaken = 0;
    for (let i = 1; i < writer.length; i++) {
      if (writer[i].from < writer[i - 1].to && writer[i].to > writer[i - 1].to) crossing++;
      if (writer[i].from < writer[i - 1].from) overtaken++;
    }
    expect(crossing).toBeGreaterThan(10);
    expect(overtaken).toBeGreaterThan(10);
    // The in-flight counter is on the disk's track, and never negative.
    const inFlight = all.filter((e) => e.ph === 'C' && e.pid === pid && e.name === 'sda in flight');
    expect(inFlight.length).toBeGreaterThan(done.length);
    expect(Math.min(...inFlight.map((e) => e.args?.value as number))).toBe(0);
    expect(Math.max(...inFlight.map((e) => e.args?.value as number))).toBeLessThanOrEqual(8);
  });

  it("counts each driver domain's CPU per guest, and names the driver of a ShareGuard", () => {
    const counters = new Set(all.filter((e) => e.ph === 'C').map((e) => e.name));
    for (const c of [
      'writer blk CPU true %',
      'writer blk CPU est %',
      'web net CPU true %',
      'writer IDD CPU true %',
    ])
      expect(counters.has(c), c).toBe(true);
    const blocks = all.filter((e) => e.ph === 'i' && e.name.startsWith('shareguard.block'));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) {
      expect(b.name).toBe('shareguard.block writer (blk)');
      expect(b.args).toMatchObject({ guest: 'writer', driver: 'blk' });
    }
  });

  it('clips request slices to the window and keeps only those that overlap it', () => {
    const from = 0.03 * NS_PER_S;
    const to = 0.07 * NS_PER_S;
    const out = join(dir, 'narrow.json');
    exportPerfetto(log, out, { fromNs: from, toNs: to });
    const got = events(out).filter((e) => e.ph === 'b' || e.ph === 'e');
    expect(got.length).toBeGreaterThan(100);
    // Some began before the window or end after it: clipped to its edges.
    expect(got.some((e) => e.ts === from / 1000)).toBe(true);
    expect(got.some((e) => e.ts === to / 1000)).toBe(true);
    for (const e of got) {
      expect(e.ts).toBeGreaterThanOrEqual(from / 1000);
      expect(e.ts).toBeLessThanOrEqual(to / 1000);
    }
    expect(got.filter((e) => e.ph === 'b').length).toBe(got.filter((e) => e.ph === 'e').length);
  });
});

describe('exportXentrace on a host with two driver domains and a disk', () => {
  const out = join(dir, 'trace.bin');

  it("makes every driver domain a domain of the trace, with xenalyze's run time matching the accounting", () => {
    const r = exportXentrace(log, out);
    expect(r.cpus).toBe(2);
    const s = xenalyzeSummary(out, { cpuHz: 2.8e9 });
    expect(s.warnings).toEqual([]);
    const header = scanLog(log, { onRecord: () => false }).header;
    const rows = xaDomainRows(s, hostLayout(header));
    expect(rows.map((x) => [x.did, x.name, x.driver])).toEqual([
      [0, 'net', true],
      [1, 'blk', true],
      [2, 'web', false],
      [3, 'writer', false],
      [4, 'sender', false],
      [0x7fff, 'idle', false],
    ]);
    const acc = sys.xen.accounting;
    for (const row of rows.filter((x) => x.did < 0x7fff)) {
      const ns = acc.cpuBetween(row.did, 0, END);
      // The TSC rounds each stretch's ends to a cycle (0.36 ns at 2.8 GHz).
      expect(Math.abs(row.runS * NS_PER_S - ns), row.name).toBeLessThan(1000);
      expect(row.cpuPct).toBeCloseTo((ns * 100) / END, 3);
    }
    expect(rows[1].runS).toBeGreaterThan(0.02);
    // Without names (a header with no scenario): xenalyze's ids, the same figures.
    const bare = xaDomainRows(s, { domains: [], drivers: [] });
    expect(bare.map((x) => x.name)).toEqual(['dom0', 'dom1', 'dom2', 'dom3', 'dom4', 'idle']);
    expect(bare.map((x) => x.runS)).toEqual(rows.map((x) => x.runS));
  });

  it('writes no isosim-class record: xenalyze would stop at one', () => {
    const b = readFileSync(out);
    let off = 0;
    const classes = new Set<number>();
    while (off < b.length) {
      const h = b.readUInt32LE(off);
      classes.add((h & 0x0fffffff) >>> 12);
      off += 4 + (h >>> 31 === 1 ? 8 : 0) + 4 * ((h >>> 28) & 7);
    }
    expect(classes.has(xentrace.TRC_ISOSIM >>> 12)).toBe(false);
    // A TRC_BLK_REQ record appended to the last window: the reader stops, as xenalyze does.
    const rec = Buffer.alloc(12 + 16);
    rec.writeUInt32LE((xentrace.TRC_BLK_REQ | (4 << 28) | 0x80000000) >>> 0, 0);
    rec.writeUInt32LE(0xffffffff, 4);
    const bad = Buffer.concat([cpuChange(0, rec.length), rec]);
    expect(() => xenalyzeSummary(Buffer.concat([b, bad]), { cpuHz: 2.8e9 })).toThrow(
      /unexpected number bits/,
    );
  });
});

/** A `TRC_TRACE_CPU_CHANGE` record opening a window of `bytes` on `cpu`. */
function cpuChange(cpu: number, bytes: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32LE((xentrace.TRC_TRACE_CPU_CHANGE | (2 << 28)) >>> 0, 0);
  h.writeUInt32LE(cpu, 4);
  h.writeUInt32LE(bytes, 8);
  return h;
}
