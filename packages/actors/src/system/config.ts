/**
 * The description of a simulated host, as the library takes it (scenario files, in
 * the CLI, are checked and turned into this). Times are integer nanoseconds.
 */
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
  | CustomWorkloadConfig;

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
}

export interface ShareGuardConfig {
  /** The polling interval t, ns (paper: 500 ms). */
  readonly periodNs: number;
  /** Per guest name: the most IDD CPU it may cause, as a fraction of one CPU. */
  readonly limits: Readonly<Record<string, number>>;
  readonly source: AccountingSource;
}

export interface MechanismsConfig {
  /** SEDF-DC / Credit-DC debt collection. */
  readonly debt?: DebtConfig;
  readonly shareGuard?: ShareGuardConfig;
}

export interface SystemConfig {
  readonly profile: HardwareProfile;
  /** Physical CPUs (default: the profile's). */
  readonly pcpus?: number;
  readonly scheduler: 'sedf' | 'credit';
  /** The driver domain (Domain-0 in the paper), which runs netback and the NIC driver. */
  readonly idd: Omit<DomainConfig, 'workloads'>;
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
