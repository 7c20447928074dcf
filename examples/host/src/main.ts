/**
 * A Xen host in 50 lines: a driver domain and two guests on one CPU, SEDF with the
 * paper's shares, a web server in Dom-1 and a CPU-bound job in Dom-2; run two
 * simulated seconds with the log on and print each domain's CPU, the driver domain's
 * work per guest, and the log's hash (the same on every run).
 */
import assert from 'node:assert/strict';
import { P4_2_8, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, MemorySink, NS_PER_MS, NS_PER_S } from '@isosim/core';

const ms = (n: number): number => n * NS_PER_MS;
const sedf = (sliceMs: number) => ({ sliceNs: ms(sliceMs), periodNs: ms(10), extratime: false });

const log = new LogWriter(new MemorySink(), {
  format: 'isosim-log',
  schema: 1,
  scenario: { name: 'host-in-50-lines' },
  seed: 42,
  versions: {},
});
const kernel = new Kernel({ seed: 42, log });
const host = new XenSystem(kernel, {
  profile: P4_2_8,
  scheduler: 'sedf',
  idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedf(2) }] },
  guests: [
    {
      name: 'Dom-1',
      vcpus: [{ pcpu: 0, sedf: sedf(4) }],
      workloads: [{ kind: 'web', rate: 300, fileBytes: 10_240, timeoutNs: 10 * NS_PER_S }],
    },
    { name: 'Dom-2', vcpus: [{ pcpu: 0, sedf: sedf(4) }], workloads: [{ kind: 'cpu' }] },
  ],
});

host.start();
kernel.runUntil(2 * NS_PER_S);
host.settle(); // charge the work running right now, so the totals below are exact

const pct = (ns: number): string => `${((100 * ns) / (2 * NS_PER_S)).toFixed(1)}%`;
const { cpuNs, iddForNs } = host.xen.accounting;
for (const d of [host.idd, ...host.guests.map((g) => g.domain)]) {
  const idd = d === host.idd ? '' : `, driver domain for it ${pct(iddForNs[d.id] ?? 0)}`;
  console.log(`${d.name}: CPU ${pct(cpuNs[d.id] ?? 0)}${idd}`);
}
const web = host.guest('Dom-1').web[0];
console.log(`Dom-1 replies: ${web?.stats.replies ?? 0}`);
assert.ok((web?.stats.replies ?? 0) > 500, 'Dom-1 serves its load');
const summary = log.close();
console.log(`log: ${summary.records} records, digest ${summary.digest}`);
