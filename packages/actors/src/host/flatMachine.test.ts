import { InvariantError, Kernel, LogWriter, MemorySink } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { assign, raise, setup } from 'xstate';
import { feedbackLoopMachine } from '../control/feedbackLoop.ts';
import { nicMachine } from '../hardware/nicMachine.ts';
import { createPollMachine } from '../hypervisor/pollMachine.ts';
import { sedfMachine } from '../scheduler/schedulerMachine.ts';
import { workloadMachine } from '../workload/lifecycle.ts';
import { ActorHost } from './actorHost.ts';
import { compileFlat } from './flatMachine.ts';

describe('flat interpreter', () => {
  it('compiles the host machines, and falls back on what it does not implement', () => {
    for (const m of [createPollMachine('p'), nicMachine, sedfMachine, workloadMachine, feedbackLoopMachine])
      expect(compileFlat(m), m.id).toBeDefined();
    const withAssign = setup({}).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: { a: { on: { go: { actions: assign({ n: 1 }) } } } },
    });
    const inline = setup({}).createMachine({ initial: 'a', states: { a: { entry: () => {} } } });
    for (const m of [withAssign, inline]) expect(compileFlat(m)).toBeDefined();
    const nested = setup({}).createMachine({
      initial: 'a',
      states: { a: { initial: 'b', states: { b: {} } } },
    });
    const withRaise = setup({}).createMachine({
      initial: 'a',
      states: { a: { on: { go: { actions: raise({ type: 'again' }) } } } },
    });
    const selfNoReenter = setup({}).createMachine({ initial: 'a', states: { a: { on: { go: 'a' } } } });
    const notImplemented = setup({}).createMachine({
      initial: 'a',
      states: { a: { entry: 'missing' as never } },
    });
    for (const m of [nested, withRaise, selfNoReenter, notImplemented])
      expect(compileFlat(m)).toBeUndefined();
  });

  it('queues events sent from inside an action, and fails the run when an action throws', () => {
    const trace: string[] = [];
    const m = setup({
      types: { events: {} as { type: 'go' } | { type: 'boom' } },
      actions: {
        first: ({ self }) => {
          trace.push('first');
          (self as { send(e: { type: string }): void }).send({ type: 'go' });
          trace.push('first done');
        },
        second: () => trace.push('second'),
        explode: () => {
          throw new Error('bang');
        },
      },
    }).createMachine({
      initial: 'a',
      states: {
        a: { entry: 'first', on: { go: 'b' } },
        b: { entry: 'second', on: { boom: { target: 'a', actions: 'explode' } } },
      },
    });
    expect(compileFlat(m)).toBeDefined();
    for (const engine of ['flat', 'xstate'] as const) {
      trace.length = 0;
      const kernel = new Kernel({ seed: 1 });
      const host = new ActorHost(kernel, { engine });
      const a = host.spawn('a', m);
      expect(a.engine).toBe(engine);
      expect(trace).toEqual(['first', 'first done', 'second']);
      expect(a.snapshot().value).toBe('b');
      host.send(a, { type: 'boom' });
      expect(() => kernel.run()).toThrow(InvariantError);
      expect(() => kernel.run()).not.toThrow();
    }
  });

  it('runs a workload lifecycle (timers, guards, a final state) exactly as XState does', () => {
    const logs = (['flat', 'xstate'] as const).map((engine) => {
      const sink = new MemorySink();
      const log = new LogWriter(sink, {
        format: 'isosim-log',
        schema: 1,
        scenario: { name: 'w' },
        seed: 1,
        versions: {},
      });
      const kernel = new Kernel({ seed: 1, log });
      const host = new ActorHost(kernel, { engine });
      const calls: string[] = [];
      const engineOf = (n: string) => ({
        start: () => calls.push(`${n} start @${kernel.nowNs}`),
        stop: () => calls.push(`${n} stop @${kernel.nowNs}`),
      });
      const a = host.spawn('w1', workloadMachine.provide({ actions: engineOf('w1') }), {
        input: { startMs: 1, stopMs: 2.5 },
      });
      host.spawn('w2', workloadMachine.provide({ actions: engineOf('w2') }), {
        input: { startMs: 0, stopMs: null },
      });
      kernel.run();
      log.close();
      expect(a.snapshot().value).toBe('stopped');
      expect(calls).toEqual(['w2 start @0', 'w1 start @1000000', 'w1 stop @2500000']);
      return sink.bytes();
    });
    expect(Buffer.from(logs[0]).equals(Buffer.from(logs[1]))).toBe(true);
  });
});
