/**
 * Generated hosts for the charging lab (docs/charging.md): deterministic, one per seed,
 * each a scenario `isosim charging gen:SEED` runs like a built-in.
 *
 * Every generated host has homogeneous traffic, the case where the near-accurate
 * policies' error has a bound (docs/charging.md, "How wrong 2B and 2C can be"): one
 * 2.8 GHz Pentium-IV, a driver domain Dom-0 with 20–40% of it, and 2–4 guests that
 * each receive UDP datagrams of one size (64, 512 or 1,500 bytes, the same for all) at
 * 500–6,000 a second and run a CPU-bound job beside, so that SEDF-DC's debt (from the
 * estimate, every 500 ms) takes CPU they would use. Reservations fit on the one CPU.
 */
import { IsosimError, Prng } from '@isosim/core';
import { parseScenario } from './load.ts';
import type { Scenario } from './schema.ts';

/** The prefix that names a generated host on the command line: `gen:SEED`. */
export const GENERATED_PREFIX = 'gen:';

/** The seed of a `gen:SEED` name, or undefined for any other name. Throws for a bad seed. */
export function generatedSeed(name: string): number | undefined {
  if (!name.startsWith(GENERATED_PREFIX)) return undefined;
  const text = name.slice(GENERATED_PREFIX.length);
  const seed = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seed))
    throw new IsosimError(
      name,
      'scenario',
      `'${text}' is not a seed`,
      'give gen:N with N a whole number, 0 to 999999999',
    );
  return seed;
}

/** The generated host of `seed`: a homogeneous-traffic scenario named `gen-SEED`. */
export function generatedChargingHost(seed: number): Scenario {
  return parseScenario(generatedChargingHostJson(seed), `gen:${seed}`);
}

/**
 * The scenario file of `generatedChargingHost(seed)`, as JSON: what `isosim charging`
 * writes into DIR/scenarios/gen-SEED.json as the base of its sweep.
 */
export function generatedChargingHostJson(seed: number): Record<string, unknown> {
  const rng = Prng.fromSeed(seed).fork('charging-host');
  const iddPct = rng.int(20, 40);
  const guests = rng.int(2, 4);
  const bytes = [64, 512, 1500][rng.int(0, 2)];
  const guestPct = Math.min(30, Math.floor((100 - iddPct) / guests));
  const vcpus = (pct: number) => [{ pcpu: 0, sedf: { sliceMs: pct / 10, periodMs: 10, extratime: false } }];
  const rates = Array.from({ length: guests }, () => rng.int(5, 60) * 100);
  return {
    name: `gen-${seed}`,
    description: `Generated (isosim charging gen:${seed}; beyond the paper, no paper numbers): homogeneous traffic. One 2.8 GHz Pentium-IV; Dom-0 (${iddPct}%) does the network I/O for ${guests} guests (${guestPct}% each), each receiving ${bytes}-byte UDP datagrams (${rates.join(', ')} a second) beside a CPU-bound job. SEDF-DC charges Dom-0's work by the estimate every 500 ms.`,
    host: { profile: 'p4-2.8', scheduler: 'sedf' },
    domains: [
      { name: 'Dom-0', role: 'idd', vcpus: vcpus(iddPct) },
      ...rates.map((rate, i) => ({
        name: `Dom-${i + 1}`,
        vcpus: vcpus(guestPct),
        workloads: [{ kind: 'udp', direction: 'receive', rate, bytes }, { kind: 'cpu' }],
      })),
    ],
    mechanisms: { debt: { mode: 'immediate', spread: true, feedbackMs: 500, source: 'estimate' } },
    durationS: 10,
    seed,
  };
}
