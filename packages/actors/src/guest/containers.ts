/**
 * Resource containers inside a guest (Banga, Druschel and Mogul, "Resource containers:
 * a new facility for resource management in server systems", OSDI 1999), with early
 * demultiplexing as in lazy receiver processing (LRP: Druschel and Banga, "Lazy
 * receiver processing", OSDI 1996). docs/containers.md has the model and its constants.
 *
 * Design. A guest with containers has one container per client class (`premium`,
 * `besteffort`, …), each with a CPU share. The guest's web server binds each
 * connection to the container of its client's class, and the work done for the
 * connection is charged to that container:
 * - the server's per-request work, and (with LRP) the protocol processing of the
 *   connection's packets, is *scheduled* by the container scheduler below: a
 *   proportional-share scheduler inside the guest, one work item at a time on the
 *   guest's vCPU, at process level (the guest's interrupt-level work preempts it);
 * - without LRP, the protocol processing of a received packet stays where it is today,
 *   eager at interrupt level in netfront, and is only *charged* to the container once
 *   the packet is demultiplexed to its connection: the container pays for it in the
 *   scheduler's order, but the CPU is already spent (Banga et al.'s point: accounting
 *   alone does not stop a flood);
 * - with LRP, netfront's interrupt-level work per packet is only the classification
 *   (`LRP_CLASSIFY_NS`); the packet then waits in its container's input queue (at most
 *   `queuePackets`) for its protocol processing, scheduled by share. A packet that
 *   finds its container's queue full is dropped there, having cost the guest only its
 *   classification: a flood to one class fills that class's queue and is dropped early.
 *
 * The scheduler (`ShareScheduler`) is start-time fair queuing over containers with
 * work: it runs next the container with the least normalised use (CPU charged / share,
 * compared exactly by cross-multiplying integers). It is work-conserving (any
 * container with work runs when the others have none), and a container with work
 * gets at least its share of the CPU the scheduler hands out while it has work. A
 * container that was idle cannot bank CPU: when it gets work again its use is raised
 * to the normalised use of the container that ran last (the scheduler's virtual time).
 *
 * Invariants: at most one container item is on the vCPU at once (the scheduler, not
 * the vCPU's FIFO, decides the order); every packet given to `receive` is either
 * processed once or dropped once; charges are whole nanoseconds.
 */
