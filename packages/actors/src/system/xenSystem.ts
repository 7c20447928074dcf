/**
 * Builds a whole Xen host from a `SystemConfig`: kernel-hosted actors for the
 * scheduler, the NIC, the driver domain's netback, each guest's netfront and its
 * workloads; the hypervisor that runs them; the network to the client machines.
 *
 * Driver domains come first: the config's `idd` is domain 0, any further `drivers` are
 * 1, 2, …; guests are numbered after them in the order given. The NIC and each disk are
 * driven by one driver domain (`DriverDomainConfig.devices`): netback runs in the NIC's,
 * blkback in each disk's, and a guest's vbds name their backend. Ground truth
 * (`xen.accounting`) and per-guest packet statistics are exact; XenMon, when attached,
 * sees the same run through its trace, per driver domain.
 */
import { EventChannelSet, InvariantError, IsosimError, type Kernel, NS_PER_MS } from '@isosim/core';
import type { AnyStateMachine } from 'xstate';
import { Blkback } from '../block/blkback.ts';
import { Blkfront } from '../block/blkfront.ts';
import { createVbd } from '../block/blkif.ts';
import { type ChargingPolicyId, DOMAIN_TICK, proxyCosts } from '../charging/policies.ts';
import { DebtCollector, type DebtSource } from '../control/debtCollector.ts';
import { feedbackLoopMachine } from '../control/feedbackLoop.ts';
import { ShareGuard, type ShareGuardLimit } from '../control/shareGuard.ts';
import { Netback } from '../driver/netback.ts';
import { GuestContainers } from '../guest/containers.ts';
import { GuestNet } from '../guest/guestNet.ts';
import { Netfront } from '../guest/netfront.ts';
import { Disk } from '../hardware/disk.ts';
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
import { DiskJob } from '../workload/disk.ts';
import { Endpoints } from '../workload/endpoints.ts';
import { type WorkloadEngine, workloadMachine } from '../workload/lifecycle.ts';
import { UdpStream } from '../workload/udp.ts';
import { WebLoad, WebServer } from '../workload/web.ts';
import {
  type AccountingSource,
  type DomainConfig,
  type DriverDomainConfig,
  NIC_NAME,
  type SystemConfig,
  type WorkloadConfig,
} from './config.ts';

export interface GuestRuntime {
  readonly domain: Domain;
  /** The guest's network device: its queues and where its threads run. */
  readonly net: GuestNet;
  /** Its first queue (the only one of a single-queue guest). */
  readonly netfront: Netfront;
  readonly stats: NetStats;
  readonly workloads: WorkloadEngine[];
  readonly web: WebLoad[];
  /** One blkfront per vbd, in the order of the guest's `vbds`. */
  readonly blkfronts: Blkfront[];
  /** The guest's disk jobs. */
  readonly disk: DiskJob[];
  /** The guest's web server, shared by its web workloads (made with the first one). */
  webServer?: WebServer;
  /** The guest kernel's resource containers (`DomainConfig.containers`), if it has them. */
  readonly containers?: GuestContainers;
  /** Its client classes, by container index (also in mode `off`, where they only label clients). */
  readonly clientClasses?: readonly string[];
}

/** The workloads that use the network (1A: the NIC's driver domain serves their guests). */
const NETWORK_KINDS: ReadonlySet<string> = new Set(['web', 'bulk', 'udp', 'custom']);

/**
 * The guests each driver domain serves, by driver domain index (0 = `config.idd`, then
 * `config.drivers`), in the guests' order: the NIC's driver domain serves the guests with
 * network workloads, a disk's the guests with a vbd on it. Charging policy 1A needs at
 * most one per domain (the scenario loader and `XenSystem` both check it with this).
 */
