/**
 * The paper's weight benchmark (section 3, Figs. 4 and 5): UDP packets at a fixed rate
 * and size, sent by a guest (send benchmark) or to it (receive benchmark), with the
 * driver domain's CPU use measured and nothing else. `weight` is the ratio of the IDD's
 * CPU in the send benchmark to that in the receive benchmark at the same rate and size.
 *
 * Each point is a fresh host: one pCPU, the IDD and one guest under Credit without caps
 * (so neither is short of CPU), run for `durationNs` and measured after `warmupNs`.
 * The IDD's CPU is taken whole (`cpuNs` of domain 0), as the paper's xenmon reports it:
 * its interrupt entries count too, which is why the recovered weight is close to, not
 * exactly, the profile's per-packet ratio.
 *
 * The disk's weight benchmark (`measureDiskWeights`, issue 16) does the same for
 * XenMon's weight of a block request of s segments, `base + perSeg · s` received
 * packets (`BlockCosts.blkWeights`). Each point is a fresh host as above, its IDD now
 * driving a SATA SSD (`SSD_SATA`, fifo elevator, NCQ depth 32: the disk is never the
 * bottleneck, so only the requests' own work shows in the IDD), its guest running a
 * sequential disk job of one op and size with `DISK_IODEPTH` I/Os in flight. A disk
 * job has no fixed rate, so the cost is taken per request: the IDD's whole CPU over
 * the window (interrupt entries included, as xenmon sees it) over the requests blkback
 * took in it (`Blkback.taken`). Dividing by the IDD's CPU per received packet in the
 * receive benchmark (`DISK_WEIGHT_RECV_RATE` packets/s of `DISK_WEIGHT_RECV_BYTES`
 * bytes) on the same profile gives the weight in received-packet units, the unit of
 * XenMon's formula; a least-squares line through the 1 to 11 page points of each op
 * gives `base` and `perSeg`. That unit carries the NIC's interrupt entries as spread
 * over 10,000 packets/s (one per 1.25 packets under e1000's throttling): at 5,000
 * packets/s or fewer (one per packet) it is 2.8% larger, at 20,000 5.7% smaller, and
 * the weights move the other way.
 */
import { InvariantError, IsosimError, Kernel, NS_PER_S } from '@isosim/core';
import { BLKIF_MAX_SEGMENTS_PER_REQUEST, SEGMENT_BYTES } from '../block/blkif.ts';
import { SECTOR_BYTES, SSD_SATA } from '../hardware/disk.ts';
import type { HardwareProfile } from '../profiles/profiles.ts';
import { XenSystem } from './xenSystem.ts';

export interface WeightPoint {
  readonly direction: 'send' | 'receive';
  readonly rate: number;
  readonly bytes: number;
  /** IDD CPU, percent of one pCPU, over the measured window. */
  readonly iddPct: number;
  /** Packets the IDD processed per second in the window. */
  readonly packetsPerSec: number;
}

export interface WeightBenchmarkOptions {
  readonly profile: HardwareProfile;
  readonly seed: number;
  readonly durationNs?: number;
  readonly warmupNs?: number;
}

export function measurePoint(
  options: WeightBenchmarkOptions,
  direction: 'send' | 'receive',
  rate: number,
  bytes: number,
): WeightPoint {
  const durationNs = options.durationNs ?? 2 * NS_PER_S;
  const warmupNs = options.warmupNs ?? NS_PER_S / 2;
  const kernel = new Kernel({ seed: options.seed });
  const credit = { weight: 256, capPct: 0 };
  const sys = new XenSystem(kernel, {
    profile: options.profile,
    pcpus: 1,
    scheduler: 'credit',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit }] },
    guests: [
      { name: 'Dom-1', vcpus: [{ pcpu: 0, credit }], workloads: [{ kind: 'udp', direction, rate, bytes }] },
    ],
  });
  sys.start();
  kernel.runUntil(warmupNs);
  sys.xen.settle();
  const cpu0 = sys.xen.accounting.cpuNs[0] ?? 0;
  const st = sys.guests[0].stats;
  const dirIndex = direction === 'send' ? 1 : 0;
  const pk0 = direction === 'send' ? st.offered[1] : st.delivered[0];
  kernel.runUntil(durationNs);
  sys.xen.settle();
  const window = durationNs - warmupNs;
  const cpu = (sys.xen.accounting.cpuNs[0] ?? 0) - cpu0;
  const pk = (direction === 'send' ? st.offered[1] : st.delivered[dirIndex]) - pk0;
  return {
    direction,
    rate,
    bytes,
    iddPct: (100 * cpu) / window,
    packetsPerSec: (pk * NS_PER_S) / window,
  };
}

