import { describe, expect, it } from 'vitest';
import { EventChannelSet, NotifyOutcome, type Upcall } from './eventChannel.ts';
import { Kernel } from './kernel.ts';
import { LogDictionary } from './log/logReader.ts';
import { LogWriter } from './log/logWriter.ts';
import { MemorySink } from './log/sink.ts';
import { scanLog } from './node.ts';

function rig(latencyNs = 0) {
  const sink = new MemorySink();
  const log = new LogWriter(sink, {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'e' },
    seed: 1,
    versions: {},
  });
  const kernel = new Kernel({ seed: 1, log });
  const chans = new EventChannelSet(kernel, 'dom1.evtchn', { latencyNs });
  const upcalls: Upcall[] = [];
  chans.upcalls$.subscribe((u) => upcalls.push(u));
  const src = kernel.endpoint('dev', () => {});
  return { sink, log, kernel, chans, upcalls, src };
}

describe('EventChannelSet', () => {
  it('coalesces a flood into one upcall per pending period', () => {
    const { kernel, chans, upcalls, src } = rig();
    const port = chans.bind('rx');
    for (let period = 0; period < 10; period++) {
      for (let i = 0; i < 1000; i++) chans.notify(port, src);
      kernel.run();
      chans.clearPending(port);
    }
    expect(upcalls.length).toBe(10);
    expect(chans.stats.notifies).toBe(10_000);
    expect(chans.stats.coalesced).toBe(9_990);
  });

  it('delivers nothing until the kernel runs, and then after the latency', () => {
    const { kernel, chans, upcalls, src } = rig(2_500);
    const port = chans.bind('rx');
    kernel.runUntil(1_000);
    chans.notify(port, src);
    expect(upcalls.length).toBe(0);
    kernel.run();
    expect(upcalls).toEqual([{ timeNs: 3_500, ports: [port] }]);
  });

  it('holds a masked port pending and raises it on unmask, once', () => {
    const { kernel, chans, upcalls, src } = rig();
    const a = chans.bind('a');
    chans.mask(a);
    chans.notify(a, src);
    chans.notify(a, src);
    kernel.run();
    expect(upcalls.length).toBe(0);
    expect(chans.isPending(a)).toBe(true);
    chans.unmask(a);
    kernel.run();
    expect(upcalls).toEqual([{ timeNs: 0, ports: [a] }]);
  });

  it('carries ports notified before delivery in one upcall, ascending', () => {
    const { kernel, chans, upcalls, src } = rig(100);
    const ports = [chans.bind('a'), chans.bind('b'), chans.bind('c')];
    chans.notify(ports[2], src);
    chans.notify(ports[0], src);
    kernel.run();
    expect(upcalls).toEqual([{ timeNs: 100, ports: [0, 2] }]);
  });

  it('filters per port, rejects unbound ports, and logs notifications with their outcomes', () => {
    const { sink, log, kernel, chans, src } = rig();
    const a = chans.bind('a');
    const b = chans.bind('b');
    const onB: number[] = [];
    chans.port$(b).subscribe((u) => onB.push(u.timeNs));
    expect(() => chans.notify(7, src)).toThrow(/not bound/);
    chans.notify(a, src); // raised
    chans.notify(a, src); // coalesced
    chans.mask(b);
    chans.notify(b, src); // masked
    kernel.run();
    chans.unmask(b);
    kernel.run();
    expect(onB).toEqual([0]);
    log.close();
    const dict = new LogDictionary();
    const outcomes: number[] = [];
    let upcallRecords = 0;
    scanLog(sink.bytes(), {
      dictionary: dict,
      onRecord(r) {
        const name = dict.typeName(r.type);
        if (name === 'evtchn.send') outcomes.push(r.values[1]);
        if (name === 'evtchn.upcall') upcallRecords++;
        return undefined;
      },
    });
    expect(outcomes).toEqual([NotifyOutcome.RAISED, NotifyOutcome.COALESCED, NotifyOutcome.MASKED]);
    expect(upcallRecords).toBe(2);
  });

  it('rethrows an error from an onUpcall subscriber out of the kernel run', () => {
    const { kernel, chans, src } = rig();
    const a = chans.bind('a');
    chans.onUpcall(() => {
      throw new Error('handler failed');
    });
    chans.notify(a, src);
    expect(() => kernel.run()).toThrow('handler failed');
  });
});
