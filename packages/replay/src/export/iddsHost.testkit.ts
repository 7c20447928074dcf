/**
 * A host with two driver domains and a disk, for the World's and the exporters' tests
 * (issue 16), built through the library: two pCPUs under SEDF; `net` (domain 0)
 * drives the NIC and `blk` (domain 1) a hard disk behind CFQ, which completes a
 * guest's requests out of the order it dispatched them. Neither driver domain is named
 * Dom-N, and in the header's scenario both are listed after the first guest, so a
 * reader that took the first domain listed for domain 0, or guests for 1.., gets the
 * names wrong. `web` serves web pages and reads from the disk; `writer` writes
 * sequentially with many requests in flight and is limited by `blk`'s own ShareGuard;
 * `sender` (UDP sends every 333 µs, a short SEDF period) wakes often enough to preempt
 * `net` in the middle of its work items, and `writer`'s short period does the same to
 * `blk` (both driver domains run in slack, `extratime`).
 */
import { SSD_SATA, SYSTEM_2, type SystemConfig, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, logHeader, NS_PER_S } from '@isosim/core';
import { FileSink } from '@isosim/core/node';

const MS = 1_000_000;

export const IDDS_HOST: SystemConfig = {
  profile: SYSTEM_2,
  scheduler: 'sedf',
  idd: {
    name: 'net',
    devices: ['nic0'],
    vcpus: [{ pcpu: 0, sedf: { sliceNs: 3 * MS, periodNs: 20 * MS, extratime: true } }],
  },
  drivers: [
    {
      name: 'blk',
      devices: ['sda'],
      vcpus: [{ pcpu: 0, sedf: { sliceNs: 3 * MS, periodNs: 20 * MS, extratime: true } }],
    },
  ],
  disks: [{ name: 'sda', model: SSD_SATA, elevator: 'cfq', queueDepth: 8 }],
  guests: [
    {
      name: 'web',
      vcpus: [{ pcpu: 0, sedf: { sliceNs: 2 * MS, periodNs: 10 * MS, extratime: false } }],
      vbds: [{ disk: 'sda' }],
      workloads: [
        { kind: 'web', rate: 600, fileBytes: 10_240, timeoutNs: NS_PER_S },
        { kind: 'disk', pattern: 'random', readPct: 100, blockBytes: 8192, iodepth: 4, thinkNs: 50_000 },
      ],
    },
    {
      name: 'writer',
      vcpus: [{ pcpu: 1, sedf: { sliceNs: 1 * MS, periodNs: 2 * MS, extratime: false } }],
      vbds: [{ disk: 'sda' }],
      workloads: [
        {
          kind: 'disk',
          pattern: 'sequential',
          readPct: 30,
          blockBytes: 16_384,
          iodepth: 16,
          thinkNs: 20_000,
        },
      ],
    },
    {
      name: 'sender',
      vcpus: [{ pcpu: 0, sedf: { sliceNs: MS / 2, periodNs: 2 * MS, extratime: false } }],
      workloads: [{ kind: 'udp', direction: 'send', rate: 3000, bytes: 1000 }],
    },
  ],
  mechanisms: {
    shareGuard: { periodNs: 100 * MS, limits: { writer: { blk: 0.02 } }, source: 'truth' },
  },
};

/**
 * The scenario as a log header carries it (what `hostLayout` reads): the driver
 * domains after the first guest, marked by their role, and the disk.
 */
export function iddsHostSpec(durationS: number): object {
  const [web, writer, sender] = IDDS_HOST.guests;
  const blk = IDDS_HOST.drivers?.[0];
  return {
    durationS,
    disks: [{ name: 'sda' }],
    domains: [
      { name: web.name, role: 'guest' },
      { name: IDDS_HOST.idd.name, role: 'idd' },
      { name: writer.name, role: 'guest' },
      { name: blk?.name, role: 'idd' },
      { name: sender.name, role: 'guest' },
    ],
  };
}

/** Runs the host for `durationS`, logging to `logPath`, and settles the accounting at the end. */
export function runIddsHost(logPath: string, durationS: number): XenSystem {
  const header = logHeader('idds-host', 7, { spec: iddsHostSpec(durationS) });
  const kernel = new Kernel({ seed: 7, log: new LogWriter(new FileSink(logPath), header) });
  const sys = new XenSystem(kernel, IDDS_HOST);
  sys.start();
  kernel.runUntil(Math.round(durationS * NS_PER_S));
  sys.xen.settle();
  kernel.log?.close();
  return sys;
}
