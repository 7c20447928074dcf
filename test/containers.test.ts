/**
 * Resource containers inside a guest (guest/containers.ts, docs/containers.md): the
 * proportional-share scheduler honours shares and is work-conserving, an idle container
 * banks nothing, LRP bounds a container's input queue and drops past it, and on a
 * hypervisor the containers' CPU splits by share while the vCPU never idles with work.
 */
import { Kernel, Prng } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { GuestContainers, LRP_CLASSIFY_NS, ShareScheduler } from '../packages/actors/src/guest/containers.ts';
import { FifoScheduler } from '../packages/actors/src/hypervisor/fifoScheduler.testkit.ts';
import { Hypervisor } from '../packages/actors/src/hypervisor/hypervisor.ts';

/** Serves `steps` items, one at a time, charging each its cost; refills containers in `busy`. */
function serve(
  s: ShareScheduler<number>,
  steps: number,
  busy: (c: number, step: number) => boolean,
): number[] {
  const served = s.shares.map(() => 0);
  for (let step = 0; step < steps; step++) {
    for (let c = 0; c < s.shares.length; c++) if (s.waiting(c) === 0 && busy(c, step)) s.push(c, 0);
    const c = s.pick();
    if (c < 0) continue;
    const cost = s.take(c) + 1_000 + 1_000 * c;
    s.charge(c, cost);
    served[c] += cost;
  }
  return served;
}

describe('ShareScheduler', () => {
  it('gives containers that always have work CPU in proportion to their shares, within one item', () => {
    const s = new ShareScheduler<number>([80, 20]);
    const used = serve(s, 10_000, () => true);
    const total = used[0] + used[1];
    // Items cost 1 and 2 us: each container is within one item of its share.
    expect(Math.abs(used[0] - 0.8 * total)).toBeLessThanOrEqual(2_000);
    expect(Math.abs(used[1] - 0.2 * total)).toBeLessThanOrEqual(2_000);
  });

  it('holds three shares with random costs exactly, up to the largest item', () => {
    const s = new ShareScheduler<number>([50, 30, 20]);
    const rng = Prng.fromSeed(7);
    const used = [0, 0, 0];
    for (let c = 0; c < 3; c++) s.push(c, rng.int(1, 50_000));
    for (let i = 0; i < 30_000; i++) {
      const c = s.pick();
      const cost = s.take(c);
      s.charge(c, cost);
      used[c] += cost;
      s.push(c, rng.int(1, 50_000));
    }
    const total = used[0] + used[1] + used[2];
    [50, 30, 20].forEach((share, c) => {
      expect(Math.abs(used[c] - (share / 100) * total)).toBeLessThanOrEqual(50_000);
    });
  });

  it('is work-conserving: a container alone gets every item, whatever its share', () => {
    const s = new ShareScheduler<number>([80, 20]);
    const used = serve(s, 1_000, (c) => c === 1);
    expect(used[0]).toBe(0);
    expect(used[1]).toBe(1_000 * 2_000);
    s.push(1, 0);
    expect(s.pick()).toBe(1);
  });

  it('lets an idle container bank nothing: back with work, it gets its share, not a catch-up', () => {
    const s = new ShareScheduler<number>([50, 50]);
    // Container 1 alone for 1000 items (2 ms), then both.
    serve(s, 1_000, (c) => c === 1);
    const before = [...s.usedNs];
    const used = serve(s, 100, () => true);
    // Without the rule container 0 would run all 100 (it is 2 ms behind); with it, the two
    // split the CPU evenly from here, within one item.
    expect(used[1]).toBeGreaterThan(0);
    expect(Math.abs(used[0] - used[1])).toBeLessThanOrEqual(2_000);
    expect(s.usedNs[0]).toBeGreaterThanOrEqual(before[1]);
  });

  it('picks nothing when no container has work', () => {
    const s = new ShareScheduler<number>([60, 40]);
    expect(s.pick()).toBe(-1);
  });
});

function guest(shares: number[], mode: 'eager' | 'lrp' = 'lrp', queuePackets?: number) {
  const kernel = new Kernel({ seed: 1 });
  const xen = new Hypervisor(kernel, {
    pcpus: 1,
    scheduler: new FifoScheduler(1, 1_000_000),
    driverDomains: [0],
  });
  xen.addDomain('Dom-0', [{ pcpu: 0 }], true);
  const dom = xen.addDomain('Dom-1', [{ pcpu: 0 }]);
  const containers = new GuestContainers(
    kernel,
    xen,
    dom.vcpus[0],
    {
      classes: shares.map((sharePct, i) => ({ name: `c${i}`, sharePct })),
      mode,
      ...(queuePackets === undefined ? {} : { queuePackets }),
    },
    10_000,
    'Dom-1.containers',
  );
  xen.start();
  return { kernel, xen, dom, containers };
}

describe('GuestContainers on a vCPU', () => {
  it('splits the vCPU by share while both want it, and never leaves it idle with work', () => {
    const { kernel, xen, dom, containers } = guest([80, 20]);
    // Each container keeps one item of 50 us (c0) or 30 us (c1) queued, until 'stopAt'.
    const stopAt = [1_000_000_000, 500_000_000];
    const again = (c: number) => {
      if (kernel.nowNs < stopAt[c]) containers.run(c, c === 0 ? 50_000 : 30_000, again, c);
    };
    again(0);
    again(1);
    kernel.runUntil(500_000_000);
    const half = containers.stats.map((s) => s.cpuNs);
    expect(Math.abs(half[0] / (half[0] + half[1]) - 0.8)).toBeLessThan(0.001);
    kernel.runUntil(1_000_000_000);
    xen.settle();
    // Work-conserving: the guest's vCPU ran the whole second (c0 alone after 0.5 s).
    expect(xen.accounting.cpuNs[dom.id]).toBeGreaterThan(999_900_000);
    const c0 = containers.stats[0].cpuNs - half[0];
    expect(c0).toBeGreaterThan(499_000_000);
  });

  it("with LRP, drops a container's packets past its queue, before their protocol work", () => {
    const { kernel, containers } = guest([50, 50], 'lrp', 4);
    let processed = 0;
    const took: boolean[] = [];
    for (let i = 0; i < 10; i++) took.push(containers.receive(1, () => processed++, i));
    expect(took.filter((x) => x)).toHaveLength(4);
    expect(containers.stats[1]).toMatchObject({ packetsIn: 10, lrpDrops: 6 });
    // Container 0's queue is its own: not full.
    expect(containers.receive(0, () => processed++, 0)).toBe(true);
    kernel.runUntil(1_000_000);
    expect(processed).toBe(5);
    // Each processed packet is the profile's whole per-packet cost, charged to its container.
    expect(containers.stats[1].cpuNs).toBe(4 * 10_000);
    expect(containers.eagerPacketNs).toBe(LRP_CLASSIFY_NS);
  });

  it('without LRP, takes every packet at once and only charges it', () => {
    const { containers } = guest([50, 50], 'eager');
    let processed = 0;
    for (let i = 0; i < 1_000; i++) expect(containers.receive(1, () => processed++, i)).toBe(true);
    expect(processed).toBe(1_000);
    expect(containers.stats[1]).toMatchObject({ packetsIn: 1_000, lrpDrops: 0, cpuNs: 1_000 * 10_000 });
    expect(containers.eagerPacketNs).toBe(10_000);
  });
});
