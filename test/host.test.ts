/**
 * Small end-to-end scenarios on the whole Xen host: the IDD's cost per packet, exact
 * CPU conservation, the weight benchmark, web serving, and determinism.
 */

import type { SystemConfig } from '@isosim/actors';
import { measurePoint, P4_2_8, SYSTEM_2, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, MemorySink, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';

const credit = { weight: 256, capPct: 0 };

function udpHost(direction: 'send' | 'receive', rate: number, bytes: number): SystemConfig {
  return {
    profile: P4_2_8,
    scheduler: 'credit',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit }] },
    guests: [
      { name: 'Dom-1', vcpus: [{ pcpu: 0, credit }], workloads: [{ kind: 'udp', direction, rate, bytes }] },
    ],
  };
}

describe('the Xen host end to end', () => {
  it('charges the IDD rate × cost for a guest receiving at a fixed rate (within 1%)', () => {
    const kernel = new Kernel({ seed: 1 });
    const sys = new XenSystem(kernel, udpHost('receive', 8_000, 512));
    sys.start();
    kernel.runUntil(NS_PER_S);
    sys.xen.settle();
    const before = sys.xen.accounting.iddForNs[1];
    kernel.runUntil(3 * NS_PER_S);
    sys.xen.settle();
    const spent = sys.xen.accounting.iddForNs[1] - before;
    const expected = 8_000 * 2 * P4_2_8.iddRecvNs;
    expect(Math.abs(spent - expected) / expected).toBeLessThan(0.01);
    expect(sys.guests[0].stats.dropCount()).toBe(0);
  });

  it('gives every pCPU busy + idle = elapsed, exactly, on a busy two-CPU host', () => {
    const kernel = new Kernel({ seed: 2 });
    const sys = new XenSystem(kernel, {
      profile: SYSTEM_2,
      scheduler: 'credit',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 60 } }] },
      guests: [
        {
          name: 'Dom-1',
          vcpus: [{ pcpu: 1, credit }],
          workloads: [{ kind: 'web', rate: 300, fileBytes: 10_240, timeoutNs: NS_PER_S }],
        },
        { name: 'Dom-2', vcpus: [{ pcpu: 1, credit }], workloads: [{ kind: 'cpu' }] },
      ],
    });
    sys.start();
    kernel.runUntil(2 * NS_PER_S + 12_345);
    sys.xen.settle();
    const acc = sys.xen.accounting;
    for (let p = 0; p < 2; p++) expect(acc.busyNs[p] + acc.idleNs[p]).toBe(2 * NS_PER_S + 12_345);
    const total = acc.cpuNs.reduce((s, x) => s + (x ?? 0), 0);
    expect(total).toBe(acc.busyNs[0] + acc.busyNs[1]);
    const iddTotal = acc.iddForNs.reduce((s, x) => s + (x ?? 0), 0);
    expect(iddTotal).toBe(acc.cpuNs[0]);
  });

  it('serves a lightly loaded web server at its offered rate', () => {
    const kernel = new Kernel({ seed: 3 });
    const sys = new XenSystem(kernel, {
      profile: P4_2_8,
      scheduler: 'credit',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit }] },
      guests: [
        {
          name: 'Dom-1',
          vcpus: [{ pcpu: 0, credit }],
          workloads: [{ kind: 'web', rate: 100, fileBytes: 10_240, timeoutNs: NS_PER_S }],
        },
      ],
    });
    sys.start();
    kernel.runUntil(3 * NS_PER_S);
    const web = sys.guests[0].web[0].stats;
    expect(web.failed).toBe(0);
    expect(web.replies).toBeGreaterThanOrEqual(298);
    expect(web.repliesPerSecond[1]).toBe(100);
  });

  it('recovers the profile weight from IDD CPU alone, within 2%', () => {
    const opts = { profile: P4_2_8, seed: 4, durationNs: NS_PER_S, warmupNs: NS_PER_S / 4 };
    for (const rate of [2_000, 10_000]) {
      const recv = measurePoint(opts, 'receive', rate, 256);
      const send = measurePoint(opts, 'send', rate, 256);
      expect(Math.abs(send.iddPct / recv.iddPct - P4_2_8.weight) / P4_2_8.weight).toBeLessThan(0.02);
    }
    const small = measurePoint(opts, 'receive', 10_000, 100);
    const large = measurePoint(opts, 'receive', 10_000, 1200);
    expect(Math.abs(small.iddPct - large.iddPct) / small.iddPct).toBeLessThan(0.02);
  });

  it('writes a byte-identical log for the same seed', () => {
    const run = (seed: number): string => {
      const log = new LogWriter(new MemorySink(), {
        format: 'isosim-log',
        schema: 1,
        scenario: { name: 'h' },
        seed,
        versions: {},
      });
      const kernel = new Kernel({ seed, log });
      const sys = new XenSystem(kernel, {
        profile: P4_2_8,
        scheduler: 'sedf',
        idd: {
          name: 'Dom-0',
          vcpus: [{ pcpu: 0, sedf: { sliceNs: 4_000_000, periodNs: 10_000_000, extratime: false } }],
        },
        guests: [
          {
            name: 'Dom-1',
            vcpus: [{ pcpu: 0, sedf: { sliceNs: 6_000_000, periodNs: 10_000_000, extratime: false } }],
            workloads: [
              { kind: 'web', rate: 200, arrivals: 'poisson', fileBytes: 10_240, timeoutNs: NS_PER_S },
            ],
          },
        ],
      });
      sys.start();
      kernel.runUntil(NS_PER_S / 2);
      return log.close().digest;
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
  });
});
