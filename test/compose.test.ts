/**
 * Importing one actor into another model: the NIC's interrupt machine, driven by a
 * model of our own (no Xen host), on the kernel's clock, logged like any actor.
 */
import { ActorHost, type NicSnapshot, nicClock, nicMachine } from '@isosim/actors';
import { Kernel, LogDictionary, LogWriter, MemorySink, NS_PER_MS } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { describe, expect, it } from 'vitest';

describe('composing an imported actor', () => {
  it("runs isosim's NIC interrupt machine inside another model", () => {
    const sink = new MemorySink();
    const log = new LogWriter(sink, {
      format: 'isosim-log',
      schema: 1,
      scenario: { name: 'c' },
      seed: 1,
      versions: {},
    });
    const kernel = new Kernel({ seed: 1, log });
    const host = new ActorHost(kernel);
    let waiting = 0;
    const irqs: number[] = [];
    // Our model's effects and environment, and its clock, given with provide.
    const machine = nicMachine.provide(nicClock(() => kernel.nowNs / NS_PER_MS)).provide({
      actions: { raise: () => irqs.push(kernel.nowNs) },
      guards: { waiting: () => waiting > 0 },
    });
    const nic = host.spawn('my-nic', machine, { input: { itrMs: 0.05 } });
    // Our own model: a packet at 0 and at 10 us; a driver that re-enables at 100 us.
    waiting = 1;
    host.send(nic, { type: 'nic.rx' }, 0);
    host.send(nic, { type: 'nic.rx' }, 10_000);
    kernel.runUntil(100_000);
    const snap: NicSnapshot = nic.snapshot();
    expect(snap.value).toBe('masked');
    expect(irqs).toEqual([0]);
    waiting = 2;
    host.send(nic, { type: 'nic.enable' }); // now, at 100 us
    kernel.runUntil(1_000_000);
    expect(irqs).toEqual([0, 100_000]);
    log.close();
    const dict = new LogDictionary();
    const states: string[] = [];
    scanLog(sink.bytes(), {
      dictionary: dict,
      onRecord(r) {
        if (dict.typeName(r.type) === 'xstate.state') states.push(dict.name(r.values[0]));
        return undefined;
      },
    });
    expect(states).toEqual(['armed', 'throttled', 'masked', 'throttled', 'masked']);
  });
});
