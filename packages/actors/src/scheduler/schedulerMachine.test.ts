import { Kernel, LogDictionary, LogWriter, MemorySink, Priority } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createActor } from 'xstate';
import { ActorHost } from '../host/actorHost.ts';
import { credit } from './credit.ts';
import {
  creditMachine,
  type SchedulerContext,
  type SchedulerEvent,
  schedulerClock,
  sedfMachine,
} from './schedulerMachine.ts';
import { sedf } from './sedf.ts';
import { type HarnessResult, type HarnessVcpu, runScheduler } from './testHarness.ts';
import { IDLE, type SchedulerOps } from './types.ts';

const MS = 1_000_000;
const header = {
  format: 'isosim-log' as const,
  schema: 1,
  scenario: { name: 'sched' },
  seed: 1,
  versions: {},
};

/** Events that re-create a harness call on the machine (an add is two events, as ActorSchedulerPort sends). */
function eventsFor(call: HarnessResult<unknown>['calls'][number]): SchedulerEvent[] {
  switch (call.op) {
    case 'add': {
      const { domain, pcpu, sedf: s, credit: c } = call.spec;
      const out: SchedulerEvent[] = [{ type: 'sched.add', domain, pcpu }];
      if (s)
        out.push({
          type: 'sched.sedf',
          vcpu: call.vcpu,
          sliceNs: s.sliceNs,
          periodNs: s.periodNs,
          extratime: s.extratime ? 1 : 0,
        });
      if (c) out.push({ type: 'sched.credit', vcpu: call.vcpu, weight: c.weight, capBp: c.capPct * 100 });
      return out;
    }
    case 'wake':
      return [{ type: 'sched.wake', vcpu: call.vcpu }];
    case 'doSchedule': {
      const { vcpu, ranNs, runnable } = call.prev;
      return [
        { type: 'sched.do_schedule', pcpu: call.pcpu, prevVcpu: vcpu, ranNs, prevRunnable: runnable ? 1 : 0 },
      ];
    }
  }
}

/**
 * Runs `ops` directly in the harness, then replays the same calls, at the same times,
 * to the machine hosted on a kernel: every answer must match, and so must the state.
 */
function replay<S>(
  ops: SchedulerOps<S>,
  machine: AnyStateMachine,
  pcpus: number,
  vcpus: HarnessVcpu[],
  untilNs: number,
) {
  const direct = runScheduler(ops, { pcpus, vcpus, untilNs, trace: true });
  const sink = new MemorySink();
  const log = new LogWriter(sink, header);
  const kernel = new Kernel({ seed: 1, log });
  const host = new ActorHost(kernel);
  const clocked = machine.provide(schedulerClock(ops as SchedulerOps<unknown>, () => kernel.nowNs) as never);
  const actor = host.spawn(`sched.${ops.name}`, clocked, { input: { pcpus } });
  const context = () => actor.snapshot().context as SchedulerContext<S>;
  const mismatches: string[] = [];
  const callType = kernel.type('test.call', ['index']);
  const driver = kernel.endpoint('driver', (ev) => {
    const call = direct.calls[ev.a0];
    for (const e of eventsFor(call)) host.deliver(actor, e, driver);
    const ctx = context();
    if (call.op === 'wake' && ctx.preempt !== call.preempt) mismatches.push(`wake #${ev.a0} at ${ev.timeNs}`);
    if (
      call.op === 'doSchedule' &&
      JSON.stringify(ctx.decisions[call.pcpu]) !== JSON.stringify(call.decision)
    ) {
      mismatches.push(`doSchedule #${ev.a0} at ${ev.timeNs}: ${JSON.stringify(ctx.decisions[call.pcpu])}`);
    }
  });
  for (let i = 0; i < direct.calls.length; i++) {
    kernel.post(direct.calls[i].atNs, Priority.SCHEDULER, driver, callType, driver, i);
  }
  kernel.run();
  log.close();
  return { direct, ctx: context(), mismatches, sink };
}

function countLogged(sink: MemorySink, type: string): number {
  const dict = new LogDictionary();
  let n = 0;
  scanLog(sink.bytes(), {
    dictionary: dict,
    onRecord(r) {
      if (dict.typeName(r.type) === type) n++;
      return undefined;
    },
  });
  return n;
}

