/**
 * Netfront: one queue of a guest's network driver (a single-queue guest has one). It
 * keeps the rx ring stocked with receive
 * buffers, takes received packets in batches (each packet costing the guest
 * `guestPacketNs` of its own CPU) and hands them to their flows; it sends packets
 * through the tx ring, each costing `guestPacketNs` first, and holds them in a
 * bounded transmit queue (a qdisc, `txqueuelen`) while the ring is full. When the
 * qdisc is full too, a TCP segment waits in its socket (`held`, in order) and enters
 * the qdisc as room frees; a UDP datagram is dropped (`Flow.localCongestion`).
 */
import { InvariantError, type Kernel } from '@isosim/core';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import type { Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';
import { DRAINED } from '../hypervisor/pollMachine.ts';
import { spawnPollLoop } from '../hypervisor/virq.ts';
import type { NetStats, Packet } from '../net/packet.ts';
import type { Vif } from '../net/vif.ts';
import { netfrontMachine } from './netfrontMachine.ts';

/** Linux's default txqueuelen for Ethernet devices, packets. */
export const TXQUEUE_LEN = 1000;

export interface NetfrontOptions {
  readonly guestPacketNs: number;
  readonly guestIrqNs: number;
  /** The vCPU this queue's interrupt is bound to (default: the guest's first). */
  readonly vcpu?: Vcpu;
  /** The actor's name (default `<guest>.netfront`). */
  readonly name?: string;
}

export class Netfront {
  readonly actor: HostedActor<typeof netfrontMachine>;
  private readonly vcpu: Vcpu;
  /**
   * Packets waiting for the tx ring, in order: the first `TXQUEUE_LEN` are the qdisc;
   * any after them are TCP segments the full qdisc refused, waiting in their sockets'
   * write queues, which enter the qdisc in the same order as it drains.
   */
  private backlog: Packet[] = [];
  /**
   * Where the backlog starts in `backlog`: packets leave from the front a ring's worth
   * at a time, and a `splice(0, n)` of a thousand-packet backlog at every reclaim was a
   * copy of it each time.
   */
  private backlogHead = 0;
  private nextBuffer = 0;

  constructor(
    kernel: Kernel,
    private readonly host: ActorHost,
    private readonly xen: Hypervisor,
    readonly vif: Vif,
    private readonly stats: NetStats,
    private readonly options: NetfrontOptions,
  ) {
    this.vcpu = options.vcpu ?? vif.guest.vcpus[0];
    this.actor = spawnPollLoop(
      host,
      xen,
      this.vcpu,
      vif.guestChannels,
      options.name ?? `${vif.guest.name}.netfront`,
      netfrontMachine,
      { poll: () => this.poll(), rearm: () => this.rearm(), hasWork: () => this.hasWork() },
      options.guestIrqNs,
    );
    this.postBuffers();
    void kernel;
  }

  private readonly enqueueFn = (p: Packet): void => this.enqueue(p);

  /**
   * Sends `p` from the guest: its stack's CPU first, on the sending thread's vCPU
   * (default: this queue's), then the ring (or the transmit queue).
   */
  send(p: Packet, from: Vcpu = this.vcpu): void {
    this.stats.offered[p.direction]++;
    this.xen.submit(from, {
      remainingNs: this.options.guestPacketNs,
      principal: this.vif.guest.id,
      onDone: this.enqueueFn,
      arg: p,
    });
  }

  /** Queues user-level CPU work in this guest (a workload's own processing). */
  work(costNs: number, onDone?: () => void): void {
    this.xen.submit(this.vcpu, { remainingNs: costNs, principal: this.vif.guest.id, onDone, user: true });
  }

  private enqueue(p: Packet): void {
    // As Linux's netfront does in its transmit path (xennet_tx_buf_gc): reclaim the
    // slots of completed sends before deciding the ring is full.
    const ring = this.vif.txFront;
    let queued = this.backlogLength() === 0 && ring.putRequest(p);
    if (!queued) {
      this.reclaimTx();
      queued = this.backlogLength() === 0 && ring.putRequest(p);
    }
    if (!queued) {
      if (this.backlogLength() >= TXQUEUE_LEN) {
        if (p.flow.localCongestion === undefined) {
          this.stats.drop('guest-txqueue-full');
          p.flow.dropped?.(p, 'guest-txqueue-full');
          return;
        }
        this.stats.held++;
        p.flow.localCongestion(p);
      }
      this.backlog.push(p);
      return;
    }
    this.pushTx();
  }

  private pushTx(): void {
    if (this.vif.txFront.pushRequestsAndCheckNotify()) {
      this.vif.iddChannels.notify(this.vif.iddPort, this.actor.endpoint);
    }
  }

  private postBuffers(): void {
    let posted = false;
    while (this.vif.rxFront.putRequest(this.nextBuffer)) {
      this.nextBuffer = (this.nextBuffer + 1) >>> 0;
      posted = true;
    }
    if (posted) this.vif.rxFront.pushRequestsAndCheckNotify();
  }

  private poll(): void {
    this.vif.guestChannels.clearPending(this.vif.guestPort);
    // Transmit completions free ring slots: move queued packets into the ring.
    this.reclaimTx();
    const batch = this.batch;
    if (batch.length > 0) throw new InvariantError(`${this.actor.id}: polled with a batch still in progress`);
    for (let p = this.vif.rxFront.takeResponse(); p !== undefined; p = this.vif.rxFront.takeResponse())
      batch.push(p);
    this.xen.submit(this.vcpu, {
      remainingNs: batch.length * this.options.guestPacketNs,
      principal: this.vif.guest.id,
      onDone: this.batchDoneFn,
    });
  }

  /**
   * The packets of the poll in progress. The machine polls again only after
   * `napi.drained`, which ends the batch, so there is one at a time: one array and one
   * function serve every poll.
   */
  private readonly batch: Packet[] = [];
  private readonly batchDoneFn = (): void => {
    this.postBuffers();
    const batch = this.batch;
    for (const p of batch) {
      this.stats.delivered[p.direction]++;
      p.flow.arrived(p);
    }
    batch.length = 0;
    this.host.deliver(this.actor, DRAINED);
  };

  private hasWork(): boolean {
    return this.vif.rxFront.unconsumedResponses() > 0 || this.vif.txFront.unconsumedResponses() > 0;
  }

  /**
   * Takes the responses of completed sends, freeing their ring slots, and moves queued
   * packets into the freed slots. Completions are work whether or not packets wait:
   * going idle with unconsumed responses would leave the response event index unarmed
   * (ring.h's final check arms it only when nothing is pending), and a later full ring
   * would then never be woken (found by the conservation property, docs/verification.md).
   */
  private reclaimTx(): void {
    let freed = 0;
    while (this.vif.txFront.takeResponse() !== undefined) freed++;
    if (freed > 0 && this.backlogLength() > 0) {
      const b = this.backlog;
      const start = this.backlogHead;
      let i = start;
      while (i < b.length && this.vif.txFront.putRequest(b[i])) i++;
      if (i === b.length) {
        b.length = 0;
        this.backlogHead = 0;
      } else {
        this.backlogHead = i;
        // Drop the taken front once it is most of the array (amortised O(1) a packet).
        if (i > 1024 && i * 2 > b.length) {
          this.backlog = b.slice(i);
          this.backlogHead = 0;
        }
      }
      if (i > start) this.pushTx();
    }
  }

  private backlogLength(): number {
    return this.backlog.length - this.backlogHead;
  }

  private rearm(): void {
    this.vif.guestChannels.clearPending(this.vif.guestPort);
    this.vif.rxFront.finalCheckForResponses();
    this.vif.txFront.finalCheckForResponses();
  }
}
