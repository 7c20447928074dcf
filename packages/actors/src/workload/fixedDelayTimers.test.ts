/**
 * Fixed-delay timers with a queue of items: each timer is one kernel event posted as
 * `Endpoints.after` posts it, fires in the order set (so the queue's head is its
 * item), and a released timer still fires but runs and holds nothing.
 */
import { Kernel, Priority } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { FixedDelayTimers } from './fixedDelayTimers.ts';

/** A kernel and an `after` as `Endpoints.after` posts it; `log` lists every firing as [time, tag]. */
function setup() {
  const kernel = new Kernel({ seed: 1 });
  const log: [number, number][] = [];
  const type = kernel.type('workload.timer', ['tag']);
  const ep = kernel.endpoint('w', (ev) => {
    log.push([kernel.nowNs, ev.a0]);
    (ev.ref as () => void)();
  });
  const after = (delayNs: number, tag: number, fn: () => void) =>
    kernel.postIn(delayNs, Priority.ACTOR, ep, type, ep, tag, 0, 0, 0, fn);
  return { kernel, log, after };
}

describe('FixedDelayTimers', () => {
  it('fires each timer at its time with its own item, in the order set, equal times too', () => {
    const { kernel, log, after } = setup();
    const fired: [number, string][] = [];
    const timers = new FixedDelayTimers<string>({ after }, 100, 7, (x) => fired.push([kernel.nowNs, x]));
    const at = (t: number, fn: () => void) => after(t, 0, fn);
    at(0, () => timers.set('a'));
    at(5, () => {
      timers.set('b');
      timers.set('c'); // same time as b: after b
    });
    at(50, () => timers.set('d'));
    kernel.runUntil(1_000);
    expect(fired).toEqual([
      [100, 'a'],
      [105, 'b'],
      [105, 'c'],
      [150, 'd'],
    ]);
    expect(log.filter(([, tag]) => tag === 7).map(([t]) => t)).toEqual([100, 105, 105, 150]);
    expect(timers.pending).toBe(0);
  });

  it('lets go of a released item: the timer still fires, runs nothing, holds nothing', () => {
    const { kernel, log, after } = setup();
    const fired: number[] = [];
    const timers = new FixedDelayTimers<{ n: number }>({ after }, 1_000, 3, (x) => fired.push(x.n));
    const tickets: number[] = [];
    for (let n = 0; n < 10; n++) after(n, 0, () => tickets.push(timers.set({ n })));
    kernel.runUntil(9);
    expect(timers.held).toBe(10);
    for (const n of [1, 4, 5, 9]) timers.release(tickets[n]);
    expect(timers.pending).toBe(10);
    expect(timers.held).toBe(6);
    kernel.runUntil(2_000);
    expect(fired).toEqual([0, 2, 3, 6, 7, 8]);
    expect(log.filter(([, tag]) => tag === 3)).toHaveLength(10); // every timer's event, released or not
    timers.release(tickets[0]); // fired already: nothing happens
    expect(timers.pending).toBe(0);
  });

  it('keeps tickets right as its ring grows and wraps, with releases spread over it', () => {
    const { kernel, after } = setup();
    const fired: number[] = [];
    const timers = new FixedDelayTimers<number>({ after }, 10_000, 1, (x) => fired.push(x));
    const tickets = new Map<number, number>();
    const released = new Set<number>();
    // 3,000 timers, one every 7 ns: up to ~1,430 pending at once (the ring starts at 64),
    // released every third one some time after it was set.
    for (let n = 0; n < 3_000; n++) {
      after(n * 7, 0, () => tickets.set(n, timers.set(n)));
      if (n % 3 === 0)
        after(n * 7 + 4_321, 0, () => {
          timers.release(tickets.get(n) as number);
          released.add(n);
        });
    }
    kernel.runUntil(100_000);
    const expected = [...Array(3_000).keys()].filter((n) => !released.has(n));
    expect(released.size).toBe(1_000);
    expect(fired).toEqual(expected);
  });

  it('refuses a firing with no timer pending (its callback run by someone else)', () => {
    let fire: (() => void) | undefined;
    const fired: number[] = [];
    const timers = new FixedDelayTimers<number>({ after: (_d, _t, fn) => (fire = fn) }, 10, 1, (x) =>
      fired.push(x),
    );
    timers.set(5);
    (fire as () => void)();
    expect(fired).toEqual([5]);
    expect(() => (fire as () => void)()).toThrow(/none pending/);
  });
});
