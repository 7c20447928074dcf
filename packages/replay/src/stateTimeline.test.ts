import { PacketPipeline } from '@isosim/actors';
import { IsosimError, LogWriter, MemorySink } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { stateAt, stateTimeline } from './stateTimeline.ts';

describe('stateTimeline', () => {
  it("rebuilds an actor's state changes from the log alone, matching the live run", () => {
    const sink = new MemorySink();
    const log = new LogWriter(sink, {
      format: 'isosim-log',
      schema: 1,
      scenario: { name: 'p' },
      seed: 4,
      versions: {},
    });
    const p = new PacketPipeline({ seed: 4, log });
    const live: { t: number; state: string }[] = [];
    p.host.get('consumer')?.subscribe((s) => {
      const v = String(s.value);
      if (live.at(-1)?.state !== v) live.push({ t: p.kernel.nowNs, state: v });
    });
    p.run(2_000_000);
    log.close();
    const timeline = stateTimeline(sink.bytes(), 'consumer');
    // The log also has the initial state, logged at start (before we subscribed).
    expect(timeline[0]).toMatchObject({ timeNs: 0, state: 'idle' });
    expect(timeline.slice(1).map((c) => c.state)).toEqual(live.map((l) => l.state));
    expect(timeline.slice(1).map((c) => c.timeNs)).toEqual(live.map((l) => l.t));
    expect(live.length).toBeGreaterThan(20);
    const mid = timeline[5];
    expect(stateAt(timeline, mid.timeNs)).toBe(mid.state);
    expect(stateAt(timeline, -1)).toBeUndefined();
    expect(() => stateTimeline(sink.bytes(), 'nobody')).toThrow(IsosimError);
  });
});
