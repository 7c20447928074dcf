/**
 * The monitor tests' host: one pCPU under Credit, Dom-1 receiving 4,000 UDP packets/s
 * of 200 bytes and Dom-2 sending 3,000/s of 900 bytes, so XenMon sees both directions.
 */
import type { Kernel } from '@isosim/core';
import { P4_2_8 } from '../profiles/profiles.ts';
import { XenSystem } from '../system/xenSystem.ts';

export function udpHost(kernel: Kernel): XenSystem {
  const credit = { weight: 256, capPct: 0 };
  return new XenSystem(kernel, {
    profile: P4_2_8,
    scheduler: 'credit',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit }] },
    guests: [
      {
        name: 'Dom-1',
        vcpus: [{ pcpu: 0, credit }],
        workloads: [{ kind: 'udp', direction: 'receive', rate: 4000, bytes: 200 }],
      },
      {
        name: 'Dom-2',
        vcpus: [{ pcpu: 0, credit }],
        workloads: [{ kind: 'udp', direction: 'send', rate: 3000, bytes: 900 }],
      },
    ],
  });
}
