/**
 * Netback and the NIC driver, running in the driver domain (IDD).
 *
 * Design (paper section 3, Fig. 3): the IDD's CPU time is what does the I/O. Each
 * received packet costs `iddRecvNs` of IDD CPU, whatever its size (Fig. 4); each
 * transmitted packet costs `weight` times that (Fig. 5); a packet that opens a
 * connection (a client's SYN) costs `iddConnNs` more (profiles.ts). Every packet is
 * one work item on the IDD's vCPU whose principal is the guest it serves: the truth of
 * IDD CPU per guest. Interrupt entry costs `iddIrqNs`, charged to the IDD itself.
 *
 * Receive: poll takes up to `RX_BUDGET` packets from the NIC; when a packet's work
 * is done, netback takes one of the guest's posted receive buffers, flips the page
 * to the guest and answers on the rx ring, notifying the guest if the ring says so.
 * No buffer: dropped (`no-rx-buffer`).
 * Transmit: poll takes requests from the guests' tx rings round robin, one request per
 * vif per round, as Linux 2.6.16–18's netback does (`net_tx_action` takes the vif at the
 * head of `net_schedule_list`, one request, and puts it back at the tail while it has
 * more), up to `TX_BATCH` requests a poll (MAX_PENDING_REQS − MAX_SKB_FRAGS); when a
 * packet's work is done it goes to the NIC and netback answers on the tx ring. The
 * per-vif credit (`credit_bytes` per `credit_usec`) is unlimited by default in that
 * netback (interface.c) and is not modelled.
 *
 * Hooks for control (ShareGuard): `inboundBlocked(guest)` drops a received packet
 * after the driver has paid for it; `outboundBlocked(guest)` drops a guest's packet
 * in netback before it costs the IDD's stack (`outboundDropNs`).
 *
 * Each packet the IDD processes is reported to `onPacket` (XenMon's per-packet
 * trace record: guest, direction, bytes).
 *
 * Several vCPUs (multi-queue, Linux 3.16+): a guest's vif has one queue per agreed
 * queue (guest/guestNet.ts); queue q of every guest is served on the IDD's vCPU
 * `q mod n` (netback's per-queue threads, spread over the backend's CPUs). The
 * physical NIC's interrupt and the poll run on the IDD's first vCPU; each packet's
 * work runs on the vCPU of the queue it belongs to.
 */
import type { EventChannelSet, Kernel } from '@isosim/core';
import type { ProxyCosts } from '../charging/policies.ts';
import type { Nic } from '../hardware/nic.ts';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import type { Domain, Hypervisor, Vcpu } from '../hypervisor/hypervisor.ts';
import { DRAINED } from '../hypervisor/pollMachine.ts';
import { spawnPollLoop } from '../hypervisor/virq.ts';
import { Direction, type NetStats, type Packet } from '../net/packet.ts';
import type { Vif } from '../net/vif.ts';
import { netbackMachine } from './netbackMachine.ts';

/** Linux's default NAPI weight: packets per device per poll. */
export const NAPI_BUDGET = 64;
/**
 * Packets taken from the NIC per poll: Linux 2.6's `net_rx_action` budget of 300
 * (net/core/dev.c: `netdev_budget`, earlier `netdev_max_backlog`), spent on one device
 * in rounds of its NAPI weight (a device that used its whole weight goes back on the
 * poll list while budget remains). Until issue 13 the model took one round of 64, so
 * a saturated driver domain served its NIC a quarter as often as Linux does relative
 * to netback's transmit batch (`TX_BATCH`), and acknowledgements waited in the NIC.
 */
export const RX_BUDGET = 300;
/**
 * Transmit requests netback takes per pass: its loop runs while
 * NR_PENDING_REQS + MAX_SKB_FRAGS < MAX_PENDING_REQS, i.e. 256 − 18
 * (linux-2.6-xen-sparse drivers/xen/netback/netback.c, `net_tx_action`).
 */
export const TX_BATCH = 256 - 18;

export interface NetbackOptions {
  readonly iddRecvNs: number;
  readonly weight: number;
  readonly iddIrqNs: number;
  /** IDD CPU per connection opened, beyond its SYN's per-packet cost (profiles.ts), ns. */
  readonly iddConnNs?: number;
  /** IDD CPU to drop an outbound packet in netback (ShareGuard), ns. */
  readonly outboundDropNs?: number;
  /**
   * A charging policy's costs per packet (charging/policies.ts): `perRequestNs` more
   * for each (1E's container), or every packet padded to the dearest (1B).
   */
  readonly proxy?: Pick<ProxyCosts, 'perRequestNs' | 'equalize'>;
}

