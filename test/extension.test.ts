/**
 * Extension points (issue 14): a workload of one's own runs inside the host like a
 * built-in one, through the exported `Endpoints`, with its packets charged to its guest.
 */
import {
  type CustomWorkloadConfig,
  Direction,
  type Endpoints,
  type Flow,
  P4_2_8,
  type Packet,
  type WorkloadEngine,
  XenSystem,
} from '@isosim/actors';
import { Kernel, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';

/** A client pinging the guest every millisecond; the guest answers each ping. */
class Pinger implements WorkloadEngine, Flow {
  sent = 0;
  answered = 0;
  private active = false;

  constructor(private readonly ends: Endpoints) {}

  start(): void {
    this.active = true;
    this.ping();
  }

  stop(): void {
    this.active = false;
  }

  private ping(): void {
    if (!this.active) return;
    this.sent++;
    this.ends.fromClient(100, this, 0);
    this.ends.after(NS_PER_MS, 0, () => this.ping());
  }

  arrived(p: Packet): void {
    if (p.direction === Direction.INBOUND) this.ends.fromGuest(100, this, 1);
    else this.answered++;
  }
}

describe('a custom workload', () => {
  it('runs between its start and stop times, its packets costing its guest and the driver domain', () => {
    let pinger: Pinger | undefined;
    const custom: CustomWorkloadConfig = {
      kind: 'custom',
      name: 'pinger',
      startNs: 100 * NS_PER_MS,
      stopNs: 600 * NS_PER_MS,
      create: (ends) => {
        pinger = new Pinger(ends);
        return pinger;
      },
    };
    const kernel = new Kernel({ seed: 3 });
    const sys = new XenSystem(kernel, {
      profile: P4_2_8,
      scheduler: 'sedf',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0 }] },
      guests: [{ name: 'Dom-1', vcpus: [{ pcpu: 0 }], workloads: [custom] }],
    });
    sys.start();
    kernel.runUntil(NS_PER_S);
    sys.settle();
    expect(sys.host.get('Dom-1.pinger0')).toBeDefined();
    // One ping a millisecond from 100 ms to 600 ms, both ends included (the stop and
    // the last ping fall at the same instant; the ping's timer was posted first).
    expect(pinger?.sent).toBe(501);
    expect(pinger?.answered).toBe(501);
    // Every ping in and every answer out went through netback, charged to Dom-1.
    const perPacket = P4_2_8.iddRecvNs + Math.round(P4_2_8.iddRecvNs * P4_2_8.weight);
    expect(sys.xen.accounting.iddForNs[1]).toBe(501 * perPacket);
  });
});
