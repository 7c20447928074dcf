/**
 * A model of our own that composes two isosim machines as invoked children: the NIC's
 * interrupt throttling (`nicMachine`) and the driver domain's SEDF scheduler
 * (`sedfMachine`). Packets arrive; the NIC raises at most one interrupt per `itrMs`;
 * each interrupt wakes the driver domain's vCPU in the scheduler, which decides what
 * runs; the driver takes every waiting packet and re-enables the NIC's interrupts.
 *
 * isosim's machines get their effects and their clock with `provide`: `raise` becomes
 * `sendParent`, `waiting` reads our receive queue, `nicClock`/`schedulerClock` read our
 * clock. Nothing here needs Node.
 */
import { nicClock, nicMachine, schedulerClock, sedf, sedfMachine } from '@isosim/actors/machines';
import { assign, sendParent, sendTo, setup } from 'xstate';
import type { StepClock } from './clock.js';

/** Dom-0's vCPU (0) and Dom-1's (1) on one pCPU: 2 ms and 8 ms of every 10 ms (SEDF). */
const MS = 1_000_000;

export function createModel(clock: StepClock, rxQueue: number[]) {
  const nowNs = (): number => Math.round(clock.nowMs * MS);
  const nic = nicMachine.provide(nicClock(() => clock.nowMs)).provide({
    actions: { raise: sendParent({ type: 'irq' }) },
    guards: { waiting: () => rxQueue.length > 0 },
  });
  const scheduler = sedfMachine.provide(schedulerClock(sedf, nowNs));

  return setup({
    types: {
      context: {} as { packets: number; interrupts: number; iddRuns: number },
      events: {} as { type: 'packet'; id: number } | { type: 'irq' },
    },
    actors: { nic, scheduler },
  }).createMachine({
    id: 'host',
    context: { packets: 0, interrupts: 0, iddRuns: 0 },
    invoke: [
      { id: 'nic', src: 'nic', input: { itrMs: 0.125 } },
      { id: 'sched', src: 'scheduler', input: { pcpus: 1 } },
    ],
    entry: [
      sendTo('sched', { type: 'sched.add', domain: 0, pcpu: 0 }),
      sendTo('sched', { type: 'sched.add', domain: 1, pcpu: 0 }),
      sendTo('sched', { type: 'sched.sedf', vcpu: 0, sliceNs: 2 * MS, periodNs: 10 * MS, extratime: 0 }),
      sendTo('sched', { type: 'sched.sedf', vcpu: 1, sliceNs: 8 * MS, periodNs: 10 * MS, extratime: 0 }),
    ],
    on: {
      packet: {
        actions: [({ event }) => rxQueue.push(event.id), sendTo('nic', { type: 'nic.rx' })],
      },
      irq: {
        actions: [
          assign({ interrupts: ({ context }) => context.interrupts + 1 }),
          // The driver domain's vCPU wakes and is scheduled on the idle pCPU...
          sendTo('sched', { type: 'sched.wake', vcpu: 0 }),
          sendTo('sched', { type: 'sched.do_schedule', pcpu: 0, prevVcpu: -1, ranNs: 0, prevRunnable: 0 }),
          // ...takes every waiting packet, re-enables interrupts, and blocks after 20 us.
          assign({
            packets: ({ context }) => context.packets + rxQueue.splice(0).length,
            iddRuns: ({ context }) => context.iddRuns + 1,
          }),
          sendTo('nic', { type: 'nic.enable' }),
          sendTo('sched', {
            type: 'sched.do_schedule',
            pcpu: 0,
            prevVcpu: 0,
            ranNs: 20_000,
            prevRunnable: 0,
          }),
        ],
      },
    },
  });
}
