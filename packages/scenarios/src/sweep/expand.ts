/**
 * Loading a sweep file and expanding it into runs (docs/sweeps.md). `loadSweep` checks
 * the file against the schema and every parameter value against the base scenario (each
 * value set alone must give a valid scenario); `expandSweep` gives the runs, in a stable
 * order with stable ids, and the sweep's id, a hash of everything that decides results.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { IsosimError, Prng } from '@isosim/core';
import { BUILTIN_DIR, builtinNames, parseScenario, show } from '../load.ts';
import type { Scenario } from '../schema.ts';
import { isOwnValue, type Param, setUnstated, type UnstatedValue } from '../variants.ts';
import { getPath, PathError, parsePath, setPath } from './paths.ts';
import { SWEEP_LIMITS, type SweepCheck, type SweepFile, type SweepParam, SweepSchema } from './schema.ts';
import type { ParamValue, SweepMeta } from './types.ts';

/** A sweep file, checked, with its base scenario and every parameter's values. */
export interface LoadedSweep {
  /** The sweep file's path (or what stands for it), for messages. */
  readonly file: string;
  readonly def: SweepFile;
  /** The base scenario's JSON as the runs start from it (durationS overridden). */
  readonly base: Record<string, unknown>;
  /** Each parameter's path (for an unstated parameter, `unstated:<name>`) and values, in the file's order. */
  readonly params: readonly LoadedParam[];
  /** Which points run: every combination (`grid`) or one parameter at a time. */
  readonly design: 'grid' | 'one-at-a-time';
  /** The seeds every parameter point runs with. */
  readonly seeds: readonly number[];
  readonly metrics: readonly string[];
  readonly checks: readonly SweepCheck[];
}

/** A swept parameter, checked. */
export interface LoadedParam {
  /** The path it sets; for an unstated parameter of the base, `unstated:<name>` (its key in runs and results). */
  readonly path: string;
  readonly values: readonly ParamValue[];
  /** For an unstated parameter: the base's declaration of it (the fields it sets). */
  readonly unstated?: Param;
}

/** The key of the base's unstated parameter `name` in a sweep's runs and results. */
export const unstatedKey = (name: string): string => `unstated:${name}`;

/** One run of a sweep: a parameter point and a seed. */
export interface SweepRun {
  /** `p<point>-s<k>`: the point's index (4 digits at least) and the seed's (0 for the first). */
  readonly id: string;
  /** The run's place in the expansion order, from 0. */
  readonly index: number;
  /** The parameter point's index, from 0. */
  readonly point: number;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly seed: number;
}

/** What `expandSweep` gives: the sweep's id and its runs in order. */
export interface Expansion {
  readonly sweepId: string;
  readonly runs: readonly SweepRun[];
}

const fail = (file: string, field: string, problem: string, fix: string): never => {
  throw new IsosimError(file, field, problem, fix);
};

/** A number with at most 12 significant digits: `0.1 + 2 × 0.1` is 0.3. */
const decimal = (x: number): number => Number(x.toPrecision(12));

/** The values of a parameter's range: from + k × step, never accumulated. */
export function rangeValues(range: { from: number; to: number; step: number }): number[] {
  const n = Math.floor((range.to - range.from) / range.step + 1e-9) + 1;
  return Array.from({ length: n }, (_, k) => decimal(range.from + k * range.step));
}

/** A parameter's draws: a stream of the sweep's seed forked by the path, so other parameters do not move them. */
export function randomValues(
  seed: number,
  path: string,
  r: { min: number; max: number; count: number; int?: boolean | undefined },
): number[] {
  const prng = Prng.fromSeed(seed).fork(`sweep/${path}`);
  return Array.from({ length: r.count }, () =>
    r.int ? prng.int(r.min, r.max) : r.min + (r.max - r.min) * prng.float01(),
  );
}

