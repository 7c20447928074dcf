/**
 * Packets and flows. A packet belongs to one guest and goes one way: inbound (from a
 * client machine to the guest) or outbound. Its `flow` is the conversation it is part
 * of (an HTTP connection, a bulk transfer, a UDP stream); the flow is told when the
 * packet arrives at either end, and when it is dropped, with the reason.
 *
 * Drop reasons are counted per guest (`NetStats`), so every packet offered is either
 * delivered, dropped for a named reason, or still in flight.
 */
export const Direction = { INBOUND: 0, OUTBOUND: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export const DROP_REASONS = [
  /** The NIC's receive descriptor queue was full (the IDD did not keep up). */
  'nic-rx-full',
  /** The NIC's transmit queue was full. */
  'nic-tx-full',
  /** Netback found no receive buffer posted by the guest's netfront. */
  'no-rx-buffer',
  /**
   * The guest's transmit queue (qdisc) was full while its tx ring was full, for a flow
   * without backpressure (UDP); a TCP flow's segment is held instead (`Flow.localCongestion`).
   */
  'guest-txqueue-full',
  /** ShareGuard: inbound traffic to a guest dropped in the IDD, after the driver paid for it. */
  'shareguard-inbound',
  /** ShareGuard: outbound traffic from a guest dropped in netback, before the IDD's stack. */
  'shareguard-outbound',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface Flow {
  /** The packet reached the guest's stack (inbound) or the client (outbound). */
  arrived(packet: Packet): void;
  dropped?(packet: Packet, reason: DropReason): void;
  /**
   * Local congestion (TCP): the guest's qdisc was full when `packet` was sent. Linux's
   * `dev_queue_xmit` returns NET_XMIT_DROP, and TCP does not lose the segment: it stays
   * in the socket's write queue and goes out when the device has room again, and TCP
   * enters CWR (`tcp_enter_cwr`, net/ipv4/tcp_output.c, tcp_input.c in 2.6), halving its
   * congestion window once. Netfront holds the packet and sends it when room frees; the
   * flow only adjusts its window. A flow without this hook (UDP) loses the packet
   * (`guest-txqueue-full`), as UDP does.
   */
  localCongestion?(packet: Packet): void;
}

export interface Packet {
  readonly id: number;
  readonly guest: number;
  readonly direction: Direction;
  readonly bytes: number;
  readonly flow: Flow;
  /** Flow-defined meaning (segment number, message kind). */
  readonly tag: number;
  /**
   * The guest's network queue the packet uses (multi-queue netfront/netback, chosen by
   * the flow's hash, `net/flowHash.ts`); 0 for a single-queue guest.
   */
  readonly queue: number;
  /**
   * The packet opens a connection (a TCP SYN from a client): the driver domain pays
   * the profile's `iddConnNs` for it besides its per-packet cost.
   */
  readonly opens: boolean;
}

export class NetStats {
  readonly offered = [0, 0];
  readonly delivered = [0, 0];
  readonly drops = new Map<DropReason, number>();
  /** Segments held in a socket because the guest's qdisc was full (`Flow.localCongestion`). */
  held = 0;
  /** Called on every drop (the host logs it as `net.drop`). */
  onDrop: (reason: DropReason) => void = () => {};

  drop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.onDrop(reason);
  }

  dropCount(): number {
    let n = 0;
    for (const v of this.drops.values()) n += v;
    return n;
  }
}

/** Standard packet sizes on an Ethernet with a 1500-byte MTU. */
export const MTU_BYTES = 1500;
/** TCP payload per full segment (1500 - 20 IP - 20 TCP - 12 timestamp option). */
export const MSS_BYTES = 1448;
/** A bare TCP segment (SYN, ACK, FIN) on the wire. */
export const ACK_BYTES = 66;
