/**
 * The two ends a workload talks between: the guest (through its netfront, paying the
 * guest's CPU) and a client machine on the LAN (through the network, free of host CPU).
 * Timers for the client side are kernel events on one endpoint per workload.
 */
import { type Delivery, type Kernel, Priority } from '@isosim/core';
import type { GuestNet, VcpuPlacement } from '../guest/guestNet.ts';
import type { Network } from '../net/network.ts';
import { Direction, type Flow, type Packet } from '../net/packet.ts';

export class Endpoints {
  readonly guest: number;
  private readonly endpoint: number;
  private readonly timerType: number;

  constructor(
    readonly kernel: Kernel,
    readonly name: string,
    readonly net: GuestNet,
    readonly network: Network,
    /** Where the workload's threads run (guest/guestNet.ts). */
    readonly placement: VcpuPlacement = 0,
  ) {
    this.guest = net.guest;
    this.timerType = kernel.type('workload.timer', ['tag']);
    this.endpoint = kernel.endpoint(name, (ev: Delivery) => (ev.ref as () => void)());
  }

  packet(direction: Direction, bytes: number, flow: Flow, tag: number, opens = false): Packet {
    const queue = this.net.queueOf(flow);
    return { id: this.network.newPacketId(), guest: this.guest, direction, bytes, flow, tag, queue, opens };
  }

  /** The guest sends a packet out (guest CPU, then netfront → netback → NIC). */
  fromGuest(bytes: number, flow: Flow, tag: number): void {
    this.net.send(this.packet(Direction.OUTBOUND, bytes, flow, tag), this.net.vcpuOf(flow, this.placement));
  }

  /** A client machine sends a packet to the guest (`opens`: it is a connection's SYN). */
  fromClient(bytes: number, flow: Flow, tag: number, opens = false): void {
    this.network.sendToHost(this.packet(Direction.INBOUND, bytes, flow, tag, opens));
  }

  /** Resends a dropped packet as a new one with the same content. */
  resend(p: Packet): void {
    if (p.direction === Direction.OUTBOUND) this.fromGuest(p.bytes, p.flow, p.tag);
    else this.fromClient(p.bytes, p.flow, p.tag, p.opens);
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

  /** Guest CPU work on behalf of the workload, on the vCPU that serves `flow`. */
  work(costNs: number, onDone: () => void, flow?: Flow): void {
    const vcpu =
      flow === undefined
        ? this.placement === 'spread'
          ? 0
          : this.placement
        : this.net.vcpuOf(flow, this.placement);
    this.net.work(vcpu, costNs, onDone);
  }

  /** Guest CPU work on vCPU `vcpu` (index in the domain). */
  workOn(vcpu: number, costNs: number, onDone: () => void): void {
    this.net.work(vcpu, costNs, onDone);
  }

  /** The vCPUs a `spread` workload may use, as domain indices (one for a pinned one). */
  threadVcpus(): number[] {
    if (this.placement !== 'spread') return [this.placement];
    return this.net.vcpus.map((_, i) => i);
  }
}
