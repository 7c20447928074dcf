/**
 * A guest's network device as a multi-queue Linux guest has it (xen-netfront with
 * `multi-queue-num-queues`, Linux 3.16 and later): one netfront queue per vCPU, each
 * with its own tx and rx rings and event channel, whose interrupt is bound to that
 * vCPU. The number of queues is what both ends agree on: the guest asks for one per
 * vCPU (`xennet_max_queues` defaults to the guest's CPUs) and netback offers at most
 * one per driver-domain vCPU (`xenvif_max_queues` defaults to the backend's CPUs), so
 * `queues = min(guest vCPUs, IDD vCPUs)`.
 *
 * Where the guest's CPU is spent (docs/host-model.md, "Several vCPUs"):
 * - sending: the stack's per-packet cost runs on the sending thread's vCPU (Linux's
 *   transmit path runs in the sender's context), then the packet enters the queue of
 *   its flow's hash;
 * - receiving: the per-packet cost runs on the vCPU the queue's interrupt is bound to
 *   (queue q on vCPU q);
 * - a workload's own work runs on the vCPU it is placed on: one given vCPU, or with
 *   `spread` the vCPU of each flow's hash (a connection is served where its packets
 *   are, as with receive flow steering), and a CPU-bound job as one thread per vCPU.
 */
import type { Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';
import { FlowHasher } from '../net/flowHash.ts';
import type { Flow, Packet } from '../net/packet.ts';
import type { GuestContainers } from './containers.ts';
import type { Netfront } from './netfront.ts';

/** Where a workload's threads run: one vCPU (by index in its domain) or spread by flow. */
export type VcpuPlacement = number | 'spread';

export class GuestNet {
  private readonly hasher = new FlowHasher();

  constructor(
    private readonly xen: Hypervisor,
    readonly guest: number,
    readonly vcpus: readonly Vcpu[],
    readonly queues: readonly Netfront[],
    /**
     * The guest kernel's resource containers (guest/containers.ts), if it has them: its
     * web server charges each connection's work to the container of its client class.
     */
    readonly containers?: GuestContainers,
  ) {}

  /** The queue a flow's packets use. */
  queueOf(flow: Flow): number {
    return this.queues.length === 1 ? 0 : this.hasher.hash(flow) % this.queues.length;
  }

  /** The vCPU (index in the domain) a flow's thread runs on under `placement`. */
  vcpuOf(flow: Flow, placement: VcpuPlacement): number {
    if (placement !== 'spread') return placement;
    return this.vcpus.length === 1 ? 0 : this.hasher.hash(flow) % this.vcpus.length;
  }

  /** Sends `p` from the thread on vCPU `vcpu`: its stack's CPU there, then its queue. */
  send(p: Packet, vcpu: number): void {
    this.queues[p.queue].send(p, this.vcpus[vcpu]);
  }

  /** User-level CPU work of a workload thread on vCPU `vcpu`. */
  work(vcpu: number, costNs: number, onDone?: () => void): void {
    this.xen.submit(this.vcpus[vcpu], { remainingNs: costNs, principal: this.guest, onDone, user: true });
  }
}
