/**
 * Sharding the deep verification run (test/verify/shard.ts, docs/verification.md,
 * "Sharding the deep run"): the split of each property's runs, the shards' seeds, the
 * ISOSIM_VERIFY_SHARD errors, two real shards of a small property and their merged
 * report, the merge's refusals, and the Slurm scripts. All cheap: no host is simulated.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../packages/scenarios/src/invariants.ts';
import { verify } from './verify/bundle.ts';
import type { HostGen } from './verify/hosts.ts';
import {
  checkProperty,
  planRuns,
  records,
  SHARD,
  type ShardSpec,
  shardRunCount,
  shardSeed,
  UNSHARDED,
  writeShardReport,
} from './verify/shard.ts';
import {
  formatMerged,
  MergeError,
  mergeShardReports,
  readShardReport,
  reportFiles,
  type ShardReport,
} from './verify/shardReport.ts';
import { verifyShardFromEnv } from './verify/shardSpec.ts';

const tmp = mkdtempSync(join(tmpdir(), 'isosim-verify-shard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const shard = (index: number, count: number): ShardSpec => ({ index, count });

describe('the split of a property’s runs', () => {
  it('the n shards run ⌊N/n⌋ or ⌈N/n⌉ each, the cases k mod n = i, N in all', () => {
    fc.assert(
      fc.property(fc.nat({ max: 5_000 }), fc.integer({ min: 1, max: 300 }), (total, n) => {
        const parts = Array.from({ length: n }, (_, i) => shardRunCount(total, shard(i, n)));
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        // each ⌊N/n⌋ or ⌈N/n⌉, and the count of the k in 0..N-1 with k mod n = i
        // (isosim sweep --shard's convention)
        const off = parts.filter(
          (p, i) =>
            (p !== Math.floor(total / n) && p !== Math.ceil(total / n)) ||
            p !== Math.ceil(Math.max(0, total - i) / n),
        );
        expect(off).toEqual([]);
      }),
      { seed: 1, numRuns: 300 },
    );
  });

  it('unsharded and 0/1 change nothing: the same seed and the same runs, fractional ones too', () => {
    for (const total of [0, 1, 8, 250, 2.5]) {
      expect(shardRunCount(total, UNSHARDED)).toBe(total);
      const r = planRuns('p', 20261124, total, UNSHARDED, false);
      expect([r.seed, r.runs, r.totalRuns]).toEqual([20261124, total, total]);
    }
    for (const seed of [0, 3, 42, 1818, 20261124, -7, 2 ** 40]) expect(shardSeed(seed, UNSHARDED)).toBe(seed);
    // Without ISOSIM_VERIFY_SHARD (as `pnpm test` runs) the defaults are unsharded too.
    if (process.env.ISOSIM_VERIFY_SHARD === undefined) {
      expect(SHARD).toBeUndefined();
      expect([shardSeed(42), shardRunCount(250)]).toEqual([42, 250]);
    }
  });

  it('each shard of a property gets its own seed, from (seed, i, n) alone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 40 }),
        fc.integer({ min: 2, max: 64 }),
        (seed, n) => {
          const seeds = Array.from({ length: n }, (_, i) => shardSeed(seed, shard(i, n)));
          expect(new Set(seeds).size).toBe(n);
          for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
          expect(seeds).toEqual(Array.from({ length: n }, (_, i) => shardSeed(seed, shard(i, n))));
          // another count gives other seeds
          expect(shardSeed(seed, shard(0, n))).not.toBe(shardSeed(seed, shard(0, n + 1)));
        },
      ),
      { seed: 2, numRuns: 300 },
    );
    // Pinned: a failure message's seed must mean the same cases next year.
    expect([0, 1, 2, 3].map((i) => shardSeed(20261124, shard(i, 4)))).toEqual([
      1961147233, 320615698, 827567811, 1334519924,
    ]);
  });
});

describe('ISOSIM_VERIFY_SHARD', () => {
  it('unset or empty is unsharded; i/n is shard i of n', () => {
    expect(verifyShardFromEnv({})).toBeUndefined();
    expect(verifyShardFromEnv({ ISOSIM_VERIFY_SHARD: '' })).toBeUndefined();
    expect(verifyShardFromEnv({ ISOSIM_VERIFY_SHARD: '3/8' })).toEqual({ index: 3, count: 8 });
    expect(verifyShardFromEnv({ ISOSIM_VERIFY_SHARD: '0/1' })).toEqual({ index: 0, count: 1 });
  });

  it('anything else is one clear error naming the variable and what it accepts', () => {
    const error = (spec: string) => {
      try {
        verifyShardFromEnv({ ISOSIM_VERIFY_SHARD: spec });
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(error('5/4')).toBe(
      "pnpm verify:deep: ISOSIM_VERIFY_SHARD: the shard index 5 in '5/4' is not below the count 4 (indices are 0-based); give an index from 0 to 3, e.g. ISOSIM_VERIFY_SHARD=3/4",
    );
    for (const bad of ['4/4', '-1/4', '1/0', 'a/b', '1.5/4', '3', '/4'])
      expect(error(bad), bad).toMatch(/^pnpm verify:deep: ISOSIM_VERIFY_SHARD: [^;]*'[^;]*'[^;]*; give /);
  });

  it('pnpm verify:deep refuses it before vitest starts: one line, exit status 2', () => {
    // The script verify:deep runs first when the variable is set (node with the tsx loader
    // that vitest.config.ts puts in NODE_OPTIONS, rather than pnpm and tsx: quicker).
    const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts;
    expect(scripts['verify:deep']).toMatch(
      /^\{ \[ -z "\$\{ISOSIM_VERIFY_SHARD:-\}" \] \|\| tsx --conditions=isosim-source scripts\/verify-env\.ts; \} && /,
    );
    const r = spawnSync(process.execPath, ['scripts/verify-env.ts'], {
      env: { ...process.env, ISOSIM_VERIFY_SHARD: '5/4' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "pnpm verify:deep: ISOSIM_VERIFY_SHARD: the shard index 5 in '5/4' is not below the count 4 (indices are 0-based); give an index from 0 to 3, e.g. ISOSIM_VERIFY_SHARD=3/4",
    ]);
  });
});

/** A generated "host" that costs nothing to check: the property sees the draw. */
const tinyHost = fc.record({
  pcpus: fc.integer({ min: 1, max: 4 }),
  iddPct: fc.integer({ min: 20, max: 50 }),
});
const fakeCheck = (h: HostGen) => {
  const result: CheckResult = {
    name: 'tiny',
    checked: h.pcpus,
    failures: 0,
    violations: [],
    worst: h.iddPct / 100,
  } as CheckResult;
  return { scenario: {}, results: [result] };
};