export function servedGuests(config: SystemConfig): Map<number, string[]> {
  const drivers = [config.idd, ...(config.drivers ?? [])];
  const owners = deviceOwners(
    drivers,
    (config.disks ?? []).map((d) => d.name),
  );
  const served = new Map<number, string[]>();
  const serve = (drv: number | undefined, guest: string) => {
    if (drv === undefined) return;
    const list = served.get(drv) ?? [];
    if (!list.includes(guest)) list.push(guest);
    served.set(drv, list);
  };
  for (const g of config.guests) {
    if ((g.workloads ?? []).some((w) => NETWORK_KINDS.has(w.kind))) serve(owners.get(NIC_NAME), g.name);
    for (const v of g.vbds ?? []) serve(owners.get(v.disk), g.name);
  }
  return served;
}

/** XenMon's estimator for each charging policy but 2C (its default). */
const ESTIMATORS = {
  '1A': 'domain',
  '1B': 'exact',
  '1C': 'exact',
  '1D': 'exact',
  '1E': 'exact',
  '2A': 'apriori',
  '2B': 'counts',
} as const;

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
  /** The first driver domain, domain 0. */
  readonly idd: Domain;
  /** Every driver domain, `idd` first. */
  readonly drivers: Domain[] = [];
  /** The driver domain that drives the NIC (and runs netback). */
  readonly netIdd: Domain;
  readonly netback: Netback;
  /** The host's disks by name, and the blkback of each driver domain that drives one, by domain id. */
  readonly disks = new Map<string, Disk>();
  readonly blkbacks = new Map<number, Blkback>();
  /** Each disk's driver domain, by disk name. */
  readonly diskDriver = new Map<string, Domain>();
  readonly guests: GuestRuntime[] = [];
  readonly scheduler: SchedulerPort;
  readonly xenmon: XenMon;
  debtCollector: DebtCollector | undefined;
  /** The first ShareGuard (the only one with one driver domain). */
  shareGuard: ShareGuard | undefined;
  /** ShareGuard per driver domain id, where any guest is limited. */
  readonly shareGuards = new Map<number, ShareGuard>();
  private readonly stats: NetStats[] = [];
  /** The charging policy (`MechanismsConfig.charging`). */
  readonly charging: ChargingPolicyId;
  /** 1A's timer ticks submitted, ns, by driver domain id. */
  private readonly tickNs: number[] = [];
  /** Under 1A: the guest each driver domain serves, by driver domain id (domain ids). */
  readonly dedicated: ReadonlyMap<number, number> | undefined;

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
    const driverConfigs: readonly DriverDomainConfig[] = [config.idd, ...(config.drivers ?? [])];
    const driverIds = driverConfigs.map((_, i) => i);
    this.xen = new Hypervisor(kernel, { pcpus, scheduler: this.scheduler, driverDomains: driverIds });
    this.charging = config.mechanisms?.charging ?? '2C';
    const proxy = proxyCosts(this.charging);
    this.xen.proxySwitchNs = proxy.perSwitchNs;
    const proxyOption =
      proxy.perRequestNs > 0 || proxy.equalize
        ? { proxy: { perRequestNs: proxy.perRequestNs, equalize: proxy.equalize } }
        : {};
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
    const owners = deviceOwners(
      driverConfigs,
      (config.disks ?? []).map((d) => d.name),
    );
    for (const [i, d] of driverConfigs.entries()) {
      const dom = this.xen.addDomain(d.name, d.vcpus, true);
      this.drivers.push(dom);
      void i;
    }
    this.idd = this.drivers[0];
    this.stats[0] = this.loggedStats(0);
    this.netIdd = this.drivers[owners.get(NIC_NAME) ?? 0];
    const iddChannels = new EventChannelSet(kernel, `${this.netIdd.name}.evtchn`);
    this.netback = new Netback(kernel, this.host, this.xen, this.netIdd, iddChannels, this.nic, statsOf, {
      iddRecvNs: profile.iddRecvNs,
      weight: profile.weight,
      iddIrqNs: profile.iddIrqNs,
      iddConnNs: profile.iddConnNs,
      ...proxyOption,
    });
    for (const dc of config.disks ?? []) {
      const drv = this.drivers[owners.get(dc.name) ?? 0];
      let back = this.blkbacks.get(drv.id);
      if (back === undefined) {
        back = new Blkback(
          kernel,
          this.host,
          this.xen,
          drv,
          new EventChannelSet(kernel, `${drv.name}.blk.evtchn`),
          {
            reqNs: profile.block.reqNs,
            segNs: profile.block.segNs,
            doneNs: profile.block.doneNs,
            iddIrqNs: profile.iddIrqNs,
            ...proxyOption,
          },
        );
        this.blkbacks.set(drv.id, back);
      }
      const disk = new Disk(kernel, this.host, {
        name: dc.name,
        model: dc.model,
        elevator: dc.elevator,
        queueDepth: dc.queueDepth,
      });
      back.addDisk(dc.name, disk);
      this.disks.set(dc.name, disk);
      this.diskDriver.set(dc.name, drv);
    }
    const regions = vbdRegions(config);
    for (const g of config.guests) this.addGuest(g, iddChannels, regions);
    const perDriver = this.drivers.length > 1 || this.disks.size > 0;
    const servedBy = this.charging === '1A' ? this.dedicatedDrivers(config) : undefined;
    this.dedicated = servedBy;
    this.xenmon = new XenMon(kernel, this.xen, {
      weight: profile.weight,
      iddDomain: this.idd.id,
      ...(perDriver
        ? { drivers: this.drivers.map((d) => d.id), blockWeights: profile.block.blkWeights, perDriver }
        : {}),
      ...(this.charging === '2C'
        ? {}
        : { estimator: ESTIMATORS[this.charging], aprioriNs: profile.iddRecvNs }),
      ...(servedBy === undefined ? {} : { servedBy }),
    });
    if (servedBy !== undefined) this.startTicks(servedBy);
    const xenmon = this.xenmon;
    const netIddId = this.netIdd.id;
    this.netback.onPacket = (g, dir, bytes) => xenmon.packet(g, dir, bytes, netIddId);
    for (const [drv, back] of this.blkbacks) {
      back.onRequest = (g, op, segs) => xenmon.blockRequest(g, op, segs, drv);
    }
    this.host.spawn('xenmon', feedbackLoopMachine.provide({ actions: { tick: () => xenmon.sample() } }), {
      input: { periodMs: xenmon.sampleNs / NS_PER_MS },
    });
    this.addMechanisms(config);
  }

  /**
   * Cumulative IDD CPU per domain id, ns: XenMon's estimate (up to its last sample) or
   * the ground truth (up to now).
   */
  iddSource(source: AccountingSource, drivers?: readonly Domain[]): DebtSource {
    if (drivers === undefined || drivers.length === this.drivers.length) {
      if (source === 'estimate') return () => this.xenmon.estimatedNs;
      return () => {
        this.xen.settle();
        return this.xen.accounting.iddForNs;
      };
    }
    // Only some driver domains: the sum of theirs.
    const sum = (rows: (readonly number[])[]): number[] => {
      const out: number[] = [];
      for (const r of rows)
        r.forEach((v, d) => {
          out[d] = (out[d] ?? 0) + (v ?? 0);
        });
      return out;
    };
    if (source === 'estimate') return () => sum(drivers.map((d) => this.xenmon.estimatedOfDriver(d.id)));
    return () => {
      this.xen.settle();
      return sum(drivers.map((d) => this.xen.accounting.iddOfDriver(d.id)));
    };
  }

  /** The driver domain named `name`; `where` names the field for the error. */
  driverNamed(name: string, where: string, field: string): Domain {
    const d = this.drivers.find((x) => x.name === name);
    if (d === undefined) {
      throw new IsosimError(
        where,
        field,
        `${JSON.stringify(name)} is not a driver domain`,
        `use one of ${this.drivers.map((x) => x.name).join(', ')}`,
      );
    }
    return d;
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
        this.iddSource(
          debt.source,
          debt.drivers?.map((n, i) => this.driverNamed(n, 'mechanisms.debt', `drivers[${i}]`)),
        ),
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
      // Per driver domain: the guests limited there and their limits.
      const perDriver = new Map<Domain, ShareGuardLimit[]>();
      for (const [name, limit] of Object.entries(sg.limits)) {
        const g = this.guests.find((x) => x.domain.name === name);
        if (g === undefined) {
          throw new IsosimError(
            'mechanisms.shareGuard',
            `limits.${name}`,
            'names no guest',
            `use one of ${this.guests.map((x) => x.domain.name).join(', ')}`,
          );
        }
        const entries: [Domain, number][] =
          typeof limit === 'number'
            ? this.drivers.map((d) => [d, limit])
            : Object.entries(limit).map(([dn, l]) => [
                this.driverNamed(dn, 'mechanisms.shareGuard', `limits.${name}.${dn}`),
                l,
              ]);
        for (const [d, l] of entries) {
          const list = perDriver.get(d) ?? [];
          list.push({ guest: g.domain.id, limit: l });
          perDriver.set(d, list);
        }
      }
      const several = this.drivers.length > 1;
      for (const drv of this.drivers) {
        const limits = perDriver.get(drv);
        if (limits === undefined) continue;
        const drives = drv === this.netIdd || this.blkbacks.has(drv.id);
        if (several && !drives) continue;
        const guard = new ShareGuard(
          this.kernel,
          sg.periodNs,
          limits,
          this.driverShare(drv),
          this.iddSource(sg.source, several ? [drv] : undefined),
          several ? `mechanisms.shareGuard (${drv.name})` : 'mechanisms.shareGuard',
          several ? `shareguard.${drv.name}` : 'shareguard',
        );
        this.shareGuards.set(drv.id, guard);
        this.shareGuard ??= guard;
        if (drv === this.netIdd) {
          this.netback.inboundBlocked = (g) => guard.blocked(g);
          this.netback.outboundBlocked = (g) => guard.blocked(g);
        }
        const back = this.blkbacks.get(drv.id);
        if (back !== undefined) {
          back.held = (g) => guard.blocked(g);
          guard.onRestore = () => back.resume();
        }
        this.host.spawn(
          several ? `shareguard.${drv.name}` : 'shareguard',
          feedbackLoopMachine.provide({ actions: { tick: () => guard.tick() } }),
          { input: { periodMs: sg.periodNs / NS_PER_MS } },
        );
      }
    }
  }

  /**
   * 1A: the guest each driver domain serves, by driver domain id (`servedGuests`); a
   * domain that serves two is an error.
   */
  private dedicatedDrivers(config: SystemConfig): Map<number, number> {
    const out = new Map<number, number>();
    servedGuests(config).forEach((names, drv) => {
      if (names.length > 1) {
        throw new IsosimError(
          'mechanisms',
          'charging',
          `1A charges each guest a driver domain of its own, but ${JSON.stringify(this.drivers[drv].name)} serves ${names.map((n) => JSON.stringify(n)).join(', ')}`,
          'give each guest its own driver domain (a disk each in its own domain; the one NIC for at most one guest), or choose another policy: 1B-1E, 2A-2C',
        );
      }
      if (names.length === 1) out.set(drv, this.guest(names[0]).domain.id);
    });
    return out;
  }

  /** 1A: each dedicated driver domain's kernel runs its timer tick (DOMAIN_TICK). */
  private startTicks(servedBy: ReadonlyMap<number, number>): void {
    for (const id of servedBy.keys()) {
      const drv = this.drivers[id];
      const vcpu = drv.vcpus[0];
      const xen = this.xen;
      const counted = this.tickNs;
      this.host.spawn(
        `${drv.name}.tick`,
        feedbackLoopMachine.provide({
          actions: {
            tick: () => {
              counted[id] = (counted[id] ?? 0) + DOMAIN_TICK.costNs;
              xen.submit(vcpu, { remainingNs: DOMAIN_TICK.costNs, principal: id });
            },
          },
        }),
        { input: { periodMs: DOMAIN_TICK.periodNs / NS_PER_MS } },
      );
    }
  }

  /**
   * What the charging policy has cost each driver domain so far, ns, by driver domain
   * id: switches of client, per-request costs and padding, 1A's timer ticks.
   */
  chargingOverheadNs(): number[] {
    return this.drivers.map((d) => {
      let ns = (this.xen.proxyOverheadNs[d.id] ?? 0) + (this.tickNs[d.id] ?? 0);
      if (d === this.netIdd) ns += this.netback.proxyOverheadNs;
      ns += this.blkbacks.get(d.id)?.proxyOverheadNs ?? 0;
      return ns;
    });
  }

  /** A driver domain's CPU share, in CPUs (as `iddShare` for the first). */
  driverShare(driver: Domain): number {
    const cfg = [this.config.idd, ...(this.config.drivers ?? [])][driver.id];
    return domainShare(this.config.scheduler, cfg);
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

  private addGuest(config: DomainConfig, iddChannels: EventChannelSet, regions: VbdRegions): void {
    const { kernel, host, xen, config: sys } = this;
    const domain = xen.addDomain(config.name, config.vcpus);
    const stats = this.loggedStats(domain.id);
    this.stats[domain.id] = stats;
    const containers = config.containers && this.makeContainers(config, domain);
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
          // With containers, netfront's part of a packet's cost (LRP: its classification).
          guestPacketNs: containers?.eagerPacketNs ?? sys.profile.guestPacketNs,
          guestIrqNs: sys.profile.guestIrqNs,
          vcpu: domain.vcpus[q],
          name: `${config.name}.netfront${suffix}`,
        }),
      );
    }
    const net = new GuestNet(xen, domain.id, domain.vcpus, netfronts, containers);
    const runtime: GuestRuntime = {
      domain,
      net,
      netfront: netfronts[0],
      stats,
      workloads: [],
      web: [],
      blkfronts: [],
      disk: [],
      ...(containers === undefined ? {} : { containers }),
      ...(config.containers === undefined
        ? {}
        : { clientClasses: config.containers.classes.map((k) => k.name) }),
    };
    (config.vbds ?? []).forEach((v, i) => {
      const where = `guest ${config.name}`;
      const disk = this.disks.get(v.disk);
      const owner = this.diskDriver.get(v.disk);
      if (disk === undefined || owner === undefined) {
        throw new IsosimError(
          where,
          `vbds[${i}].disk`,
          `names no disk (${JSON.stringify(v.disk)})`,
          `use one of: ${[...this.disks.keys()].join(', ') || 'none (add one to disks)'}`,
        );
      }
      if (v.backend !== undefined) {
        const b = this.driverNamed(v.backend, where, `vbds[${i}].backend`);
        if (b !== owner) {
          throw new IsosimError(
            where,
            `vbds[${i}].backend`,
            `${b.name} does not drive ${v.disk} (${owner.name} does)`,
            `name ${owner.name}, or list ${v.disk} in ${b.name}'s devices`,
          );
        }
      }
      const back = this.blkbacks.get(owner.id) as Blkback;
      const region = regions.next(v.disk, disk.model.sectors);
      const channels = new EventChannelSet(kernel, `${config.name}.evtchn.vbd${i}`);
      const vbd = createVbd(
        domain,
        i,
        owner,
        v.disk,
        region,
        back.channels,
        channels,
        sys.profile.block.ringSlots,
      );
      back.attach(vbd);
      runtime.blkfronts.push(
        new Blkfront(kernel, host, xen, vbd, {
          guestReqNs: sys.profile.block.guestReqNs,
          guestDoneNs: sys.profile.block.guestDoneNs,
          guestIrqNs: sys.profile.guestIrqNs,
          vcpu: domain.vcpus[i % domain.vcpus.length],
        }),
      );
    });
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
      const engine =
        w.kind === 'disk'
          ? this.makeDiskJob(w, runtime, placement, name, i)
          : this.makeWorkload(
              w,
              new Endpoints(kernel, `${name}.ends`, net, this.network, placement),
              runtime,
            );
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

  /**
   * The guest kernel's resource containers, checked: one vCPU, web workloads only, each
   * naming one of the classes (docs/containers.md); shares whole percents adding up to
   * at most 100; distinct class names.
   */
  private makeContainers(config: DomainConfig, domain: Domain): GuestContainers | undefined {
    const where = `guest ${config.name}`;
    const c = config.containers as NonNullable<DomainConfig['containers']>;
    const names = c.classes.map((k) => k.name);
    if (c.classes.length === 0) {
      throw new IsosimError(where, 'containers.classes', 'is empty', 'give at least one client class');
    }
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) {
        throw new IsosimError(
          where,
          `containers.classes[${i}].name`,
          `${JSON.stringify(n)} is given twice`,
          'give each class its own name',
        );
      }
      const pct = c.classes[i].sharePct;
      if (!(Number.isInteger(pct) && pct >= 1 && pct <= 100)) {
        throw new IsosimError(
          where,
          `containers.classes[${i}].sharePct`,
          `is ${pct}`,
          'give a whole percent, 1 to 100',
        );
      }
    });
    const total = c.classes.reduce((n, k) => n + k.sharePct, 0);
    if (total > 100) {
      throw new IsosimError(
        where,
        'containers.classes',
        `the shares add up to ${total}%`,
        'give shares adding up to at most 100%',
      );
    }
    if (c.queuePackets !== undefined && (c.mode ?? 'lrp') !== 'lrp') {
      throw new IsosimError(
        where,
        'containers.queuePackets',
        'bounds the LRP input queues, but the mode is not lrp',
        "remove it, or set mode 'lrp'",
      );
    }
    if (c.queuePackets !== undefined && !(Number.isInteger(c.queuePackets) && c.queuePackets >= 1)) {
      throw new IsosimError(
        where,
        'containers.queuePackets',
        `is ${c.queuePackets}`,
        'give a whole number of packets, at least 1',
      );
    }
    if (domain.vcpus.length !== 1) {
      throw new IsosimError(
        where,
        'containers',
        `the guest has ${domain.vcpus.length} vCPUs, but its containers are scheduled on one`,
        'give the guest one vCPU, or remove containers',
      );
    }
    (config.workloads ?? []).forEach((w, i) => {
      if (w.kind !== 'web') {
        throw new IsosimError(
          where,
          `workloads[${i}].kind`,
          `is ${w.kind}, but a guest with containers runs web workloads only here`,
          'move it to another guest, or remove containers',
        );
      }
      if (w.clientClass === undefined || !names.includes(w.clientClass)) {
        throw new IsosimError(
          where,
          `workloads[${i}].clientClass`,
          w.clientClass === undefined ? 'is missing' : `${JSON.stringify(w.clientClass)} names no class`,
          `give one of the guest's classes: ${names.join(', ')}`,
        );
      }
    });
    if (c.mode === 'off') return undefined;
    return new GuestContainers(
      this.kernel,
      this.xen,
      domain.vcpus[0],
      c,
      this.config.profile.guestPacketNs,
      `${config.name}.containers`,
    );
  }

  private makeDiskJob(
    w: Extract<WorkloadConfig, { kind: 'disk' }>,
    runtime: GuestRuntime,
    placement: number | 'spread',
    name: string,
    i: number,
  ): DiskJob {
    const v = w.vbd ?? 0;
    const front = runtime.blkfronts[v];
    if (front === undefined) {
      throw new IsosimError(
        `guest ${runtime.domain.name}`,
        `workloads[${i}].vbd`,
        `is ${v}, but the guest has ${runtime.blkfronts.length} vbd(s)`,
        runtime.blkfronts.length === 0
          ? 'give the guest a vbd (vbds)'
          : `give 0 to ${runtime.blkfronts.length - 1}`,
      );
    }
    const vcpu = runtime.domain.vcpus[placement === 'spread' ? 0 : placement];
    const job = new DiskJob(this.kernel, this.xen, front, vcpu, w, name);
    runtime.disk.push(job);
    return job;
  }

  private makeWorkload(w: WorkloadConfig, ends: Endpoints, runtime: GuestRuntime): WorkloadEngine {
    switch (w.kind) {
      case 'web': {
        if (w.clientClass !== undefined && runtime.clientClasses === undefined) {
          throw new IsosimError(
            `guest ${runtime.domain.name}`,
            `workloads[${runtime.workloads.length}].clientClass`,
            'is given, but the guest has no containers',
            'give the guest containers, or remove clientClass',
          );
        }
        runtime.webServer ??= new WebServer(
          undefined,
          undefined,
          runtime.containers?.classes.map((k) => k.sharePct),
        );
        const load = new WebLoad(
          ends,
          {
            rate: w.rate,
            arrivals: w.arrivals,
            fileBytes: w.fileBytes,
            timeoutNs: w.timeoutNs,
            requestNs: this.config.profile.webRequestNs,
            ...(w.clientClass === undefined ? {} : { clientClass: w.clientClass }),
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
      case 'disk':
        throw new InvariantError('disk jobs are made by makeDiskJob');
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

/**
 * Which driver domain drives each device, by index in `drivers`: each one's `devices`;
 * the NIC and every disk no one lists go to the first.
 */
function deviceOwners(drivers: readonly DriverDomainConfig[], disks: readonly string[]): Map<string, number> {
  const owners = new Map<string, number>();
  drivers.forEach((d, i) => {
    for (const dev of d.devices ?? []) {
      if (owners.has(dev)) {
        throw new IsosimError(
          `driver domain ${d.name}`,
          'devices',
          `lists ${dev}, which ${drivers[owners.get(dev) as number].name} drives too`,
          'give each device to one driver domain',
        );
      }
      if (dev !== NIC_NAME && !disks.includes(dev)) {
        throw new IsosimError(
          `driver domain ${d.name}`,
          'devices',
          `lists ${JSON.stringify(dev)}, which is neither ${NIC_NAME} nor a disk`,
          `use ${NIC_NAME} or one of: ${disks.join(', ') || 'no disks'}`,
        );
      }
      owners.set(dev, i);
    }
  });
  for (const dev of [NIC_NAME, ...disks]) if (!owners.has(dev)) owners.set(dev, 0);
  return owners;
}

/** Hands out each disk's vbd regions: equal parts, in the order guests list their vbds. */
interface VbdRegions {
  next(disk: string, diskSectors: number): { startSector: number; sectors: number };
}

function vbdRegions(config: SystemConfig): VbdRegions {
  const count = new Map<string, number>();
  for (const g of config.guests)
    for (const v of g.vbds ?? []) count.set(v.disk, (count.get(v.disk) ?? 0) + 1);
  const given = new Map<string, number>();
  return {
    next(disk, diskSectors) {
      const n = count.get(disk) ?? 1;
      const k = given.get(disk) ?? 0;
      given.set(disk, k + 1);
      // Regions of whole 4 KiB pages (8 sectors), so page-sized I/O stays aligned.
      const size = Math.floor(diskSectors / n / 8) * 8;
      return { startSector: k * size, sectors: size };
    },
  };
}
