/**
 * Sharding a sweep for a cluster (docs/scale-out.md, "Sharding"): `--shard i/n` picks the
 * i-th of n deterministic shards of a sweep's runs, which an array job's task runs into
 * its own results file; `mergeShards` (merge.ts) combines the files.
 *
 * @module
 */
import { IsosimError } from '@isosim/core';

/** One of `count` shards of a sweep: `index` from 0 to `count - 1`. */
export interface ShardSpec {
  /** The shard's 0-based index. */
  readonly index: number;
  /** How many shards the sweep is cut into. */
  readonly count: number;
}

/** The most shards a sweep can be cut into (a Slurm array or an Indexed Job of 100,000 tasks is already past most clusters' limits). */
export const MAX_SHARDS = 100_000;

/**
 * Parses a shard spec `i/n` (the `--shard` option): two whole numbers in decimal, `n`
 * from 1 to {@link MAX_SHARDS} and `i` from 0 to `n - 1` (0-based, as Slurm's
 * `SLURM_ARRAY_TASK_ID` with `--array=0-(n-1)` and Kubernetes' `JOB_COMPLETION_INDEX`
 * are). Anything else (`5/4`, `-1/4`, `1/0`, `a/b`, `1.5/4`, `3`) is an `IsosimError`
 * from `where` (e.g. `'isosim sweep'`) naming `--shard` and what would be accepted.
 *
 * @param spec The option's text, e.g. `'3/8'`.
 * @param where Where the spec came from, for the error, e.g. `'isosim sweep'`.
 */
export function parseShard(spec: string, where: string): ShardSpec {
  const bad = (problem: string, fix = 'give i/n with whole numbers 0 ≤ i < n, e.g. --shard 0/4'): never => {
    throw new IsosimError(where, '--shard', problem, fix);
  };
  const m = /^\s*([^/\s]*)\s*\/\s*([^/\s]*)\s*$/.exec(spec);
  if (m === null) return bad(`'${spec}' is not of the form i/n`);
  const [, i, n] = m;
  const whole = /^\d+$/;
  if (!whole.test(n)) return bad(`the shard count '${n}' in '${spec}' is not a whole number`);
  if (!whole.test(i)) {
    return bad(
      `the shard index '${i}' in '${spec}' is not a whole number`,
      `give an index from 0 to n - 1 (0-based), e.g. --shard 0/${n}`,
    );
  }
  const count = Number(n);
  const index = Number(i);
  if (count < 1 || count > MAX_SHARDS) {
    return bad(`the shard count ${n} in '${spec}' is out of range`, `give n from 1 to ${MAX_SHARDS}`);
  }
  if (index >= count) {
    return bad(
      `the shard index ${i} in '${spec}' is not below the count ${count} (indices are 0-based)`,
      `give an index from 0 to ${count - 1}, e.g. --shard ${count - 1}/${count}`,
    );
  }
  return { index, count };
}

/**
 * The runs of shard `shard.index` of `shard.count`: run k (its place in `runs`, the
 * sweep's expansion order) goes to shard k mod count. The shards are disjoint, their
 * union is `runs` (each run in exactly one), each keeps the sweep's order, and their sizes
 * differ by at most one; which shard a run falls in depends only on its place and the
 * count, so every task of an array job, given the same sweep file, agrees without talking
 * to the others. Round-robin rather than contiguous blocks: neighbouring runs (the seeds
 * of one parameter point, and points that differ in the last parameter) cost about the
 * same, so each shard gets a like mix of cheap and dear runs.
 *
 * @param runs The sweep's runs in expansion order (`expandSweep(...).runs`).
 * @param shard Which shard; checked as `parseShard` checks it.
 */
export function shardRuns<T>(runs: readonly T[], shard: ShardSpec): T[] {
  const { index, count } = shard;
  if (
    !Number.isSafeInteger(count) ||
    count < 1 ||
    !Number.isSafeInteger(index) ||
    index < 0 ||
    index >= count
  ) {
    throw new IsosimError(
      'shardRuns',
      'shard',
      `${index}/${count} is not a shard (0 ≤ index < count, whole numbers)`,
      'give a shard from parseShard',
    );
  }
  return runs.filter((_, k) => k % count === index);
}

/**
 * The name of shard `shard`'s results file in its `--out` directory: `<name>.shard-<i>-of-<n>.duckdb`
 * (a whole sweep's is `<name>.duckdb`), so that the shards of one sweep can share a directory.
 *
 * @param name The sweep's name (its file's `name`).
 * @param shard Which shard.
 */
export function shardFileName(name: string, shard: ShardSpec): string {
  return `${name}.shard-${shard.index}-of-${shard.count}.duckdb`;
}
