/**
 * Builds a whole Xen host from a `SystemConfig`: kernel-hosted actors for the
 * scheduler, the NIC, the driver domain's netback, each guest's netfront and its
 * workloads; the hypervisor that runs them; the network to the client machines.
 *
 * The IDD is domain 0 (its name is the config's); guests are numbered from 1 in the
 * order given. Ground truth (`xen.accounting`) and per-guest packet statistics are
 * exact; XenMon, when attached, sees the same run through its trace.
 */
import { EventChannelSet, InvariantError, IsosimError, type Kernel, NS_PER_MS } from '@isosim/core';
import type { AnyStateMachine } from 'xstate';
import { DebtCollector, type DebtSource } from '../control/debtCollector.ts';
import { feedbackLoopMachine } from '../control/feedbackLoop.ts';
import { ShareGuard } from '../control/shareGuard.ts';
import { Netback } from '../driver/netback.ts';
import { GuestNet } from '../guest/guestNet.ts';
import { Netfront } from '../guest/netfront.ts';
import { Nic } from '../hardware/nic.ts';
import { ActorHost } from '../host/actorHost.ts';
import { type Domain, Hypervisor, type SchedulerPort } from '../hypervisor/hypervisor.ts';
import { ActorSchedulerPort } from '../hypervisor/schedulerPort.ts';
import { XenMon } from '../monitor/xenmon.ts';
import { Network } from '../net/network.ts';
import { DROP_REASONS, NetStats } from '../net/packet.ts';
import { createVif } from '../net/vif.ts';
import { credit } from '../scheduler/credit.ts';
import { creditMachine, schedulerClock, sedfMachine } from '../scheduler/schedulerMachine.ts';
import { sedf } from '../scheduler/sedf.ts';
import type { SchedulerOps } from '../scheduler/types.ts';
import { BulkTransfer } from '../workload/bulk.ts';
import { CpuBound } from '../workload/cpuBound.ts';
import { Endpoints } from '../workload/endpoints.ts';
import { type WorkloadEngine, workloadMachine } from '../workload/lifecycle.ts';
import { UdpStream } from '../workload/udp.ts';
import { WebLoad, WebServer } from '../workload/web.ts';
import type { AccountingSource, DomainConfig, SystemConfig, WorkloadConfig } from './config.ts';

export interface GuestRuntime {
  readonly domain: Domain;
  /** The guest's network device: its queues and where its threads run. */
  readonly net: GuestNet;
  /** Its first queue (the only one of a single-queue guest). */
  readonly netfront: Netfront;
  readonly stats: NetStats;
  readonly workloads: WorkloadEngine[];
  readonly web: WebLoad[];
  /** The guest's web server, shared by its web workloads (made with the first one). */
  webServer?: WebServer;
}

export class XenSystem {
  readonly host: ActorHost;
  /**
   * The hypervisor. Its `accounting` is charged when a pCPU switches; to read exact
   * totals after `kernel.runUntil(t)`, call `settle()` first (it charges every pCPU up
   * to t).
   */
  readonly xen: Hypervisor;
  readonly network: Network;
  readonly nic: Nic;
  readonly idd: Domain;
  readonly netback: Netback;
  readonly guests: GuestRuntime[] = [];
  readonly scheduler: SchedulerPort;
  readonly xenmon: XenMon;
  debtCollector: DebtCollector | undefined;
  shareGuard: ShareGuard | undefined;
  private readonly stats: NetStats[] = [];