describe('the scheduler machine', () => {
  it('SEDF: hosted on a kernel, gives the same decisions and state as the ops called directly', () => {
    const vcpus: HarnessVcpu[] = [
      {
        spec: { domain: 0, pcpu: 0, sedf: { sliceNs: 15 * MS, periodNs: 20 * MS, extratime: false } },
        behaviour: { kind: 'periodic', runNs: 300_000, blockNs: 2 * MS },
      },
      {
        spec: { domain: 1, pcpu: 0, sedf: { sliceNs: 2 * MS, periodNs: 10 * MS, extratime: true } },
        behaviour: { kind: 'busy' },
      },
      {
        spec: { domain: 2, pcpu: 1, sedf: { sliceNs: 3 * MS, periodNs: 7 * MS, extratime: false } },
        behaviour: { kind: 'busy' },
      },
      {
        spec: { domain: 3, pcpu: 1, sedf: { sliceNs: 1 * MS, periodNs: 50 * MS, extratime: true } },
        behaviour: { kind: 'periodic', runNs: 4 * MS, blockNs: 33 * MS },
        startNs: 5 * MS,
      },
      { spec: { domain: 4, pcpu: 1 }, behaviour: { kind: 'idle' } },
    ];
    const { direct, ctx, mismatches, sink } = replay(sedf, sedfMachine, 2, vcpus, 400 * MS);
    expect(mismatches).toEqual([]);
    const doSchedules = direct.calls.filter((c) => c.op === 'doSchedule').length;
    expect(doSchedules).toBeGreaterThan(300);
    expect(countLogged(sink, 'sched.do_schedule')).toBe(doSchedules);
    expect(countLogged(sink, 'sched.sedf')).toBe(4);
    expect(JSON.parse(JSON.stringify(ctx.state))).toEqual(direct.state);
  });

  it('Credit: hosted on a kernel, gives the same decisions and state as the ops called directly', () => {
    const c = (pcpu: number, weight: number, capPct: number) => ({
      domain: pcpu,
      pcpu,
      credit: { weight, capPct },
    });
    const vcpus: HarnessVcpu[] = [
      { spec: c(0, 256, 0), behaviour: { kind: 'busy' } },
      { spec: c(0, 512, 30), behaviour: { kind: 'busy' } },
      {
        spec: c(0, 256, 0),
        behaviour: { kind: 'periodic', runNs: 700_000, blockNs: 4_300_000 },
        startNs: 12 * MS,
      },
      { spec: c(1, 100, 45), behaviour: { kind: 'periodic', runNs: 25 * MS, blockNs: 20 * MS } },
      { spec: { domain: 9, pcpu: 1 }, behaviour: { kind: 'busy' } },
    ];
    const { direct, ctx, mismatches } = replay(credit, creditMachine, 2, vcpus, 600 * MS);
    expect(mismatches).toEqual([]);
    expect(direct.calls.filter((x) => x.op === 'wake').length).toBeGreaterThan(100);
    expect(JSON.parse(JSON.stringify(ctx.state))).toEqual(direct.state);
    expect(ctx.state.accountings).toBe(20);
  });

  it('keeps its context JSON-serialisable and starts with no decision on any pCPU', () => {
    const kernel = new Kernel({ seed: 1 });
    const host = new ActorHost(kernel);
    const a = host.spawn('sched', creditMachine.provide(schedulerClock(credit, () => kernel.nowNs)), {
      input: { pcpus: 2 },
    });
    host.deliver(a, { type: 'sched.add', domain: 0, pcpu: 1 });
    host.deliver(a, { type: 'sched.wake', vcpu: 0 });
    const ctx = a.snapshot().context;
    expect(ctx.preempt).toBe(true);
    expect(ctx.decisions).toEqual([
      { vcpu: IDLE, runNs: 0 },
      { vcpu: IDLE, runNs: 0 },
    ]);
    expect(JSON.parse(JSON.stringify(ctx))).toEqual(ctx);
    expect(a.snapshot().value).toBe('ready');
  });

  it('fails the run on a malformed event, with the actor id', () => {
    const kernel = new Kernel({ seed: 1 });
    const host = new ActorHost(kernel);
    const a = host.spawn('sched', sedfMachine.provide(schedulerClock(sedf, () => kernel.nowNs)), {
      input: { pcpus: 1 },
    });
    expect(() =>
      host.deliver(a, { type: 'sched.do_schedule', pcpu: 0, prevVcpu: IDLE, ranNs: 0, prevRunnable: 2 }),
    ).toThrow(/actor sched failed.*prevRunnable must be 0 or 1/);
  });

  it('restores from a persisted snapshot and goes on exactly as the original (XState interpreter, no host)', () => {
    let t = 0;
    const machine = sedfMachine.provide(schedulerClock(sedf, () => t));
    const ms = 1_000_000;
    const a = createActor(machine, { input: { pcpus: 1 } }).start();
    const setup: SchedulerEvent[] = [
      { type: 'sched.add', domain: 0, pcpu: 0 },
      { type: 'sched.sedf', vcpu: 0, sliceNs: 2 * ms, periodNs: 10 * ms, extratime: 0 },
      { type: 'sched.add', domain: 1, pcpu: 0 },
      { type: 'sched.sedf', vcpu: 1, sliceNs: 5 * ms, periodNs: 10 * ms, extratime: 1 },
      { type: 'sched.wake', vcpu: 0 },
      { type: 'sched.wake', vcpu: 1 },
    ];
    for (const e of setup) a.send(e);
    t = 3 * ms;
    a.send({ type: 'sched.do_schedule', pcpu: 0, prevVcpu: IDLE, ranNs: 0, prevRunnable: 0 });
    // Through JSON, as a snapshot would be stored.
    const persisted = JSON.parse(JSON.stringify(a.getPersistedSnapshot()));
    const b = createActor(machine, { snapshot: persisted, input: { pcpus: 1 } }).start();
    expect(b.getSnapshot().context).toEqual(a.getSnapshot().context);
    let prev = a.getSnapshot().context.decisions[0].vcpu;
    for (let i = 0; i < 40; i++) {
      t += (i % 3) * ms + 700_000;
      const e: SchedulerEvent =
        i % 5 === 4
          ? { type: 'sched.sleep', vcpu: i % 2 }
          : { type: 'sched.do_schedule', pcpu: 0, prevVcpu: prev, ranNs: 700_000, prevRunnable: 1 };
      a.send(e);
      b.send(e);
      expect(b.getSnapshot().context.decisions).toEqual(a.getSnapshot().context.decisions);
      prev = a.getSnapshot().context.decisions[0].vcpu;
    }
    expect(JSON.stringify(b.getSnapshot().context)).toBe(JSON.stringify(a.getSnapshot().context));
  });

  it('changes its context only by assign: a snapshot taken before an event is not changed by it', () => {
    const a = createActor(creditMachine, { input: { pcpus: 1 } }).start();
    const before = a.getSnapshot().context;
    const text = JSON.stringify(before);
    a.send({ type: 'sched.add', domain: 0, pcpu: 0 });
    a.send({ type: 'sched.wake', vcpu: 0 });
    expect(JSON.stringify(before)).toBe(text);
    expect(a.getSnapshot().context).not.toBe(before);
  });
});
