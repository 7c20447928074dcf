import { PROFILES, runWeightBenchmark } from '@isosim/actors';
import { IsosimError, NS_PER_S } from '@isosim/core';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';

export const weight: CommandSpec = {
  name: 'weight',
  brief: "runs the paper's weight benchmark (Figs. 4 and 5) on a hardware profile",
  summary:
    "Runs the paper's calibration benchmark (section 3): UDP send and receive at a fixed\n" +
    'rate across packet sizes (Fig. 4) and at 256 bytes across rates (Fig. 5), measuring the\n' +
    "driver domain's CPU alone, and derives weight = send cost / receive cost.",
  usage: 'isosim weight [--profile NAME] [--seed N] [--duration S]',
  options: {
    profile: {
      type: 'string',
      help: `hardware profile: ${Object.keys(PROFILES).join(', ')} (default system-1)`,
      placeholder: 'NAME',
    },
    seed: { type: 'string', help: 'root seed (default 1)', placeholder: 'N' },
    duration: {
      type: 'string',
      help: 'simulated seconds per point (default 2, at most 60)',
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
    const durationS = secondsOption('weight', 'duration', values.duration, 2, 60);
    const durationNs = Math.round(durationS * NS_PER_S);
    const r = runWeightBenchmark({ profile, seed, durationNs, warmupNs: Math.floor(durationNs / 4) });
    const pct = (x: number) => x.toFixed(2).padStart(7);
    console.log(`profile ${profile.name}: ${profile.description}\n`);
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
    return 0;
  },
};
