import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError, IsosimError } from './errors.ts';
import { EventQueue, packKey } from './eventQueue.ts';
import { Kernel } from './kernel.ts';
import { LogWriter } from './log/logWriter.ts';
import { MemorySink } from './log/sink.ts';
import { scanLog } from './node.ts';

/** A push (time from the last pop, priority) or a pop (null). */
type QueueOp = readonly [number, number] | null;

/**
 * Runs `ops` on a queue and on a sorted reference; every pop must give the reference's
 * earliest `(time, key)` and slot. A push's time is `at(op[0], last popped time)`.
 */
function checkQueue(ops: readonly QueueOp[], at: (t: number, last: number) => number): void {
  const q = new EventQueue(2);
  const ref: [number, number, number][] = [];
  let seq = 0;
  let last = 0;
  for (const op of ops) {
    if (op === null) {
      if (ref.length === 0) continue;
      ref.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const [t, key, slot] = ref.shift()!;
      expect([q.peekTime(), q.peekKey()]).toEqual([t, key]);
      expect(q.pop()).toBe(slot);
      last = t;
    } else {
      const key = packKey(op[1], seq);
      const t = at(op[0], last);
      q.push(t, key, seq);
      ref.push([t, key, seq]);
      seq++;
    }
  }
  expect(q.size).toBe(ref.length);
}

