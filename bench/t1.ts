import { P4_2_8, XenSystem } from '@isosim/actors';
import { Kernel, NS_PER_S } from '@isosim/core';

const s = (pct: number) => ({ sliceNs: pct * 100_000, periodNs: 10_000_000, extratime: false });
const kernel = new Kernel({ seed: 1 });
const sys = new XenSystem(kernel, {
  profile: P4_2_8,
  scheduler: 'sedf',
  idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: s(22) }] },
  guests: [
    {
      name: 'Dom-1',
      vcpus: [{ pcpu: 0, sedf: s(22) }],
      workloads: [{ kind: 'web', rate: 400, fileBytes: 10_240, timeoutNs: 2 * NS_PER_S }],
    },
    {
      name: 'Dom-2',
      vcpus: [{ pcpu: 0, sedf: s(22) }],
      workloads: [{ kind: 'web', rate: 200, fileBytes: 102_400, timeoutNs: 2 * NS_PER_S }],
    },
    {
      name: 'Dom-3',
      vcpus: [{ pcpu: 0, sedf: { sliceNs: 3_400_000, periodNs: 10_000_000, extratime: true } }],
      workloads: [{ kind: 'cpu' }],
    },
  ],
});
sys.start();
const D = Number(process.argv[2] ?? 10);
const t0 = process.hrtime.bigint();
kernel.runUntil(D * NS_PER_S);
sys.xen.settle();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const a = sys.xen.accounting;
const pct = (ns: number) => ((100 * (ns ?? 0)) / (D * NS_PER_S)).toFixed(1);
for (const d of sys.xen.domains)
  console.log(d.name, 'cpu', pct(a.cpuNs[d.id]), 'idd-for', pct(a.iddForNs[d.id]));
for (const g of sys.guests)
  for (const w of g.web)
    console.log(
      g.domain.name,
      'web',
      w.stats.replies / D,
      'failed',
      w.stats.failed,
      'retx',
      w.stats.retransmits,
      'drops',
      JSON.stringify([...g.stats.drops]),
    );
console.log(
  'wall',
  ms.toFixed(0),
  'ms',
  'speedup',
  ((D * 1000) / ms).toFixed(1),
  'events',
  kernel.dispatched,
);