import { InvariantError, type Kernel } from '@isosim/core';
import type { Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';

/**
 * Guest CPU per received packet to classify it to its container at interrupt level
 * (LRP's early demultiplexing: a lookup of the packet's address and port in the
 * guest's table of sockets and container filters), ns. Assumption: Druschel and Banga
 * give no per-packet figure we can use for a 2.8 GHz Pentium-IV; a hash lookup of a
 * few hundred cycles plus cache misses is of the order of 1 µs, a tenth of the
 * profile's 10.5 µs per packet for the whole netfront + TCP/IP path.
 */
export const LRP_CLASSIFY_NS = 1_000;

/**
 * Packets a container's LRP input queue holds (its NI channels together) before it
 * drops: Linux 2.6's `netdev_max_backlog`, 300, the per-CPU input queue that eager
 * (non-LRP) receive processing would use, here one per container.
 */
export const LRP_QUEUE_PACKETS = 300;

/** One container: its client class and share. */
export interface ContainerClass {
  /** The client class it serves (`premium`, `besteffort`). */
  readonly name: string;
  /** Its share of the guest's CPU among the containers with work, percent (1–100). */
  readonly sharePct: number;
}

/**
 * How the guest kernel treats its client classes:
 * - `off`: a stock kernel; the classes only label the clients (for per-class
 *   throughput); the guest runs exactly as one without containers;
 * - `eager`: resource containers without LRP: request work scheduled by share, the
 *   protocol work of received packets done eagerly in netfront and charged after;
 * - `lrp`: resource containers with early demultiplexing and lazy protocol processing.
 */
export type ContainerMode = 'off' | 'eager' | 'lrp';

/** The guest kernel option (system/config.ts `DomainConfig.containers`). */
export interface GuestContainersConfig {
  /** At least one; the first is container 0. */
  readonly classes: readonly ContainerClass[];
  /** Default `lrp`. */
  readonly mode?: ContainerMode;
  /** An LRP input queue's bound, packets (default `LRP_QUEUE_PACKETS`); `lrp` only. */
  readonly queuePackets?: number;
}

/** A FIFO that does not copy itself at every take. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T {
    const item = this.items[this.head] as T;
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * The policy alone: a FIFO of items per container, and the container to serve next.
 * Call `charge` with the CPU each container used (its served items, and any work done
 * for it elsewhere); `next` takes the next item.
 */
export class ShareScheduler<T> {
  /** CPU charged per container, ns. */
  readonly usedNs: number[];
  private readonly queues: Fifo<T>[];
  /** The scheduler's virtual time: the normalised use of the container served last. */
  private lastUsedNs = 0;
  private lastShare = 1;

  constructor(readonly shares: readonly number[]) {
    this.usedNs = shares.map(() => 0);
    this.queues = shares.map(() => new Fifo<T>());
  }

  /** Items waiting in container `c`. */
  waiting(c: number): number {
    return this.queues[c].length;
  }

  /** Queues `item` for container `c`. An idle container rejoins at the virtual time. */
  push(c: number, item: T): void {
    const q = this.queues[c];
    if (q.length === 0) {
      // floor(lastUsed × share_c / lastShare): exact integers (both below 2^53 / 100).
      const fair = Math.floor((this.lastUsedNs * this.shares[c]) / this.lastShare);
      if (this.usedNs[c] < fair) this.usedNs[c] = fair;
    }
    q.push(item);
  }

  /** Charges `ns` of CPU to container `c`. */
  charge(c: number, ns: number): void {
    this.usedNs[c] += ns;
  }

  /** The container with work and the least use per share (ties: the first), or -1. */
  pick(): number {
    let best = -1;
    for (let c = 0; c < this.queues.length; c++) {
      if (this.queues[c].length === 0) continue;
      if (best < 0 || this.usedNs[c] * this.shares[best] < this.usedNs[best] * this.shares[c]) best = c;
    }
    return best;
  }

  /** Takes the next item of container `c` (which has one: `pick`). */
  take(c: number): T {
    this.lastUsedNs = this.usedNs[c];
    this.lastShare = this.shares[c];
    return this.queues[c].shift();
  }
}

/** A container's counters over the whole run. */
export interface ContainerStats {
  /** CPU charged to it, ns: scheduled work and (without LRP) eager protocol work. */
  cpuNs: number;
  /** Packets received for it (before any LRP drop). */
  packetsIn: number;
  /** Packets LRP dropped because its input queue was full. */
  lrpDrops: number;
}

/** One unit of container work: its cost and what to do when it is done. */
interface ContainerWork {
  readonly container: number;
  readonly costNs: number;
  readonly onDone: (arg: never) => void;
  readonly arg: unknown;
  /** A received packet's protocol processing (LRP): leaves the input queue when done. */
  readonly packet: boolean;
}

/**
 * A guest's containers on its (one) vCPU: the `ShareScheduler` feeding the vCPU one item
 * at a time, charging, and LRP's input queues. Logs `lrp.drop` (guest, container) for
 * every packet LRP drops.
 */
export class GuestContainers {
  readonly classes: readonly ContainerClass[];
  readonly lrp: boolean;
  readonly queuePackets: number;
  readonly stats: ContainerStats[];
  private readonly sched: ShareScheduler<ContainerWork>;
  /** Packets in each container's LRP input queue (waiting for or in protocol processing). */
  private readonly queued: number[];
  private busy = false;
  private dropType = -1;
  private readonly endpoint: number;

  constructor(
    private readonly kernel: Kernel,
    private readonly xen: Hypervisor,
    private readonly vcpu: Vcpu,
    config: GuestContainersConfig,
    /** Guest CPU per packet for netfront + TCP/IP (the profile's `guestPacketNs`). */
    readonly packetNs: number,
    name: string,
  ) {
    this.classes = config.classes;
    if (config.mode === 'off') throw new InvariantError('containers in mode off are not made (labels only)');
    this.lrp = (config.mode ?? 'lrp') === 'lrp';
    this.queuePackets = config.queuePackets ?? LRP_QUEUE_PACKETS;
    this.sched = new ShareScheduler(config.classes.map((c) => c.sharePct));
    this.stats = config.classes.map(() => ({ cpuNs: 0, packetsIn: 0, lrpDrops: 0 }));
    this.queued = config.classes.map(() => 0);
    this.endpoint = kernel.registry.name(name);
  }

  /** Guest CPU per packet netfront spends at interrupt level: the classification with LRP. */
  get eagerPacketNs(): number {
    return this.lrp ? Math.min(LRP_CLASSIFY_NS, this.packetNs) : this.packetNs;
  }

  /** The container of client class `name`, or -1. */
  indexOf(name: string): number {
    return this.classes.findIndex((c) => c.name === name);
  }

  /** CPU work for container `c`, run in the scheduler's order; then `onDone(arg)`. */
  run<A>(c: number, costNs: number, onDone: (arg: A) => void, arg?: A): void {
    this.sched.push(c, { container: c, costNs, onDone: onDone as (arg: never) => void, arg, packet: false });
    this.dispatch();
  }

  /** Charges container `c` for `ns` of CPU spent elsewhere (eager work done for it). */
  charge(c: number, ns: number): void {
    this.sched.charge(c, ns);
    this.stats[c].cpuNs += ns;
  }

  /**
   * A packet for container `c` has been demultiplexed. Without LRP its protocol work is
   * done (eagerly, in netfront): charge it and go on at once. With LRP, queue its
   * protocol processing, or drop it if the container's input queue is full: returns
   * false then (the caller treats it as lost on the way).
   */
  receive<A>(c: number, onProcessed: (arg: A) => void, arg: A): boolean {
    this.stats[c].packetsIn++;
    if (!this.lrp) {
      this.charge(c, this.packetNs);
      onProcessed(arg);
      return true;
    }
    if (this.queued[c] >= this.queuePackets) {
      this.stats[c].lrpDrops++;
      if (this.dropType < 0) this.dropType = this.kernel.type('lrp.drop', ['guest', 'container']);
      this.kernel.record(this.dropType, this.endpoint, this.endpoint, this.vcpu.domain.id, c);
      return false;
    }
    this.queued[c]++;
    this.sched.push(c, {
      container: c,
      costNs: this.packetNs,
      onDone: onProcessed as (arg: never) => void,
      arg,
      packet: true,
    });
    this.dispatch();
    return true;
  }

  /**
   * A packet for container `c` is sent: its stack's work beyond netfront's part
   * (`eagerPacketNs`, spent when `send` hands it to netfront) is container work with
   * LRP; without LRP the whole stack is netfront's, as today, and only charged.
   */
  send<A>(c: number, send: (arg: A) => void, arg: A): void {
    const lazyNs = this.packetNs - this.eagerPacketNs;
    this.charge(c, this.eagerPacketNs);
    if (lazyNs > 0) this.run(c, lazyNs, send, arg);
    else send(arg);
  }

  /** Items waiting in container `c` (not counting the one on the vCPU). */
  waiting(c: number): number {
    return this.sched.waiting(c);
  }

  private dispatch(): void {
    if (this.busy) return;
    const c = this.sched.pick();
    if (c < 0) return;
    const w = this.sched.take(c);
    this.busy = true;
    this.xen.submit(this.vcpu, {
      remainingNs: w.costNs,
      principal: this.vcpu.domain.id,
      onDone: this.doneFn,
      arg: w,
      user: true,
    });
  }

  private readonly doneFn = (w: ContainerWork): void => {
    this.busy = false;
    this.charge(w.container, w.costNs);
    if (w.packet) this.queued[w.container]--;
    w.onDone(w.arg as never);
    this.dispatch();
  };
}