function paramValues(
  file: string,
  p: SweepParam,
  i: number,
  seed: number,
  unstated?: { readonly values: readonly UnstatedValue[] },
): ParamValue[] {
  const field = `params[${i}]`;
  const given = [p.values, p.range, p.random].filter((x) => x !== undefined).length;
  if (unstated !== undefined && given === 0) return [...unstated.values];
  if (given !== 1)
    fail(
      file,
      field,
      given === 0 ? 'has no values' : 'has more than one of values, range and random',
      'give exactly one of values: [..], range: { from, to, step } or random: { min, max, count }',
    );
  if (p.values !== undefined) return p.values;
  if (p.range !== undefined) {
    const { from, to, step } = p.range;
    if (!(step > 0)) fail(file, `${field}.range.step`, `${step} is not above 0`, 'give a step above 0');
    if (from > to) fail(file, `${field}.range`, `from ${from} is after to ${to}`, 'give from <= to');
    const n = Math.floor((to - from) / step + 1e-9) + 1;
    if (n > SWEEP_LIMITS.values)
      fail(file, `${field}.range`, `gives ${n} values`, `give at most ${SWEEP_LIMITS.values}: a longer step`);
    return rangeValues(p.range);
  }
  const r = p.random!;
  if (r.min > r.max) fail(file, `${field}.random`, `min ${r.min} is above max ${r.max}`, 'give min <= max');
  if (r.int && (!Number.isSafeInteger(r.min) || !Number.isSafeInteger(r.max)))
    fail(file, `${field}.random`, 'min and max are not whole numbers', 'give whole numbers with int: true');
  return randomValues(seed, p.path ?? unstatedKey(p.unstated ?? ''), r);
}