export interface WeightBenchmarkResult {
  /** Fig. 4: IDD CPU at 10,000 packets/s across packet sizes, both directions. */
  readonly bySize: WeightPoint[];
  /** Fig. 5: IDD CPU at 256-byte packets across rates, both directions. */
  readonly byRate: WeightPoint[];
  /** send/receive ratio at each rate of Fig. 5. */
  readonly ratios: { rate: number; weight: number }[];
  /** Mean and standard deviation of the ratios. */
  readonly weight: number;
  readonly weightSd: number;
}

export const FIG4_SIZES = [100, 200, 400, 600, 800, 1000, 1200] as const;
export const FIG5_RATES = [1_000, 2_000, 5_000, 10_000, 15_000, 20_000] as const;

export function runWeightBenchmark(options: WeightBenchmarkOptions): WeightBenchmarkResult {
  const bySize: WeightPoint[] = [];
  for (const bytes of FIG4_SIZES) {
    for (const dir of ['receive', 'send'] as const) bySize.push(measurePoint(options, dir, 10_000, bytes));
  }
  const byRate: WeightPoint[] = [];
  const ratios: { rate: number; weight: number }[] = [];
  for (const rate of FIG5_RATES) {
    const recv = measurePoint(options, 'receive', rate, 256);
    const send = measurePoint(options, 'send', rate, 256);
    byRate.push(recv, send);
    ratios.push({ rate, weight: send.iddPct / recv.iddPct });
  }
  const mean = ratios.reduce((s, r) => s + r.weight, 0) / ratios.length;
  const sd = Math.sqrt(ratios.reduce((s, r) => s + (r.weight - mean) ** 2, 0) / ratios.length);
  return { bySize, byRate, ratios, weight: mean, weightSd: sd };
}

/** One op and size of the disk weight benchmark (`measureDiskPoint`). */
export interface DiskWeightPoint {
  readonly op: 'read' | 'write';
  /** Bytes per I/O (one blkif request: at most 11 pages). */
  readonly bytes: number;
  /** Segments (pages) the request spans. */
  readonly segments: number;
  /** Requests blkback took in the window. */
  readonly requests: number;
  /** IDD CPU per request taken, ns (interrupt entries included). */
  readonly iddNsPerRequest: number;
  /** `iddNsPerRequest` over the IDD's CPU per received packet: the request's weight. */
  readonly weight: number;
}

/** A least-squares line `base + perSeg · segments` through one op's points. */
export interface DiskWeightFit {
  readonly base: number;
  readonly perSeg: number;
  /** Largest |fit − measured| / measured over the points fitted. */
  readonly maxRelError: number;
}

/** What `measureDiskWeights` measured. */
export interface DiskWeightResult {
  /** IDD CPU per received packet in the receive benchmark, ns: the unit of `weight`. */
  readonly recvNsPerPacket: number;
  /** Reads, then writes, by size: 512 B (sub-page, not fitted), then 4 KiB · 1..11. */
  readonly points: DiskWeightPoint[];
  /** The line through each op's whole-page points (1 to 11 segments). */
  readonly fit: { readonly read: DiskWeightFit; readonly write: DiskWeightFit };
}

/** I/Os the disk job keeps in flight (fio's iodepth). */
export const DISK_IODEPTH = 4;
/** The receive-benchmark rate that gives the packet unit, packets/s: Fig. 4's. */
export const DISK_WEIGHT_RECV_RATE = 10_000;
/** The receive-benchmark packet size that gives the packet unit, bytes: Fig. 5's. */
export const DISK_WEIGHT_RECV_BYTES = 256;
/** The sizes measured: a sub-page 512 B request, then 1 to 11 pages (BLKIF_MAX_SEGMENTS_PER_REQUEST). */
export const DISK_WEIGHT_SIZES: readonly number[] = [
  SECTOR_BYTES,
  ...Array.from({ length: BLKIF_MAX_SEGMENTS_PER_REQUEST }, (_, i) => (i + 1) * SEGMENT_BYTES),
];

/**
 * IDD CPU per received packet, ns, from the receive benchmark at
 * `DISK_WEIGHT_RECV_RATE` packets/s of `DISK_WEIGHT_RECV_BYTES` bytes: the unit of the
 * disk weights.
 */
export function measureRecvNsPerPacket(options: WeightBenchmarkOptions): number {
  const p = measurePoint(options, 'receive', DISK_WEIGHT_RECV_RATE, DISK_WEIGHT_RECV_BYTES);
  if (p.packetsPerSec === 0) {
    throw new IsosimError(
      'measureRecvNsPerPacket',
      'durationNs',
      'no packet was received in the measured window',
      'measure for longer (0.1 s or more)',
    );
  }
  return (p.iddPct / 100) * (NS_PER_S / p.packetsPerSec);
}

