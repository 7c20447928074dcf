/**
 * Sharding the deep verification run (docs/verification.md, "Sharding the deep run").
 *
 * `ISOSIM_VERIFY_SHARD=i/n` (0-based, as Slurm's `SLURM_ARRAY_TASK_ID` with
 * `--array=0-(n-1)` and Kubernetes' `JOB_COMPLETION_INDEX`) cuts every property of the
 * deep suite into n parts: a property that an unsharded run checks on N cases runs
 * `⌊N/n⌋` or `⌈N/n⌉` of them in shard i (cases k with k mod n = i, the convention of
 * `isosim sweep --shard`), so the n shards together run N, with a fast-check seed of
 * its own derived from (the property's seed, i, n), so that the shards draw different
 * cases. Without the variable (or with `0/1`) every property runs as it always has: the
 * same seed, the same number of runs.
 *
 * Every property of the deep suite goes through {@link planRuns} (via `verify` in
 * bundle.ts or {@link checkProperty}); each records what it ran, and with
 * `ISOSIM_VERIFY_REPORT` and `ISOSIM_VERIFY_REPORT_DIR=DIR` each test file adds its
 * records to `DIR/verify-shard-i-of-n.json` ({@link writeShardReport}), which
 * `pnpm verify:merge DIR` (scripts/verify-merge.ts, shardReport.ts) sums over the shards.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ShardSpec } from '@isosim/scenarios';
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  type PropertyReport,
  REPORT_FORMAT,
  type SectionReport,
  type ShardReport,
  shardReportName,
} from './shardReport.ts';

export type { ShardSpec };

/** The environment variable that picks a shard (parsed in shardSpec.ts). */
export const SHARD_ENV = 'ISOSIM_VERIFY_SHARD';

/**
 * This process's shard (`undefined`: unsharded). A bad ISOSIM_VERIFY_SHARD fails every
 * test file at import, with the one-line reason (`pnpm verify:deep` checks it first,
 * scripts/verify-env.ts). shardSpec.ts (and with it `@isosim/scenarios`) is loaded only
 * when the variable is set.
 */
export const SHARD: ShardSpec | undefined = process.env[SHARD_ENV]?.trim()
  ? (await import('./shardSpec.ts')).verifyShardFromEnv()
  : undefined;

/** One shard of one: the whole run, as unsharded (for a fixed self-test in a sharded run). */
export const UNSHARDED: ShardSpec = Object.freeze({ index: 0, count: 1 });

/** True when `shard` really cuts the runs (n > 1). */
export const cuts = (shard: ShardSpec | undefined): shard is ShardSpec =>
  shard !== undefined && shard.count > 1;

/**
 * How many of a property's `total` runs shard `shard` makes: the cases k in
 * 0..⌈total⌉−1 with k mod n = i, that is ⌊N/n⌋, plus one for the first N mod n shards.
 * Unsharded (or n = 1), `total` itself, unchanged.
 */
