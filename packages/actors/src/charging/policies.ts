/**
 * Ways of charging a driver domain's work to the guests it serves: the taxonomy of
 * John Griffin's xen-devel post "Fine-grained proxy resource charging" (25 Aug 2005,
 * seed 000), cycle-accurate (1A–1E) and near-accurate (2A–2C), with resource
 * containers (Banga, Druschel, Mogul, OSDI 1999; seed 004) as 1E.
 *
 * A policy is what XenMon reports as each guest's driver-domain CPU, and so what
 * SEDF-DC, Credit-DC and ShareGuard read when their source is `estimate`
 * (`mechanisms.charging`, default `2C`, the paper's weighted packet counts). Every
 * policy is one estimator behind XenMon's interface (monitor/xenmon.ts,
 * `XenMonOptions.estimator`); the exact ones also change what the driver domains do,
 * and that cost is simulated, not only reported:
 *
 * - **1A** one driver domain per guest: every driver domain serves at most one guest
 *   (several driver domains, issue 16), and the guest is charged all of its CPU. Cost:
 *   each extra domain's kernel runs its periodic timer tick (`DOMAIN_TICK`), and holds
 *   memory (`DOMAIN_MEMORY_MIB`, reported: memory is not simulated).
 * - **1B** equal work per request: the driver pads every request to the most one can
 *   cost (a packet to the dearest of receive, send and connection open; a block request
 *   to 11 segments), so that a count is exact. Cost: the padding.
 * - **1C** one protection domain (process) per client inside the driver domain: the
 *   kernel's per-process CPU accounting is exact. Cost: a process context switch each
 *   time the driver's work moves from one client to another (`PROCESS_SWITCH_NS`).
 * - **1D** threads that declare whose work they do (an affiliate system call): exact.
 *   Cost: a system call each time the work moves to another client (`AFFILIATE_NS`).
 * - **1E** resource containers: a container per packet or block request, created where
 *   it enters (at the NIC or in netback, in blkback) and bound to its guest at demux.
 *   Exact. Cost: creating and binding a container per request (`CONTAINER_NS`).
 * - **2A** an a-priori average cost per request (the profile's calibrated per-packet
 *   costs and the disk weight benchmark's per-request cost), times each guest's
 *   request counts; the driver domain's own work (interrupt entry, polls) is nobody's.
 * - **2B** the driver domain's CPU split in proportion to unweighted request counts
 *   (Cherkasova and Gardner, USENIX 2005).
 * - **2C** split in proportion to weighted request counts: XenMon's estimate (the
 *   paper, section 3; block weights from `isosim weight --disk`).
 *
 * A packet ShareGuard drops at netback's ring is none of this: it never enters the
 * stack, costs what it costs under every policy (no padding, no container, no switch of
 * client: it does no work on anyone's behalf), so that cutting a guest's traffic still
 * frees the driver domain whatever the policy. (Padded to a send, as a first version
 * did, a drop cost as much as the traffic it cut, and ShareGuard could not hold its limit
 * under 1B: `pnpm verify:deep`, invariant 8.)
 *
 * An exact policy's charge is the driver domain's per-(domain, principal) accounting,
 * the record an OS keeps when it knows whose work it runs (what 1C's process times,
 * 1D's affiliations and 1E's containers amount to); it includes the policy's own cost,
 * which runs on behalf of the guest it was spent for. The verification suite checks
 * that every exact policy equals the ground truth to the nanosecond at every XenMon
 * sample.
 */

/** The charging policies, by the seed's labels. */
export type ChargingPolicyId = '1A' | '1B' | '1C' | '1D' | '1E' | '2A' | '2B' | '2C';

export const CHARGING_POLICIES: readonly ChargingPolicyId[] = [
  '1A',
  '1B',
  '1C',
  '1D',
  '1E',
  '2A',
  '2B',
  '2C',
];

/** A policy's description, for tables and help. */
export interface ChargingPolicyInfo {
  readonly id: ChargingPolicyId;
  readonly name: string;
  /** Whether its charge equals the ground truth (cycle-accurate). */
  readonly exact: boolean;
  /** What it costs and where that cost is simulated. */
  readonly cost: string;
}

/**
 * A periodic timer tick in an extra driver domain's kernel: XenLinux 2.6.16 runs
 * HZ = 250 (4 ms), and a tick's handler (timer_interrupt, account, run_local_timers)
 * is taken as 5 µs on the 2.8 GHz Pentium-IV. A stated assumption, not a measurement.
 */
