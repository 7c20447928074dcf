import {
  DISK_IODEPTH,
  DISK_WEIGHT_RECV_BYTES,
  DISK_WEIGHT_RECV_RATE,
  type DiskWeightResult,
  type HardwareProfile,
  measureDiskWeights,
  PROFILES,
  runWeightBenchmark,
  type WeightBenchmarkResult,
} from '@isosim/actors';
import { IsosimError, NS_PER_S } from '@isosim/core';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';

export const weight: CommandSpec = {
  name: 'weight',
  brief: "runs the paper's weight benchmark (Figs. 4 and 5) on a hardware profile",
  summary:
    "Runs the paper's calibration benchmark (section 3): UDP send and receive at a fixed\n" +
    'rate across packet sizes (Fig. 4) and at 256 bytes across rates (Fig. 5), measuring the\n' +
    "driver domain's CPU alone, and derives weight = send cost / receive cost.\n" +
    '\n' +
    "With --disk, the same for block I/O: the driver domain's CPU per request of a guest's\n" +
    'disk job (reads, then writes, on an SSD; 512 B and 4 KiB to 44 KiB, 1 to 11 segments),\n' +
    'in received-packet units (the receive benchmark at 10,000 packets/s of 256 bytes), and\n' +
    "XenMon's block weights base + perSeg * segments fitted per op by least squares\n" +
    "(the profiles' blkWeights).",
  usage: 'isosim weight [--disk] [--profile NAME] [--seed N] [--duration S]',
  options: {
    disk: {
      type: 'boolean',
      help: "measure block request weights (XenMon's blkWeights) instead of the network's",
    },
    profile: {
      type: 'string',
      help: `hardware profile: ${Object.keys(PROFILES).join(', ')} (default system-1)`,
      placeholder: 'NAME',
    },
    seed: { type: 'string', help: 'root seed (default 1)', placeholder: 'N' },
    duration: {
      type: 'string',
      help: 'simulated seconds per point (default 2, at most 60; with --disk at least 0.1)',
      placeholder: 'S',
    },
  },
  run({ values }) {
    const name = String(values.profile ?? 'system-1');
    // Own keys only: `__proto__` or `constructor` name no profile.
    const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
    if (profile === undefined) {
      throw new IsosimError(
        'isosim weight',
        '--profile',
        `${JSON.stringify(name)} is not a profile`,
        `use one of ${Object.keys(PROFILES).join(', ')}`,
      );
    }
    const seed = intOption('weight', 'seed', values.seed, 1);
    // The disk's slowest point (44 KiB) takes ~3,000 requests/s: 0.1 s keeps a few hundred.
    const disk = values.disk === true;
    const durationS = secondsOption('weight', 'duration', values.duration, 2, 60, disk ? 0.1 : undefined);
    const durationNs = Math.round(durationS * NS_PER_S);
    const options = { profile, seed, durationNs, warmupNs: Math.floor(durationNs / 4) };
    console.log(`profile ${profile.name}: ${profile.description}\n`);
    if (disk) printDisk(profile, measureDiskWeights(options));
    else printNetwork(profile, runWeightBenchmark(options));
    return 0;
  },
};

function printNetwork(profile: HardwareProfile, r: WeightBenchmarkResult): void {
  const pct = (x: number) => x.toFixed(2).padStart(7);
  console.log('Fig. 4: IDD CPU % at 10,000 packets/s by packet size');
  console.log('  bytes  receive     send');
  for (let i = 0; i < r.bySize.length; i += 2) {
    console.log(
      `  ${String(r.bySize[i].bytes).padStart(5)}  ${pct(r.bySize[i].iddPct)}  ${pct(r.bySize[i + 1].iddPct)}`,
    );
  }
  console.log('\nFig. 5: IDD CPU % at 256-byte packets by rate');
  console.log('  pkts/s  receive     send   send/receive');
  for (let i = 0; i < r.byRate.length; i += 2) {
    console.log(
      `  ${String(r.byRate[i].rate).padStart(6)}  ${pct(r.byRate[i].iddPct)}  ${pct(r.byRate[i + 1].iddPct)}   ${r.ratios[i / 2].weight.toFixed(3)}`,
    );
  }
  const err = (100 * (r.weight - profile.weight)) / profile.weight;
  console.log(
    `\nweight = ${r.weight.toFixed(3)} (sd ${r.weightSd.toFixed(3)}); profile ${profile.weight}; error ${err.toFixed(2)}%`,
  );
}

function printDisk(profile: HardwareProfile, r: DiskWeightResult): void {
  console.log(
    `IDD CPU per received packet (receive benchmark, ${DISK_WEIGHT_RECV_RATE} packets/s of ${DISK_WEIGHT_RECV_BYTES} bytes): ${(r.recvNsPerPacket / 1000).toFixed(3)} us`,
  );
  console.log(`\nIDD CPU per block request (sequential, ${DISK_IODEPTH} in flight, SSD) by size`);
  console.log('  op      bytes  segments  requests  IDD us/request  weight');
  for (const p of r.points) {
    console.log(
      `  ${p.op.padEnd(5)}  ${String(p.bytes).padStart(5)}  ${String(p.segments).padStart(8)}  ${String(p.requests).padStart(8)}  ${(p.iddNsPerRequest / 1000).toFixed(3).padStart(14)}  ${p.weight.toFixed(4)}`,
    );
  }
  console.log('\nweight = base + perSeg * segments, least squares over 1 to 11 segments (4 KiB multiples)');
  for (const op of ['read', 'write'] as const) {
    const f = r.fit[op];
    const have = profile.block.blkWeights[op];
    const off = (s: number) => {
      const e = (100 * (have.base + have.perSeg * s)) / (f.base + f.perSeg * s) - 100;
      return `${e >= 0 ? '+' : ''}${e.toFixed(2)}%`;
    };
    console.log(
      `  ${`${op}:`.padEnd(6)} base ${f.base.toFixed(4)}  perSeg ${f.perSeg.toFixed(5)}  (max error ${(100 * f.maxRelError).toFixed(3)}%);` +
        ` profile ${have.base} + ${have.perSeg} s: ${off(1)} at 1 segment, ${off(11)} at 11`,
    );
  }
}
