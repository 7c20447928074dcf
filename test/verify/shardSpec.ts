/**
 * Which shard of the deep verification run `ISOSIM_VERIFY_SHARD` names
 * (docs/verification.md, "Sharding the deep run"), parsed by `isosim sweep --shard`'s
 * `parseShard`. Kept apart from shard.ts, which loads it only when the variable is set,
 * so that an unsharded run does not load `@isosim/scenarios` in every test file (the
 * mutation run, `pnpm mutation`, reruns sedf.model.test.ts once per mutant).
 */
import { IsosimError } from '@isosim/core';
import { parseShard, type ShardSpec } from '@isosim/scenarios';

export type { ShardSpec };

/** The environment variable that picks a shard. */
export const SHARD_ENV = 'ISOSIM_VERIFY_SHARD';

/**
 * The shard `ISOSIM_VERIFY_SHARD` names, or `undefined` when it is unset or empty (an
 * unsharded run). A value `parseShard` refuses (`5/4`, `-1/4`, `a/b`, `3`) is an
 * `IsosimError` naming the variable and what it accepts, e.g. `pnpm verify:deep:
 * ISOSIM_VERIFY_SHARD: the shard index 5 in '5/4' is not below the count 4 (indices are
 * 0-based); give an index from 0 to 3, e.g. ISOSIM_VERIFY_SHARD=3/4`.
 */
export function verifyShardFromEnv(env: NodeJS.ProcessEnv = process.env): ShardSpec | undefined {
  const spec = env[SHARD_ENV];
  if (spec === undefined || spec.trim() === '') return undefined;
  try {
    return parseShard(spec, 'pnpm verify:deep');
  } catch (e) {
    if (!(e instanceof IsosimError)) throw e;
    throw new IsosimError(
      'pnpm verify:deep',
      SHARD_ENV,
      e.problem,
      e.fix.replaceAll('--shard ', `${SHARD_ENV}=`),
    );
  }
}