export const DOMAIN_TICK = { periodNs: 4_000_000, costNs: 5_000 } as const;
/**
 * Memory an extra driver domain holds: 128 MiB, the smallest a 2006 Domain-0-style
 * Linux driver domain was commonly given (reported, not simulated). Stated assumption.
 */
export const DOMAIN_MEMORY_MIB = 128;
/**
 * A process context switch in a paravirtualized Linux 2.6 guest on a 2.8 GHz P-IV:
 * the switch itself plus the page-table base change through Xen (mmuext_op
 * MMUEXT_NEW_BASEPTR) and the TLB refill after it, taken as 6 µs (lmbench lat_ctx
 * reports 2–4 µs natively on machines of that time; the hypercall and flush add to
 * it). Stated assumption.
 */
export const PROCESS_SWITCH_NS = 6_000;
/**
 * Two system calls (disassociate from one client, affiliate with the next) on the same
 * machine: about 0.5 µs each through XenLinux's int 0x80 trap gate. Stated assumption.
 */
export const AFFILIATE_NS = 1_000;
/**
 * Creating a resource container, charging to it and binding it at demux, per packet or
 * block request: an allocation, a few list operations and a reference count, taken
 * as 1.5 µs. Banga et al. report their prototype's overhead as small without a
 * per-packet figure; a stated assumption.
 */
export const CONTAINER_NS = 1_500;

export const CHARGING_INFO: Readonly<Record<ChargingPolicyId, ChargingPolicyInfo>> = {
  '1A': {
    id: '1A',
    name: 'one driver domain per guest',
    exact: true,
    cost: `each extra domain's timer tick (${DOMAIN_TICK.costNs / 1000} µs every ${DOMAIN_TICK.periodNs / 1e6} ms) and ${DOMAIN_MEMORY_MIB} MiB`,
  },
  '1B': {
    id: '1B',
    name: 'equal work per request',
    exact: true,
    cost: 'every request padded to the dearest one',
  },
  '1C': {
    id: '1C',
    name: 'a process per client in the driver domain',
    exact: true,
    cost: `a context switch (${PROCESS_SWITCH_NS / 1000} µs) when the work moves to another client`,
  },
  '1D': {
    id: '1D',
    name: 'threads declare whose work they do',
    exact: true,
    cost: `two system calls (${AFFILIATE_NS / 1000} µs) when the work moves to another client`,
  },
  '1E': {
    id: '1E',
    name: 'resource containers',
    exact: true,
    cost: `a container per packet or block request (${CONTAINER_NS / 1000} µs)`,
  },
  '2A': { id: '2A', name: 'a-priori cost per request', exact: false, cost: 'none' },
  '2B': { id: '2B', name: 'split by request counts', exact: false, cost: 'none' },
  '2C': { id: '2C', name: 'split by weighted counts (XenMon)', exact: false, cost: 'none' },
};

/** Whether `id` names a policy. */
export function isChargingPolicy(id: unknown): id is ChargingPolicyId {
  return typeof id === 'string' && (CHARGING_POLICIES as readonly string[]).includes(id);
}

/**
 * What an exact policy adds to a driver domain's work for a guest: per request
 * (`perRequestNs`), padding every request to the dearest (`equalize`), and per switch
 * of client on a vCPU (`perSwitchNs`). All zero for the near-accurate policies.
 */
export interface ProxyCosts {
  readonly perRequestNs: number;
  readonly equalize: boolean;
  readonly perSwitchNs: number;
}

export const NO_PROXY_COSTS: ProxyCosts = { perRequestNs: 0, equalize: false, perSwitchNs: 0 };

/** The costs `policy` adds to driver domains' work (1A's ticks are separate). */
export function proxyCosts(policy: ChargingPolicyId): ProxyCosts {
  switch (policy) {
    case '1B':
      return { ...NO_PROXY_COSTS, equalize: true };
    case '1C':
      return { ...NO_PROXY_COSTS, perSwitchNs: PROCESS_SWITCH_NS };
    case '1D':
      return { ...NO_PROXY_COSTS, perSwitchNs: AFFILIATE_NS };
    case '1E':
      return { ...NO_PROXY_COSTS, perRequestNs: CONTAINER_NS };
    default:
      return NO_PROXY_COSTS;
  }
}
