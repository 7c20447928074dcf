/**
 * A sweep's results in one DuckDB file (`@duckdb/node-api`, in process): the
 * `ResultStore` the sweep runner writes to, one file per sweep or per shard of one.
 *
 * Two tables (docs/scale-out.md, "Results in DuckDB"):
 *
 * - `sweep_meta`, one row: the sweep's id and name, its parameter, metric and check
 *   paths (JSON lists), its total run count, the shard (index and count, NULL for a whole
 *   sweep), the column of each path (`columns`, JSON), and the isosim and DuckDB
 *   versions that created the file.
 * - `runs`, a row per run: `id` (primary key), `run_index`, `seed`, a column per swept
 *   parameter, a DOUBLE per recorded metric, a BOOLEAN per check, `wall_s`, `log_hash`,
 *   and `error_message`, `error_scenario` (the reproducer's scenario, JSON) and
 *   `error_seed`, all NULL for a run that did not fail.
 *
 * Durability: `put` writes its row in one transaction (BEGIN … COMMIT). DuckDB appends a
 * committed transaction to the write-ahead log (`FILE.wal`) and syncs it before the
 * commit returns; the log is folded into the file at a checkpoint (automatically once
 * it passes 16 MiB, and when the store closes). So a row is on disk once its `put`
 * resolves, and a process killed with `kill -9` mid-`put` loses at most that row: the
 * next open replays the log's committed transactions and drops an unfinished one.
 *
 * @module
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as Duck from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement, DuckDBType } from '@duckdb/node-api';
import { IsosimError } from '@isosim/core';
import { VERSIONS } from '../versions.ts';
import type { ParamValue, ResultStore, RunRecord, SweepMeta } from './types.ts';

/** `@duckdb/node-api`. */
type DuckModule = typeof Duck;
let duckModule: DuckModule | undefined;

/**
 * `@duckdb/node-api`, loaded on first use: importing this module (as every `isosim`
 * command imports `@isosim/scenarios`) does not load DuckDB's native library.
 */
async function duck(): Promise<DuckModule> {
  duckModule ??= await import('@duckdb/node-api');
  return duckModule;
}

/** The column that holds each parameter, metric and check path of a sweep, by path. */
export interface SweepColumns {
  readonly params: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, string>>;
  readonly checks: Readonly<Record<string, string>>;
}

/** A sweep's results file, open for writing. */
export interface DuckStore extends ResultStore {
  /** The file. */
  readonly path: string;
  /** The column of each parameter, metric and check path (also in `sweep_meta.columns`). */
  readonly columns: SweepColumns;
}

/** The columns of `runs` that every sweep has, besides its parameters, metrics and checks. */
export const FIXED_COLUMNS = [
  'id',
  'run_index',
  'seed',
  'wall_s',
  'log_hash',
  'error_message',
  'error_scenario',
  'error_seed',
] as const;

/**
 * A path as a column name: camelCase split with `_`, lower case, every run of other
 * characters than letters, digits and `_` as one `_` (`domains.Dom1.cpuPct` →
 * `domains_dom1_cpu_pct`); `c_` in front of one that would start with a digit.
 */
export function columnName(path: string): string {
  let s = path
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  if (s === '') s = 'c';
  if (/^[0-9]/.test(s)) s = `c_${s}`;
  return s;
}

/**
 * The column of every path of `meta`: parameters, then metrics, then checks, each named
 * by `columnName`, with `_2`, `_3`, … after a name already taken (by a fixed column or
 * an earlier path; DuckDB's names ignore case).
 */
export function sweepColumns(meta: Pick<SweepMeta, 'params' | 'metrics' | 'checks'>): SweepColumns {
  const taken = new Set<string>(FIXED_COLUMNS);
  const name = (path: string): string => {
    const base = columnName(path);
    let c = base;
    for (let k = 2; taken.has(c); k++) c = `${base}_${k}`;
    taken.add(c);
    return c;
  };
  const map = (paths: readonly string[]): Record<string, string> =>
    Object.fromEntries(paths.map((p) => [p, name(p)]));
  const params = map(meta.params);
  const metrics = map(meta.metrics);
  const checks = map(meta.checks);
  return { params, metrics, checks };
}

