/**
 * Blkback: the block backend in a driver domain, serving the vbds of the disks that
 * domain drives (Linux 2.6.18-xen drivers/xen/blkback/blkback.c, modelled).
 *
 * Requests: on an interrupt (a guest's notification, or a disk's completion), the
 * polling loop (hypervisor/pollMachine.ts) takes requests from the vbds' rings round
 * robin, one request per vbd per turn, while fewer than `MAX_PENDING_REQS` are out at
 * the disks (blkback's pool of pending requests, `blkif_reqs`, 64 by default). Each
 * costs the driver domain `reqNs + segments · segNs` of CPU on behalf of the guest
 * (`BlockCosts`: parse, grant-map the segments, build and submit the bio). The disk's
 * queue is plugged while blkback works through a batch and unplugged at its end
 * (`do_block_io_op` then `unplug_queue`), so the requests of one poll reach the
 * elevator (hardware/disk.ts) together, when their work is done, at their vbds'
 * offsets on the disk. The work is one item per guest and vCPU, each charged to its
 * guest, in the order taken.
 * Completions: the disk's interrupt; each completed request costs `doneNs` on behalf of
 * the guest (unmap, end_io). The completions one interrupt brings are handled as one
 * stretch of work per guest and vCPU (the bio completions of one softirq run), after
 * which their responses go on the rings and each guest is notified if its ring says so.
 *
 * Holding (ShareGuard for block I/O, control/shareGuard.ts): while `held(guest)` is
 * true blkback takes none of the guest's requests; they wait in its ring, and the guest
 * stalls once the ring is full. A block request cannot be dropped as a packet can (the
 * guest's file system would see an I/O error), so it is delayed instead. Requests
 * already taken complete as usual. `resume()` re-polls when a hold ends.
 *
 * Work runs on the driver domain's vCPU `k mod n` for its k-th vbd (a blkback thread
 * per vbd, spread over the backend's CPUs); the interrupt and the poll on its first.
 * Every request taken is reported to `onRequest` (XenMon's trace: guest, op, segments).
 */
