/**
 * Properties that leave something to debug. `verify` runs a fast-check property over
 * generated hosts; when it fails, the shrunk host is written as a counterexample
 * bundle before the test fails:
 *
 *   out/counterexamples/<property>-<seed>/
 *     scenario.json   the host, as a scenario file (`isosim run` opens it)
 *     events.isolog   its run's log (`isosim replay`, `isosim verify` open it)
 *     metrics.json    the run's figures
 *     failure.txt     the property, the seed, fast-check's path, the violations
 *
 * docs/verification.md walks through one. With `ISOSIM_VERIFY_SHARD=i/n` the property
 * runs its shard's part of the runs with the shard's seed (shard.ts), and the bundle
 * and the error say which shard and how to re-run it alone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CheckResult } from '../../packages/scenarios/src/invariants.ts';
import { parseScenario } from '../../packages/scenarios/src/load.ts';
import { runAndWrite } from '../../packages/scenarios/src/runScenario.ts';
import type { HostGen } from './hosts.ts';
import {
  type PropertyRecord,
  planRuns,
  rerunCommand,
  SHARD,
  type ShardSpec,
  shardLine,
  UNSHARDED,
} from './shard.ts';

export const RUNS = Number(process.env.ISOSIM_PROPERTY_RUNS ?? 8);
export const SEED = Number(process.env.ISOSIM_PROPERTY_SEED ?? 20261124);
export const BUNDLES = process.env.ISOSIM_COUNTEREXAMPLES ?? join('out', 'counterexamples');

/** Totals over all properties in this process, printed by `pnpm verify:deep`. */
export const tally: {
  property: string;
  hosts: number;
  instances: number;
  worst: number;
  /** What `worst` is a fraction of (default ε). */
  unit?: string;
}[] = [];

export interface Verified {
  /** The cases this process ran (all of them unsharded; this shard's part with ISOSIM_VERIFY_SHARD). */
  runs: number;
  /** The cases of an unsharded run. */
  totalRuns: number;
  /** What the property ran, for the shard's report (`expectAbove` records counts in it). */
  record: PropertyRecord;
  hosts: number;
  instances: number;
  /** Largest `worst` over every check (how close the bounds came to binding). */
  worst: number;
}

/**
 * Checks `check` on `runs` generated hosts. `check` returns the host as a scenario and
 * the results of its invariant checks; a violation fails the property. On failure
 * (after shrinking) writes the bundle and throws an error naming it. `runs` and `seed`
 * are the unsharded run's; in a shard (ISOSIM_VERIFY_SHARD) the property runs its part
 * with its own seed (shard.ts), unless `sharded: false` (a fixed self-test).
 */
export function verify(
  property: string,
  arb: fc.Arbitrary<HostGen>,
  check: (h: HostGen) => { scenario: Record<string, unknown>; results: CheckResult[] },
  options: {
    runs?: number;
    seed?: number;
    bundles?: string;
    unit?: string;
    sharded?: boolean;
    /** The shard (default: ISOSIM_VERIFY_SHARD's); for tests of sharding. */
    shard?: ShardSpec;
  } = {},
): Verified {
  const shard = options.sharded === false ? UNSHARDED : (options.shard ?? SHARD);
  const sharded = shard !== undefined && shard.count > 1;
  // A fixed self-test (sharded: false) runs whole in every shard and is not reported.
  const plan = planRuns(
    property,
    options.seed ?? SEED,
    options.runs ?? RUNS,
    shard,
    options.sharded !== false,
  );
  const seed = plan.seed;
  plan.unit = options.unit;
  const out: Verified = {
    runs: plan.runs,
    totalRuns: plan.totalRuns,
    record: plan,
    hosts: 0,
    instances: 0,
    worst: Number.NEGATIVE_INFINITY,
  };
  if (sharded && plan.runs === 0) return out;
  const details = fc.check(
    fc.property(arb, (h) => {
      const { results } = check(h);
      out.hosts++;
      for (const r of results) {
        out.instances += r.checked;
        out.worst = Math.max(out.worst, r.worst);
      }
      const bad = results.filter((r) => r.violations.length > 0);
      return bad.length === 0;
    }),
    { seed, numRuns: plan.runs },
  );
  tally.push({ property, hosts: out.hosts, instances: out.instances, worst: out.worst, unit: options.unit });
  plan.counts = { hosts: out.hosts, instances: out.instances };
  plan.max = Number.isFinite(out.worst) ? { worst: out.worst } : {};
  if (!details.failed) return out;
  // In a shard: which shard, its seed, and the command that re-runs it alone.
  const inShard = sharded ? ` in ${shardLine(plan, shard)}` : '';
  plan.failed = `${property} fails${inShard || `: ${shardLine(plan, shard)}`}`;
  const host = details.counterexample?.[0] as HostGen | undefined;
  if (host === undefined) {
    const error = details.errorInstance ?? new Error(`${property}: failed without a counterexample`);
    if (!sharded) throw error;
    throw new Error(
      `${property} fails${inShard}\n${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const { scenario, results } = check(host);
  const dir = join(
    options.bundles ?? BUNDLES,
    `${property.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${seed}`,
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scenario.json'), `${JSON.stringify(scenario, null, 2)}\n`);
  const s = parseScenario(scenario, join(dir, 'scenario.json'));
  runAndWrite(s, dir, s.seed);
  const lines = [
    `property: ${property}`,
    `fast-check seed: ${seed}, path: ${details.counterexamplePath}, after ${details.numRuns} runs and ${details.numShrinks} shrinks`,
    ...(sharded ? [`in ${shardLine(plan, shard)}`] : []),
    '',
    ...results.flatMap((r) => r.violations.slice(0, 20).map((v) => `${r.name}: ${v}`)),
    '',
    `replay: isosim replay ${join(dir, 'events.isolog')} --until '...'`,
    `re-run: isosim run ${join(dir, 'scenario.json')}`,
    `check:  isosim check ${join(dir, 'scenario.json')}`,
  ];
  writeFileSync(join(dir, 'failure.txt'), `${lines.join('\n')}\n`);
  const first = results.find((r) => r.violations.length > 0);
  plan.failed += `; bundle ${dir}`;
  throw new Error(
    `${property} fails on a generated host${sharded ? ` in shard ${shard.index}/${shard.count} (fast-check seed ${seed}, path ${details.counterexamplePath}; re-run: ${rerunCommand(plan, shard)})` : ''} (bundle: ${dir}): ${first?.name}: ${first?.violations[0]}`,
  );
}
