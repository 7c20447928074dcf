import {
  IsosimError,
  Kernel,
  LogDictionary,
  LogWriter,
  logHeader,
  MemorySink,
  NS_PER_S,
  recordToJson,
} from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { describe, expect, it } from 'vitest';
import { P4_2_8 } from '../profiles/profiles.ts';
import { XenSystem } from '../system/xenSystem.ts';
import { ShareGuard } from './shareGuard.ts';

const T = NS_PER_S / 2;

describe('ShareGuard', () => {
  it("follows the paper's worked example: limit 5%, used 30%, t = 0.5 s gives t_def = 2.5 s", () => {
    const kernel = new Kernel({ seed: 1 });
    let spent = 0;
    const guard = new ShareGuard(kernel, T, [{ guest: 3, limit: 0.05 }], 0.6, () => [0, 0, 0, spent]);
    const ep = kernel.endpoint('t', () => {});
    const tick = kernel.type('tick');
    kernel.post(T, 0, ep, tick, ep);
    kernel.run();
    spent = 0.3 * T; // 30% of one CPU over the last t
    guard.tick();
    expect(guard.actions).toEqual([
      { timeNs: T, guest: 3, kind: 'block', tdefNs: 2.5 * NS_PER_S, used: 0.3 },
    ]);
    expect(guard.blocked(3)).toBe(true);
    expect(guard.blocked(2)).toBe(false);
    // Nothing more is spent while blocked; traffic flows again after t_def.
    for (let k = 2; k <= 6; k++) {
      kernel.post(k * T, 0, ep, tick, ep);
      kernel.run();
      guard.tick();
    }
    expect(guard.blocked(3)).toBe(false);
    expect(guard.actions.at(-1)).toMatchObject({ timeNs: 3 * NS_PER_S, kind: 'restore' });
    // The 3 s window [0.5, 3.5) averages the limit: 0.3 * 0.5 s / 3 s = 5%.
  });

  it('rounds t_def up, so a guest at 1.5 times its limit is still stopped', () => {
    const kernel = new Kernel({ seed: 1 });
    const guard = new ShareGuard(kernel, T, [{ guest: 1, limit: 0.1 }], 0.5, () => [0, 0.15 * T]);
    guard.tick();
    expect(guard.actions[0].tdefNs).toBe(T);
  });

  it("rejects a limit at or above the IDD's own share with a clear error", () => {
    const kernel = new Kernel({ seed: 1 });
    expect(() => new ShareGuard(kernel, T, [{ guest: 1, limit: 0.6 }], 0.6, () => [])).toThrow(IsosimError);
    expect(() => new ShareGuard(kernel, T, [{ guest: 1, limit: 0.6 }], 0.6, () => [])).toThrow(
      /below the IDD's CPU share/,
    );
  });

  it('drops a blocked guest inbound after the driver paid, outbound before the stack, counted by reason', () => {
    const kernel = new Kernel({ seed: 2 });
    const credit = { weight: 256, capPct: 0 };
    const sys = new XenSystem(kernel, {
      profile: P4_2_8,
      scheduler: 'credit',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit: { weight: 256, capPct: 60 } }] },
      guests: [
        {
          name: 'Dom-1',
          vcpus: [{ pcpu: 0, credit }],
          workloads: [
            { kind: 'udp', direction: 'receive', rate: 8_000, bytes: 500 },
            { kind: 'udp', direction: 'send', rate: 8_000, bytes: 500 },
          ],
        },
      ],
      mechanisms: { shareGuard: { periodNs: T, limits: { 'Dom-1': 0.05 }, source: 'truth' } },
    });
    sys.start();
    kernel.runUntil(3 * NS_PER_S);
    const drops = sys.guests[0].stats.drops;
    expect(drops.get('shareguard-inbound')).toBeGreaterThan(1000);
    expect(drops.get('shareguard-outbound')).toBeGreaterThan(1000);
    expect(sys.shareGuard?.actions.some((a) => a.kind === 'block')).toBe(true);
  });
});