/** One point of the disk benchmark: IDD CPU per request of `op` and `bytes`. */
export function measureDiskPoint(
  options: WeightBenchmarkOptions,
  op: 'read' | 'write',
  bytes: number,
  recvNsPerPacket: number,
): DiskWeightPoint {
  const durationNs = options.durationNs ?? 2 * NS_PER_S;
  const warmupNs = options.warmupNs ?? NS_PER_S / 2;
  const kernel = new Kernel({ seed: options.seed });
  const credit = { weight: 256, capPct: 0 };
  const sys = new XenSystem(kernel, {
    profile: options.profile,
    pcpus: 1,
    scheduler: 'credit',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, credit }] },
    disks: [{ name: 'sda', model: SSD_SATA, elevator: 'fifo', queueDepth: 32 }],
    guests: [
      {
        name: 'Dom-1',
        vcpus: [{ pcpu: 0, credit }],
        vbds: [{ disk: 'sda' }],
        workloads: [
          {
            kind: 'disk',
            // Random offsets: sequential I/Os of one instant would merge into larger
            // requests in blkfront's plugged queue, and a point must be of its size.
            pattern: 'random',
            readPct: op === 'read' ? 100 : 0,
            blockBytes: bytes,
            iodepth: DISK_IODEPTH,
            thinkNs: 0,
          },
        ],
      },
    ],
  });
  const back = sys.blkbacks.get(sys.idd.id);
  if (back === undefined) throw new InvariantError('the disk benchmark host has no blkback in Dom-0');
  sys.start();
  kernel.runUntil(warmupNs);
  sys.xen.settle();
  const cpu0 = sys.xen.accounting.cpuNs[sys.idd.id] ?? 0;
  const taken0 = back.taken;
  kernel.runUntil(durationNs);
  sys.xen.settle();
  const cpu = (sys.xen.accounting.cpuNs[sys.idd.id] ?? 0) - cpu0;
  const requests = back.taken - taken0;
  if (requests === 0) {
    throw new IsosimError(
      'measureDiskPoint',
      'durationNs',
      `no ${op} request of ${bytes} B was taken between ${warmupNs} and ${durationNs} ns`,
      'measure for longer (0.1 s or more)',
    );
  }
  const iddNsPerRequest = cpu / requests;
  return {
    op,
    bytes,
    segments: Math.ceil(bytes / SEGMENT_BYTES),
    requests,
    iddNsPerRequest,
    weight: iddNsPerRequest / recvNsPerPacket,
  };
}

/** The least-squares line through (segments, weight) of `points`. */
export function fitDiskWeights(points: readonly DiskWeightPoint[]): DiskWeightFit {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.segments, 0) / n;
  const my = points.reduce((s, p) => s + p.weight, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.segments - mx) * (p.weight - my), 0);
  const sxx = points.reduce((s, p) => s + (p.segments - mx) ** 2, 0);
  if (n < 2 || sxx === 0) throw new InvariantError('a disk weight fit needs two sizes or more');
  const perSeg = sxy / sxx;
  const base = my - perSeg * mx;
  const maxRelError = Math.max(
    ...points.map((p) => Math.abs(base + perSeg * p.segments - p.weight) / p.weight),
  );
  return { base, perSeg, maxRelError };
}

/**
 * The disk weight benchmark on `options.profile` (`isosim weight --disk`): every point
 * (reads, then writes, at each of `DISK_WEIGHT_SIZES`) and, per op, the line fitted
 * through the whole-page points; the profile's `blkWeights` are this fit, rounded.
 *
 * @example
 * ```ts
 * const r = measureDiskWeights({ profile: P4_2_8, seed: 1, durationNs: NS_PER_S, warmupNs: NS_PER_S / 4 });
 * r.fit.read; // about { base: 1.2065, perSeg: 0.14196, maxRelError: 0.0003 }
 * ```
 */
export function measureDiskWeights(options: WeightBenchmarkOptions): DiskWeightResult {
  const recvNsPerPacket = measureRecvNsPerPacket(options);
  const points: DiskWeightPoint[] = [];
  const fitOf = (op: 'read' | 'write'): DiskWeightFit => {
    const mine = DISK_WEIGHT_SIZES.map((bytes) => measureDiskPoint(options, op, bytes, recvNsPerPacket));
    points.push(...mine);
    return fitDiskWeights(mine.filter((p) => p.bytes % SEGMENT_BYTES === 0));
  };
  const read = fitOf('read');
  const write = fitOf('write');
  return { recvNsPerPacket, points, fit: { read, write } };
}
