/**
 * Flow hashing for multi-queue virtual interfaces, as Linux spreads a device's
 * traffic over its queues: every packet of one flow (a TCP connection, a UDP stream)
 * goes to the same queue, `hash(flow) mod queues` (netfront's `xennet_select_queue`
 * and netback's queue choice both take `skb_get_hash(skb)`, the flow's hash).
 *
 * A simulated flow has no addresses and ports to hash, so each flow gets a number
 * in the order it first sends or receives a packet on its guest (deterministic: the
 * simulation's order), mixed by an integer finaliser (murmur3's fmix32) so that
 * consecutive flows land on queues as a real hash would spread them, not round-robin.
 */
import { fmix } from '@isosim/core';
import type { Flow } from './packet.ts';

/** A flow number's 32-bit hash: murmur3's finaliser (full avalanche, a bijection). */
export function mix32(x: number): number {
  return fmix(x >>> 0);
}

/** Numbers the flows of one guest in order of first use and hashes them. */
export class FlowHasher {
  private readonly ids = new WeakMap<Flow, number>();
  private next = 0;

  /** The flow's 32-bit hash (its number, mixed). */
  hash(flow: Flow): number {
    let id = this.ids.get(flow);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(flow, id);
    }
    return mix32(id);
  }
}