import type { EventChannelSet, Kernel } from '@isosim/core';
import type { ProxyCosts } from '../charging/policies.ts';
import type { Disk, DiskRequest } from '../hardware/disk.ts';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import type { Domain, Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';
import { DRAINED } from '../hypervisor/pollMachine.ts';
import { spawnPollLoop } from '../hypervisor/virq.ts';
import type { WorkItem } from '../hypervisor/work.ts';
import type { BlockCosts } from '../profiles/profiles.ts';
import { blkbackMachine } from './blkbackMachine.ts';
import { BLKIF_MAX_SEGMENTS_PER_REQUEST, type BlkRequest, type Vbd } from './blkif.ts';

/** linux-2.6.18-xen drivers/xen/blkback/blkback.c: `blkif_reqs` (MAX_PENDING_REQS), 64. */
export const MAX_PENDING_REQS = 64;

export interface BlkbackOptions extends Pick<BlockCosts, 'reqNs' | 'segNs' | 'doneNs'> {
  readonly iddIrqNs: number;
  /**
   * A charging policy's costs per request (charging/policies.ts): `perRequestNs` more
   * for each (1E's container), or every request costed as one of 11 segments (1B).
   */
  readonly proxy?: Pick<ProxyCosts, 'perRequestNs' | 'equalize'>;
}

/** What a disk request carries back to blkback. */
interface Pending {
  readonly vbd: Vbd;
  readonly req: BlkRequest;
  readonly slot: number;
}

/** One work item of a poll: a guest's requests (or completions) on one vCPU. */
interface Batch {
  readonly vcpu: Vcpu;
  readonly item: WorkItem & { remainingNs: number };
  readonly entries: Pending[];
}

export class Blkback {
  readonly actor: HostedActor<typeof blkbackMachine>;
  readonly vbds: Vbd[] = [];
  /** Requests taken from rings and not yet answered. */
  pending = 0;
  /** Requests taken, and answered, over the run. */
  taken = 0;
  answered = 0;
  held: (guest: number) => boolean = () => false;
  onRequest: (guest: number, op: number, segments: number) => void = () => {};
  private readonly vcpu: Vcpu;
  private readonly vbdVcpus: Vcpu[] = [];
  private readonly disks: Disk[] = [];
  private readonly diskOf = new Map<string, Disk>();
  private readonly kickPort: number;
  private next = 0;
  private nextId = 0;
  private readonly submitFns: ((p: Pending) => void)[] = [];
  private readonly submitBatchFn = (e: Pending[]): void => this.submitBatch(e);
  private readonly answerBatchFn = (e: Pending[]): void => this.answerBatch(e);
  /** The work items of the poll being built, one per guest and vCPU. */
  private readonly open: Batch[] = [];
  private readonly drainedFn = (): void => this.host.deliver(this.actor, DRAINED);

  constructor(
    readonly kernel: Kernel,
    private readonly host: ActorHost,
    private readonly xen: Hypervisor,
    readonly idd: Domain,
    readonly channels: EventChannelSet,
    private readonly options: BlkbackOptions,
  ) {
    this.vcpu = idd.vcpus[0];
    this.kickPort = channels.bind('blkback:kick');
    this.actor = spawnPollLoop(
      host,
      xen,
      this.vcpu,
      channels,
      `${idd.name}.blkback`,
      blkbackMachine,
      { poll: () => this.poll(), rearm: () => this.rearm(), hasWork: () => this.hasWork() },
      options.iddIrqNs,
    );
  }

  /** What the charging policy's per-request costs have added, ns (`BlkbackOptions.proxy`). */
  proxyOverheadNs = 0;

  /** blkback's CPU to take a request of `segments` segments, with the charging policy's costs. */
  private requestNs(segments: number): number {
    const o = this.options;
    const base = o.reqNs + segments * o.segNs;
    if (o.proxy === undefined) return base;
    const ns =
      (o.proxy.equalize ? o.reqNs + BLKIF_MAX_SEGMENTS_PER_REQUEST * o.segNs : base) + o.proxy.perRequestNs;
    this.proxyOverheadNs += ns - base;
    return ns;
  }

  /** Drives `disk`: its interrupt is trapped and raised on this domain's block channel. */
  addDisk(name: string, disk: Disk): void {
    const port = this.channels.bind(`pirq:${name}`);
    const xenId = this.kernel.registry.name('xen');
    disk.onInterrupt = () => this.channels.notify(port, xenId);
    this.disks.push(disk);
    this.diskOf.set(name, disk);
  }

  /** Serves `vbd` (its disk must have been added). */
  attach(vbd: Vbd): void {
    const disk = this.diskOf.get(vbd.disk);
    if (disk === undefined) throw new Error(`${this.idd.name} does not drive disk ${vbd.disk}`);
    const k = this.vbds.length;
    this.vbds.push(vbd);
    this.vbdVcpus.push(this.idd.vcpus[k % this.idd.vcpus.length]);
    this.submitFns.push((p: Pending) => {
      disk.submit({
        id: this.nextId++,
        guest: vbd.guest.id,
        op: p.req.op,
        sector: vbd.startSector + p.req.sector,
        sectors: p.req.sectors,
        tag: p,
      });
    });
  }

  /** A hold has ended: poll again if the held guest's requests wait (a virtual interrupt). */
  resume(): void {
    if (this.actor.snapshot().value === 'idle' && this.hasWork())
      this.channels.notify(this.kickPort, this.actor.endpoint);
  }

  private clearPending(): void {
    for (const p of this.channels.pendingPorts()) this.channels.clearPending(p);
  }

  private poll(): void {
    this.clearPending();
    // Completions first: they free pending slots.
    for (const disk of this.disks) {
      for (let r = disk.takeCompleted(); r !== undefined; r = disk.takeCompleted()) {
        const p = (r as DiskRequest).tag as Pending;
        this.batchFor(p.vbd, p.slot, this.options.doneNs, false).push(p);
      }
    }
    this.flushBatches();
    // Requests, one per vbd per turn, from where the last poll stopped.
    const n = this.vbds.length;
    let v = this.next;
    for (let idle = 0; this.pending < MAX_PENDING_REQS && idle < n; v = (v + 1) % n) {
      const vbd = this.vbds[v];
      const req = this.held(vbd.guest.id) ? undefined : vbd.back.takeRequest();
      if (req === undefined) {
        idle++;
        continue;
      }
      idle = 0;
      this.pending++;
      this.taken++;
      this.onRequest(vbd.guest.id, req.op, req.segments);
      this.batchFor(vbd, v, this.requestNs(req.segments), true).push({
        vbd,
        req,
        slot: v,
      });
    }
    if (n > 0) this.next = v % n;
    this.flushBatches();
    this.xen.submit(this.vcpu, { remainingNs: 0, principal: this.idd.id, onDone: this.drainedFn });
  }

  /**
   * The work item of this poll for `vbd`'s guest on its vCPU, of kind requests
   * (`submit`) or completions: made on first use, `costNs` added for each entry.
   */
  private batchFor(vbd: Vbd, slot: number, costNs: number, submit: boolean): Pending[] {
    const vcpu = this.vbdVcpus[slot];
    const guest = vbd.guest.id;
    let b: Batch | undefined;
    for (const x of this.open) {
      if (x.vcpu === vcpu && x.item.principal === guest) {
        b = x;
        break;
      }
    }
    if (b === undefined) {
      const entries: Pending[] = [];
      b = {
        vcpu,
        entries,
        item: {
          remainingNs: 0,
          principal: guest,
          onDone: submit ? this.submitBatchFn : this.answerBatchFn,
          arg: entries,
        },
      };
      this.open.push(b);
    }
    b.item.remainingNs += costNs;
    return b.entries;
  }

  /** Queues the open batches' work, in the order they were opened. */
  private flushBatches(): void {
    for (const b of this.open) this.xen.submit(b.vcpu, b.item);
    this.open.length = 0;
  }

  /** A batch of requests' work is done: unplug, each to its disk. */
  private submitBatch(entries: Pending[]): void {
    for (const p of entries) this.submitFns[p.slot](p);
  }

  /** A batch of completions' work is done: answer each on its ring. */
  private answerBatch(entries: Pending[]): void {
    for (const p of entries) this.answer(p);
  }

  /** A request's completion work is done: answer it on its ring. */
  private answer(p: Pending): void {
    // From a full pool, a slot frees: poll again if requests wait (the loop may be idle).
    if (this.pending-- === MAX_PENDING_REQS) this.resume();
    this.answered++;
    const ring = p.vbd.back;
    ring.putResponse(p.req);
    if (ring.pushResponsesAndCheckNotify()) p.vbd.guestChannels.notify(p.vbd.guestPort, this.actor.endpoint);
  }

  private hasWork(): boolean {
    for (const d of this.disks) if (d.completedWaiting > 0) return true;
    if (this.pending >= MAX_PENDING_REQS) return false;
    for (const vbd of this.vbds)
      if (!this.held(vbd.guest.id) && vbd.back.unconsumedRequests() > 0) return true;
    return false;
  }

  private rearm(): void {
    this.clearPending();
    for (const d of this.disks) d.enableInterrupts();
    for (const vbd of this.vbds) vbd.back.finalCheckForRequests();
  }
}
