/**
 * Replay debugging as a user meets it: verify, replay, diff, resim and export on real
 * runs of a built-in scenario, and clean errors for bad input.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanLog } from '@isosim/core/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { isosim } from './isosim.ts';

describe('replay commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isosim-replay-cli-'));
  const sedf = join(dir, 'sedf', 'events.isolog');
  const sedfdc = join(dir, 'sedfdc', 'events.isolog');

  beforeAll(() => {
    expect(isosim('run', 'table1-sedf', '--duration', '1.5', '--out', join(dir, 'sedf')).code).toBe(0);
    expect(isosim('run', 'table1-sedfdc', '--duration', '1.5', '--out', join(dir, 'sedfdc')).code).toBe(0);
  }, 60_000);

  it('verifies a log, and reports where a damaged one stops being sound', () => {
    const ok = isosim('verify', sedf);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/verified/);
    const bytes = readFileSync(sedf);
    const bad = Buffer.from(bytes);
    bad[Math.floor(bad.length / 2)] ^= 0xff;
    const broken = join(dir, 'broken.isolog');
    writeFileSync(broken, bad);
    const r = isosim('verify', broken);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /DAMAGED\s+at byte \d+: block digest does not match \(corrupted\); records 0\.\.\d+ are verified/,
    );
  });

  it('prints the state at a record, an actor alone, and the first record where a predicate holds', () => {
    const at = isosim('replay', sedfdc, '--at', '5000');
    expect(at.code).toBe(0);
    expect(at.out).toContain('state after 5000 of');
    expect(at.out).toMatch(/Dom-0\.netback\s+(idle|polling)/);
    const one = isosim('replay', sedfdc, '--at', '5000', '--actor', 'nic0');
    expect(one.out).toMatch(/nic0: (armed|throttled|masked)/);
    const u = isosim('replay', sedfdc, '--until', 'type=sched.debt', '--next', '2', '--prev', '2');
    expect(u.code).toBe(0);
    expect(u.out).toMatch(/'type=sched\.debt' first holds at record \d+:\n\s+#\d+ {2}t=\S+ {2}sched\.debt/);
    const none = isosim('replay', sedf, '--until', 'type=sched.debt');
    expect(none.code).toBe(1);
    expect(none.out).toContain('holds nowhere');
    const bad = isosim('replay', sedf, '--until', 'combined(Dom-9) > 1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: --until: .*no domain Dom-9/);
  });

  it('finds where SEDF and SEDF-DC part, and says when two logs are the same', () => {
    const d = isosim('diff', sedf, sedfdc, '--context', '2');
    expect(d.code).toBe(1);
    expect(d.out).toMatch(/first difference at record \d+/);
    expect(d.out).toMatch(/^> #\d+/m);
    const same = isosim('diff', sedf, sedf);
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/^same: \d+ records, identical/);
  });

  it('re-runs the scenario in a log and gets the same hash', () => {
    const r = isosim('resim', sedfdc);
    expect(r.code).toBe(0);
    expect(r.out).toContain('identical: the run reproduces');
  });

  it('exports a Perfetto trace with pCPU slices, onBehalfOf, counters, flows', () => {
    const out = join(dir, 'trace.json');
    const r = isosim('export', sedfdc, '--perfetto', out);
    expect(r.code).toBe(0);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: Record<string, unknown>[] };
    const ev = trace.traceEvents;
    const slices = ev.filter((e) => e.ph === 'X' && e.pid === 1);
    expect(new Set(slices.map((e) => e.name))).toContain('Dom-1');
    const behalf = slices.filter((e) => (e.args as { onBehalfOf?: string }).onBehalfOf !== undefined);
    expect(new Set(behalf.map((e) => (e.args as { onBehalfOf: string }).onBehalfOf))).toEqual(
      new Set(['Dom-0', 'Dom-1', 'Dom-2']),
    );
    expect(ev.some((e) => e.ph === 'C' && String(e.name).includes('debt'))).toBe(true);
    expect(ev.some((e) => e.ph === 'C' && String(e.name).includes('tx ring'))).toBe(true);
    const starts = new Set(ev.filter((e) => e.ph === 's').map((e) => e.id));
    const ends = ev.filter((e) => e.ph === 'f');
    expect(ends.length).toBeGreaterThan(100);
    for (const e of ends) expect(starts.has(e.id)).toBe(true);
    for (const e of slices) expect(e.dur as number).toBeGreaterThanOrEqual(0);
    // The driver domain's work by guest adds up to the ground truth of the run.
    const metrics = JSON.parse(readFileSync(join(dir, 'sedfdc', 'metrics.json'), 'utf8')) as {
      durationS: number;
      domains: Record<string, { iddPctTrue: number }>;
    };
    for (const guest of ['Dom-1', 'Dom-2']) {
      let us = 0;
      for (const e of behalf)
        if ((e.args as { onBehalfOf: string }).onBehalfOf === guest) us += e.dur as number;
      const pct = us / 1e4 / metrics.durationS;
      expect(pct).toBeCloseTo(metrics.domains[guest].iddPctTrue, 1);
    }
  });

  it("exports Xen's trace.h layout: CPU_CHANGE batches, DOM_ADD, WAKE/BLOCK, the three SWITCH records", () => {
    const out = join(dir, 'trace.bin');
    const r = isosim('export', sedfdc, '--xentrace', out);
    expect(r.code).toBe(0);
    const b = readFileSync(out);
    const count = new Map<number, number>();
    let off = 0;
    let lastTsc = 0n;
    while (off < b.length) {
      const h = b.readUInt32LE(off);
      const event = h & 0x0fffffff;
      const extra = (h >>> 28) & 7;
      const cycles = h >>> 31 === 1;
      if (event === 0x0001f003) {
        // TRC_TRACE_CPU_CHANGE: [cpu, bytes of the batch that follows], no TSC.
        expect(cycles).toBe(false);
        expect(extra).toBe(2);
        expect(b.readUInt32LE(off + 4)).toBe(0);
        const bytes = b.readUInt32LE(off + 8);
        off += 12;
        const end = off + bytes;
        while (off < end) {
          const hh = b.readUInt32LE(off);
          expect(hh >>> 31).toBe(1);
          const tsc = BigInt(b.readUInt32LE(off + 4)) + (BigInt(b.readUInt32LE(off + 8)) << 32n);
          expect(tsc >= lastTsc).toBe(true);
          lastTsc = tsc;
          const ev = hh & 0x0fffffff;
          count.set(ev, (count.get(ev) ?? 0) + 1);
          off += 12 + 4 * ((hh >>> 28) & 7);
        }
        expect(off).toBe(end);
      } else {
        throw new Error(`record outside a CPU batch at byte ${off}`);
      }
    }
    // Against the log: one SWITCH per change of vCPU, a DOM_ADD per domain.
    let switches = 0;
    scanLog(sedfdc, {
      onRecord: (rec, d) => {
        if (d.typeName(rec.type) === 'cpu.switch' && rec.values[1] !== rec.values[2]) switches++;
        return undefined;
      },
    });
    expect(count.get(0x0002800a)).toBe(switches);
    expect(count.get(0x0002800e)).toBe(switches);
    expect(count.get(0x0002800f)).toBe(switches);
    expect(count.get(0x00028001)).toBe(4);
    expect(count.get(0x00028004)).toBeGreaterThan(10);
    expect(count.get(0x00028006)).toBeGreaterThan(10);
  });

  it('shows every driver domain and the disk of a two-IDD host: replay, Perfetto, xentrace', () => {
    const out = join(dir, 'two-idds');
    expect(isosim('run', 'two-idds', '--duration', '1.2', '--out', out).code).toBe(0);
    const log = join(out, 'events.isolog');
    const r = isosim('replay', log);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/last second per driver domain[^\n]*\n {2}Dom-0 +for Dom-0 /);
    expect(r.out).toMatch(/^ {2}Dom-blk +for Dom-1 +est \d+\.\d +true \d+\.\d/m);
    expect(r.out).toMatch(/^ {2}Dom-0 +Dom-0 [\d.]+, Dom-1 [\d.]+$/m);
    expect(r.out).toMatch(/^ {2}Dom-blk +Dom-blk [\d.]+, Dom-1 [\d.]+$/m);
    expect(r.out).toMatch(/^ {2}sda +\d+ dispatched, \d+ completed, \d+ in flight; latency mean [\d.]+ ms/m);
    expect(r.out).toMatch(/^ {4}Dom-1 +\d+ dispatched/m);
    const u = isosim('replay', log, '--until', 'idd(Dom-1, Dom-blk) > 1');
    expect(u.code).toBe(0);
    expect(u.out).toMatch(/first holds at record \d+/);

    const json = join(dir, 'two-idds.json');
    expect(isosim('export', log, '--perfetto', json, '--to', '1').code).toBe(0);
    const ev = (JSON.parse(readFileSync(json, 'utf8')) as { traceEvents: Record<string, unknown>[] })
      .traceEvents;
    const disk = ev.find((e) => e.ph === 'M' && (e.args as { name?: string }).name === 'disk sda');
    expect(disk).toBeDefined();
    const requests = ev.filter((e) => e.ph === 'b' && e.pid === disk?.pid);
    expect(requests.length).toBeGreaterThan(100);
    expect(new Set(requests.map((e) => e.name))).toEqual(new Set(['Dom-1 read', 'Dom-1 write']));
    const work = ev.filter((e) => e.ph === 'X' && (e.args as { onBehalfOf?: string }).onBehalfOf === 'Dom-1');
    expect(new Set(work.map((e) => (e.args as { driver: string }).driver))).toEqual(
      new Set(['Dom-0', 'Dom-blk']),
    );

    const x = isosim('export', log, '--xentrace', join(dir, 'two-idds.bin'));
    expect(x.code).toBe(0);
    expect(x.out).toContain(
      'domains: d0 Dom-0 (driver domain), d1 Dom-blk (driver domain), d2 Dom-1, d3 Dom-2',
    );
  });

  it('rejects a missing log and a bad export request cleanly', () => {
    const r = isosim('replay', join(dir, 'nope.isolog'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: .*nope\.isolog: log: does not exist/);
    const e = isosim('export', sedf);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/give exactly one/);
  });
});
