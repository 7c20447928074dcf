/**
 * The description of a simulated host, as the library takes it (scenario files, in
 * the CLI, are checked and turned into this). Times are integer nanoseconds.
 */

import type { ChargingPolicyId } from '../charging/policies.ts';
import type { GuestContainersConfig } from '../guest/containers.ts';
import type { DiskModel, ElevatorKind } from '../hardware/disk.ts';
import type { ActorEngine, InspectObserver } from '../host/actorHost.ts';
import type { HardwareProfile } from '../profiles/profiles.ts';
import type { CreditParams, DebtMode, SedfParams } from '../scheduler/types.ts';
import type { Endpoints } from '../workload/endpoints.ts';
import type { WorkloadEngine } from '../workload/lifecycle.ts';

export interface VcpuConfig {
  readonly pcpu: number;
  readonly sedf?: SedfParams;
  readonly credit?: CreditParams;
}

/**
 * Where a workload's threads run: a vCPU of its domain by index (0 = the first), or
 * `spread` (default): each flow on the vCPU of its hash, a CPU-bound job as one thread
 * per vCPU (guest/guestNet.ts).
 */
export type WorkloadPlacement = number | 'spread';

export type WorkloadConfig = WorkloadKindConfig & { readonly vcpu?: WorkloadPlacement };

export type WorkloadKindConfig =
  | {
      readonly kind: 'web';
      readonly rate: number;
      readonly arrivals?: 'uniform' | 'poisson';
      readonly fileBytes: number;
      readonly timeoutNs: number;
      /** In a guest with `containers`: the client class (one of its classes), required there. */
      readonly clientClass?: string;
      readonly startNs?: number;
      readonly stopNs?: number;
    }
  | { readonly kind: 'cpu'; readonly startNs?: number; readonly stopNs?: number }
  | {
      readonly kind: 'bulk';
      readonly direction: 'send' | 'receive';
      readonly windowSegments?: number;
      readonly startNs?: number;
      readonly stopNs?: number;
    }
  | {
      readonly kind: 'udp';
      readonly direction: 'send' | 'receive';
      readonly rate: number;
      readonly bytes: number;
      readonly startNs?: number;
      readonly stopNs?: number;
    }
  | DiskWorkloadConfig
  | CustomWorkloadConfig;

/**
 * A fio-like disk job on one of the guest's virtual block devices (workload/disk.ts):
 * `iodepth` requests of `blockBytes` kept in flight (each next one after `thinkNs` of
 * the guest's CPU once one completes), at sequential or random offsets within the vbd;
 * `readPct` of them reads (100: a reader, 0: a writer, between: a mix).
 */
export interface DiskWorkloadConfig {
  readonly kind: 'disk';
  readonly pattern: 'sequential' | 'random';
  /** Percent of requests that are reads (0 to 100). */
  readonly readPct: number;
  /** Bytes per I/O, a multiple of 512. */
  readonly blockBytes: number;
  /** I/Os in flight (fio's iodepth), at least 1. */
  readonly iodepth: number;
  /** Guest CPU between an I/O's completion and the next I/O it issues, ns (fio's thinktime). */
  readonly thinkNs: number;
  /** Which of the guest's vbds, by index (default 0). */
  readonly vbd?: number;
  readonly startNs?: number;
  readonly stopNs?: number;
}

/**
 * A workload of your own (an extension point; not in scenario files, which are JSON):
 * `create` is called once, while the host is built, with the workload's two ends (the
 * guest through its netfront, and a client machine on the LAN; `workload/endpoints.ts`)
 * and returns the engine the lifecycle actor starts at `startNs` and stops at `stopNs`.
 * Its packets are `Flow`s: they cost the guest and the driver domain as any other, are
 * counted, logged and charged to the guest. `docs/host-model.md` has an example.
 */
export interface CustomWorkloadConfig {
  readonly kind: 'custom';
  /** Names the workload's actors (`<guest>.<name><index>`); default `custom`. */
  readonly name?: string;
  readonly create: (ends: Endpoints) => WorkloadEngine;
  readonly startNs?: number;
  readonly stopNs?: number;
}

export interface DomainConfig {
  /** As in the paper: 'Dom-0', 'Dom-1', … */
  readonly name: string;
  readonly vcpus: readonly VcpuConfig[];
  readonly workloads?: readonly WorkloadConfig[];
  /** The guest's virtual block devices, each a region of a disk served by a driver domain. */
  readonly vbds?: readonly VbdConfig[];
  /**
   * A guest kernel with resource containers (guest/containers.ts, docs/containers.md):
   * one per client class with a CPU share, and LRP's early demultiplexing. One vCPU and
   * web workloads only, each naming its `clientClass`.
   */
  readonly containers?: GuestContainersConfig;
}