  /**
   * `schedulerPort` replaces the configured scheduler actor with one of your own (a
   * model of another scheduler, or a test double).
   */
  constructor(
    readonly kernel: Kernel,
    readonly config: SystemConfig,
    schedulerPort?: (host: ActorHost, pcpus: number) => SchedulerPort,
  ) {
    const profile = config.profile;
    const pcpus = config.pcpus ?? profile.pcpus;
    this.host = new ActorHost(kernel, { engine: config.engine, inspect: config.inspect });
    if (schedulerPort) {
      this.scheduler = schedulerPort(this.host, pcpus);
    } else {
      // Time is injected: the scheduler reads the kernel's clock (schedulerMachine.ts).
      const now = (): number => kernel.nowNs;
      const machine: AnyStateMachine =
        config.scheduler === 'sedf'
          ? sedfMachine.provide(schedulerClock(sedf, now))
          : creditMachine.provide(schedulerClock(credit, now));
      const ops = (config.scheduler === 'sedf' ? sedf : credit) as SchedulerOps<unknown>;
      const schedActor = this.host.spawn(`sched.${config.scheduler}`, machine, {
        input: { pcpus, startNs: kernel.nowNs },
      });
      // What a replay needs to build the scheduler's initial context (replay/world.ts).
      kernel.record(kernel.type('sched.init', ['pcpus']), schedActor.endpoint, schedActor.endpoint, pcpus);
      this.scheduler = new ActorSchedulerPort(this.host, schedActor, ops);
    }
    this.xen = new Hypervisor(kernel, { pcpus, scheduler: this.scheduler, driverDomains: [0] });
    const statsOf = (guest: number): NetStats => {
      const s = this.stats[guest];
      if (s === undefined) throw new InvariantError(`no network statistics for domain ${guest}`);
      return s;
    };
    this.network = new Network(kernel, profile.lineRateBps, profile.wireLatencyNs, statsOf);
    this.nic = new Nic(kernel, this.host, this.network, statsOf, {
      name: 'nic0',
      rxSlots: profile.nicRxSlots,
      txSlots: profile.nicTxSlots,
      itrNs: profile.nicItrNs,
    });
    this.idd = this.xen.addDomain(config.idd.name, config.idd.vcpus, true);
    this.stats[0] = this.loggedStats(0);
    const iddChannels = new EventChannelSet(kernel, `${config.idd.name}.evtchn`);
    this.netback = new Netback(kernel, this.host, this.xen, this.idd, iddChannels, this.nic, statsOf, {
      iddRecvNs: profile.iddRecvNs,
      weight: profile.weight,
      iddIrqNs: profile.iddIrqNs,
      iddConnNs: profile.iddConnNs,
    });
    for (const g of config.guests) this.addGuest(g, iddChannels);
    this.xenmon = new XenMon(kernel, this.xen, { weight: profile.weight, iddDomain: this.idd.id });
    const xenmon = this.xenmon;
    this.netback.onPacket = (g, dir, bytes) => xenmon.packet(g, dir, bytes);
    this.host.spawn('xenmon', feedbackLoopMachine.provide({ actions: { tick: () => xenmon.sample() } }), {
      input: { periodMs: xenmon.sampleNs / NS_PER_MS },
    });
    this.addMechanisms(config);
  }

  /**
   * Cumulative IDD CPU per domain id, ns: XenMon's estimate (up to its last sample) or
   * the ground truth (up to now).
   */
  iddSource(source: AccountingSource): DebtSource {
    if (source === 'estimate') return () => this.xenmon.estimatedNs;
    return () => {
      this.xen.settle();
      return this.xen.accounting.iddForNs;
    };
  }

  private addMechanisms(config: SystemConfig): void {
    const m = config.mechanisms;
    const port = this.scheduler;
    if (m?.debt) {
      if (!(port instanceof ActorSchedulerPort)) {
        throw new IsosimError(
          'mechanisms',
          'debt',
          'needs the built-in scheduler actor',
          'leave schedulerPort out',
        );
      }
      const debt = m.debt;
      port.configureDebt(debt);
      this.debtCollector = new DebtCollector(
        port,
        this.guests.map((g, i) => ({
          domain: g.domain,
          shares: vcpuShares(config.scheduler, config.guests[i]),
        })),
        this.iddSource(debt.source),
      );
      const collector = this.debtCollector;
      this.host.spawn(
        'debt-collector',
        feedbackLoopMachine.provide({ actions: { tick: () => collector.collect() } }),
        {
          input: { periodMs: debt.feedbackNs / NS_PER_MS },
        },
      );
    }
    if (m?.shareGuard) {
      const sg = m.shareGuard;
      const limits = Object.entries(sg.limits).map(([name, limit]) => {
        const g = this.guests.find((x) => x.domain.name === name);
        if (g === undefined) {
          throw new IsosimError(
            'mechanisms.shareGuard',
            `limits.${name}`,
            'names no guest',
            `use one of ${this.guests.map((x) => x.domain.name).join(', ')}`,
          );
        }
        return { guest: g.domain.id, limit };
      });
      const guard = new ShareGuard(
        this.kernel,
        sg.periodNs,
        limits,
        this.iddShare(),
        this.iddSource(sg.source),
        'mechanisms.shareGuard',
      );
      this.shareGuard = guard;
      this.netback.inboundBlocked = (g) => guard.blocked(g);
      this.netback.outboundBlocked = (g) => guard.blocked(g);
      this.host.spawn('shareguard', feedbackLoopMachine.provide({ actions: { tick: () => guard.tick() } }), {
        input: { periodMs: sg.periodNs / NS_PER_MS },
      });
    }
  }

  /**
   * The IDD's CPU share, in CPUs: the sum over its vCPUs of each one's SEDF
   * slice/period, or Credit cap, or a whole CPU (uncapped, or no parameters).
   */
  iddShare(): number {
    return domainShare(this.config.scheduler, this.config.idd);
  }

  /** Starts the schedulers and workloads; then run the kernel. */
  start(): void {
    this.xen.start();
  }

  /**
   * Charges every pCPU's running work up to the kernel's time, so that
   * `xen.accounting` is exact now: call it after `kernel.runUntil(t)` and before
   * reading CPU totals (what `isosim run` does at the end of a run).
   */
  settle(): void {
    this.xen.settle();
  }

  guest(name: string): GuestRuntime {
    const g = this.guests.find((x) => x.domain.name === name);
    if (g === undefined) throw new InvariantError(`no guest named ${name}`);
    return g;
  }

