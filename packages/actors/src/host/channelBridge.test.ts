import { EventChannelSet, Kernel } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { ActorHost } from './actorHost.ts';
import { connectChannel, hasPort, type PendingEvent, portsOf } from './channelBridge.ts';

describe('connectChannel', () => {
  it('delivers each upcall to the actor as one evtchn.pending event with the pending ports', () => {
    const kernel = new Kernel({ seed: 3 });
    const host = new ActorHost(kernel);
    const chans = new EventChannelSet(kernel, 'd1.evtchn', { latencyNs: 100 });
    const ports = Array.from({ length: 40 }, (_, i) => chans.bind(`p${i}`));
    const seen: number[][] = [];
    const m = setup({ types: { events: {} as PendingEvent } }).createMachine({
      on: {
        'evtchn.pending': {
          actions: ({ event }) => {
            seen.push(portsOf(event));
            for (const p of portsOf(event)) chans.clearPending(p);
          },
        },
      },
    });
    const actor = host.spawn('d1', m);
    connectChannel(host, chans, actor);
    const src = kernel.endpoint('dev', () => {});
    chans.notify(ports[3], src);
    chans.notify(ports[35], src);
    chans.notify(ports[3], src);
    kernel.run();
    chans.notify(ports[0], src);
    kernel.run();
    expect(seen).toEqual([[3, 35], [0]]);
  });

  it('makes an error thrown by the actor come out of the kernel run, not from a later timer', () => {
    const kernel = new Kernel({ seed: 3 });
    const host = new ActorHost(kernel);
    const chans = new EventChannelSet(kernel, 'd1.evtchn');
    const port = chans.bind('rx');
    const m = setup({}).createMachine({
      on: {
        'evtchn.pending': {
          actions: () => {
            throw new Error('driver bug');
          },
        },
      },
    });
    connectChannel(host, chans, host.spawn('d1', m));
    chans.notify(port, kernel.self);
    expect(() => kernel.run()).toThrow(/driver bug/);
  });

  it('hasPort and portsOf agree on both words', () => {
    const e: PendingEvent = { type: 'evtchn.pending', portsLo: 0x80000001, portsHi: 0x2 };
    expect(portsOf(e)).toEqual([0, 31, 33]);
    expect([0, 1, 31, 32, 33].map((p) => hasPort(e, p))).toEqual([true, false, true, false, true]);
  });
});