/** `name` quoted as a DuckDB identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `text` as a DuckDB string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** DuckDB's message without its source excerpt (`LINE 1: …` and the caret), on one line. */
export function duckMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^LINE \d+:/.test(l) && !/^\^$/.test(l))
    .join(' ');
}

/**
 * Opens the DuckDB database `path` (`readOnly`: must exist, and is not written), with
 * DuckDB's failures to open as `IsosimError`s naming the file: not a DuckDB database or
 * damaged, held by another process, a missing directory.
 */
export async function openDuck(path: string, readOnly: boolean): Promise<DuckDBInstance> {
  if (path === '') throw new IsosimError('sweep results', 'file', 'is empty', 'give a .duckdb file path');
  const st = statOrUndefined(path);
  if (st?.isDirectory()) {
    throw new IsosimError(
      path,
      'file',
      'is a directory, not a DuckDB file',
      'give the path of a .duckdb file',
    );
  }
  if (readOnly && st === undefined) {
    throw new IsosimError(
      path,
      'file',
      'does not exist',
      "give the .duckdb file a sweep wrote (its --out), e.g. 'isosim query out/sweep.duckdb --summary'",
    );
  }
  try {
    const { DuckDBInstance } = await duck();
    return await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
  } catch (err) {
    throw openError(path, err);
  }
}

function openError(path: string, err: unknown): IsosimError {
  const msg = duckMessage(err);
  if (/not a valid DuckDB database file|Corrupt database file|checksum|magic bytes/i.test(msg)) {
    return new IsosimError(
      path,
      'file',
      `is not a DuckDB database, or is damaged (${msg})`,
      'give a results file written by isosim sweep; delete a damaged one and re-run the sweep into it',
    );
  }
  const lock = /Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?\./.exec(msg);
  if (lock !== null || /Could not set lock/.test(msg)) {
    const who = lock?.[2] !== undefined ? `process ${lock[2]} (${lock[1]})` : 'another process';
    return new IsosimError(
      path,
      'file',
      `is open for writing by ${who}`,
      'wait for that sweep to finish (or stop it), or give another --out',
    );
  }
  return new IsosimError(path, 'file', `cannot open it as a DuckDB database: ${msg}`, 'check the path');
}

/** The one row of a file's `sweep_meta`, as stored. */
export interface StoredMeta extends SweepMeta {
  /** The column of every path. */
  readonly columns: SweepColumns;
  /** The isosim version that created the file. */
  readonly isosimVersion: string;
  /** The DuckDB library version that created the file. */
  readonly duckdbVersion: string;
}

/** `readMeta`, but a database without tables is an `IsosimError` too (its fix: `fix`). */
export async function requireMeta(
  c: DuckDBConnection,
  path: string,
  fix = 'give another file',
): Promise<StoredMeta> {
  const meta = await readMeta(c, path);
  if (meta === undefined)
    throw new IsosimError(path, 'file', "is an empty DuckDB database, not a sweep's results", fix);
  return meta;
}

/**
 * The `sweep_meta` row of the open database `c` at `path`: undefined when it has no
 * tables at all (a new file); an `IsosimError` when it has tables but no sweep_meta.
 */
