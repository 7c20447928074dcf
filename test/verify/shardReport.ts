/**
 * The shards' coverage reports and their merge (docs/verification.md, "Sharding the deep
 * run"). Each shard of `pnpm verify:deep` with `ISOSIM_VERIFY_REPORT_DIR=DIR` writes
 * `DIR/verify-shard-i-of-n.json` (shard.ts, `writeShardReport`): per test file
 * ("section"), per property, the seed and runs it used and its counts. {@link mergeShardReports}
 * sums them: runs and counts added, `max` figures maxed, the shards that are missing
 * named; it refuses shards of different runs. No vitest here: scripts/verify-merge.ts
 * runs it with tsx.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export const REPORT_FORMAT = 'isosim-verify-shard';

/** A property's record in a shard report (shard.ts, `PropertyRecord`). */
export interface PropertyReport {
  /** The test file, relative to the working directory. */
  file: string;
  /** The test (`-t` pattern to re-run it alone). */
  test: string;
  /** The property's seed in an unsharded run. */
  baseSeed: number;
  /** The fast-check seed the shard used. */
  seed: number;
  /** How many cases the shard ran (`numRuns`). */
  runs: number;
  /** How many an unsharded run makes (the shards' `runs` add up to it). */
  totalRuns: number;
  /** Counts summed over the shards by the merge (hosts, instances, decisions, …). */
  counts: Record<string, number>;
  /** Figures maxed over the shards (how close a bound came: `worst`). */
  max: Record<string, number>;
  /**
   * Counts the merged run must exceed (what an unsharded run expects of itself: corners
   * reached, instances checked; checked by the merge once every shard is in).
   */
  above: Record<string, number>;
  /** What `worst` is a fraction of. */
  unit?: string;
  /** The failure, first line, with the seed and how to re-run it. */
  failed?: string;
}

/** One test file's part of a shard report. */
export interface SectionReport {
  properties: Record<string, PropertyReport>;
  /** Counts summed over the shards that belong to no one property. */
  counts: Record<string, number>;
  /** Figures maxed over the shards (a fixed example's, the same in every shard). */
  max: Record<string, number>;
}

/** `DIR/verify-shard-i-of-n.json`. */
export interface ShardReport {
  format: typeof REPORT_FORMAT;
  version: 1;
  shard: { index: number; count: number };
  /** `ISOSIM_PROPERTY_RUNS` as the shard saw it (`null`: unset). */
  propertyRuns: string | null;
  /** `ISOSIM_PROPERTY_SEED` as the shard saw it (`null`: unset). */
  propertySeed: string | null;
  sections: Record<string, SectionReport>;
}

/** The file name of shard i of n's report. */
export const shardReportName = (shard: { index: number; count: number }): string =>
  `verify-shard-${shard.index}-of-${shard.count}.json`;

const NAME = /^verify-shard-(\d+)-of-(\d+)\.json$/;

/** A refused input: one line naming the file and the fix. */
export class MergeError extends Error {
  override readonly name = 'MergeError';
}

/** A property summed over the shards. */
export interface MergedProperty {
  section: string;
  name: string;
  file: string;
  test: string;
  runs: number;
  totalRuns: number;
  /** Each merged shard's seed, by shard index. */
  seeds: Record<number, number>;
  counts: Record<string, number>;
  max: Record<string, number>;
  /** Counts the merged run must exceed (what an unsharded run expects of itself). */
  above: Record<string, number>;
  unit?: string;
  /** Failures, each with its shard. */
  failed: string[];
}

export interface Merged {
  count: number;
  propertyRuns: string | null;
  propertySeed: string | null;
  /** The shard indices merged, ascending. */
  shards: number[];
  /** The shard indices of 0..n−1 with no report. */
  missing: number[];
  properties: MergedProperty[];
  /** Per section, its counts summed and its figures maxed. */
  sections: Record<string, { counts: Record<string, number>; max: Record<string, number> }>;
  /** What is wrong with the merged run: failures, sections a shard lacks, runs that do not add up, corners not reached. */
  problems: string[];
}

/**
 * The report files to merge: every `verify-shard-i-of-n.json` in a directory given, and
 * files given by name. A path that does not exist, or a directory with no report, is a
 * {@link MergeError}.
 */
export function reportFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p))
      throw new MergeError(
        `${p}: no such file or directory; give the ISOSIM_VERIFY_REPORT_DIR of the shards`,
      );
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p)
        .filter((f) => NAME.test(f))
        .sort((a, b) => Number(NAME.exec(a)?.[1]) - Number(NAME.exec(b)?.[1]));
      if (found.length === 0)
        throw new MergeError(
          `${p}: no verify-shard-i-of-n.json in it; run the shards with ISOSIM_VERIFY_REPORT_DIR=${p} pnpm verify:deep`,
        );
      files.push(...found.map((f) => join(p, f)));
    } else files.push(p);
  }
  return files;
}