  /** A domain's network counters, each drop also logged as `net.drop` (guest, reason index). */
  private loggedStats(guest: number): NetStats {
    const kernel = this.kernel;
    const type = kernel.type('net.drop', ['guest', 'reason']);
    const net = kernel.registry.name('net');
    const stats = new NetStats();
    stats.onDrop = (reason) => kernel.record(type, net, net, guest, DROP_REASONS.indexOf(reason));
    return stats;
  }

  private addGuest(config: DomainConfig, iddChannels: EventChannelSet): void {
    const { kernel, host, xen, config: sys } = this;
    const domain = xen.addDomain(config.name, config.vcpus);
    const stats = this.loggedStats(domain.id);
    this.stats[domain.id] = stats;
    // One queue per vCPU both ends can serve (guest/guestNet.ts), each with its own
    // rings and event channel, its interrupt bound to the guest's vCPU q.
    const queues = Math.max(1, Math.min(domain.vcpus.length, this.idd.vcpus.length));
    const netfronts: Netfront[] = [];
    for (let q = 0; q < queues; q++) {
      const suffix = q === 0 ? '' : `.q${q}`;
      const channels = new EventChannelSet(kernel, `${config.name}.evtchn${suffix}`);
      const vif = createVif(domain, iddChannels, channels, sys.profile.ringSlots, q);
      this.netback.attach(vif);
      netfronts.push(
        new Netfront(kernel, host, xen, vif, stats, {
          guestPacketNs: sys.profile.guestPacketNs,
          guestIrqNs: sys.profile.guestIrqNs,
          vcpu: domain.vcpus[q],
          name: `${config.name}.netfront${suffix}`,
        }),
      );
    }
    const net = new GuestNet(xen, domain.id, domain.vcpus, netfronts);
    const runtime: GuestRuntime = { domain, net, netfront: netfronts[0], stats, workloads: [], web: [] };
    (config.workloads ?? []).forEach((w, i) => {
      const name = `${config.name}.${w.kind === 'custom' ? (w.name ?? 'custom') : w.kind}${i}`;
      const placement = w.vcpu ?? 'spread';
      if (
        placement !== 'spread' &&
        !(Number.isInteger(placement) && placement >= 0 && placement < domain.vcpus.length)
      ) {
        throw new IsosimError(
          `guest ${config.name}`,
          `workloads[${i}].vcpu`,
          `is ${placement}, but the domain has ${domain.vcpus.length} vCPU(s)`,
          `give a vCPU index from 0 to ${domain.vcpus.length - 1}, or 'spread'`,
        );
      }
      const ends = new Endpoints(kernel, `${name}.ends`, net, this.network, placement);
      const engine = this.makeWorkload(w, ends, runtime);
      runtime.workloads.push(engine);
      const lifecycle = workloadMachine.provide({
        actions: { start: () => engine.start(), stop: () => engine.stop() },
      });
      host.spawn(name, lifecycle, {
        input: {
          startMs: (w.startNs ?? 0) / NS_PER_MS,
          stopMs: w.stopNs === undefined ? null : w.stopNs / NS_PER_MS,
        },
      });
    });
    this.guests.push(runtime);
  }

  private makeWorkload(w: WorkloadConfig, ends: Endpoints, runtime: GuestRuntime): WorkloadEngine {
    switch (w.kind) {
      case 'web': {
        runtime.webServer ??= new WebServer();
        const load = new WebLoad(
          ends,
          {
            rate: w.rate,
            arrivals: w.arrivals,
            fileBytes: w.fileBytes,
            timeoutNs: w.timeoutNs,
            requestNs: this.config.profile.webRequestNs,
          },
          runtime.webServer,
        );
        runtime.web.push(load);
        return load;
      }
      case 'cpu':
        return new CpuBound(ends);
      case 'bulk':
        return new BulkTransfer(ends, { direction: w.direction, windowSegments: w.windowSegments });
      case 'udp':
        return new UdpStream(ends, { direction: w.direction, rate: w.rate, bytes: w.bytes });
      case 'custom':
        return w.create(ends);
    }
  }
}

/**
 * Each vCPU's guaranteed share of a CPU under `scheduler`: SEDF slice/period; Credit
 * cap/100, or 1 (a whole CPU) when uncapped; 1 when the vCPU has no parameters for
 * this scheduler (it is then unconstrained).
 */
export function vcpuShares(
  scheduler: SystemConfig['scheduler'],
  domain: Pick<DomainConfig, 'vcpus'>,
): number[] {
  return domain.vcpus.map((v) => {
    if (scheduler === 'sedf' && v.sedf) return v.sedf.sliceNs / v.sedf.periodNs;
    if (scheduler === 'credit' && v.credit && v.credit.capPct > 0) return v.credit.capPct / 100;
    return 1;
  });
}

/** A domain's CPU share, in CPUs: the sum of its vCPUs' (`vcpuShares`). */
export function domainShare(
  scheduler: SystemConfig['scheduler'],
  domain: Pick<DomainConfig, 'vcpus'>,
): number {
  return vcpuShares(scheduler, domain).reduce((a, b) => a + b, 0);
}