export async function readMeta(c: DuckDBConnection, path: string): Promise<StoredMeta | undefined> {
  let tables: string[];
  try {
    const r = await c.runAndReadAll(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name",
    );
    tables = r.getRowsJS().map((row) => String(row[0]));
  } catch (err) {
    throw openError(path, err);
  }
  if (tables.length === 0) return undefined;
  if (!tables.includes('sweep_meta') || !tables.includes('runs')) {
    throw new IsosimError(
      path,
      'file',
      `is a DuckDB database but not a sweep's results (it has no ${tables.includes('runs') ? 'sweep_meta' : 'runs'} table)`,
      'give a results file written by isosim sweep, or another --out',
    );
  }
  let row: Record<string, unknown> | undefined;
  try {
    const r = await c.runAndReadAll('SELECT * FROM sweep_meta');
    row = r.getRowObjectsJS()[0] as Record<string, unknown> | undefined;
  } catch (err) {
    throw openError(path, err);
  }
  if (row === undefined) {
    throw new IsosimError(path, 'sweep_meta', 'is empty', 'delete the file and re-run the sweep into it');
  }
  const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;
  const shard =
    row.shard_index === null || row.shard_count === null
      ? undefined
      : { index: Number(row.shard_index), count: Number(row.shard_count) };
  return {
    sweepId: String(row.sweep_id),
    name: String(row.name),
    params: json<string[]>(row.params),
    metrics: json<string[]>(row.metrics),
    checks: json<string[]>(row.checks),
    totalRuns: Number(row.total_runs),
    ...(shard === undefined ? {} : { shard }),
    columns: json<SweepColumns>(row.columns),
    isosimVersion: String(row.isosim_version),
    duckdbVersion: String(row.duckdb_version),
  };
}

function shardText(shard: SweepMeta['shard']): string {
  return shard === undefined ? 'the whole' : `shard ${shard.index}/${shard.count}`;
}

/** The DuckDB type of the column for a parameter value. */
type ParamType = 'DOUBLE' | 'VARCHAR' | 'BOOLEAN';

function typeOfValue(v: ParamValue): ParamType {
  return typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : 'VARCHAR';
}

async function createTables(c: DuckDBConnection, meta: SweepMeta, columns: SweepColumns): Promise<void> {
  const { BIGINT, INTEGER, VARCHAR, version } = await duck();
  const shard = meta.shard;
  const defs = [
    'id VARCHAR PRIMARY KEY',
    'run_index INTEGER NOT NULL',
    'seed BIGINT NOT NULL',
    // A parameter column is DOUBLE until the first run says otherwise (see put).
    ...Object.values(columns.params).map((col) => `${ident(col)} DOUBLE`),
    ...Object.values(columns.metrics).map((col) => `${ident(col)} DOUBLE`),
    ...Object.values(columns.checks).map((col) => `${ident(col)} BOOLEAN`),
    'wall_s DOUBLE NOT NULL',
    'log_hash VARCHAR NOT NULL',
    'error_message VARCHAR',
    'error_scenario VARCHAR',
    'error_seed BIGINT',
  ];
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run(
      `CREATE TABLE sweep_meta (sweep_id VARCHAR NOT NULL, name VARCHAR NOT NULL, params VARCHAR NOT NULL,
        metrics VARCHAR NOT NULL, checks VARCHAR NOT NULL, total_runs BIGINT NOT NULL, shard_index INTEGER,
        shard_count INTEGER, columns VARCHAR NOT NULL, isosim_version VARCHAR NOT NULL,
        duckdb_version VARCHAR NOT NULL)`,
    );
    const insert = await c.prepare(
      'INSERT INTO sweep_meta VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
    );
    insert.bind(
      [
        meta.sweepId,
        meta.name,
        JSON.stringify(meta.params),
        JSON.stringify(meta.metrics),
        JSON.stringify(meta.checks),
        meta.totalRuns,
        shard?.index ?? null,
        shard?.count ?? null,
        JSON.stringify(columns),
        VERSIONS.isosim,
        version(),
      ],
      [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, BIGINT, INTEGER, INTEGER, VARCHAR, VARCHAR, VARCHAR],
    );
    await insert.run();
    await c.run(`CREATE TABLE runs (${defs.join(', ')})`);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK');
    throw err;
  }
  await c.run('CHECKPOINT');
}

/**
 * Opens (or creates) the results file `path` of the sweep `meta`. A new file gets the
 * two tables; an existing one must hold the same sweep (`sweepId`) and the same shard,
 * or this throws an `IsosimError` naming the file, the sweep it holds and the fix. A file
 * that is not a DuckDB database, or is damaged, or that another process has open, is an
 * `IsosimError` too.
 */
