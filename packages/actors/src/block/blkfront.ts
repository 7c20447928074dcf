/**
 * Blkfront: a guest's driver for one virtual block device (block/blkif.ts).
 *
 * An I/O of the guest (`io`) is split into blkif requests of at most 11 segments (a
 * page each); each request costs the guest `guestReqNs` of kernel CPU on the issuing
 * vCPU (the block layer and blkfront building the request and granting its pages).
 * Requests issued together are plugged, as Linux 2.6's block layer plugs a queue: the
 * requests of one instant (say, the I/Os a job issues when a batch of completions comes
 * in) are one stretch of kernel work, `k · guestReqNs`, at whose end the queue is
 * unplugged and blkfront's request function puts them all on the ring and pushes once
 * (`do_blkif_request`, `flush_requests`). While plugged, an I/O that continues the last
 * request (same direction, next sector) is merged into it up to 11 segments, as the
 * block layer's back merge does: a sequential writer's adjacent 4 KiB writes of one
 * instant become one request. A request that finds the ring full waits in
 * the guest's request queue (Linux's blkfront stops its queue when `RING_FULL`, and
 * restarts it as responses free slots). Pushing notifies blkback when the ring's event
 * index asks for it (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
 *
 * Completions: blkback's notification is an interrupt on the guest's vCPU (`guestIrqNs`);
 * the polling loop (hypervisor/pollMachine.ts) then takes every response, costs the
 * guest `guestDoneNs` for each, and ends the I/Os whose last request is in.
 *
 * Counters (`issued`, `completed`, `inFlight`) give the conservation of block requests:
 * issued = completed + inFlight, at every instant.
 */
import { InvariantError, type Kernel } from '@isosim/core';
import { type DiskOp, SECTOR_BYTES } from '../hardware/disk.ts';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import type { Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';
import { DRAINED } from '../hypervisor/pollMachine.ts';
import { spawnPollLoop } from '../hypervisor/virq.ts';
import type { WorkItem } from '../hypervisor/work.ts';
import { blkfrontMachine } from './blkfrontMachine.ts';
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  type BlkRequest,
  MAX_REQUEST_BYTES,
  SEGMENT_BYTES,
  type Vbd,
} from './blkif.ts';

export interface BlkfrontOptions {
  readonly guestReqNs: number;
  readonly guestDoneNs: number;
  readonly guestIrqNs: number;
  /** The vCPU the vbd's interrupt is bound to (default the guest's first). */
  readonly vcpu?: Vcpu;
  /** The actor's name (default `<guest>.blkfront<index>`). */
  readonly name?: string;
}

/** A request being built while the queue is plugged: merges grow it. */
interface Plugged {
  readonly id: number;
  readonly op: DiskOp;
  readonly sector: number;
  sectors: number;
  segments: number;
  readonly issuedNs: number;
  /** The I/Os it carries a part of (several once merged). */
  readonly io: Io[];
}

/** An I/O in progress: its requests still out, and what to call when none is. */
interface Io {
  left: number;
  readonly onDone: () => void;
}

export class Blkfront {
  readonly actor: HostedActor<typeof blkfrontMachine>;
  /** Requests issued to the ring (or its queue), completed, and out now. */
  issued = 0;
  /** Parts of I/Os merged into a request already plugged (not counted in `issued`). */
  merged = 0;
  completed = 0;
  /** Bytes read and written by completed requests. */
  readonly bytes = [0, 0];
  /** The longest a request took from issue to completion, ns. */
  maxLatencyNs = 0;
  private readonly vcpu: Vcpu;
  private readonly queue: BlkRequest[] = [];
  private queueHead = 0;
  private nextId = 0;
  private readonly batch: BlkRequest[] = [];
  /** Requests issued and not yet on the ring or in the queue (the plugged queue). */
  private plugged: Plugged[] = [];
  /** The kernel work of the plugged requests, while it has not run to its end. */
  private plugItem: WorkItem | undefined;
  private readonly unplugFn = (): void => this.unplug();
  private readonly batchDoneFn = (): void => this.batchDone();

  constructor(
    private readonly kernel: Kernel,
    private readonly host: ActorHost,
    private readonly xen: Hypervisor,
    readonly vbd: Vbd,
    private readonly options: BlkfrontOptions,
  ) {
    this.vcpu = options.vcpu ?? vbd.guest.vcpus[0];
    this.actor = spawnPollLoop(
      host,
      xen,
      this.vcpu,
      vbd.guestChannels,
      options.name ?? `${vbd.guest.name}.blkfront${vbd.index}`,
      blkfrontMachine,
      {
        poll: () => this.poll(),
        rearm: () => this.rearm(),
        hasWork: () => this.vbd.front.unconsumedResponses() > 0,
      },
      options.guestIrqNs,
    );
  }

