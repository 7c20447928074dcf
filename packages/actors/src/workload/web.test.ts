/**
 * The web workload's timers hold a connection only while it matters: httperf's
 * timeout until the reply is in, a SYN retransmission until the connection is over.
 * A finished connection is then garbage, not kept for the rest of its 10 s timeout
 * (issue 15, flat memory); what it does is unchanged (same logs: the built-ins' hashes).
 */
import { Kernel, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { P4_2_8 } from '../profiles/profiles.ts';
import type { SystemConfig } from '../system/config.ts';
import { XenSystem } from '../system/xenSystem.ts';

const sedfPct = (pct: number) => ({ sliceNs: pct * 100_000, periodNs: 10_000_000, extratime: false });

function host(rate: number, guestPct: number): XenSystem {
  const config: SystemConfig = {
    profile: P4_2_8,
    scheduler: 'sedf',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedfPct(40) }] },
    guests: [
      {
        name: 'Dom-1',
        vcpus: [{ pcpu: 0, sedf: sedfPct(guestPct) }],
        workloads: [{ kind: 'web', rate, fileBytes: 10_240, timeoutNs: 5 * NS_PER_S }],
      },
    ],
  };
  return new XenSystem(new Kernel({ seed: 5 }), config);
}

describe('web connections and their timers', () => {
  it('lets go of a connection once its reply is in, though its timeout is still pending', () => {
    const sys = host(100, 50);
    sys.start();
    sys.kernel.runUntil(2 * NS_PER_S);
    const load = sys.guests[0].web[0];
    expect(load.stats.failed).toBe(0);
    expect(load.stats.replies).toBeGreaterThanOrEqual(195);
    expect(load.timeouts.pending).toBe(load.stats.issued); // none has fired yet (5 s)
    // Held: only the connections whose reply is not in yet.
    expect(load.timeouts.held).toBe(load.stats.issued - load.stats.replies);
    expect(load.timeouts.held).toBeLessThanOrEqual(5);
  });

  it('holds, overloaded, exactly the connections not yet over, SYN retries included', () => {
    const sys = host(1_500, 10);
    sys.start();
    const load = sys.guests[0].web[0];
    let checked = 0;
    for (let t = 1; t <= 16; t++) {
      sys.kernel.runUntil((t * NS_PER_S) / 2);
      const { issued, replies, failed } = load.stats;
      const alive = issued - replies - failed;
      expect(load.timeouts.held).toBe(alive);
      let synHeld = 0;
      for (let k = 0; k < 3; k++) synHeld += load.synTimers(k).held;
      expect(synHeld).toBeLessThanOrEqual(alive);
      checked++;
    }
    expect(checked).toBe(16);
    expect(load.stats.synDrops).toBeGreaterThan(0);
    expect(load.stats.failed).toBeGreaterThan(0);
    expect(load.stats.retransmits).toBeGreaterThan(0);
  });

  it('frees every worker once an overloaded load has stopped and its connections are over', () => {
    // 20,000 connections/s for 4 s against a guest that can serve a few hundred: SYNs
    // and acknowledgements are dropped on the way. A SYN of a connection httperf has
    // given up, and a client's last acknowledgement lost after its reply was in, each
    // once held a worker for good (4 of them here); now every worker is free at the end.
    const config: SystemConfig = {
      profile: P4_2_8,
      scheduler: 'sedf',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedfPct(60) }] },
      guests: [
        {
          name: 'Dom-1',
          vcpus: [{ pcpu: 0, sedf: sedfPct(30) }],
          workloads: [
            { kind: 'web', rate: 20_000, fileBytes: 1_024, timeoutNs: NS_PER_S, stopNs: 4 * NS_PER_S },
          ],
        },
      ],
    };
    const sys = new XenSystem(new Kernel({ seed: 5 }), config);
    sys.start();
    sys.kernel.runUntil(40 * NS_PER_S);
    const load = sys.guests[0].web[0];
    const server = sys.guests[0].webServer;
    expect(load.stats.replies).toBeGreaterThan(0);
    expect(load.stats.failed).toBeGreaterThan(0);
    expect(load.stats.issued).toBe(load.stats.replies + load.stats.failed);
    expect(server?.busy).toBe(0);
    expect(server?.waiting).toHaveLength(0);
  });
});