export async function openDuckStore(path: string, meta: SweepMeta): Promise<DuckStore> {
  // DuckDB's file lock keeps other processes out, not a second instance in this one.
  const key = fileKey(path);
  if (OPEN.has(key)) {
    throw new IsosimError(
      path,
      'file',
      'is already open for writing in this process',
      'close that store first',
    );
  }
  OPEN.add(key);
  let instance: DuckDBInstance;
  try {
    instance = await openDuck(path, false);
  } catch (err) {
    OPEN.delete(key);
    throw err;
  }
  let c: DuckDBConnection | undefined;
  try {
    c = await instance.connect();
    let stored = await readMeta(c, path);
    if (stored === undefined) {
      const columns = sweepColumns(meta);
      await createTables(c, meta, columns);
      stored = { ...meta, columns, isosimVersion: VERSIONS.isosim, duckdbVersion: (await duck()).version() };
    } else if (stored.sweepId !== meta.sweepId) {
      throw new IsosimError(
        path,
        'sweep',
        `the file holds the results of sweep '${stored.name}' (id ${stored.sweepId}), not of '${meta.name}' (id ${meta.sweepId})`,
        'give another --out, or delete the file to start this sweep afresh',
      );
    } else if (shardText(stored.shard) !== shardText(meta.shard)) {
      throw new IsosimError(
        path,
        'shard',
        `the file holds ${shardText(stored.shard)} of sweep '${stored.name}', not ${shardText(meta.shard)}`,
        'give each shard its own --out',
      );
    }
    const types = await paramTypes(c, stored.columns);
    return new Store(path, meta, stored.columns, instance, c, types, await duck(), () => OPEN.delete(key));
  } catch (err) {
    c?.closeSync();
    instance.closeSync();
    OPEN.delete(key);
    throw err;
  }
}

/** The results files this process has open for writing, by `fileKey`. */
const OPEN = new Set<string>();