/** The base scenario's JSON: a built-in by name, else a file relative to the sweep file. */
function readBase(file: string, base: string): { path: string; json: unknown } {
  const path = builtinNames().includes(base)
    ? join(BUILTIN_DIR, `${base}.json`)
    : isAbsolute(base)
      ? base
      : join(dirname(file), base);
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(
      file,
      'base',
      `cannot read ${show(base)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      `give a built-in name (${builtinNames().slice(0, 4).join(', ')}, …; isosim list) or a scenario file path relative to the sweep file`,
    );
  }
  try {
    return { path, json: JSON.parse(text) };
  } catch (err) {
    return fail(path, 'JSON', (err as Error).message, 'fix the JSON syntax of the base scenario');
  }
}

/** Where a scenario made by a sweep comes from, for `parseScenario`'s messages. */
const madeBy = (file: string, what: string): string => `${file} (${what})`;

/** The scenario of `base` with `params` set: checked, or an `IsosimError` naming the sweep's field. */
export function scenarioAt(
  sweep: Pick<LoadedSweep, 'file' | 'base'> & { readonly params?: readonly LoadedParam[] },
  params: Readonly<Record<string, ParamValue>>,
  seed: number | undefined,
  field: string,
): { json: Record<string, unknown>; scenario: Scenario } {
  let json = sweep.base;
  for (const [path, value] of Object.entries(params)) {
    const unstated = sweep.params?.find((p) => p.path === path)?.unstated;
    try {
      if (unstated === undefined) json = setPath(json, path, value);
      else if (typeof value === 'string')
        fail(
          sweep.file,
          field,
          `${path}: ${show(value)} is not a number or a switch`,
          'give numbers (or true and false) for an unstated parameter',
        );
      else json = setUnstated(json, unstated, value);
    } catch (err) {
      if (err instanceof PathError) fail(sweep.file, field, `${path}: ${err.problem}`, err.fix);
      if (err instanceof IsosimError && unstated !== undefined && err.where !== sweep.file)
        fail(sweep.file, field, `${path}: ${err.problem}`, err.fix);
      throw err;
    }
  }
  if (seed !== undefined) json = { ...json, seed };
  try {
    return { json, scenario: parseScenario(json, madeBy(sweep.file, field)) };
  } catch (err) {
    if (!(err instanceof IsosimError)) throw err;
    const set = Object.entries(params)
      .map(([p, v]) => `${p} = ${show(v)}`)
      .join(', ');
    return fail(
      sweep.file,
      field,
      `${set || 'the base scenario'} gives a bad scenario: ${err.field}: ${err.problem}`,
      err.fix,
    );
  }
}

const METRIC_ROOTS = [
  'seed',
  'durationS',
  'events',
  'logRecords',
  'domains',
  'charging',
  'memory',
  'windowS',
];

/** Why `check` cannot be recorded on `s` (undefined: it can). */
export function checkInapplicable(s: Scenario, check: SweepCheck): string | undefined {
  switch (check) {
    case 'shareguard':
      return s.mechanisms.shareGuard === undefined ? 'the scenario has no mechanisms.shareGuard' : undefined;
    case 'disk':
      return (s.disks ?? []).length === 0 ? 'the scenario has no disks' : undefined;
    case 'charging':
      return s.mechanisms.charging === undefined ? 'the scenario has no mechanisms.charging' : undefined;
    case 'memory':
      return s.memory === undefined ? 'the scenario has no memory block' : undefined;
    default:
      return undefined;
  }
}

/** Checks a sweep's JSON (read from `file`, for messages and the base's relative path). */
export function parseSweep(data: unknown, file: string): LoadedSweep {
  const r = SweepSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field =
      issue.path
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
        .join('')
        .replace(/^\./, '') || '(top level)';
    const fix =
      issue.code === 'unrecognized_keys'
        ? `remove it: a sweep has $schema, name, description, base, durationS, params, design, seeds, seed, record (docs/sweeps.md)`
        : issue.path.at(-1) === 'name'
          ? 'use 1–64 lower-case letters, digits and dashes, starting with a letter or digit'
          : issue.path[0] === 'record' && issue.path[1] === 'checks'
            ? 'give reservations, combined, shareguard, conservation, disk, charging or memory'
            : 'see docs/sweeps.md and docs/sweep.schema.json';
    const problem =
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => show(k)).join(', ')}`
        : issue.message;
    fail(file, field, problem, fix);
  }
  const def = r.data!;
  const { path: basePath, json: baseJson } = readBase(file, def.base);
  if (baseJson === null || typeof baseJson !== 'object' || Array.isArray(baseJson))
    fail(basePath, '(top level)', 'is not a JSON object', 'give a scenario file (docs/scenarios.md)');
  let base = { ...(baseJson as Record<string, unknown>) };
  if (def.durationS !== undefined) {
    base = { ...base, durationS: def.durationS };
    delete base.window;
  }
  const baseScenario = scenarioAt({ file, base }, {}, undefined, 'base');
  const seed = def.seed ?? baseScenario.scenario.seed;
  const seen = new Map<string, number>();
  const declared = baseScenario.scenario.unstated ?? [];
  const params = def.params.map((p, i): LoadedParam => {
    if ((p.path === undefined) === (p.unstated === undefined))
      fail(
        file,
        `params[${i}]`,
        p.path === undefined ? 'has neither path nor unstated' : 'has both path and unstated',
        'give a path into the scenario, or the name of one of its unstated parameters',
      );
    if (p.unstated !== undefined) {
      const u = declared.find((d) => d.name === p.unstated);
      if (u === undefined)
        return fail(
          file,
          `params[${i}].unstated`,
          `the base scenario has no unstated parameter ${show(p.unstated)}`,
          declared.length === 0
            ? 'give a base with an unstated field (isosim list), or a path instead'
            : `give one of ${declared.map((d) => d.name).join(', ')}`,
        );
      const key = unstatedKey(u.name);
      const first = seen.get(key);
      if (first !== undefined)
        fail(file, `params[${i}].unstated`, `${show(u.name)} is also params[${first}]'s`, 'sweep each once');
      seen.set(key, i);
      const unstated: Param = { name: u.name, path: u.path, ...(u.scale ? { scale: u.scale } : {}) };
      const values = paramValues(file, p, i, seed, u);
      const at = { file, base, params: [{ path: key, values, unstated }] };
      values.forEach((v, j) => {
        scenarioAt(at, { [key]: v }, undefined, `params[${i}].unstated (value ${show(v)}, #${j})`);
      });
      return { path: key, values, unstated };
    }
    const path = p.path!;
    try {
      parsePath(path);
    } catch (err) {
      if (err instanceof PathError) fail(file, `params[${i}].path`, `${show(path)}: ${err.problem}`, err.fix);
      throw err;
    }
    if (path === 'seed')
      fail(
        file,
        `params[${i}].path`,
        'sweeps the scenario seed, which every run sets',
        'give seeds (how many) and seed (the first) at the top of the sweep file instead',
      );
    const first = seen.get(path);
    if (first !== undefined)
      fail(file, `params[${i}].path`, `${show(path)} is also params[${first}]'s`, 'sweep each path once');
    seen.set(path, i);
    const values = paramValues(file, p, i, seed);
    const kind = p.values !== undefined ? 'values' : p.range !== undefined ? 'range' : 'random';
    values.forEach((v, j) => {
      const field =
        kind === 'values' ? `params[${i}].values[${j}]` : `params[${i}].${kind} (value ${show(v)})`;
      scenarioAt({ file, base }, { [path]: v }, undefined, field);
    });
    return { path, values };
  });
  const design = def.design ?? 'grid';
  const seedCount = def.seeds ?? 1;
  if (seed + seedCount - 1 > Number.MAX_SAFE_INTEGER)
    fail(
      file,
      'seeds',
      `seeds from ${seed} pass ${Number.MAX_SAFE_INTEGER}`,
      'give a smaller seed or fewer seeds',
    );
  const points =
    design === 'grid'
      ? params.reduce((n, p) => n * p.values.length, 1)
      : params.reduce((n, p) => n + p.values.length, 1);
  if (points * seedCount > SWEEP_LIMITS.runs)
    fail(
      file,
      'params',
      `give ${points} points × ${seedCount} seeds = ${points * seedCount} runs`,
      `give at most ${SWEEP_LIMITS.runs} runs: fewer values or seeds, or several sweeps`,
    );
  const metrics = def.record.metrics ?? [];
  const domains = new Set(baseScenario.scenario.domains.map((d) => d.name));
  metrics.forEach((m, i) => {
    let steps: ReturnType<typeof parsePath> = [];
    try {
      steps = parsePath(m);
    } catch (err) {
      if (err instanceof PathError) fail(file, `record.metrics[${i}]`, `${show(m)}: ${err.problem}`, err.fix);
      throw err;
    }
    const root = steps[0];
    if (root.kind !== 'key' || !METRIC_ROOTS.includes(root.key))
      fail(
        file,
        `record.metrics[${i}]`,
        `${show(m)} is not in metrics.json`,
        `start it with one of ${METRIC_ROOTS.join(', ')} (docs/metrics.md), e.g. domains.Dom-1.combinedPct`,
      );
    const d = steps[1];
    if (root.kind === 'key' && root.key === 'domains' && d?.kind === 'key' && !domains.has(d.key))
      fail(
        file,
        `record.metrics[${i}]`,
        `${show(m)}: the base scenario has no domain ${show(d.key)}`,
        `give one of ${[...domains].join(', ')}`,
      );
    if (steps.some((s) => s.kind === 'all'))
      fail(file, `record.metrics[${i}]`, `${show(m)} has a wildcard`, 'record one number per path');
  });
  const checks = def.record.checks ?? [];
  checks.forEach((c, i) => {
    const why = checkInapplicable(baseScenario.scenario, c);
    if (why !== undefined)
      fail(
        file,
        `record.checks[${i}]`,
        `${show(c)} does not apply: ${why}`,
        'remove it, or sweep a base it applies to',
      );
  });
  return {
    file,
    def,
    base,
    params,
    design,
    seeds: Array.from({ length: seedCount }, (_, k) => seed + k),
    metrics,
    checks,
  };
}

