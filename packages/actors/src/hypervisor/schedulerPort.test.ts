import { Kernel, LogWriter, MemorySink, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { P4_2_8 } from '../profiles/profiles.ts';
import { credit } from '../scheduler/credit.ts';
import { creditMachine, schedulerClock, sedfMachine } from '../scheduler/schedulerMachine.ts';
import { sedf } from '../scheduler/sedf.ts';
import type { SchedulerOps } from '../scheduler/types.ts';
import type { SystemConfig } from '../system/config.ts';
import { XenSystem } from '../system/xenSystem.ts';
import { ActorSchedulerPort } from './schedulerPort.ts';

function run(
  kind: 'sedf' | 'credit',
  fastPath: boolean,
): { digest: string; state: unknown; replies: number } {
  const log = new LogWriter(new MemorySink(), {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'p' },
    seed: 5,
    versions: {},
  });
  const kernel = new Kernel({ seed: 5, log });
  const sedfP = (pct: number) => ({ sliceNs: pct * 100_000, periodNs: 10_000_000, extratime: false });
  const config: SystemConfig = {
    profile: P4_2_8,
    scheduler: kind,
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedfP(40), credit: { weight: 256, capPct: 40 } }] },
    guests: [
      {
        name: 'Dom-1',
        vcpus: [{ pcpu: 0, sedf: sedfP(60), credit: { weight: 256, capPct: 60 } }],
        workloads: [{ kind: 'web', rate: 300, arrivals: 'poisson', fileBytes: 10_240, timeoutNs: NS_PER_S }],
      },
    ],
  };
  const sys = new XenSystem(kernel, config, (host, pcpus) => {
    const now = () => kernel.nowNs;
    const machine: AnyStateMachine =
      kind === 'sedf'
        ? sedfMachine.provide(schedulerClock(sedf, now))
        : creditMachine.provide(schedulerClock(credit, now));
    const ops = (kind === 'sedf' ? sedf : credit) as SchedulerOps<unknown>;
    const actor = host.spawn(`sched.${kind}`, machine, { input: { pcpus } });
    return new ActorSchedulerPort(host, actor, ops, fastPath);
  });
  sys.start();
  kernel.runUntil(NS_PER_S / 2);
  const port = sys.scheduler as ActorSchedulerPort;
  const state = JSON.parse(JSON.stringify((port.actor.snapshot() as { context: unknown }).context));
  return { digest: log.close().digest, state, replies: sys.guests[0].web[0].stats.replies };
}

describe('ActorSchedulerPort', () => {
  for (const kind of ['sedf', 'credit'] as const) {
    it(`gives the same log and state through the fast path as through XState (${kind})`, () => {
      const fast = run(kind, true);
      const slow = run(kind, false);
      expect(fast.replies).toBeGreaterThan(50);
      expect(fast.digest).toBe(slow.digest);
      expect(fast.state).toEqual(slow.state);
    });
  }
});
