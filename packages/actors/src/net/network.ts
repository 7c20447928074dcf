/**
 * The network between the host's NIC and the client machines: a full-duplex link at
 * the NIC's line rate with a fixed one-way latency. Packets serialise on the link in
 * the order they are sent; the receiving end gets each one when its last bit is in.
 *
 * Packets travel as kernel events (`wire.to_host`, `wire.to_client`, logged with the
 * guest and size); the packet object rides along unlogged.
 */
import { type Delivery, type Kernel, Priority } from '@isosim/core';
import { Direction, type NetStats, type Packet } from './packet.ts';

export class Network {
  private readonly toHostType: number;
  private readonly toClientType: number;
  private readonly endpoint: number;
  private hostLinkFreeNs = 0;
  private clientLinkFreeNs = 0;
  private nextId = 0;
  /** Where inbound packets land (the NIC). */
  deliverToHost: (p: Packet) => void = () => {};

  constructor(
    private readonly kernel: Kernel,
    private readonly lineRateBps: number,
    private readonly latencyNs: number,
    private readonly statsOf: (guest: number) => NetStats,
  ) {
    this.toHostType = kernel.type('wire.to_host', ['guest', 'bytes']);
    this.toClientType = kernel.type('wire.to_client', ['guest', 'bytes']);
    this.endpoint = kernel.endpoint('wire', (ev) => this.arrive(ev));
  }

  newPacketId(): number {
    return this.nextId++;
  }

  /** Serialisation time of `bytes` on the link, ns (integer, rounded up). */
  wireNs(bytes: number): number {
    return Math.ceil((bytes * 8 * 1e9) / this.lineRateBps);
  }

  /** A client machine sends `p` to the host. */
  sendToHost(p: Packet): void {
    this.statsOf(p.guest).offered[Direction.INBOUND]++;
    const start = Math.max(this.kernel.nowNs, this.hostLinkFreeNs);
    this.hostLinkFreeNs = start + this.wireNs(p.bytes);
    this.post(this.hostLinkFreeNs + this.latencyNs, this.toHostType, p);
  }

  /** The NIC has put `p` on the wire (already serialised by the NIC); it reaches the client. */
  sendToClient(p: Packet): void {
    this.clientLinkFreeNs = Math.max(this.kernel.nowNs, this.clientLinkFreeNs);
    this.post(this.kernel.nowNs + this.latencyNs, this.toClientType, p);
  }

  private post(atNs: number, type: number, p: Packet): void {
    this.kernel.post(atNs, Priority.HARDWARE, this.endpoint, type, this.endpoint, p.guest, p.bytes, 0, 0, p);
  }

  private arrive(ev: Delivery): void {
    const p = ev.ref as Packet;
    if (ev.type === this.toHostType) {
      this.deliverToHost(p);
    } else {
      this.statsOf(p.guest).delivered[Direction.OUTBOUND]++;
      p.flow.arrived(p);
    }
  }
}