describe('EventQueue', () => {
  it('pops in (time, key) order for any interleaving of pushes and pops', () => {
    const ops = fc.array(fc.oneof(fc.tuple(fc.nat(20), fc.nat(3)), fc.constant(null)), {
      maxLength: 400,
      size: 'max',
    });
    fc.assert(
      fc.property(ops, (o) => checkQueue(o, (t) => t)),
      { seed: 42, numRuns: 200 },
    );
  });

  it('pops in (time, key) order across its near and far heaps', () => {
    // Times ahead of the last pop on a 0.5 ms grid, from 0 to 2 ms: the same time is 1.5
    // ms ahead (far heap) when pushed and 0.5 ms ahead (near) after a pop, so equal
    // times meet in both heaps and their keys decide. And times just around 1 ms.
    const delta = fc.oneof(
      fc.nat(4).map((k) => k * 500_000),
      fc.integer({ min: 999_998, max: 1_000_002 }),
      fc.nat(2),
    );
    const ops = fc.array(fc.oneof(fc.tuple(delta, fc.nat(2)), fc.constant(null)), {
      minLength: 20,
      maxLength: 400,
      size: 'max',
    });
    fc.assert(
      fc.property(ops, (o) => checkQueue(o, (d, last) => last + d)),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('Kernel', () => {
  it('breaks ties at equal times by priority, then by posting order', () => {
    const k = new Kernel({ seed: 1 });
    const seen: string[] = [];
    const t = k.type('t', ['n']);
    const ep = k.endpoint('e', (ev) => seen.push(`${ev.timeNs}:${ev.a0}`));
    k.post(10, 50, ep, t, ep, 1);
    k.post(10, 20, ep, t, ep, 2);
    k.post(5, 90, ep, t, ep, 3);
    k.post(10, 50, ep, t, ep, 4);
    k.post(10, 20, ep, t, ep, 5);
    k.run();
    expect(seen).toEqual(['5:3', '10:2', '10:5', '10:1', '10:4']);
  });

  it('runUntil delivers events due by the end and then sets the clock to the end', () => {
    const k = new Kernel({ seed: 1 });
    const t = k.type('t');
    const seen: number[] = [];
    const ep = k.endpoint('e', (ev) => seen.push(ev.timeNs));
    for (const at of [3, 7, 7, 12]) k.post(at, 0, ep, t, ep);
    expect(k.runUntil(7)).toBe(3);
    expect(k.nowNs).toBe(7);
    expect(seen).toEqual([3, 7, 7]);
    expect(k.pending).toBe(1);
  });

  it('rejects past, fractional and negative times, bad priorities and bad seeds with IsosimError', () => {
    const k = new Kernel({ seed: 1 });
    const t = k.type('t');
    const ep = k.endpoint('e', () => {});
    k.runUntil(100);
    expect(() => k.post(99, 0, ep, t, ep)).toThrow(IsosimError);
    expect(() => k.post(100.5, 0, ep, t, ep)).toThrow(/whole number/);
    expect(() => k.postIn(-1, 0, ep, t, ep)).toThrow(IsosimError);
    expect(() => k.postIn(0.5, 0, ep, t, ep)).toThrow(/delayNs/);
    for (const p of [-1, 256, 1.5]) expect(() => k.post(200, p, ep, t, ep)).toThrow(/priority/);
    for (const seed of [-1, 1.5, Number.NaN, '7', 2 ** 53]) {
      expect(() => new Kernel({ seed: seed as number })).toThrow(/seed/);
    }
  });

  it('cancels a cancellable event once, never one that fired, and never a reused slot', () => {
    const k = new Kernel({ seed: 1 });
    const t = k.type('t', ['n']);
    const seen: number[] = [];
    const ep = k.endpoint('e', (ev) => seen.push(ev.a0));
    const a = k.postCancellable(10, 0, ep, t, ep, 1);
    const b = k.postCancellable(5, 0, ep, t, ep, 2);
    expect(k.cancel(a)).toBe(true);
    expect(k.cancel(a)).toBe(false);
    k.runUntil(6);
    expect(k.cancel(b)).toBe(false);
    for (let i = 0; i < 3000; i++) k.post(20 + i, 0, ep, t, ep, 100 + i);
    k.run();
    expect(seen.length).toBe(3001);
    expect(seen[0]).toBe(2);
    expect(seen.includes(1)).toBe(false);
  });

  it('refuses re-entrant dispatch and events for targets without a handler', () => {
    const k = new Kernel({ seed: 1 });
    const t = k.type('t');
    const ep = k.endpoint('e', () => k.step());
    k.post(0, 0, ep, t, ep);
    k.post(0, 0, ep, t, ep);
    expect(() => k.run()).toThrow(InvariantError);
    const k2 = new Kernel({ seed: 1 });
    k2.post(0, 0, 99, k2.type('t'), 0);
    expect(() => k2.run()).toThrow(/no handler/);
  });

  it('logs every dispatched event exactly once, in dispatch order', () => {
    const sink = new MemorySink();
    const log = new LogWriter(sink, {
      format: 'isosim-log',
      schema: 1,
      scenario: { name: 'k' },
      seed: 3,
      versions: {},
    });
    const k = new Kernel({ seed: 3, log });
    const t = k.type('tick', ['n']);
    const rng = k.prng.fork('x');
    const order: number[] = [];
    const ep = k.endpoint('e', (ev) => {
      order.push(ev.a0);
      if (ev.a0 < 500) k.postIn(rng.int(0, 50), rng.int(0, 3), ep, t, ep, ev.a0 + 10);
    });
    for (let i = 0; i < 10; i++) k.post(0, 0, ep, t, ep, i);
    k.run();
    log.close();
    const logged: number[] = [];
    scanLog(sink.bytes(), {
      onRecord(r) {
        logged.push(r.values[0]);
        return undefined;
      },
    });
    expect(logged).toEqual(order);
    expect(logged.length).toBe(k.dispatched);
  });
});

describe('Kernel.dispatchInPlace', () => {
  /**
   * A worker that runs jobs back to back on a self-timer, beside a noise source that
   * posts events at random times and priorities: handling the timer in place when
   * allowed must give exactly the log of always posting it.
   */
  function run(inPlace: boolean, seed: number, endNs: number): { bytes: Uint8Array; inPlace: number } {
    const sink = new MemorySink();
    const log = new LogWriter(sink, {
      format: 'isosim-log',
      schema: 1,
      scenario: { name: 'k' },
      seed,
      versions: {},
    });
    const k = new Kernel({ seed, log });
    const prng = k.prng.fork('noise');
    const tick = k.type('tick', ['n']);
    const noise = k.type('noise');
    let n = 0;
    let inPlaceCount = 0;
    const worker = k.endpoint('worker', () => {
      for (;;) {
        n++;
        if (prng.int(0, 3) === 0) k.postIn(prng.int(0, 2), prng.int(0, 2), noiseEp, noise, worker);
        const at = k.nowNs + 1 + prng.int(0, 4);
        if (inPlace && k.dispatchInPlace(at, 1, worker, tick, worker, n)) {
          inPlaceCount++;
          continue;
        }
        k.post(at, 1, worker, tick, worker, n);
        return;
      }
    });
    const noiseEp = k.endpoint('noise', () => {});
    for (let i = 0; i < 50; i++) k.post(prng.int(0, 1_999), prng.int(0, 2), noiseEp, noise, k.self);
    k.post(0, 1, worker, tick, k.self, 0);
    k.runUntil(endNs);
    log.close();
    return { bytes: sink.bytes(), inPlace: inPlaceCount };
  }

  it('writes the same log as posting the event, for any seed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const posted = run(false, seed, 3_000);
      const inPlace = run(true, seed, 3_000);
      expect(inPlace.inPlace).toBeGreaterThan(100);
      expect(Buffer.from(inPlace.bytes).equals(Buffer.from(posted.bytes))).toBe(true);
    }
  });

  it('refuses outside a dispatch, past the run horizon, and behind an earlier event', () => {
    const k = new Kernel({ seed: 1 });
    const t = k.type('t');
    const results: boolean[] = [];
    const ep = k.endpoint('e', () => {
      if (results.length > 0) return;
      results.push(k.dispatchInPlace(k.nowNs + 100, 1, ep, t, ep)); // beyond runUntil(50)
      results.push(k.dispatchInPlace(k.nowNs + 5, 1, ep, t, ep)); // behind the event at 4
      results.push(k.dispatchInPlace(k.nowNs + 3, 2, ep, t, ep)); // at 4, but lower priority
      results.push(k.dispatchInPlace(k.nowNs + 3, 0, ep, t, ep)); // at 4, ahead: allowed
    });
    expect(k.dispatchInPlace(10, 1, ep, t, ep)).toBe(false);
    k.post(1, 1, ep, t, ep);
    k.post(4, 1, ep, t, ep);
    k.runUntil(50);
    expect(results).toEqual([false, false, false, true]);
    expect(k.dispatched).toBe(3);
  });
});