describe('two real shards of a small property, and their merge', () => {
  const dir = join(tmp, 'reports');
  const drawn: string[][] = [];
  const TOTAL = 13;

  it('the shards run 7 and 6 of 13 cases with different seeds, and draw different cases', () => {
    for (const i of [0, 1]) {
      records.clear();
      const seen: string[] = [];
      const v = verify(
        'tiny-hosts',
        tinyHost as unknown as fc.Arbitrary<HostGen>,
        (h) => {
          seen.push(JSON.stringify(h));
          return fakeCheck(h);
        },
        { runs: TOTAL, seed: 99, shard: shard(i, 2) },
      );
      const r = checkProperty(
        'tiny-model',
        fc.property(fc.nat(), (k) => k >= 0),
        7,
        5,
        shard(i, 2),
      );
      r.counts = { sequences: r.runs };
      // what an unsharded run expects of itself, checked on the shards together
      r.above = { sequences: 4 };
      expect(v.runs).toBe(i === 0 ? 7 : 6);
      expect(v.hosts).toBe(v.runs);
      expect(v.totalRuns).toBe(TOTAL);
      expect(r.runs).toBe(i === 0 ? 3 : 2);
      drawn.push(seen);
      expect(
        writeShardReport('tiny', { counts: { fixed: 1 }, max: { tightness: 0.5 } }, dir, shard(i, 2)),
      ).toBe(join(dir, `verify-shard-${i}-of-2.json`));
    }
    expect(drawn[0].slice(0, drawn[1].length)).not.toEqual(drawn[1]);
    expect(records.get('tiny-hosts')?.seed).toBe(shardSeed(99, shard(1, 2)));
  });

  it('the merge sums them: every property ran its whole count', () => {
    const files = reportFiles([dir]);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'verify-shard-0-of-2.json',
      'verify-shard-1-of-2.json',
    ]);
    const m = mergeShardReports(files.map((file) => ({ file, report: readShardReport(file) })));
    expect(m.missing).toEqual([]);
    expect(m.problems).toEqual([]);
    const hosts = m.properties.find((p) => p.name === 'tiny-hosts');
    expect(hosts?.runs).toBe(TOTAL);
    expect(hosts?.totalRuns).toBe(TOTAL);
    expect(hosts?.counts.hosts).toBe(TOTAL);
    expect(hosts?.counts.instances).toBe(drawn.flat().reduce((s, h) => s + JSON.parse(h).pcpus, 0));
    expect(hosts?.max.worst).toBe(Math.max(...drawn.flat().map((h) => JSON.parse(h).iddPct / 100)));
    expect(Object.values(hosts?.seeds ?? {})).toEqual([0, 1].map((i) => shardSeed(99, shard(i, 2))));
    expect(m.properties.find((p) => p.name === 'tiny-model')?.counts.sequences).toBe(5);
    expect(m.sections.tiny).toEqual({ counts: { fixed: 2 }, max: { tightness: 0.5 } });
    expect(formatMerged(m)).toMatch(/^verify:deep: 2 of 2 shard\(s\) merged/);
    expect(formatMerged(m)).toMatch(
      /tiny-hosts\s+13\/13 runs {2}hosts 13, instances \d+; worst 0\.\d\d of ε/,
    );
    expect(formatMerged(m)).toMatch(/every property ran its whole count over the 2 shards; no failure$/);
  });

  it('a whole-run expectation the shards together miss is a problem', () => {
    const files = reportFiles([dir]);
    const reports = files.map((file) => ({ file, report: readShardReport(file) }));
    for (const { report } of reports) report.sections.tiny.properties['tiny-model'].above.sequences = 5;
    expect(mergeShardReports(reports).problems).toEqual([
      'tiny-model: sequences 5 over all shards, not above 5 (what an unsharded run must exceed)',
    ]);
  });

  it('a shard missing is named, and the totals called partial', () => {
    const file = join(dir, 'verify-shard-1-of-2.json');
    const m = mergeShardReports([{ file, report: readShardReport(file) }]);
    expect(m.missing).toEqual([0]);
    expect(formatMerged(m)).toMatch(/missing shards: 0 of 0\.\.1; the totals below are partial/);
  });

  it('a failure in a shard says which shard, its seed, and how to re-run it alone; the merge reports it', () => {
    records.clear();
    let message = '';
    try {
      checkProperty(
        'tiny-failing',
        fc.property(fc.nat(), (k) => k < 0),
        11,
        10,
        shard(1, 4),
      );
    } catch (e) {
      message = (e as Error).message;
    }
    const seed = shardSeed(11, shard(1, 4));
    expect(message).toContain(`tiny-failing fails in shard 1/4 of 10 runs (3 here), fast-check seed ${seed}`);
    expect(message).toMatch(
      /re-run: .*ISOSIM_VERIFY_SHARD=1\/4 pnpm vitest run test\/verifyShard\.test\.ts -t /,
    );
    expect(message).toContain(`seed: ${seed}, path:`); // fast-check's own report follows
    const out = join(tmp, 'failing');
    writeShardReport('tiny', undefined, out, shard(1, 4));
    const file = join(out, 'verify-shard-1-of-4.json');
    const m = mergeShardReports([{ file, report: readShardReport(file) }]);
    expect(m.problems).toEqual([expect.stringMatching(/^shard 1\/4: tiny-failing fails in shard 1\/4/)]);
  });
});

