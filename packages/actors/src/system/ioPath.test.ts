/**
 * The network path through netback and netfront, with a FIFO scheduler double so that
 * scheduling policy does not enter: packets are delivered or dropped for a reason,
 * every one is accounted, and the IDD's time per guest is exact.
 */
import { Kernel, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { FifoScheduler } from '../hypervisor/fifoScheduler.testkit.ts';
import { P4_2_8 } from '../profiles/profiles.ts';
import type { SystemConfig, WorkloadConfig } from './config.ts';
import { XenSystem } from './xenSystem.ts';

function build(workloads: WorkloadConfig[], profile = P4_2_8, guests = 1): XenSystem {
  const config: SystemConfig = {
    profile,
    scheduler: 'sedf',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0 }] },
    guests: Array.from({ length: guests }, (_, i) => ({
      name: `Dom-${i + 1}`,
      vcpus: [{ pcpu: 0 }],
      workloads,
    })),
  };
  return new XenSystem(
    new Kernel({ seed: 11 }),
    config,
    (_host, pcpus) => new FifoScheduler(pcpus, 1_000_000),
  );
}

describe('the I/O path', () => {
  it('delivers a UDP stream to the guest and charges the IDD exactly per packet', () => {
    const sys = build([{ kind: 'udp', direction: 'receive', rate: 5_000, bytes: 300 }]);
    sys.start();
    sys.kernel.runUntil(NS_PER_S);
    sys.xen.settle();
    const g = sys.guests[0];
    const inFlight = g.stats.offered[0] - g.stats.delivered[0] - g.stats.dropCount();
    expect(g.stats.dropCount()).toBe(0);
    expect(inFlight).toBeGreaterThanOrEqual(0);
    expect(inFlight).toBeLessThan(10);
    const processed = sys.xen.accounting.iddForNs[1] / P4_2_8.iddRecvNs;
    expect(Number.isInteger(processed)).toBe(true);
    expect(processed).toBeGreaterThanOrEqual(g.stats.delivered[0]);
  });

  it('charges the send path weight times the receive path', () => {
    const send = build([{ kind: 'udp', direction: 'send', rate: 5_000, bytes: 300 }]);
    send.start();
    send.kernel.runUntil(NS_PER_S);
    send.xen.settle();
    const perPacket = send.xen.accounting.iddForNs[1] / send.guests[0].stats.delivered[1];
    expect(perPacket).toBeCloseTo(Math.round(P4_2_8.iddRecvNs * P4_2_8.weight), -1);
  });

  it('accounts every offered packet as delivered, dropped for a reason, or in flight, under overload', () => {
    // 60,000 packets/s of receive cost 13 us each need 79% of the CPU for the IDD alone,
    // shared FIFO with a guest that also pays per packet: the NIC queue overflows.
    const sys = build([{ kind: 'udp', direction: 'receive', rate: 60_000, bytes: 200 }]);
    sys.start();
    sys.kernel.runUntil(NS_PER_S / 2);
    const s = sys.guests[0].stats;
    const drops = s.dropCount();
    expect(drops).toBeGreaterThan(0);
    const inFlight = s.offered[0] - s.delivered[0] - drops;
    expect(inFlight).toBeGreaterThanOrEqual(0);
    expect(inFlight).toBeLessThanOrEqual(P4_2_8.nicRxSlots + P4_2_8.ringSlots + 128);
  });

  it('completes web requests with the packet counts the profiles assume', () => {
    const sys = build([{ kind: 'web', rate: 50, fileBytes: 10_240, timeoutNs: NS_PER_S }]);
    sys.start();
    sys.kernel.runUntil(2 * NS_PER_S);
    const g = sys.guests[0];
    const web = g.web[0].stats;
    expect(web.failed).toBe(0);
    expect(web.replies).toBeGreaterThanOrEqual(99);
    // 10 KB: 10 packets out and 9 in per request (profiles.ts).
    const perReqOut = g.stats.offered[1] / web.issued;
    const perReqIn = g.stats.offered[0] / web.issued;
    expect(perReqOut).toBeCloseTo(10, 0);
    expect(perReqIn).toBeCloseTo(9, 0);
  });
});
