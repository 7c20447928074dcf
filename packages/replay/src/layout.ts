/**
 * The host as a log's header describes it: the scenario the header carries (`isosim
 * run` and `isosim paper` write it) gives the domains' names and roles and the disks.
 *
 * Domain ids are the host's (`XenSystem`): the driver domains (`role: "idd"`) come
 * first, in the scenario's order (the first is domain 0, the others 1..k), then the
 * guests in the scenario's order. Nothing here assumes that the driver domain is the
 * first domain listed, that there is only one, or that guests start at domain 1.
 *
 * A header without the scenario (a log written through the library) gives no names:
 * readers then name domains `dom<id>` and find driver domains from the records (the
 * World's `drivers`, the Perfetto export's `driverDomains`).
 */
import { type LogHeader, NS_PER_S } from '@isosim/core';

/** What the readers use of the scenario in a log's header. */
interface HeaderSpec {
  readonly durationS?: unknown;
  readonly domains?: readonly { readonly name: string; readonly role?: string }[];
  readonly disks?: readonly { readonly name: string }[];
  readonly memory?: {
    readonly guests?: readonly { readonly name: string }[];
    readonly launches?: readonly { readonly name: string }[];
    readonly storm?: { readonly count: number; readonly prefix?: string };
  };
}

/** The host of a log, from its header. */
export interface HostLayout {
  /** Domain names by domain id (empty when the header has no scenario). */
  readonly domains: readonly string[];
  /** Ids of the driver domains, ascending: 0..k (empty when the header has no scenario). */
  readonly drivers: readonly number[];
  /** Disk names, in the scenario's order (the name is also the disk's actor's). */
  readonly disks: readonly string[];
  /** The run's length, ns (0 when the header does not give it). */
  readonly durationNs: number;
  /**
   * The memory model's domains by id (docs/memory.md, "Scenario files"): numbered after
   * `domains`, its dynamic guests, launches and the storm's in the file's order; and
   * the pseudo-owners `DOMID_XEN` (0x7FF2, tmem's pages) and `DOMID_COW` (0x7FF3,
   * shared pages). Empty without a `memory` block.
   */
  readonly memoryDomains: Readonly<Record<number, string>>;
}

function specOf(header: LogHeader): HeaderSpec {
  return (header.scenario as { spec?: HeaderSpec }).spec ?? {};
}

/**
 * The host of the log whose header is `header`: domain names by id, the driver
 * domains' ids, the disks, the run's length.
 *
 * @example
 * ```ts
 * const { domains, drivers } = hostLayout(scanLog(path, { onRecord: () => false }).header);
 * // two-idds: domains ['Dom-0', 'Dom-blk', 'Dom-1', 'Dom-2'], drivers [0, 1]
 * ```
 */
export function hostLayout(header: LogHeader): HostLayout {
  const spec = specOf(header);
  const doms = spec.domains ?? [];
  const idds = doms.filter((d) => d.role === 'idd');
  const guests = doms.filter((d) => d.role !== 'idd');
  const d = spec.durationS;
  return {
    domains: [...idds, ...guests].map((x) => x.name),
    drivers: idds.map((_, i) => i),
    disks: (spec.disks ?? []).map((x) => x.name),
    durationNs: typeof d === 'number' && Number.isFinite(d) && d > 0 ? Math.round(d * NS_PER_S) : 0,
    memoryDomains: memoryDomainsOf(spec, doms.length),
  };
}

function memoryDomainsOf(spec: HeaderSpec, first: number): Record<number, string> {
  const m = spec.memory;
  const out: Record<number, string> = {};
  if (m === undefined) return out;
  const storm = m.storm;
  const names = [
    ...(m.guests ?? []).map((g) => g.name),
    ...(m.launches ?? []).map((l) => l.name),
    ...Array.from({ length: storm?.count ?? 0 }, (_, k) => `${storm?.prefix ?? 'vm'}-${k + 1}`),
  ];
  names.forEach((n, i) => {
    out[first + i] = n;
  });
  out[0x7ff2] = 'tmem (DOMID_XEN)';
  out[0x7ff3] = 'shared (DOMID_COW)';
  return out;
}

/**
 * Domain names by id, as the host numbers them: every driver domain first (in the
 * scenario's order), then the guests in order. Empty when the header has no scenario.
 */
export function domainNames(header: LogHeader): string[] {
  return [...hostLayout(header).domains];
}