/** Reads and checks a sweep file. */
export function loadSweep(file: string): LoadedSweep {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(
      file,
      'sweep',
      `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'give the path of a sweep file (docs/sweeps.md)',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    fail(file, 'JSON', (err as Error).message, 'fix the JSON syntax');
  }
  return parseSweep(data, file);
}

/** JSON with every object's keys sorted: the same content, the same text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The hash of what decides a sweep's results: name, base scenario, values, seeds, what is recorded. */
export function sweepIdOf(sweep: LoadedSweep): string {
  // A grid sweep of paths hashes as it did before designs and unstated parameters were
  // added, so that its results files stay its own.
  const what = {
    v: 1,
    name: sweep.def.name,
    base: sweep.base,
    params: sweep.params.map((p) =>
      p.unstated === undefined ? { path: p.path, values: p.values } : { ...p, unstated: { ...p.unstated } },
    ),
    seeds: sweep.seeds,
    metrics: sweep.metrics,
    checks: sweep.checks,
    ...(sweep.design === 'grid' ? {} : { design: sweep.design }),
  };
  return createHash('sha256').update(canonicalJson(what)).digest('hex').slice(0, 16);
}

/** The parameter points of a sweep, in order: each the values it sets, by path. */
function pointsOf(s: LoadedSweep): Record<string, ParamValue>[] {
  if (s.design === 'one-at-a-time') {
    const base = scenarioAt(s, {}, undefined, 'base').scenario;
    const points: Record<string, ParamValue>[] = [{}];
    for (const p of s.params)
      for (const v of p.values) if (!isBaseValue(s, base, p, v)) points.push({ [p.path]: v });
    return points;
  }
  const count = s.params.reduce((n, p) => n * p.values.length, 1);
  return Array.from({ length: count }, (_, point) => {
    const params: Record<string, ParamValue> = {};
    let rest = point;
    for (let i = s.params.length - 1; i >= 0; i--) {
      const { path, values } = s.params[i];
      params[path] = values[rest % values.length];
      rest = Math.floor(rest / values.length);
    }
    return Object.fromEntries(s.params.map((p) => [p.path, params[p.path]]));
  });
}

/**
 * Whether `p` = `v` is what the base (`base`, checked) already has at every field it sets
 * (a point of a one-at-a-time sweep that would repeat the base's run).
 */
function isBaseValue(s: LoadedSweep, base: Scenario, p: LoadedParam, v: ParamValue): boolean {
  if (p.unstated !== undefined) return typeof v !== 'string' && isOwnValue(s.base, base, p.unstated.path, v);
  try {
    const own = getPath(s.base, p.path);
    return own.length > 0 && own.every((x) => x === v);
  } catch {
    return false;
  }
}

/**
 * The runs of a sweep, each point with every seed in turn; run `index` = point × seeds +
 * k, id `p<point>-s<k>`. The points of a `grid` sweep are every combination of the
 * parameters' values (the first parameter varies slowest, the last fastest, as nested
 * loops in the file's order); those of a `one-at-a-time` sweep are the base alone
 * (point 0, no parameter set), then each parameter in the file's order at each of its
 * values the base does not already have, the others left as the base has them.
 */
export function expandSweep(sweep: LoadedSweep | string): Expansion {
  const s = typeof sweep === 'string' ? loadSweep(sweep) : sweep;
  const points = pointsOf(s);
  const width = Math.max(4, String(points.length - 1).length);
  const runs: SweepRun[] = [];
  for (const [point, ordered] of points.entries()) {
    s.seeds.forEach((seed, k) => {
      runs.push({
        id: `p${String(point).padStart(width, '0')}-s${k}`,
        index: runs.length,
        point,
        params: ordered,
        seed,
      });
    });
  }
  return { sweepId: sweepIdOf(s), runs };
}

/** The `SweepMeta` of a sweep (or of one shard of it). */
export function sweepMeta(
  sweep: LoadedSweep,
  expansion: Expansion,
  shard?: { index: number; count: number },
): SweepMeta {
  return {
    sweepId: expansion.sweepId,
    name: sweep.def.name,
    params: sweep.params.map((p) => p.path),
    metrics: [...sweep.metrics],
    checks: [...sweep.checks],
    totalRuns: expansion.runs.length,
    ...(shard === undefined ? {} : { shard }),
  };
}

/** The value `path` reaches in a run's metrics: a number, or null with why not. */
export function metricAt(metrics: unknown, path: string): { value: number | null; problem?: string } {
  try {
    const [v] = getPath(metrics, path);
    if (typeof v === 'number') return { value: v };
    if (v === undefined || v === null) return { value: null, problem: 'has no value' };
    const what = Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
    return { value: null, problem: `is ${what}, not a number` };
  } catch (err) {
    if (err instanceof PathError) return { value: null, problem: `${err.problem} (${err.fix})` };
    throw err;
  }
}