describe('the merge refuses shards of different runs', () => {
  const write = (name: string, edit: (r: ShardReport) => void, from = 'verify-shard-0-of-2.json') => {
    const r = JSON.parse(readFileSync(join(tmp, 'reports', from), 'utf8')) as ShardReport;
    edit(r);
    const d = join(tmp, `bad-${name}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'verify-shard-0-of-2.json'), readFileSync(join(tmp, 'reports', from)));
    const file = join(d, `verify-shard-${r.shard.index}-of-${r.shard.count}.json`);
    writeFileSync(file, JSON.stringify(r));
    return { d, file };
  };
  const refusal = (d: string) => {
    try {
      const files = reportFiles([d]);
      mergeShardReports(files.map((file) => ({ file, report: readShardReport(file) })));
    } catch (e) {
      expect(e).toBeInstanceOf(MergeError);
      return (e as Error).message;
    }
    return 'merged';
  };

  it('another shard count, ISOSIM_PROPERTY_RUNS or seed; a property with another total; a file that is no report', () => {
    let b = write('count', (r) => {
      r.shard = { index: 2, count: 3 };
    });
    expect(refusal(b.d)).toBe(
      `${b.file}: shard 2/3, but ${join(b.d, 'verify-shard-0-of-2.json')} is one of 2 shards; merge the shards of one run only (move the other run's reports out)`,
    );
    b = write('runs', (r) => {
      r.shard.index = 1;
      r.propertyRuns = '500';
    });
    expect(refusal(b.d)).toMatch(
      /verify-shard-1-of-2\.json: ISOSIM_PROPERTY_RUNS=500, but .*verify-shard-0-of-2\.json ran with .*; merge the shards of one run only/,
    );
    b = write('seed', (r) => {
      r.shard.index = 1;
      r.propertySeed = '5';
    });
    expect(refusal(b.d)).toMatch(/ISOSIM_PROPERTY_SEED=5, but .* ran with unset/);
    b = write('total', (r) => {
      r.shard.index = 1;
      r.sections.tiny.properties['tiny-hosts'].totalRuns = 14;
    });
    expect(refusal(b.d)).toMatch(
      /property tiny-hosts makes 14 runs in all, but 13 in .*; merge shards of one version/,
    );
    const d = join(tmp, 'bad-json');
    mkdirSync(d);
    writeFileSync(join(d, 'verify-shard-0-of-2.json'), '{ not json');
    expect(refusal(d)).toBe(
      `${join(d, 'verify-shard-0-of-2.json')}: not a shard report (not JSON); re-run that shard`,
    );
    writeFileSync(
      join(d, 'verify-shard-0-of-2.json'),
      readFileSync(join(tmp, 'reports', 'verify-shard-1-of-2.json')),
    );
    expect(refusal(d)).toMatch(/its name says shard 0\/2 but it holds shard 1\/2/);
    expect(refusal(join(tmp, 'nowhere'))).toMatch(/nowhere: no such file or directory/);
  });

  it('pnpm verify:merge: one line naming the file and the fix, exit status 2, no stack', () => {
    expect(JSON.parse(readFileSync('package.json', 'utf8')).scripts['verify:merge']).toBe(
      'tsx scripts/verify-merge.ts',
    );
    // node with the tsx loader vitest.config.ts puts in NODE_OPTIONS: what the script runs, quicker.
    const merge = (dir: string) =>
      spawnSync(process.execPath, ['scripts/verify-merge.ts', dir], { encoding: 'utf8' });
    const d = join(tmp, 'bad-count');
    const r = merge(d);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^verify:merge: .*verify-shard-2-of-3\.json: shard 2\/3, but /);
    const ok = merge(join(tmp, 'reports'));
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`wrote ${join(tmp, 'reports', 'verify-merged.json')}`);
    expect(JSON.parse(readFileSync(join(tmp, 'reports', 'verify-merged.json'), 'utf8')).count).toBe(2);
  });
});

