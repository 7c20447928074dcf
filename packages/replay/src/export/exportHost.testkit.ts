/**
 * A host for the exporters' tests, built through the library: two pCPUs under SEDF, a
 * driver domain that is not named Dom-N, is not first in the scenario's domain list
 * and has a vCPU on each pCPU, a guest with two vCPUs, and a guest whose own timer
 * (UDP sends every 333 µs, short SEDF period) wakes it often enough to preempt the
 * driver domain in the middle of its work items (which runs in slack, `extratime`).
 */
import { SYSTEM_2, type SystemConfig, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, logHeader, NS_PER_S } from '@isosim/core';
import { FileSink, scanLog } from '@isosim/core/node';

const MS = 1_000_000;

export const EXPORT_HOST: SystemConfig = {
  profile: SYSTEM_2,
  scheduler: 'sedf',
  idd: {
    name: 'driver',
    vcpus: [
      { pcpu: 0, sedf: { sliceNs: 3 * MS, periodNs: 20 * MS, extratime: true } },
      { pcpu: 1, sedf: { sliceNs: 3 * MS, periodNs: 20 * MS, extratime: true } },
    ],
  },
  guests: [
    {
      name: 'web.a',
      vcpus: [
        { pcpu: 0, sedf: { sliceNs: 2 * MS, periodNs: 10 * MS, extratime: false } },
        { pcpu: 1, sedf: { sliceNs: 2 * MS, periodNs: 10 * MS, extratime: false } },
      ],
      workloads: [{ kind: 'web', rate: 800, fileBytes: 10_240, timeoutNs: NS_PER_S }],
    },
    {
      name: 'sender',
      vcpus: [{ pcpu: 0, sedf: { sliceNs: 1 * MS, periodNs: 2 * MS, extratime: false } }],
      workloads: [{ kind: 'udp', direction: 'send', rate: 3000, bytes: 1000 }],
    },
    {
      name: 'batch',
      vcpus: [{ pcpu: 1, sedf: { sliceNs: 3 * MS, periodNs: 10 * MS, extratime: true } }],
      workloads: [{ kind: 'cpu' }],
    },
  ],
};

/**
 * The scenario as a log header carries it (what `domainNames` and the exporters read):
 * the driver domain second in the list, marked by its role.
 */
export function exportHostSpec(durationS: number): object {
  const [web, sender, batch] = EXPORT_HOST.guests;
  return {
    durationS,
    domains: [
      { name: web.name },
      { name: EXPORT_HOST.idd.name, role: 'idd' },
      { name: sender.name },
      { name: batch.name },
    ],
  };
}

/**
 * Runs the host for `durationS`, logging to `logPath` (with the scenario in the header
 * unless `withSpec` is false), and settles the accounting at the end.
 */
export function runExportHost(logPath: string, durationS: number, withSpec = true): XenSystem {
  const header = withSpec
    ? logHeader('export-host', 11, { spec: exportHostSpec(durationS) })
    : logHeader('export-host', 11);
  const kernel = new Kernel({ seed: 11, log: new LogWriter(new FileSink(logPath), header) });
  const sys = new XenSystem(kernel, EXPORT_HOST);
  sys.start();
  kernel.runUntil(Math.round(durationS * NS_PER_S));
  sys.xen.settle();
  kernel.log?.close();
  return sys;
}

/**
 * Per domain id, the times its vCPU was switched out of a pCPU with no cpu.timer on that
 * pCPU at that instant (a work item cut by a deschedule: the case the exporters' and
 * the World's cut stretches handle), in the log at `path`.
 */
export function cutsInLog(path: string): number[] {
  const domainOf: number[] = [];
  const timerAt: number[] = [];
  const cuts: number[] = [];
  scanLog(path, {
    onRecord: (r, d) => {
      const a = r.values;
      const type = d.typeName(r.type);
      if (type === 'vcpu.state') domainOf[a[0]] = a[1];
      if (type === 'cpu.timer') timerAt[a[0]] = r.timeNs;
      if (type === 'cpu.switch' && a[1] !== a[2] && a[1] >= 0 && timerAt[a[0]] !== r.timeNs) {
        const dom = domainOf[a[1]];
        cuts[dom] = (cuts[dom] ?? 0) + 1;
      }
      return undefined;
    },
  });
  return cuts;
}
