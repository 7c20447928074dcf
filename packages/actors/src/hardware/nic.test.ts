import { Kernel } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { ActorHost } from '../host/actorHost.ts';
import { Network } from '../net/network.ts';
import { Direction, NetStats, type Packet } from '../net/packet.ts';
import { Nic } from './nic.ts';

function rig(rxSlots = 8, itrNs = 125_000) {
  const kernel = new Kernel({ seed: 1 });
  const host = new ActorHost(kernel);
  const stats = new NetStats();
  const arrived: Packet[] = [];
  const network = new Network(kernel, 1_000_000_000, 50_000, () => stats);
  const nic = new Nic(kernel, host, network, () => stats, { name: 'nic0', rxSlots, txSlots: 4, itrNs });
  const irqs: number[] = [];
  nic.onInterrupt = () => irqs.push(kernel.nowNs);
  const flow = { arrived: (p: Packet) => arrived.push(p), dropped: () => {} };
  const pkt = (direction: Direction, bytes = 1000): Packet => ({
    id: network.newPacketId(),
    guest: 1,
    direction,
    bytes,
    flow,
    tag: 0,
    queue: 0,
    opens: false,
  });
  return { kernel, nic, network, stats, irqs, arrived, pkt };
}

describe('Nic', () => {
  it('raises at most one interrupt per throttle interval and stays masked until re-enabled', () => {
    const { kernel, nic, network, irqs, pkt } = rig(64);
    for (let i = 0; i < 10; i++) network.sendToHost(pkt(Direction.INBOUND));
    kernel.run();
    expect(irqs.length).toBe(1);
    expect(nic.rxWaiting).toBe(10);
    while (nic.takeRx()) {}
    nic.enableInterrupts();
    network.sendToHost(pkt(Direction.INBOUND));
    kernel.run();
    expect(irqs.length).toBe(2);
    expect(irqs[1] - irqs[0]).toBeGreaterThanOrEqual(125_000);
  });

  it('drops received packets when the descriptor queue is full, counting the reason', () => {
    const { kernel, nic, network, stats, pkt } = rig(4);
    for (let i = 0; i < 7; i++) network.sendToHost(pkt(Direction.INBOUND));
    kernel.run();
    expect(nic.rxWaiting).toBe(4);
    expect(stats.drops.get('nic-rx-full')).toBe(3);
    expect(stats.offered[0]).toBe(7);
  });

  it('transmits at line rate, one packet after another, and drops beyond the tx queue', () => {
    const { kernel, nic, stats, arrived, pkt } = rig();
    for (let i = 0; i < 6; i++) nic.transmit(pkt(Direction.OUTBOUND, 1250));
    kernel.run();
    // 1250 bytes at 1 Gbit/s = 10 us each, then 50 us on the wire.
    expect(arrived.length).toBe(4);
    expect(kernel.nowNs).toBe(4 * 10_000 + 50_000);
    expect(stats.drops.get('nic-tx-full')).toBe(2);
  });
});