describe('ShareGuard decisions and their log records', () => {
  /** A guard over a settable use, on a kernel that logs; returns what the log holds. */
  function rig(limits: { guest: number; limit: number }[], iddShare = 0.6) {
    const sink = new MemorySink();
    const log = new LogWriter(sink, logHeader('sg', 1));
    const kernel = new Kernel({ seed: 1, log });
    const totals: number[] = [0, 0, 0, 0];
    const guard = new ShareGuard(kernel, T, limits, iddShare, () => totals);
    const ep = kernel.endpoint('t', () => {});
    const tick = kernel.type('tick');
    /** Advances to interval k, having spent `used` of a CPU per guest over the last one. */
    const at = (k: number, used: Record<number, number>) => {
      for (const [g, u] of Object.entries(used)) totals[Number(g)] += u * T;
      kernel.post(k * T, 0, ep, tick, ep);
      kernel.run();
      guard.tick();
    };
    const records = () => {
      log.close();
      const dict = new LogDictionary();
      const out: Record<string, unknown>[] = [];
      scanLog(sink.bytes(), {
        dictionary: dict,
        onRecord(r) {
          const j = recordToJson(r, dict);
          if (String(j.type).startsWith('shareguard')) out.push(j);
          return undefined;
        },
      });
      return out;
    };
    return { guard, at, records };
  }

  it('logs each block with t_def, the use and the limit in ppm, and each restore', () => {
    const { guard, at, records } = rig([{ guest: 2, limit: 0.04 }]);
    at(1, { 2: 0.1 }); // 2.5 times the limit: t_def = ceil(1.5) t = 2 t
    expect(guard.blocked(2)).toBe(true);
    at(2, {});
    at(3, {});
    expect(guard.blocked(2)).toBe(false);
    expect(records()).toEqual([
      {
        seq: expect.any(Number),
        timeNs: T,
        source: 'shareguard',
        target: 'shareguard',
        type: 'shareguard.block',
        payload: { guest: 2, tdefNs: 2 * T, usedPpm: 100_000, limitPpm: 40_000 },
      },
      {
        seq: expect.any(Number),
        timeNs: 3 * T,
        source: 'shareguard',
        target: 'shareguard',
        type: 'shareguard.restore',
        payload: { guest: 2 },
      },
    ]);
    expect(guard.actions.map((a) => [a.kind, a.timeNs, a.tdefNs])).toEqual([
      ['block', T, 2 * T],
      ['restore', 3 * T, 0],
    ]);
  });

  it('leaves a guest at exactly its limit alone, and stops one just over it for one interval', () => {
    const { guard, at } = rig([
      { guest: 1, limit: 0.05 },
      { guest: 2, limit: 0.05 },
      { guest: 3, limit: 0.05 },
    ]);
    // Guest 2 is over by a rounding error only: t_def would be 0, so no block.
    at(1, { 1: 0.05, 2: 0.05 * (1 + 1e-10), 3: 0.0501 });
    expect(guard.blocked(1)).toBe(false);
    expect(guard.blocked(2)).toBe(false);
    expect(guard.blocked(3)).toBe(true);
    expect(guard.actions).toEqual([{ timeNs: T, guest: 3, kind: 'block', tdefNs: T, used: 0.0501 }]);
  });

  it('measures each interval on its own: what was used before a block does not count after it', () => {
    const { guard, at } = rig([{ guest: 1, limit: 0.1 }]);
    at(1, { 1: 0.3 }); // t_def = 2 t
    at(2, { 1: 0.3 }); // still blocked: not re-decided, whatever it used
    expect(guard.actions.filter((a) => a.kind === 'block')).toHaveLength(1);
    at(3, { 1: 0.05 }); // restored; the last interval's 5% is under the limit (the 30% before is not counted again)
    expect(guard.blocked(1)).toBe(false);
    expect(guard.actions.at(-1)).toEqual({ timeNs: 3 * T, guest: 1, kind: 'restore', tdefNs: 0, used: 0.05 });
    at(4, { 1: 0.25 }); // blocked again, t_def = ceil(1.5) t
    expect(guard.actions.at(-1)).toEqual({
      timeNs: 4 * T,
      guest: 1,
      kind: 'block',
      tdefNs: 2 * T,
      used: 0.25,
    });
  });

  it('names the guest, the limit and the IDD share when a limit is out of range', () => {
    const kernel = new Kernel({ seed: 1 });
    const make = (limit: number, where?: string) => () =>
      new ShareGuard(kernel, T, [{ guest: 2, limit }], 0.4, () => [], where);
    expect(make(0.4)).toThrow(
      "shareGuard: limits[2]: a limit of 40.00% is not below the IDD's share of 40.00%; give each guest a limit above 0 and below the IDD's CPU share (limit_i < CPUshare_IDD)",
    );
    expect(make(0, 'scenario.json')).toThrow(/^scenario\.json: limits\[2\]: a limit of 0\.00% /);
    expect(make(0.3999)).not.toThrow();
    expect(make(0.0001)).not.toThrow();
  });
});