export class Netback {
  readonly actor: HostedActor<typeof netbackMachine>;
  readonly vifs: Vif[] = [];
  readonly pirqPort: number;
  inboundBlocked: (guest: number) => boolean = () => false;
  outboundBlocked: (guest: number) => boolean = () => false;
  onPacket: (guest: number, direction: Direction, bytes: number) => void = () => {};
  private readonly vcpu: Vcpu;
  /** Per vif (same index): the IDD vCPU that does its packets' work. */
  private readonly vifVcpus: Vcpu[] = [];
  /** Each guest's vifs by queue, for received packets. */
  private readonly byGuest = new Map<number, Vif[]>();
  private readonly sendNs: number;
  /** A connection-opening packet's receive cost: per packet plus per connection. */
  private readonly openNs: number;
  private readonly receivedFn = (p: Packet): void => this.received(p);
  /** The end of a poll's batch (one function, not a closure per poll). */
  private readonly drainedFn = (): void => this.host.deliver(this.actor, DRAINED);
  /** `ring.occupancy` (guest, tx requests waiting, rx buffers posted), logged at each poll. */
  private readonly ringType: number;
  /** Per vif (same index): a guest's packet has been sent. */
  private readonly sentFns: ((p: Packet) => void)[] = [];
  /** The vif whose turn it is on the schedule list (round robin). */
  private txNext = 0;
  /** What the charging policy's per-packet costs have added, ns (`NetbackOptions.proxy`). */
  proxyOverheadNs = 0;
  /** Per-packet costs: receive, open, send and drop, with the policy's added (`cost`). */
  private readonly recvCostNs: number;
  private readonly openCostNs: number;
  private readonly sendCostNs: number;
  private readonly dropCostNs: number;

  constructor(
    readonly kernel: Kernel,
    private readonly host: ActorHost,
    private readonly xen: Hypervisor,
    readonly idd: Domain,
    readonly channels: EventChannelSet,
    private readonly nic: Nic,
    private readonly statsOf: (guest: number) => NetStats,
    private readonly options: NetbackOptions,
  ) {
    this.vcpu = idd.vcpus[0];
    this.sendNs = Math.round(options.iddRecvNs * options.weight);
    this.openNs = options.iddRecvNs + (options.iddConnNs ?? 0);
    // A packet ShareGuard drops at the ring costs what it costs under every policy: it
    // never enters the stack, so it gets no container (1E), and as a request of its own
    // kind (every drop costs the same) it needs no padding (1B) — padded to a send, a
    // drop would cost the driver domain as much as the traffic ShareGuard is cutting.
    const pad = Math.max(this.openNs, this.sendNs, options.iddRecvNs);
    const cost = (ns: number) =>
      (options.proxy?.equalize === true ? pad : ns) + (options.proxy?.perRequestNs ?? 0);
    this.recvCostNs = cost(options.iddRecvNs);
    this.openCostNs = cost(this.openNs);
    this.sendCostNs = cost(this.sendNs);
    this.dropCostNs = options.outboundDropNs ?? 0;
    this.ringType = kernel.type('ring.occupancy', ['guest', 'txRequests', 'rxBuffers']);
    this.pirqPort = channels.bind('pirq:nic');
    const xenId = kernel.registry.name('xen');
    // The hypervisor traps the NIC's physical interrupt and raises the IDD's event channel.
    nic.onInterrupt = () => channels.notify(this.pirqPort, xenId);
    this.actor = spawnPollLoop(
      host,
      xen,
      this.vcpu,
      channels,
      `${idd.name}.netback`,
      netbackMachine,
      { poll: () => this.poll(), rearm: () => this.rearm(), hasWork: () => this.hasWork() },
      options.iddIrqNs,
    );
  }

  /** Serves `vif`, its packets' work on the IDD's vCPU `q mod n` for queue q. */
  attach(vif: Vif): void {
    this.vifs.push(vif);
    this.vifVcpus.push(this.idd.vcpus[vif.queue % this.idd.vcpus.length]);
    const queues = this.byGuest.get(vif.guest.id) ?? [];
    queues[vif.queue] = vif;
    this.byGuest.set(vif.guest.id, queues);
    this.sentFns.push((p: Packet) => this.complete(vif, p, false));
  }

  /** The IDD vCPU that does the work of a packet for `guest` on `queue`. */
  private vcpuFor(guest: number, queue: number): Vcpu {
    return this.byGuest.has(guest) ? this.idd.vcpus[queue % this.idd.vcpus.length] : this.vcpu;
  }

