import { IsosimError, Kernel, NS_PER_S } from '@isosim/core';
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