/**
 * A driver domain: the domain 0 of the paper (`SystemConfig.idd`) or another one
 * (`SystemConfig.drivers`), with the devices whose drivers and backends it runs.
 */
export interface DriverDomainConfig {
  readonly name: string;
  readonly vcpus: readonly VcpuConfig[];
  /**
   * The devices it drives: `NIC_NAME` (the host's one NIC: netback serves every
   * guest's vif) and disk names (blkback serves the vbds on them). Default: the first
   * driver domain drives the NIC and every disk no other one lists; another drives
   * nothing.
   */
  readonly devices?: readonly string[];
}

/** The name of the host's NIC in `DriverDomainConfig.devices`. */
export const NIC_NAME = 'nic0';

/** A physical disk of the host (hardware/disk.ts). */
export interface DiskConfig {
  readonly name: string;
  readonly model: DiskModel;
  readonly elevator: ElevatorKind;
  /** Requests at the device at once (NCQ depth; 1: none), at least 1. */
  readonly queueDepth: number;
}

/**
 * A virtual block device: a guest's view of a region of a disk, through blkfront in
 * the guest and blkback in the driver domain that drives the disk. A disk's vbds split
 * it into equal regions, in the order the guests list them.
 */
export interface VbdConfig {
  /** The disk's name (`SystemConfig.disks`). */
  readonly disk: string;
  /** The backend driver domain's name; default the one that drives the disk. Must drive it. */
  readonly backend?: string;
}

/** Where a control loop reads the IDD CPU spent per guest. */
export type AccountingSource = 'estimate' | 'truth';

export interface DebtConfig {
  readonly mode: DebtMode;
  readonly spread: boolean;
  /** The feedback interval t, ns (paper: 500 ms). */
  readonly feedbackNs: number;
  /** XenMon's weighted-packet estimate (the paper) or the simulator's ground truth. */
  readonly source: AccountingSource;
  /**
   * The driver domains whose work for a guest becomes its debt, by name (default:
   * every one, the sum over them). Naming fewer shows what charging only some of them
   * leaves uncounted (the `two-idds` built-in).
   */
  readonly drivers?: readonly string[];
}

export interface ShareGuardConfig {
  /** The polling interval t, ns (paper: 500 ms). */
  readonly periodNs: number;
  /**
   * Per guest name: the most CPU it may cause in each driver domain, as a fraction of
   * one CPU: one number for every driver domain, or one per driver domain name.
   */
  readonly limits: Readonly<Record<string, number | Readonly<Record<string, number>>>>;
  readonly source: AccountingSource;
}

export interface MechanismsConfig {
  /** SEDF-DC / Credit-DC debt collection. */
  readonly debt?: DebtConfig;
  readonly shareGuard?: ShareGuardConfig;
  /**
   * How driver domains' work is charged to guests: what XenMon reports and what debt
   * and ShareGuard read as `estimate` (charging/policies.ts; default `2C`, the paper's).
   */
  readonly charging?: ChargingPolicyId;
}

export interface SystemConfig {
  readonly profile: HardwareProfile;
  /** Physical CPUs (default: the profile's). */
  readonly pcpus?: number;
  readonly scheduler: 'sedf' | 'credit';
  /**
   * The first driver domain, domain 0 (Domain-0 in the paper), which by default runs
   * the NIC's driver and netback, and the disks' drivers and blkback.
   */
  readonly idd: DriverDomainConfig;
  /** More driver domains, numbered 1, 2, … after it, before the guests. */
  readonly drivers?: readonly DriverDomainConfig[];
  /** The host's disks (none by default). */
  readonly disks?: readonly DiskConfig[];
  /** Guests, numbered after the driver domains in the order given. */
  readonly guests: readonly DomainConfig[];
  readonly mechanisms?: MechanismsConfig;
  /**
   * Which interpreter runs the actors' machines (default `flat`, see
   * host/flatMachine.ts); `xstate` runs every machine on XState's own. Same log.
   */
  readonly engine?: ActorEngine;
  /**
   * An XState inspection observer (`InspectionEvent`s, e.g. @statelyai/inspect's
   * `inspector.inspect`) for every actor of the host, under either engine, the
   * scheduler's fast-path events included (`ActorHostOptions.inspect`). Not logged;
   * costs nothing when left out.
   */
  readonly inspect?: InspectObserver;
}