/** Reads and checks one shard report; anything else is a {@link MergeError} naming the file. */
export function readShardReport(file: string): ShardReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new MergeError(
      `${file}: not a shard report (${e instanceof SyntaxError ? 'not JSON' : (e as Error).message}); re-run that shard`,
    );
  }
  const r = data as Partial<ShardReport>;
  const shard = r?.shard;
  if (
    r?.format !== REPORT_FORMAT ||
    typeof shard !== 'object' ||
    !Number.isSafeInteger(shard.index) ||
    !Number.isSafeInteger(shard.count) ||
    shard.count < 1 ||
    shard.index < 0 ||
    shard.index >= shard.count ||
    typeof r.sections !== 'object' ||
    r.sections === null
  )
    throw new MergeError(
      `${file}: not a shard report of pnpm verify:deep (format ${REPORT_FORMAT}); give only verify-shard-i-of-n.json files`,
    );
  const m = NAME.exec(basename(file));
  if (m !== null && (Number(m[1]) !== shard.index || Number(m[2]) !== shard.count))
    throw new MergeError(
      `${file}: its name says shard ${m[1]}/${m[2]} but it holds shard ${shard.index}/${shard.count}; give the files as the shards wrote them`,
    );
  return r as ShardReport;
}

const show = (v: string | null) => (v === null ? 'unset' : v);

/**
 * Sums shard reports (as {@link readShardReport} read them, with their file names).
 * Refused with a {@link MergeError} naming the file and the fix: shards of different
 * counts, `ISOSIM_PROPERTY_RUNS` or `ISOSIM_PROPERTY_SEED`, two reports of one shard, a
 * property whose unsharded runs differ between shards (shards of different code). Shards
 * missing from 0..n−1 are listed, not refused (a merge of what has finished).
 */
export function mergeShardReports(reports: readonly { file: string; report: ShardReport }[]): Merged {
  if (reports.length === 0)
    throw new MergeError('no shard reports given; give DIR or DIR/verify-shard-*.json');
  const [first] = reports;
  const { count } = first.report.shard;
  const byIndex = new Map<number, string>();
  for (const { file, report } of reports) {
    if (report.shard.count !== count)
      throw new MergeError(
        `${file}: shard ${report.shard.index}/${report.shard.count}, but ${first.file} is one of ${count} shards; merge the shards of one run only (move the other run's reports out)`,
      );
    if (report.propertyRuns !== first.report.propertyRuns)
      throw new MergeError(
        `${file}: ISOSIM_PROPERTY_RUNS=${show(report.propertyRuns)}, but ${first.file} ran with ${show(first.report.propertyRuns)}; merge the shards of one run only (re-run the odd shard with the same ISOSIM_PROPERTY_RUNS)`,
      );
    if (report.propertySeed !== first.report.propertySeed)
      throw new MergeError(
        `${file}: ISOSIM_PROPERTY_SEED=${show(report.propertySeed)}, but ${first.file} ran with ${show(first.report.propertySeed)}; merge the shards of one run only (re-run the odd shard with the same ISOSIM_PROPERTY_SEED)`,
      );
    const other = byIndex.get(report.shard.index);
    if (other !== undefined)
      throw new MergeError(
        `${file}: shard ${report.shard.index}/${count} again (also in ${other}); give each shard's report once`,
      );
    byIndex.set(report.shard.index, file);
  }
  const shards = [...byIndex.keys()].sort((a, b) => a - b);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  const props = new Map<string, MergedProperty & { fileOfTotal: string }>();
  const sections: Merged['sections'] = {};
  const problems: string[] = [];
  const add = (to: Record<string, number>, from: Record<string, number> | undefined) => {
    for (const [k, v] of Object.entries(from ?? {})) to[k] = (to[k] ?? 0) + v;
  };
  const max = (to: Record<string, number>, from: Record<string, number> | undefined) => {
    for (const [k, v] of Object.entries(from ?? {})) to[k] = k in to ? Math.max(to[k], v) : v;
  };
  const allSections = new Set(reports.flatMap(({ report }) => Object.keys(report.sections)));
  for (const { file, report } of [...reports].sort((a, b) => a.report.shard.index - b.report.shard.index)) {
    const i = report.shard.index;
    for (const s of allSections)
      if (!(s in report.sections))
        problems.push(
          `shard ${i}/${count} (${file}) has no report from ${s} (did it crash? see that shard's log, and re-run it)`,
        );
    for (const [s, sec] of Object.entries(report.sections)) {
      sections[s] ??= { counts: {}, max: {} };
      const into = sections[s];
      add(into.counts, sec.counts);
      max(into.max, sec.max);
      for (const [name, p] of Object.entries(sec.properties ?? {})) {
        const key = `${s}\u0000${name}`;
        let m = props.get(key);
        if (m === undefined) {
          m = {
            section: s,
            name,
            file: p.file,
            test: p.test,
            runs: 0,
            totalRuns: p.totalRuns,
            seeds: {},
            counts: {},
            max: {},
            above: {},
            unit: p.unit,
            failed: [],
            fileOfTotal: file,
          };
          props.set(key, m);
        } else if (m.totalRuns !== p.totalRuns)
          throw new MergeError(
            `${file}: property ${name} makes ${p.totalRuns} runs in all, but ${m.totalRuns} in ${m.fileOfTotal}; merge shards of one version of the suite (re-run the odd shard)`,
          );
        m.runs += p.runs;
        m.seeds[i] = p.seed;
        add(m.counts, p.counts);
        max(m.max, p.max);
        max(m.above, p.above);
        if (p.failed) m.failed.push(count > 1 ? `shard ${i}/${count}: ${p.failed}` : p.failed);
      }
    }
  }
  const properties = [...props.values()].map(({ fileOfTotal: _f, ...p }) => p);
  for (const p of properties) {
    for (const f of p.failed) problems.push(f);
    if (missing.length > 0) continue;
    if (p.runs !== p.totalRuns)
      problems.push(`${p.name}: the shards ran ${p.runs} cases, not the ${p.totalRuns} of an unsharded run`);
    for (const [k, floor] of Object.entries(p.above))
      if (!((p.counts[k] ?? 0) > floor))
        problems.push(
          `${p.name}: ${k} ${p.counts[k] ?? 0} over all shards, not above ${floor} (what an unsharded run must exceed)`,
        );
  }
  return {
    count,
    propertyRuns: first.report.propertyRuns,
    propertySeed: first.report.propertySeed,
    shards,
    missing,
    properties,
    sections,
    problems,
  };
}

