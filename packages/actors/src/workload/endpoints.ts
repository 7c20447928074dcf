/**
 * The two ends a workload talks between: the guest (through its netfront, paying the
 * guest's CPU) and a client machine on the LAN (through the network, free of host CPU).
 * Timers for the client side are kernel events on one endpoint per workload.
 */
import { type Delivery, type Kernel, Priority } from '@isosim/core';
import type { Netfront } from '../guest/netfront.ts';
import type { Network } from '../net/network.ts';
import { Direction, type Flow, type Packet } from '../net/packet.ts';

export class Endpoints {
  readonly guest: number;
  private readonly endpoint: number;
  private readonly timerType: number;

  constructor(
    readonly kernel: Kernel,
    readonly name: string,
    readonly netfront: Netfront,
    readonly network: Network,
  ) {
    this.guest = netfront.vif.guest.id;
    this.timerType = kernel.type('workload.timer', ['tag']);
    this.endpoint = kernel.endpoint(name, (ev: Delivery) => (ev.ref as () => void)());
  }

  packet(direction: Direction, bytes: number, flow: Flow, tag: number): Packet {
    return { id: this.network.newPacketId(), guest: this.guest, direction, bytes, flow, tag };
  }

  /** The guest sends a packet out (guest CPU, then netfront → netback → NIC). */
  fromGuest(bytes: number, flow: Flow, tag: number): void {
    this.netfront.send(this.packet(Direction.OUTBOUND, bytes, flow, tag));
  }

  /** A client machine sends a packet to the guest. */
  fromClient(bytes: number, flow: Flow, tag: number): void {
    this.network.sendToHost(this.packet(Direction.INBOUND, bytes, flow, tag));
  }

  /** Resends a dropped packet as a new one with the same content. */
  resend(p: Packet): void {
    if (p.direction === Direction.OUTBOUND) this.fromGuest(p.bytes, p.flow, p.tag);
    else this.fromClient(p.bytes, p.flow, p.tag);
  }

  /** Runs `fn` after `delayNs`; the firing is logged with `tag`. */
  after(delayNs: number, tag: number, fn: () => void): void {
    this.kernel.postIn(
      delayNs,
      Priority.ACTOR,
      this.endpoint,
      this.timerType,
      this.endpoint,
      tag,
      0,
      0,
      0,
      fn,
    );
  }

  /** Guest CPU work on behalf of the workload. */
  work(costNs: number, onDone: () => void): void {
    this.netfront.work(costNs, onDone);
  }
}
