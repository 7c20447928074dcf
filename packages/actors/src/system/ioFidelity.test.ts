/**
 * The I/O path's behaviour under overload, as Linux 2.6 and Xen 3.0 had it (issue 13):
 * one Apache per guest, TCP held back by a full qdisc instead of losing segments,
 * netback serving vifs round robin, and goodput that stays at capacity past it.
 */
import { Kernel, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { TX_BATCH } from '../driver/netback.ts';
import { P4_2_8 } from '../profiles/profiles.ts';
import { LISTEN_BACKLOG, MAX_CLIENTS } from '../workload/web.ts';
import type { DomainConfig, MechanismsConfig, SystemConfig, WorkloadConfig } from './config.ts';
import { XenSystem } from './xenSystem.ts';

const sedf = (sliceMs: number) => ({
  sedf: { sliceNs: sliceMs * NS_PER_MS, periodNs: 10 * NS_PER_MS, extratime: false },
});

function host(
  guests: { name: string; sliceMs: number; workloads: WorkloadConfig[] }[],
  iddSliceMs: number,
  options: { mechanisms?: MechanismsConfig; profile?: typeof P4_2_8 } = {},
): XenSystem {
  const config: SystemConfig = {
    profile: options.profile ?? P4_2_8,
    scheduler: 'sedf',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, ...sedf(iddSliceMs) }] },
    guests: guests.map(
      (g): DomainConfig => ({
        name: g.name,
        vcpus: [{ pcpu: 0, ...sedf(g.sliceMs) }],
        workloads: g.workloads,
      }),
    ),
    mechanisms: options.mechanisms,
  };
  return new XenSystem(new Kernel({ seed: 5 }), config);
}

const web = (rate: number, fileBytes = 20_480): WorkloadConfig => ({
  kind: 'web',
  rate,
  fileBytes,
  timeoutNs: 2 * NS_PER_S,
});

/** Replies per second completed in [fromS, toS), all of a guest's web workloads. */
function goodput(sys: XenSystem, guest: string, fromS: number, toS: number): number {
  const loads = sys.guest(guest).web;
  const n = loads.reduce((a, l) => a + l.stats.repliesIn.between(fromS * NS_PER_S, toS * NS_PER_S), 0);
  return n / (toS - fromS);
}

/** Fig. 6's host: Dom-1 60%, Dom-0 40% of one Pentium-IV, at a fixed offered rate. */
function fig6(rate: number, debt: boolean): number {
  const mechanisms: MechanismsConfig | undefined = debt
    ? { debt: { mode: 'immediate', spread: false, feedbackNs: 500 * NS_PER_MS, source: 'estimate' } }
    : undefined;
  const sys = host([{ name: 'Dom-1', sliceMs: 6, workloads: [web(rate)] }], 4, { mechanisms });
  sys.start();
  sys.kernel.runUntil(8 * NS_PER_S);
  return goodput(sys, 'Dom-1', 4, 8);
}

describe('the I/O path under overload', () => {
  it("serves every web workload of a guest from one server: MaxClients and the backlog are the guest's", () => {
    const sys = host([{ name: 'Dom-1', sliceMs: 6, workloads: [web(500), web(500), web(500)] }], 4);
    sys.start();
    const g = sys.guest('Dom-1');
    const server = g.webServer;
    expect(server).toBeDefined();
    for (const l of g.web) expect(l.server).toBe(server);
    let peakBusy = 0;
    let peakWaiting = 0;
    for (let t = 1; t <= 40; t++) {
      sys.kernel.runUntil(t * 100 * NS_PER_MS);
      peakBusy = Math.max(peakBusy, server?.busy ?? 0);
      peakWaiting = Math.max(peakWaiting, server?.waiting.length ?? 0);
    }
    // 1,500 req/s against a capacity near 900: the server fills up, and no further.
    expect(peakBusy).toBe(MAX_CLIENTS);
    expect(peakWaiting).toBeGreaterThan(0);
    expect(peakWaiting).toBeLessThanOrEqual(LISTEN_BACKLOG);
    expect(g.web.reduce((a, l) => a + l.stats.synDrops, 0)).toBeGreaterThan(0);
  });

  it('keeps goodput at 90% of capacity or more past capacity, under SEDF and SEDF-DC', () => {
    for (const debt of [false, true]) {
      const below = [600, 900].map((r) => fig6(r, debt));
      const peak = Math.max(...below);
      const over = fig6(1_500, debt);
      expect(peak).toBeGreaterThan(250);
      expect(over).toBeGreaterThanOrEqual(0.9 * peak);
    }
  });

  it('holds TCP segments back when the qdisc is full, and drops only UDP datagrams', () => {
    // Dom-0 gets 5% of the CPU: far less than two senders' packets need.
    const sys = host(
      [
        { name: 'tcp', sliceMs: 4, workloads: [{ kind: 'bulk', direction: 'send', windowSegments: 2_000 }] },
        {
          name: 'udp',
          sliceMs: 4,
          workloads: [{ kind: 'udp', direction: 'send', rate: 40_000, bytes: 1_000 }],
        },
      ],
      0.5,
    );
    sys.start();
    sys.kernel.runUntil(2 * NS_PER_S);
    const tcp = sys.guest('tcp').stats;
    const udp = sys.guest('udp').stats;
    expect(tcp.held).toBeGreaterThan(0);
    expect(tcp.drops.get('guest-txqueue-full') ?? 0).toBe(0);
    expect(udp.held).toBe(0);
    expect(udp.drops.get('guest-txqueue-full') ?? 0).toBeGreaterThan(0);
    // Nothing the TCP sender offered is lost: delivered, or still held, queued or in flight.
    const out = tcp.offered[1] - tcp.delivered[1] - tcp.dropCount();
    expect(out).toBeGreaterThanOrEqual(0);
    expect(out).toBeLessThanOrEqual(2_000);
  });

  it('serves backlogged vifs round robin: equal packets from two equal senders', () => {
    const bulk: WorkloadConfig = { kind: 'bulk', direction: 'send', windowSegments: 2_000 };
    const sys = host(
      [
        { name: 'a', sliceMs: 3, workloads: [bulk] },
        { name: 'b', sliceMs: 3, workloads: [bulk] },
      ],
      0.5,
    );
    sys.start();
    sys.kernel.runUntil(4 * NS_PER_S);
    sys.xen.settle();
    const a = sys.guest('a').stats.delivered[1];
    const b = sys.guest('b').stats.delivered[1];
    // Equal to within one poll's batch (the first poll finds only the guest that ran first).
    expect(a).toBeGreaterThan(10 * TX_BATCH);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(TX_BATCH);
  });

  it("charges the profile's per-connection IDD cost once per connection, with its first SYN", () => {
    const run = (iddConnNs: number) => {
      const load: WorkloadConfig = { ...web(20, 10_240), stopNs: NS_PER_S / 2 };
      const sys = host([{ name: 'Dom-1', sliceMs: 6, workloads: [load] }], 4, {
        profile: { ...P4_2_8, iddConnNs },
      });
      sys.start();
      sys.kernel.runUntil(NS_PER_S);
      sys.xen.settle();
      return { idd: sys.xen.accounting.iddForNs[1], issued: sys.guest('Dom-1').web[0].stats.issued };
    };
    const without = run(0);
    const with50 = run(50_000);
    expect(with50.issued).toBe(without.issued);
    expect(with50.idd - without.idd).toBe(50_000 * without.issued);
  });
});