/** `12345678` as `12,345,678`. */
const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2));

/** The merged report as text: a line per property, the sections' counts, what is missing or wrong. */
export function formatMerged(m: Merged): string {
  const lines: string[] = [];
  const runs = m.propertyRuns === null ? 'default' : m.propertyRuns;
  lines.push(
    `verify:deep: ${m.shards.length} of ${m.count} shard(s) merged (ISOSIM_PROPERTY_RUNS=${runs}${m.propertySeed === null ? '' : `, ISOSIM_PROPERTY_SEED=${m.propertySeed}`})`,
  );
  if (m.missing.length > 0)
    lines.push(`missing shards: ${m.missing.join(', ')} of 0..${m.count - 1}; the totals below are partial`);
  const sectionNames = [
    ...new Set([...m.properties.map((p) => p.section), ...Object.keys(m.sections)]),
  ].sort();
  for (const s of sectionNames) {
    lines.push('', s);
    const props = m.properties.filter((p) => p.section === s);
    const width = Math.max(0, ...props.map((p) => p.name.length));
    const ran = (p: MergedProperty) => `${p.runs}/${p.totalRuns}`;
    const runsWidth = Math.max(0, ...props.map((p) => ran(p).length));
    for (const p of props) {
      const counts = Object.entries(p.counts).map(([k, v]) => `${k} ${num(v)}`);
      const worst = Object.entries(p.max)
        .filter(([, v]) => Number.isFinite(v))
        .map(([k, v]) => `${k} ${v.toFixed(2)}${k === 'worst' ? ` of ${p.unit ?? 'ε'}` : ''}`);
      const status = p.failed.length > 0 ? '  FAILED' : '';
      lines.push(
        `  ${p.name.padEnd(width)}  ${ran(p).padStart(runsWidth)} runs${counts.length ? `  ${counts.join(', ')}` : ''}${worst.length ? `; ${worst.join(', ')}` : ''}${status}`,
      );
    }
    const sec = m.sections[s];
    const extra = [
      ...Object.entries(sec?.counts ?? {}).map(([k, v]) => `${k} ${num(v)}`),
      ...Object.entries(sec?.max ?? {})
        .filter(([, v]) => Number.isFinite(v))
        .map(([k, v]) => `${k} ${v.toFixed(2)}`),
    ];
    if (extra.length > 0) lines.push(`  (${extra.join(', ')})`);
  }
  if (m.problems.length > 0) lines.push('', ...m.problems.map((p) => `problem: ${p}`));
  else if (m.missing.length === 0)
    lines.push(
      '',
      `every property ran its whole count${m.count > 1 ? ` over the ${m.count} shards` : ''}; no failure`,
    );
  return lines.join('\n');
}
