import { Kernel } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { FifoScheduler } from './fifoScheduler.testkit.ts';
import { Hypervisor } from './hypervisor.ts';

function setup(pcpus = 1) {
  const kernel = new Kernel({ seed: 1 });
  const xen = new Hypervisor(kernel, {
    pcpus,
    scheduler: new FifoScheduler(pcpus, 1_000_000),
    driverDomains: [0],
  });
  return { kernel, xen };
}

describe('Hypervisor', () => {
  it('runs work items to completion at the right instants, sharing the pCPU by quantum', () => {
    const { kernel, xen } = setup();
    const a = xen.addDomain('A', [{ pcpu: 0 }]);
    const b = xen.addDomain('B', [{ pcpu: 0 }]);
    xen.start();
    const done: string[] = [];
    xen.submit(a.vcpus[0], {
      remainingNs: 2_500_000,
      principal: a.id,
      onDone: () => done.push(`A@${kernel.nowNs}`),
    });
    xen.submit(b.vcpus[0], {
      remainingNs: 1_500_000,
      principal: b.id,
      onDone: () => done.push(`B@${kernel.nowNs}`),
    });
    kernel.runUntil(10_000_000);
    // A 1 ms, B 1 ms, A 1 ms, B 0.5 ms (done at 3.5), A 0.5 ms (done at 4.0).
    expect(done).toEqual(['B@3500000', 'A@4000000']);
    xen.settle();
    expect(xen.accounting.cpuNs[a.id]).toBe(2_500_000);
    expect(xen.accounting.cpuNs[b.id]).toBe(1_500_000);
    expect(xen.accounting.idleNs[0]).toBe(6_000_000);
  });

  it('charges the driver domain by principal and keeps busy + idle = elapsed on every pCPU', () => {
    const { kernel, xen } = setup(2);
    const idd = xen.addDomain('Dom-0', [{ pcpu: 0 }], true);
    const g = xen.addDomain('Dom-1', [{ pcpu: 1 }]);
    xen.start();
    let t = 0;
    const tick = kernel.endpoint('tick', () => {
      xen.submit(idd.vcpus[0], { remainingNs: 12_345, principal: g.id });
      xen.submit(idd.vcpus[0], { remainingNs: 1_000, principal: idd.id });
      xen.submit(g.vcpus[0], { remainingNs: 33_333, principal: g.id });
      t += 100_000;
      if (t < 50_000_000) kernel.post(t, 10, tick, kernel.type('tick'), tick);
    });
    kernel.post(0, 10, tick, kernel.type('tick'), tick);
    kernel.runUntil(60_000_000);
    xen.settle();
    const acc = xen.accounting;
    expect(acc.iddForNs[g.id]).toBe(500 * 12_345);
    expect(acc.iddForNs[idd.id]).toBe(500 * 1_000);
    expect(acc.cpuNs[g.id]).toBe(500 * 33_333);
    for (let p = 0; p < 2; p++) expect(acc.busyNs[p] + acc.idleNs[p]).toBe(60_000_000);
    const bucketSum = acc.cpuSeries.reduce((s, row) => s + (row?.[g.id] ?? 0), 0);
    expect(bucketSum).toBe(acc.cpuNs[g.id]);
  });

  it('lets kernel work preempt the user work running on a vCPU, which then resumes', () => {
    const { kernel, xen } = setup();
    const a = xen.addDomain('A', [{ pcpu: 0 }]);
    xen.start();
    const done: string[] = [];
    xen.submit(a.vcpus[0], {
      remainingNs: 500_000,
      principal: a.id,
      user: true,
      onDone: () => done.push(`user@${kernel.nowNs}`),
    });
    const ep = kernel.endpoint('irq', () =>
      xen.submit(a.vcpus[0], {
        remainingNs: 50_000,
        principal: a.id,
        onDone: () => done.push(`kernel@${kernel.nowNs}`),
      }),
    );
    kernel.post(100_000, 10, ep, kernel.type('irq'), ep);
    kernel.runUntil(10_000_000);
    expect(done).toEqual(['kernel@150000', 'user@550000']);
    xen.settle();
    expect(xen.accounting.cpuNs[a.id]).toBe(550_000);
  });

  it('rejects a vCPU pinned to a pCPU the host does not have', () => {
    const { xen } = setup(1);
    expect(() => xen.addDomain('X', [{ pcpu: 1 }])).toThrow(/pinned to pCPU 1/);
  });
});