export function shardRunCount(total: number, shard: ShardSpec | undefined = SHARD): number {
  if (!cuts(shard)) return total;
  const n = Math.max(0, Math.ceil(total));
  return Math.floor(n / shard.count) + (shard.index < n % shard.count ? 1 : 0);
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The fast-check seed of shard `shard` of a property whose unsharded seed is `seed`:
 * `seed` itself unsharded or with n = 1; otherwise a 31-bit number that depends on
 * `seed`, i and n, and that differs between the n shards of one property (a hash of
 * (seed, n) plus i times an odd constant, modulo 2^31: a bijection in i).
 */
export function shardSeed(seed: number, shard: ShardSpec | undefined = SHARD): number {
  if (!cuts(shard)) return seed;
  const s = Math.trunc(seed);
  const lo = s >>> 0;
  const hi = Math.floor(s / 2 ** 32) >>> 0;
  const base = fmix32(fmix32(fmix32(lo ^ 0x2545f491) ^ hi) ^ Math.imul(shard.count, 0x9e3779b1));
  return ((base + Math.imul(shard.index, 0x9e3779b1)) >>> 0) & 0x7fffffff;
}

/** What one property ran in this process, written to the shard's report (shardReport.ts's `PropertyReport`). */
export type PropertyRecord = PropertyReport;

/** The properties this process (one test file) ran, by name. */
export const records = new Map<string, PropertyRecord>();

/** The test file and test that are running (vitest's state), for re-run hints. */
function currentTest(): { file: string; test: string } {
  let state: { testPath?: string; currentTestName?: string } = {};
  try {
    state = expect.getState();
  } catch {
    // outside a vitest test
  }
  const file = state.testPath ? relative(process.cwd(), state.testPath) : '';
  const test = (state.currentTestName ?? '').split(' > ').pop() ?? '';
  return { file, test };
}

/** `s` quoted for a POSIX shell. */
const shq = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/**
 * The command that re-runs property `r` in shard `shard` alone (the same seed, the same
 * number of runs): the shard's environment, then `pnpm vitest run FILE -t TEST`.
 */
export function rerunCommand(r: PropertyRecord, shard: ShardSpec | undefined = SHARD): string {
  const env = [
    `ISOSIM_PROPERTY_RUNS=${process.env.ISOSIM_PROPERTY_RUNS ?? ''}`,
    process.env.ISOSIM_PROPERTY_SEED !== undefined
      ? `ISOSIM_PROPERTY_SEED=${process.env.ISOSIM_PROPERTY_SEED}`
      : '',
    cuts(shard) ? `${SHARD_ENV}=${shard.index}/${shard.count}` : '',
  ].filter((e) => e !== '' && !e.endsWith('='));
  const pattern = r.test.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    ...env,
    'pnpm vitest run',
    shq(r.file || 'test/verify'),
    ...(pattern ? ['-t', shq(pattern)] : []),
  ].join(' ');
}

/** One line saying where a failing case came from: the shard, its seed, and how to re-run it. */
export function shardLine(r: PropertyRecord, shard: ShardSpec | undefined = SHARD): string {
  const where = cuts(shard)
    ? `shard ${shard.index}/${shard.count} of ${r.totalRuns} runs (${r.runs} here), fast-check seed ${r.seed} (derived from ${r.baseSeed})`
    : `${r.runs} runs, fast-check seed ${r.seed}`;
  return `${where}; re-run: ${rerunCommand(r, shard)}`;
}

/**
 * Plans property `name`'s runs in this shard: its fast-check seed and `numRuns` from the
 * unsharded `seed` and `total`, recorded (with the test file and test) for the shard's
 * report (unless `register` is false). Every property of the deep suite calls this,
 * through `verify` (bundle.ts) or {@link checkProperty}.
 */
export function planRuns(
  name: string,
  seed: number,
  total: number,
  shard: ShardSpec | undefined = SHARD,
  register = true,
): PropertyRecord {
  const r: PropertyRecord = {
    ...currentTest(),
    baseSeed: seed,
    seed: shardSeed(seed, shard),
    runs: shardRunCount(total, shard),
    totalRuns: cuts(shard) ? Math.max(0, Math.ceil(total)) : total,
    counts: {},
    max: {},
    above: {},
  };
  if (register) records.set(name, r);
  return r;
}

/**
 * Asserts fast-check property `prop` on this shard's part of `total` runs (seed from
 * `seed`), as `fc.assert(prop, { seed, numRuns: total })` does unsharded, and returns
 * the record (put counts in `counts`). A failure is rethrown with the shard, the seed and
 * the command that re-runs it alone in front of fast-check's report (its seed and path);
 * a shard with no runs of the property runs nothing.
 */