  private clearPending(): void {
    this.channels.clearPending(this.pirqPort);
    for (const vif of this.vifs) this.channels.clearPending(vif.iddPort);
  }

  private poll(): void {
    this.clearPending();
    const iddId = this.idd.id;
    const kernel = this.kernel;
    for (const vif of this.vifs) {
      kernel.record(
        this.ringType,
        this.actor.endpoint,
        this.actor.endpoint,
        vif.guest.id,
        vif.txBack.unconsumedRequests(),
        vif.rxBack.unconsumedRequests(),
      );
    }
    for (let i = 0; i < RX_BUDGET; i++) {
      const p = this.nic.takeRx();
      if (p === undefined) break;
      if (this.options.proxy !== undefined)
        this.proxyOverheadNs += p.opens
          ? this.openCostNs - this.openNs
          : this.recvCostNs - this.options.iddRecvNs;
      this.xen.submit(this.vcpuFor(p.guest, p.queue), {
        remainingNs: p.opens ? this.openCostNs : this.recvCostNs,
        principal: p.guest,
        onDone: this.receivedFn,
        arg: p,
      });
    }
    // Round robin over the vifs with requests, one request each per turn, starting
    // where the last poll stopped; done after a whole round finds nothing.
    const n = this.vifs.length;
    let v = this.txNext;
    for (let taken = 0, idle = 0; taken < TX_BATCH && idle < n; v = (v + 1) % n) {
      const p = this.vifs[v].txBack.takeRequest();
      if (p === undefined) {
        idle++;
        continue;
      }
      idle = 0;
      taken++;
      this.transmit(v, this.vifs[v], p);
    }
    this.txNext = v;
    this.xen.submit(this.vcpu, {
      remainingNs: 0,
      principal: iddId,
      onDone: this.drainedFn,
    });
  }

  /** Netback's work for one of a guest's packets (or ShareGuard's cheap drop). */
  private transmit(v: number, vif: Vif, p: Packet): void {
    const vcpu = this.vifVcpus[v];
    if (this.outboundBlocked(p.guest)) {
      this.xen.submit(vcpu, {
        remainingNs: this.dropCostNs,
        principal: p.guest,
        onDone: () => this.complete(vif, p, true),
      });
    } else {
      if (this.options.proxy !== undefined) this.proxyOverheadNs += this.sendCostNs - this.sendNs;
      this.xen.submit(vcpu, {
        remainingNs: this.sendCostNs,
        principal: p.guest,
        onDone: this.sentFns[v],
        arg: p,
      });
    }
  }

  private hasWork(): boolean {
    if (this.nic.rxWaiting > 0) return true;
    for (const vif of this.vifs) if (vif.txBack.unconsumedRequests() > 0) return true;
    return false;
  }

  private rearm(): void {
    this.clearPending();
    this.nic.enableInterrupts();
    for (const vif of this.vifs) vif.txBack.finalCheckForRequests();
  }

  /** A received packet's driver and netback work is done: hand it to its guest. */
  private received(p: Packet): void {
    this.onPacket(p.guest, Direction.INBOUND, p.bytes);
    const stats = this.statsOf(p.guest);
    if (this.inboundBlocked(p.guest)) {
      stats.drop('shareguard-inbound');
      p.flow.dropped?.(p, 'shareguard-inbound');
      return;
    }
    const vif = this.byGuest.get(p.guest)?.[p.queue];
    if (vif === undefined || vif.rxBack.takeRequest() === undefined) {
      stats.drop('no-rx-buffer');
      p.flow.dropped?.(p, 'no-rx-buffer');
      return;
    }
    vif.pageFlips++;
    vif.rxBack.putResponse(p);
    if (vif.rxBack.pushResponsesAndCheckNotify())
      vif.guestChannels.notify(vif.guestPort, this.actor.endpoint);
  }

  /** A guest's packet has gone to the NIC (or was dropped): complete its tx request. */
  private complete(vif: Vif, p: Packet, dropped: boolean): void {
    if (dropped) {
      this.statsOf(p.guest).drop('shareguard-outbound');
      p.flow.dropped?.(p, 'shareguard-outbound');
    } else {
      this.onPacket(p.guest, Direction.OUTBOUND, p.bytes);
      this.nic.transmit(p);
    }
    vif.txBack.putResponse(0);
    if (vif.txBack.pushResponsesAndCheckNotify())
      vif.guestChannels.notify(vif.guestPort, this.actor.endpoint);
  }
}