  get inFlight(): number {
    return this.issued - this.completed;
  }

  /**
   * Reads or writes `bytes` (a multiple of 512) at `sector` of the vbd, from the thread
   * on vCPU `from` (default the vbd's); `onDone` runs when every part has completed.
   */
  io(op: DiskOp, sector: number, bytes: number, onDone: () => void, from: Vcpu = this.vcpu): void {
    if (bytes <= 0 || bytes % SECTOR_BYTES !== 0) {
      throw new InvariantError(`${this.actor.id}: an I/O of ${bytes} bytes is not whole sectors`);
    }
    const io: Io = { left: Math.ceil(bytes / MAX_REQUEST_BYTES), onDone };
    for (let off = 0; off < bytes; off += MAX_REQUEST_BYTES) {
      const len = Math.min(MAX_REQUEST_BYTES, bytes - off);
      this.plug(
        op,
        sector + off / SECTOR_BYTES,
        len / SECTOR_BYTES,
        Math.ceil(len / SEGMENT_BYTES),
        io,
        from,
      );
    }
  }

  /**
   * Plugs a part of an I/O: merged into the last plugged request if it continues it (the
   * same direction, from the sector where it ends, at most 11 segments together: the
   * block layer's back merge, `ELEVATOR_BACK_MERGE` in Linux 2.6's `__make_request`),
   * else a new request. Either way its `guestReqNs` of work is added: the first part
   * starts a work item on `from`, later ones (until it ends) add their cost to it. An
   * item that has not started, or has started and so ends later than the hypervisor's
   * timer says, is re-armed by the hypervisor at that timer (hypervisor.ts `onTimer`):
   * adding to it is safe.
   */
  private plug(op: DiskOp, sector: number, sectors: number, segments: number, io: Io, from: Vcpu): void {
    const last = this.plugged.at(-1);
    if (
      last !== undefined &&
      last.op === op &&
      last.sector + last.sectors === sector &&
      last.segments + segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST
    ) {
      last.sectors += sectors;
      last.segments += segments;
      last.io.push(io);
      this.merged++;
    } else {
      this.issued++;
      this.plugged.push({
        id: this.nextId++,
        op,
        sector,
        sectors,
        segments,
        issuedNs: this.kernel.nowNs,
        io: [io],
      });
    }
    if (this.plugItem !== undefined) {
      this.plugItem.remainingNs += this.options.guestReqNs;
      return;
    }
    this.plugItem = {
      remainingNs: this.options.guestReqNs,
      principal: this.vbd.guest.id,
      onDone: this.unplugFn,
    };
    this.xen.submit(from, this.plugItem);
  }

  /** The plugged requests' work is done: onto the ring (or the queue), one push. */
  private unplug(): void {
    this.plugItem = undefined;
    const reqs = this.plugged;
    this.plugged = [];
    let pushed = false;
    for (const r of reqs) {
      if (this.queue.length - this.queueHead > 0 || !this.vbd.front.putRequest(r)) this.queue.push(r);
      else pushed = true;
    }
    if (pushed) this.push();
  }

  private push(): void {
    if (this.vbd.front.pushRequestsAndCheckNotify())
      this.vbd.iddChannels.notify(this.vbd.iddPort, this.actor.endpoint);
  }

  private poll(): void {
    this.vbd.guestChannels.clearPending(this.vbd.guestPort);
    const batch = this.batch;
    if (batch.length > 0) throw new InvariantError(`${this.actor.id}: polled with a batch in progress`);
    for (let r = this.vbd.front.takeResponse(); r !== undefined; r = this.vbd.front.takeResponse())
      batch.push(r);
    // Responses free ring slots: move queued requests in.
    let moved = false;
    while (this.queueHead < this.queue.length && this.vbd.front.putRequest(this.queue[this.queueHead])) {
      this.queueHead++;
      moved = true;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
    if (moved) this.push();
    this.xen.submit(this.vcpu, {
      remainingNs: batch.length * this.options.guestDoneNs,
      principal: this.vbd.guest.id,
      onDone: this.batchDoneFn,
    });
  }

  private batchDone(): void {
    const now = this.kernel.nowNs;
    for (const r of this.batch) {
      this.completed++;
      this.bytes[r.op] += r.sectors * SECTOR_BYTES;
      if (now - r.issuedNs > this.maxLatencyNs) this.maxLatencyNs = now - r.issuedNs;
      for (const io of r.io as Io[]) if (--io.left === 0) io.onDone();
    }
    this.batch.length = 0;
    this.host.deliver(this.actor, DRAINED);
  }

  private rearm(): void {
    this.vbd.guestChannels.clearPending(this.vbd.guestPort);
    this.vbd.front.finalCheckForResponses();
  }
}