describe('scripts/verify-deep-slurm.sh', () => {
  it('writes an array of N shards and a merge that waits for it (sbatch and pnpm played here)', () => {
    const out = join(tmp, 'slurm');
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    // sbatch: records its arguments and script, prints a job id; pnpm: records what it was run with.
    writeFileSync(
      join(bin, 'sbatch'),
      '#!/bin/bash\nn=$(ls "$LOG" | grep -c ^args-)\nprintf "%s\\n" "$@" > "$LOG/args-$n"\ncat > "$LOG/script-$n"\necho "$((4242 + n));cluster"\n',
    );
    writeFileSync(
      join(bin, 'pnpm'),
      '#!/bin/bash\necho "$ISOSIM_VERIFY_SHARD $ISOSIM_PROPERTY_RUNS $ISOSIM_VERIFY_REPORT_DIR $*" > "$LOG/../pnpm-ran"\n',
    );
    chmodSync(join(bin, 'sbatch'), 0o755);
    chmodSync(join(bin, 'pnpm'), 0o755);
    execFileSync('bash', ['scripts/verify-deep-slurm.sh', '4', out, '--runs', '16', '--cpus', '3'], {
      encoding: 'utf8',
    });
    const log = join(tmp, 'sbatch');
    mkdirSync(log);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, LOG: log };
    const said = execFileSync('bash', [join(out, 'submit.sh')], { env, encoding: 'utf8' });
    expect(said).toBe(
      `verify:deep: array job 4242 (4 shards, logs in ${out}/logs), merge job 4243 (${out}/logs/merge.log, ${out}/verify-merged.json)\n`,
    );
    const array = readFileSync(join(log, 'script-0'), 'utf8');
    expect(readFileSync(join(log, 'args-0'), 'utf8')).toBe('--parsable\n');
    expect(array).toContain('#SBATCH --array=0-3\n');
    expect(array).toContain('#SBATCH --cpus-per-task=3\n');
    expect(readFileSync(join(log, 'args-1'), 'utf8')).toBe('--parsable\n--dependency=afterok:4242\n');
    expect(readFileSync(join(log, 'script-1'), 'utf8')).toContain(`exec pnpm -s verify:merge ${out}\n`);
    // Task 2 of the array, as Slurm would start it.
    execFileSync('bash', [join(log, 'script-0')], {
      env: { ...env, SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_PER_TASK: '3' },
    });
    expect(readFileSync(join(tmp, 'pnpm-ran'), 'utf8')).toBe(`2/4 16 ${out} -s verify:deep --maxWorkers=3\n`);
    const bad = spawnSync('bash', ['scripts/verify-deep-slurm.sh', '4/4', out], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^verify-deep-slurm: N '4\/4' is not a shard count; give a whole number/);
  });
});