export function checkProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  prop: fc.IProperty<Ts>,
  seed: number,
  total: number,
  shard: ShardSpec | undefined = SHARD,
): PropertyRecord {
  const r = planRuns(name, seed, total, shard);
  if (cuts(shard) && r.runs === 0) return r;
  try {
    fc.assert(prop, { seed: r.seed, numRuns: r.runs });
  } catch (e) {
    r.failed = `${name} fails${cuts(shard) ? ' in ' : ': '}${shardLine(r, shard)}`;
    if (!cuts(shard)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(`${name} fails in ${shardLine(r, shard)}\n${message}`, { cause: e });
  }
  return r;
}

/**
 * Expects `value` (recorded as count `count` of property `r`) to be greater than
 * `threshold`, an expectation about a whole run (corners reached, instances checked):
 * unsharded at once, exactly as always; in a shard, whose part is smaller and drawn with
 * another seed, as a requirement on the shards together (the sum of `count` over the
 * shards must exceed `threshold`), which `pnpm verify:merge` checks once every shard is in.
 */
export function expectAbove(r: PropertyRecord, count: string, value: number, threshold: number): void {
  r.counts[count] = value;
  if (cuts(SHARD)) r.above[count] = threshold;
  else expect(value, count).toBeGreaterThan(threshold);
}

/** {@link expectAbove} with threshold 0: a corner every run must reach. */
export const expectReached = (r: PropertyRecord, count: string, value: number): void =>
  expectAbove(r, count, value, 0);

/** Where shard reports go (`ISOSIM_VERIFY_REPORT_DIR`), when reports are asked for (`ISOSIM_VERIFY_REPORT`). */
export function reportDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.ISOSIM_VERIFY_REPORT_DIR;
  return env.ISOSIM_VERIFY_REPORT && dir ? dir : undefined;
}

/** Sleeps `ms` without giving up the thread (the report's lock is taken synchronously). */
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Adds this test file's records (section `section`) to `DIR/verify-shard-i-of-n.json`;
 * the suite's files run in parallel workers, so the read-modify-write holds a lock
 * directory beside the file (one older than a minute is taken as left by a crash). A
 * file from another run (other n, `ISOSIM_PROPERTY_RUNS` or seed) is replaced; a section
 * written before (the shard re-run) is replaced. Returns the file's path, or `undefined`
 * without a report directory.
 */
export function writeShardReport(
  section: string,
  extra: Omit<SectionReport, 'properties'> = { counts: {}, max: {} },
  dir: string | undefined = reportDir(),
  shard: ShardSpec | undefined = SHARD,
): string | undefined {
  if (dir === undefined) return undefined;
  const spec = shard ?? { index: 0, count: 1 };
  mkdirSync(dir, { recursive: true });
  const path = join(dir, shardReportName(spec));
  const lock = `${path}.lock`;
  for (let waited = 0; ; waited += 20) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (waited > 120_000)
        throw new Error(`${lock}: held for two minutes; remove it if no shard is running`);
      sleep(20);
    }
  }
  try {
    const head = {
      format: REPORT_FORMAT,
      version: 1,
      shard: { index: spec.index, count: spec.count },
      propertyRuns: process.env.ISOSIM_PROPERTY_RUNS ?? null,
      propertySeed: process.env.ISOSIM_PROPERTY_SEED ?? null,
    } as const;
    let report: ShardReport = { ...head, sections: {} };
    try {
      const old = JSON.parse(readFileSync(path, 'utf8')) as ShardReport;
      if (
        old.format === head.format &&
        old.shard?.index === head.shard.index &&
        old.shard?.count === head.shard.count &&
        old.propertyRuns === head.propertyRuns &&
        old.propertySeed === head.propertySeed &&
        typeof old.sections === 'object'
      )
        report = { ...head, sections: old.sections };
    } catch {
      // no file yet, or not ours: start afresh
    }
    report.sections[section] = {
      properties: Object.fromEntries(records),
      counts: extra.counts,
      max: extra.max,
    };
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(tmp, path);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return path;
}
