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
 */
import { Kernel, NS_PER_S } from '@isosim/core';
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
