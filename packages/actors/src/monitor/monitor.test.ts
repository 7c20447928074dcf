import { Kernel, NS_PER_S } from '@isosim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateError, splitByWeightedPackets } from './netAccounting.ts';
import { udpHost } from './udpHost.testkit.ts';
import { Xenbaked } from './xenbaked.ts';
import {
  DOMID_IDLE,
  TRC_NET_PKT,
  TRC_SCHED_BLOCK,
  TRC_SCHED_DOM_ADD,
  TRC_SCHED_SWITCH_INFNEXT,
  TRC_SCHED_SWITCH_INFPREV,
  TRC_SCHED_WAKE,
  TRC_TRACE_CPU_CHANGE,
  TraceBuffer,
  type TraceRecord,
} from './xentrace.ts';

describe('xentrace', () => {
  it("uses Xen's event ids (xen/include/public/trace.h)", () => {
    expect(TRC_SCHED_DOM_ADD).toBe(0x00028001);
    expect(TRC_SCHED_WAKE).toBe(0x00028004);
    expect(TRC_SCHED_BLOCK).toBe(0x00028006);
    expect(TRC_SCHED_SWITCH_INFPREV).toBe(0x0002800e);
    expect(TRC_SCHED_SWITCH_INFNEXT).toBe(0x0002800f);
    expect(TRC_TRACE_CPU_CHANGE).toBe(0x0001f003);
  });

  it('counts lost records when a CPU buffer is full and drains CPUs merged in time order', () => {
    const b = new TraceBuffer(2, 3);
    b.write(0, 10, 1);
    b.write(1, 5, 2);
    b.write(0, 20, 3);
    b.write(1, 20, 4);
    b.write(0, 30, 5);
    expect(b.write(0, 40, 6)).toBe(false);
    expect(b.lost).toEqual([1, 0]);
    const seen: number[] = [];
    b.drain((r) => seen.push(r.event));
    expect(seen).toEqual([2, 1, 3, 4, 5]);
    expect(b.buffered).toBe(0);
    expect(b.write(0, 50, 7)).toBe(true);
  });
});

const rec = (cpu: number, timeNs: number, event: number, ...d: number[]): TraceRecord => {
  const words = new Float64Array(5);
  words.set(d);
  return { cpu, timeNs, event, d: words };
};

describe('xenbaked', () => {
  it('gives exact gotten, blocked, waited and executions, split at sample boundaries', () => {
    const x = new Xenbaked(1);
    // Dom 1 runs 0-30; dom 2 (woken at 10) runs 30-120 and blocks; dom 1 waits 30-120,
    // runs 120-150 and blocks; idle from 150. Sample boundary at 100.
    x.add(rec(0, 0, TRC_SCHED_WAKE, 1, 0));
    x.add(rec(0, 0, TRC_SCHED_SWITCH_INFPREV, DOMID_IDLE, 0, 0));
    x.add(rec(0, 0, TRC_SCHED_SWITCH_INFNEXT, 1, 0, 0, 30));
    x.add(rec(0, 10, TRC_SCHED_WAKE, 2, 0));
    x.add(rec(0, 30, TRC_SCHED_SWITCH_INFPREV, 1, 0, 30));
    x.add(rec(0, 30, TRC_SCHED_SWITCH_INFNEXT, 2, 0, 20, 90));
    x.add(rec(0, 50, TRC_NET_PKT, 2, 1, 1500));
    x.add(rec(0, 60, TRC_NET_PKT, 2, 0, 64));
    const s1 = x.sample(100);
    expect(s1.domains.get(1)).toMatchObject({ gottenNs: 30, waitedNs: 70, executions: 1, allocatedNs: 30 });
    expect(s1.domains.get(2)).toMatchObject({
      gottenNs: 70,
      waitedNs: 20,
      executions: 1,
      sent: 1,
      received: 1,
    });
    x.add(rec(0, 120, TRC_SCHED_BLOCK, 2, 0));
    x.add(rec(0, 120, TRC_SCHED_SWITCH_INFPREV, 2, 0, 90));
    x.add(rec(0, 120, TRC_SCHED_SWITCH_INFNEXT, 1, 0, 90, 30));
    x.add(rec(0, 150, TRC_SCHED_BLOCK, 1, 0));
    x.add(rec(0, 150, TRC_SCHED_SWITCH_INFPREV, 1, 0, 30));
    x.add(rec(0, 150, TRC_SCHED_SWITCH_INFNEXT, DOMID_IDLE, 0, 0, 50));
    const s2 = x.sample(200);
    expect(s2.domains.get(1)).toMatchObject({ gottenNs: 30, waitedNs: 20, blockedNs: 50, executions: 1 });
    expect(s2.domains.get(2)).toMatchObject({ gottenNs: 20, blockedNs: 80 });
    expect(s2.domains.get(DOMID_IDLE)?.gottenNs).toBe(50);
    let total = 0;
    for (const v of s2.domains.values()) total += v.gottenNs;
    expect(total).toBe(100);
    const w = x.window(1);
    expect(w.domains.get(1)?.gottenNs).toBe(60);
    expect(w.startNs).toBe(0);
  });
});

describe('network accounting', () => {
  it('splits by weighted packet count: 1000 sends at weight 1.1 weigh as 1100 receives', () => {
    expect(splitByWeightedPackets(1_000_000, [0, 1000, 0], [0, 0, 1100], 1100)).toEqual([
      0, 500_000, 500_000,
    ]);
  });

  it('gives parts that sum exactly to the IDD time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.array(fc.nat(5000), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(5000), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 500, max: 2000 }),
        (idd, sends, recvs, w) => {
          const parts = splitByWeightedPackets(idd, sends, recvs, w);
          const any = sends.some((x) => x > 0) || recvs.some((x) => x > 0);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(any ? idd : 0);
          for (const p of parts) expect(Number.isInteger(p) && p >= 0).toBe(true);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it('reports the error of an estimate against the truth', () => {
    const e = estimateError([0, 110, 90], [0, 100, 100]);
    expect(e.absNs).toEqual([0, 10, -10]);
    expect(e.relative).toEqual([0, 0.1, 0.1]);
    expect(e.overall).toBeCloseTo(0.1);
  });
});

describe('XenMon on a running host', () => {
  it('samples every 100 ms exactly, and its estimate tracks the ground truth', () => {
    const kernel = new Kernel({ seed: 3 });
    const sys = udpHost(kernel);
    const times: number[] = [];
    sys.xenmon.onSample = () => times.push(kernel.nowNs);
    sys.start();
    kernel.runUntil(NS_PER_S);
    expect(times).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 100_000_000));
    // Guests only: the estimate splits the IDD's whole time (its interrupt entries too)
    // among guests, while the truth keeps those for the IDD itself.
    const err = estimateError(sys.xenmon.estimatedNs.slice(1), sys.xenmon.trueNs.slice(1));
    expect(err.overall).toBeLessThan(0.2);
    expect(err.overall).toBeGreaterThan(0);
    expect(sys.xenmon.buffer.lost).toEqual([0]);
    const win = sys.xenmon.baked.window(1);
    let total = 0;
    for (const v of win.domains.values()) total += v.gottenNs;
    expect(total).toBe(NS_PER_S);
  });
});