/** A file's path as one string whatever it was called by: its real path, or its absolute one if not there yet. */
export function fileKey(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** Whether two paths name the same file (`fileKey`). */
export function sameFile(a: string, b: string): boolean {
  return fileKey(a) === fileKey(b);
}

/** The file's stat, or undefined if there is none. */
export function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

async function paramTypes(c: DuckDBConnection, columns: SweepColumns): Promise<Map<string, ParamType>> {
  const r = await c.runAndReadAll(
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'runs'",
  );
  const byColumn = new Map(r.getRowsJS().map(([name, type]) => [String(name), String(type) as ParamType]));
  return new Map(Object.values(columns.params).map((col) => [col, byColumn.get(col) ?? 'VARCHAR']));
}

/** A number as the text a VARCHAR parameter column holds: as JavaScript writes it. */
const NUMBER_AS_TEXT = (col: string): string =>
  `CASE WHEN ${col} = trunc(${col}) AND abs(${col}) < 1e15 THEN CAST(CAST(${col} AS BIGINT) AS VARCHAR) ELSE CAST(${col} AS VARCHAR) END`;

class Store implements DuckStore {
  /** The puts in order: each waits for the one before (one connection, one transaction at a time). */
  private queue: Promise<void> = Promise.resolve();
  private insert: DuckDBPreparedStatement | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    readonly meta: SweepMeta,
    readonly columns: SweepColumns,
    private readonly instance: DuckDBInstance,
    private readonly c: DuckDBConnection,
    /** The type of each parameter column now. */
    private readonly types: Map<string, ParamType>,
    private readonly d: DuckModule,
    private readonly release: () => void,
  ) {}

  async completedIds(): Promise<Set<string>> {
    await this.queue;
    this.open();
    const r = await this.c.runAndReadAll('SELECT id FROM runs WHERE error_message IS NULL');
    return new Set(r.getRowsJS().map((row) => String(row[0])));
  }

  put(r: RunRecord): Promise<void> {
    const p = this.queue.then(() => this.write(r));
    // A failed put fails its caller, not the puts after it.
    this.queue = p.catch(() => undefined);
    return p;
  }

  private open(): void {
    if (this.closed) throw new Error(`the results store ${this.path} is closed`);
  }

  private async write(r: RunRecord): Promise<void> {
    this.open();
    for (const key of Object.keys(r.params)) {
      if (!(key in this.columns.params)) {
        throw new Error(
          `run ${r.id}: parameter '${key}' is not one of the sweep's (${this.meta.params.join(', ')})`,
        );
      }
    }
    const { BIGINT, BOOLEAN, DOUBLE, INTEGER, VARCHAR } = this.d;
    const byType: Readonly<Record<ParamType, DuckDBType>> = { DOUBLE, VARCHAR, BOOLEAN };
    await this.c.run('BEGIN TRANSACTION');
    try {
      await this.fitParamColumns(r);
      const values: (string | number | boolean | null)[] = [r.id, r.index, r.seed];
      const types: DuckDBType[] = [VARCHAR, INTEGER, BIGINT];
      for (const [path, col] of Object.entries(this.columns.params)) {
        const type = this.types.get(col) ?? 'VARCHAR';
        const v = r.params[path];
        values.push(v === undefined ? null : type === 'VARCHAR' ? String(v) : v);
        types.push(byType[type]);
      }
      for (const path of Object.keys(this.columns.metrics)) {
        values.push(r.metrics[path] ?? null);
        types.push(DOUBLE);
      }
      for (const path of Object.keys(this.columns.checks)) {
        values.push(r.checks[path] ?? null);
        types.push(BOOLEAN);
      }
      values.push(
        r.wallS,
        r.logHash,
        r.error?.message ?? null,
        r.error?.scenario ?? null,
        r.error?.seed ?? null,
      );
      types.push(DOUBLE, VARCHAR, VARCHAR, VARCHAR, BIGINT);
      if (this.insert === undefined) {
        this.insert = await this.c.prepare(
          `INSERT OR REPLACE INTO runs VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
        );
      }
      this.insert.bind(values, types);
      await this.insert.run();
      await this.c.run('COMMIT');
    } catch (err) {
      await this.c.run('ROLLBACK').catch(() => undefined);
      // A column retyped in the rolled-back transaction has its old type again.
      const types = await paramTypes(this.c, this.columns).catch(() => undefined);
      if (types !== undefined) for (const [col, t] of types) this.types.set(col, t);
      this.insert = undefined;
      throw err;
    }
  }

  /**
   * Gives each parameter column the type of this run's value: a column still empty
   * takes the value's type (DOUBLE, VARCHAR or BOOLEAN); one that already holds values
   * of another type becomes VARCHAR (numbers written as JavaScript writes them).
   */
  private async fitParamColumns(r: RunRecord): Promise<void> {
    for (const [path, col] of Object.entries(this.columns.params)) {
      const v = r.params[path];
      const have = this.types.get(col) ?? 'VARCHAR';
      if (v === undefined || have === 'VARCHAR' || typeOfValue(v) === have) continue;
      const q = ident(col);
      const used = await this.c.runAndReadAll(`SELECT count(${q}) FROM runs WHERE id <> $1`, [r.id]);
      const empty = Number(used.getRowsJS()[0][0]) === 0;
      const want: ParamType = empty ? typeOfValue(v) : 'VARCHAR';
      const using = have === 'DOUBLE' && want === 'VARCHAR' ? ` USING ${NUMBER_AS_TEXT(q)}` : '';
      await this.c.run(`ALTER TABLE runs ALTER ${q} TYPE ${want}${using}`);
      this.types.set(col, want);
      this.insert = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    try {
      // Folds the write-ahead log into the file: a closed store is one file.
      await this.c.run('CHECKPOINT');
    } finally {
      this.c.closeSync();
      this.instance.closeSync();
      this.release();
    }
  }
}
