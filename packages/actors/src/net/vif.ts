/**
 * A virtual interface: the pair of shared rings and event-channel ports that join a
 * guest's netfront to the driver domain's netback (xen/include/public/io/netif.h).
 *
 * - rx ring: netfront posts empty receive buffers as requests (buffer ids); netback
 *   answers each with a received packet, moving the page to the guest (page flip).
 * - tx ring: netfront puts outgoing packets as requests; netback answers each with a
 *   completion once the packet has left for the NIC.
 * - Notifications: netback → netfront on `guestPort` of the guest's channel set;
 *   netfront → netback on `iddPort` of the driver domain's set.
 */
import { type BackRing, createRing, type EventChannelSet, type FrontRing } from '@isosim/core';
import type { Domain } from '../hypervisor/hypervisor.ts';
import type { Packet } from './packet.ts';

export interface Vif {
  readonly guest: Domain;
  /** Which of the guest's queues this is (multi-queue: one ring pair and port each). */
  readonly queue: number;
  readonly rxFront: FrontRing<number, Packet>;
  readonly rxBack: BackRing<number, Packet>;
  readonly txFront: FrontRing<Packet, number>;
  readonly txBack: BackRing<Packet, number>;
  readonly iddChannels: EventChannelSet;
  readonly iddPort: number;
  readonly guestChannels: EventChannelSet;
  readonly guestPort: number;
  /** Pages moved from the IDD to the guest (page flips). */
  pageFlips: number;
}

export function createVif(
  guest: Domain,
  iddChannels: EventChannelSet,
  guestChannels: EventChannelSet,
  ringSlots: number,
  queue = 0,
): Vif {
  const suffix = queue === 0 ? '' : `.q${queue}`;
  const rx = createRing<number, Packet>(ringSlots);
  const tx = createRing<Packet, number>(ringSlots);
  return {
    guest,
    queue,
    rxFront: rx.front,
    rxBack: rx.back,
    txFront: tx.front,
    txBack: tx.back,
    iddChannels,
    iddPort: iddChannels.bind(`vif${guest.id}${suffix}`),
    guestChannels,
    guestPort: guestChannels.bind(`vif${suffix}`),
    pageFlips: 0,
  };
}
