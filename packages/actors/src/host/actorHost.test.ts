import { InvariantError, Kernel, LogDictionary, LogWriter, MemorySink } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { ActorHost } from './actorHost.ts';

const header = { format: 'isosim-log' as const, schema: 1, scenario: { name: 't' }, seed: 1, versions: {} };

function logged(sink: MemorySink): { time: number; type: string; src: string; dst: string; v: number[] }[] {
  const out: { time: number; type: string; src: string; dst: string; v: number[] }[] = [];
  const dict = new LogDictionary();
  scanLog(sink.bytes(), {
    dictionary: dict,
    onRecord(r) {
      out.push({
        time: r.timeNs,
        type: dict.typeName(r.type),
        src: dict.name(r.source),
        dst: dict.name(r.target),
        v: Array.from(r.values.subarray(0, r.fieldCount)),
      });
      return undefined;
    },
  });
  return out;
}

const toggle = setup({
  types: { events: {} as { type: 'go'; n: number } | { type: 'stop' }, context: {} as { total: number } },
  delays: { rest: 0.005 },
}).createMachine({
  context: { total: 0 },
  initial: 'off',
  states: {
    off: {
      on: {
        go: { target: 'on', actions: assign({ total: ({ context, event }) => context.total + event.n }) },
      },
    },
    on: { after: { rest: 'off' }, on: { stop: 'off' } },
  },
});

function setupHost() {
  const sink = new MemorySink();
  const log = new LogWriter(sink, header);
  const kernel = new Kernel({ seed: 1, log });
  const host = new ActorHost(kernel);
  return { sink, log, kernel, host };
}

describe('ActorHost', () => {
  it('logs the initial state, every delivered event, timer firings and state changes', () => {
    const { sink, log, kernel, host } = setupHost();
    const a = host.spawn('a', toggle);
    host.send(a, { type: 'go', n: 3 }, 1_000);
    kernel.runUntil(1_000_000_000);
    log.close();
    expect(a.snapshot().value).toBe('off');
    expect(a.snapshot().context.total).toBe(3);
    const recs = logged(sink).filter((r) => r.dst === 'a');
    expect(recs.map((r) => [r.time, r.type])).toEqual([
      [0, 'xstate.state'],
      [1_000, 'go'],
      [1_000, 'xstate.state'],
      [6_000, 'xstate.timer'],
      [6_000, 'xstate.state'],
    ]);
    expect(recs[1].v).toEqual([3]);
  });

  it('fires XState timers at their exact nanosecond, equal deadlines in the order they were set', () => {
    const { kernel, host } = setupHost();
    const order: string[] = [];
    const m = setup({ delays: { d: 0.000_123 } }).createMachine({
      initial: 'wait',
      states: {
        wait: { after: { d: 'done' } },
        done: { entry: ({ self }) => order.push(`${self.id}@${kernel.nowNs}`) },
      },
    });
    host.spawn('x', m);
    host.spawn('y', m);
    host.spawn('z', m);
    kernel.run();
    expect(order).toEqual(['x@123', 'y@123', 'z@123']);
  });

  it('cancels the timer of a state that is left before it fires', () => {
    const { sink, log, kernel, host } = setupHost();
    const a = host.spawn('a', toggle);
    host.send(a, { type: 'go', n: 1 }, 0);
    host.send(a, { type: 'stop' }, 1_000);
    kernel.run();
    log.close();
    expect(kernel.nowNs).toBe(1_000);
    expect(logged(sink).some((r) => r.type === 'xstate.timer')).toBe(false);
  });

  it('rejects events whose shape changes or whose fields are not integers', () => {
    const { host } = setupHost();
    const a = host.spawn('a', toggle);
    host.send(a, { type: 'go', n: 1 });
    expect(() => host.send(a, { type: 'go', m: 1 } as never)).toThrow(InvariantError);
    expect(() => host.send(a, { type: 'go', n: 1.5 })).toThrow(/integer fields \[n\]/);
    expect(() => host.send(a, { type: 'go', n: '1' } as never)).toThrow(InvariantError);
  });

  it('rejects a duplicate actor id and an unknown target', () => {
    const { host } = setupHost();
    host.spawn('a', toggle);
    expect(() => host.spawn('a', toggle)).toThrow(/already exists/);
    expect(() => host.send('nobody', { type: 'go', n: 1 })).toThrow(/no actor/);
  });

  it('turns an action that throws into an error from the run loop, with actor id and time', () => {
    const { kernel, host } = setupHost();
    const bad = setup({}).createMachine({
      on: {
        boom: {
          actions: () => {
            throw new Error('kaput');
          },
        },
      },
    });
    host.spawn('bad', bad);
    host.send('bad', { type: 'boom' }, 42);
    expect(() => kernel.run()).toThrow(/actor bad failed at t=42 ns: kaput/);
  });

  it('never puts XState session ids into the log', () => {
    const { sink, log, kernel, host } = setupHost();
    host.spawn('a', toggle);
    host.send('a', { type: 'go', n: 1 });
    kernel.run();
    log.close();
    const dict = new LogDictionary();
    scanLog(sink.bytes(), { dictionary: dict });
    expect(dict.names.filter((n) => /^x:\d+$/.test(n))).toEqual([]);
    expect(dict.names).toContain('a');
  });
});
