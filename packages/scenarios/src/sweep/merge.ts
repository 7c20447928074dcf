/**
 * Merging the results files of a sharded sweep (docs/scale-out.md, "Merging"): each task
 * of an array job runs one shard (`--shard i/n`, shard.ts) into its own DuckDB file;
 * `mergeShards` combines them into one file of the whole sweep, the same table a local
 * run of the sweep writes.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { IsosimError } from '@isosim/core';
import {
  duckMessage,
  ident,
  literal,
  openDuck,
  openDuckStore,
  requireMeta,
  type StoredMeta,
  type SweepColumns,
  sameFile,
  statOrUndefined,
} from './duckStore.ts';
import type { SweepMeta } from './types.ts';

/** What `mergeShards` did. */
export interface MergeResult {
  /** The merged file. */
  readonly out: string;
  /** The sweep's id (every shard's, and the merged file's). */
  readonly sweepId: string;
  /** The sweep's name. */
  readonly name: string;
  /** How many shards the sweep was cut into (the `n` of `--shard i/n`). */
  readonly count: number;
  /** The rows (runs) in the merged file. */
  readonly rows: number;
  /** Of those, the failed runs (with an `error_message`). */
  readonly failed: number;
  /** How many of the `count` shards the merged file now holds: given now, or merged into it before. */
  readonly shards: number;
  /** Their indices, in order. */
  readonly merged: readonly number[];
  /** The indices from 0 to `count - 1` of the shards not merged (yet), in order: empty when the merge is complete. */
  readonly missing: readonly number[];
}

/** The DuckDB type of a parameter column. */
type ParamType = 'DOUBLE' | 'VARCHAR' | 'BOOLEAN';

/** A results file taking part in a merge, as read. */
interface Source {
  readonly path: string;
  readonly meta: StoredMeta;
  /** The type of each parameter column that holds a value, by column (an empty column is left out). */
  readonly types: ReadonlyMap<string, ParamType>;
  /** The shards merged into it before (a merged file), by index, with their row counts. */
  readonly merged: ReadonlyMap<number, { count: number; runs: number }>;
}

/** The table of a merged file that lists the shards merged into it. */
const MERGED_TABLE = 'merged_shards';

const FIX_SHARDS = 'give the files the shards wrote (isosim sweep FILE --shard i/n --out DIR/shard-i)';

/**
 * Merges the results files of the shards of one sweep (`shardFiles`, written by
 * `isosim sweep FILE --shard i/n`) into the results file `out` of the whole sweep: the
 * same tables a local run of the sweep writes (`sweep_meta` without a shard, the same
 * sweep id; `runs`, a row per run), plus a table `merged_shards` (`shard_index`,
 * `shard_count`, `runs`: a row per shard merged in). A parameter column takes the type
 * its values have in the shards (text if they differ, numbers written as JavaScript
 * writes them), as one file written by one process would.
 *
 * Partial merges: shards missing from 0..n-1 are not an error, so that what has finished
 * can be looked at; `missing` lists them. Merging into an `out` that already holds a
 * merge of the same sweep keeps its rows and shards and adds (or replaces, by run id) the
 * given ones, so the shards can be merged as they finish; merging the same files again
 * gives the same table row for row (idempotent), and a shard resumed since its last merge
 * replaces its rows.
 *
 * Crash safety: the merge is written to a temporary file beside `out`, checkpointed, and
 * renamed over `out` only when whole, so a crash leaves `out` as it was (and perhaps a
 * `.<out>.merge-*.tmp` file to delete).
 *
 * Refused with an `IsosimError` naming the file and the fix, before anything is written:
 * no shard files; a file that does not exist, is not a DuckDB database or not a sweep's
 * results, or holds a whole sweep rather than a shard; shards of different sweeps (their
 * sweep ids differ), of different shard counts, or of a different column layout; two
 * files claiming the same shard index (the same file given twice among them); a shard
 * holding runs of another shard; an `out` that is one of the shard files, holds another
 * sweep, a shard, or a merge of another shard count; a file open for writing by another
 * process.
 *
 * @param out The merged results file, e.g. `out/sweep/<name>.duckdb`; its directory is created.
 * @param shardFiles The shards' results files, in any order.
 */
export async function mergeShards(out: string, shardFiles: readonly string[]): Promise<MergeResult> {
  if (shardFiles.length === 0) {
    throw new IsosimError('sweep merge', 'shard files', 'none given', FIX_SHARDS);
  }
  if (out === '')
    throw new IsosimError('sweep merge', 'out', 'is empty', 'give the merged .duckdb file path');

  // Read and check every shard before writing anything.
  const shards: Source[] = [];
  const byIndex = new Map<number, Source>();
  for (const path of shardFiles) {
    if (statOrUndefined(path) === undefined) {
      throw new IsosimError(path, 'file', 'does not exist', FIX_SHARDS);
    }
    const s = await inspect(path, 'shard');
    const shard = s.meta.shard;
    if (shard === undefined) {
      throw new IsosimError(
        path,
        'shard',
        `holds the whole of sweep '${s.meta.name}', not a shard of it`,
        `${FIX_SHARDS}; a whole sweep's file needs no merge`,
      );
    }
    const first = shards[0];
    if (first !== undefined) {
      const f = first.meta;
      if (s.meta.sweepId !== f.sweepId) {
        throw new IsosimError(
          path,
          'sweep',
          `holds a shard of sweep '${s.meta.name}' (id ${s.meta.sweepId}), but ${first.path} one of '${f.name}' (id ${f.sweepId})`,
          'merge the shards of one sweep at a time (the shards of a changed sweep file are another sweep: re-run them)',
        );
      }
      if (shard.count !== f.shard?.count) {
        throw new IsosimError(
          path,
          'shard',
          `is shard ${shard.index}/${shard.count}, but ${first.path} is one of ${f.shard?.count} shards`,
          'merge the shards of one --shard i/n split: every file with the same n',
        );
      }
      if (JSON.stringify(s.meta.columns) !== JSON.stringify(f.columns)) {
        throw new IsosimError(
          path,
          'columns',
          `its runs table's columns differ from those of ${first.path} (written by isosim ${s.meta.isosimVersion} and ${f.isosimVersion})`,
          're-run the shards with one isosim version',
        );
      }
    }
    const twin = byIndex.get(shard.index);
    if (twin !== undefined) {
      const same = sameFile(twin.path, path);
      throw new IsosimError(
        path,
        'shard',
        same
          ? `is given twice (shard ${shard.index}/${shard.count})`
          : `claims shard ${shard.index}/${shard.count}, as ${twin.path} does`,
        same
          ? 'give each shard file once'
          : 'give one file per shard; check which of the two is the real one',
      );
    }
    byIndex.set(shard.index, s);
    shards.push(s);
  }
  const first = shards[0];
  const count = first.meta.shard?.count ?? 1;

  // The merged file as it is, if there is one.
  for (const s of shards) {
    if (sameFile(s.path, out)) {
      throw new IsosimError(
        out,
        'out',
        'is one of the shard files',
        'give another path for the merged file, e.g. DIR/<name>.duckdb',
      );
    }
  }
  const outStat = statOrUndefined(out);
  if (outStat?.isDirectory()) {
    throw new IsosimError(
      out,
      'out',
      'is a directory',
      `give a file path, e.g. ${join(out, `${first.meta.name}.duckdb`)}`,
    );
  }
  let existing: Source | undefined;
  if (outStat !== undefined) {
    await checkpoint(out);
    existing = await inspect(out, 'out');
    const m = existing.meta;
    if (m.sweepId !== first.meta.sweepId) {
      throw new IsosimError(
        out,
        'sweep',
        `holds the results of sweep '${m.name}' (id ${m.sweepId}), not of '${first.meta.name}' (id ${first.meta.sweepId})`,
        'give another path for the merged file, or delete it',
      );
    }
    if (m.shard !== undefined) {
      throw new IsosimError(
        out,
        'shard',
        `holds shard ${m.shard.index}/${m.shard.count} of sweep '${m.name}', not a merge`,
        'give another path for the merged file (not a shard file)',
      );
    }
    const other = [...existing.merged.values()].find((x) => x.count !== count);
    if (other !== undefined) {
      throw new IsosimError(
        out,
        'shard',
        `holds a merge of ${other.count} shards, not of ${count}`,
        'give another path for the merged file, or delete it to merge these shards afresh',
      );
    }
    if (JSON.stringify(m.columns) !== JSON.stringify(first.meta.columns)) {
      throw new IsosimError(
        out,
        'columns',
        `its runs table's columns differ from those of ${first.path}`,
        'give another path for the merged file, or delete it',
      );
    }
  }

  // Each parameter column's type: that of its values everywhere, text if they differ.
  const columns = first.meta.columns;
  const sources = existing === undefined ? shards : [existing, ...shards];
  const target = new Map<string, ParamType>();
  for (const col of Object.values(columns.params)) {
    const seen = new Set(sources.map((s) => s.types.get(col)).filter((t) => t !== undefined));
    target.set(col, seen.size === 0 ? 'DOUBLE' : seen.size === 1 ? [...seen][0] : 'VARCHAR');
  }

  const outDir = dirname(resolve(out));
  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `.${basename(out)}.merge-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const meta: SweepMeta = {
    sweepId: first.meta.sweepId,
    name: first.meta.name,
    params: first.meta.params,
    metrics: first.meta.metrics,
    checks: first.meta.checks,
    totalRuns: first.meta.totalRuns,
  };
  try {
    // The tables as openDuckStore makes them, then the rows.
    await (await openDuckStore(tmp, meta)).close();
    const instance = await openDuck(tmp, false);
    const c = await instance.connect();
    let result: Omit<MergeResult, 'out' | 'sweepId' | 'name' | 'count'>;
    try {
      result = await fill(c, columns, target, count, existing, shards);
      await c.run('CHECKPOINT');
    } finally {
      c.closeSync();
      instance.closeSync();
    }
    rmSync(`${tmp}.wal`, { force: true });
    // A stale log beside `out` would be replayed into the new file.
    rmSync(`${out}.wal`, { force: true });
    renameSync(tmp, out);
    syncDir(outDir);
    return { out, sweepId: meta.sweepId, name: meta.name, count, ...result };
  } catch (err) {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.wal`, { force: true });
    if (err instanceof IsosimError) throw err;
    throw new IsosimError(out, 'merge', `failed: ${duckMessage(err)}`, 'check the shard files and the disk');
  }
}

/** Copies the rows of `existing` (if any), then those of every shard, into the new file on `c`. */
async function fill(
  c: DuckDBConnection,
  columns: SweepColumns,
  target: ReadonlyMap<string, ParamType>,
  count: number,
  existing: Source | undefined,
  shards: readonly Source[],
): Promise<Omit<MergeResult, 'out' | 'sweepId' | 'name' | 'count'>> {
  for (const [col, type] of target) {
    if (type !== 'DOUBLE') await c.run(`ALTER TABLE runs ALTER ${ident(col)} TYPE ${type}`);
  }
  await c.run(
    `CREATE TABLE ${MERGED_TABLE} (shard_index INTEGER PRIMARY KEY, shard_count INTEGER NOT NULL, runs BIGINT NOT NULL)`,
  );
  const names = [
    'id',
    'run_index',
    'seed',
    ...Object.values(columns.params),
    ...Object.values(columns.metrics),
    ...Object.values(columns.checks),
    'wall_s',
    'log_hash',
    'error_message',
    'error_scenario',
    'error_seed',
  ];
  const copy = async (s: Source, alias: string): Promise<void> => {
    const exprs = names.map((col) => {
      const to = target.get(col);
      const from = s.types.get(col);
      const q = `${alias}.runs.${ident(col)}`;
      if (to === undefined || from === to) return q;
      if (from === 'DOUBLE' && to === 'VARCHAR') return numberAsText(q);
      return `CAST(${q} AS ${to})`;
    });
    await c.run(
      `INSERT OR REPLACE INTO runs (${names.map(ident).join(', ')}) SELECT ${exprs.join(', ')} FROM ${alias}.runs ORDER BY run_index, id`,
    );
  };
  // Every file is attached before the transaction (DuckDB detaches none inside one).
  const ordered = [...shards].sort((a, b) => (a.meta.shard?.index ?? 0) - (b.meta.shard?.index ?? 0));
  const attached: string[] = [];
  const attach = async (s: Source, alias: string): Promise<void> => {
    try {
      await c.run(`ATTACH ${literal(resolve(s.path))} AS ${alias} (READ_ONLY)`);
    } catch (err) {
      throw new IsosimError(s.path, 'file', `cannot read it: ${duckMessage(err)}`, 'check the file');
    }
    attached.push(alias);
  };
  try {
    if (existing !== undefined) await attach(existing, 'merged_before');
    for (const [k, s] of ordered.entries()) {
      await attach(s, `shard_${k}`);
      const index = s.meta.shard?.index ?? 0;
      const stray = await c.runAndReadAll(
        `SELECT count(*), min(id) FROM shard_${k}.runs WHERE run_index % ${count} <> ${index}`,
      );
      const [n, id] = stray.getRowsJS()[0];
      if (Number(n) > 0) {
        throw new IsosimError(
          s.path,
          'runs',
          `shard ${index}/${count} holds ${Number(n)} run(s) of other shards (e.g. ${String(id)}): run k belongs to shard k mod ${count}`,
          'delete the file and re-run the shard into an empty --out',
        );
      }
    }
    await c.run('BEGIN TRANSACTION');
    try {
      if (existing !== undefined) {
        await copy(existing, 'merged_before');
        if (existing.merged.size > 0) {
          await c.run(`INSERT INTO ${MERGED_TABLE} SELECT * FROM merged_before.${MERGED_TABLE}`);
        }
      }
      for (const [k, s] of ordered.entries()) {
        await copy(s, `shard_${k}`);
        const rows = await c.runAndReadAll(`SELECT count(*) FROM shard_${k}.runs`);
        await c.run(
          `INSERT OR REPLACE INTO ${MERGED_TABLE} VALUES (${s.meta.shard?.index ?? 0}, ${count}, ${Number(rows.getRowsJS()[0][0])})`,
        );
      }
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    for (const alias of attached) await c.run(`DETACH ${alias}`).catch(() => undefined);
  }
  const totals = await c.runAndReadAll('SELECT count(*), count(error_message) FROM runs');
  const [rows, failed] = totals.getRowsJS()[0].map(Number);
  const idx = await c.runAndReadAll(`SELECT shard_index FROM ${MERGED_TABLE} ORDER BY shard_index`);
  const merged = idx.getRowsJS().map((r) => Number(r[0]));
  const have = new Set(merged);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !have.has(i));
  return { rows, failed, shards: merged.length, merged, missing };
}

/** A DOUBLE column as the text a VARCHAR parameter column holds: as JavaScript writes the number (as duckStore.ts does). */
function numberAsText(col: string): string {
  return `CASE WHEN ${col} = trunc(${col}) AND abs(${col}) < 1e15 THEN CAST(CAST(${col} AS BIGINT) AS VARCHAR) ELSE CAST(${col} AS VARCHAR) END`;
}

/** Reads the sweep_meta, the parameter columns' types and the merged shards of the results file `path`. */
async function inspect(path: string, role: 'shard' | 'out'): Promise<Source> {
  const instance = await openDuck(path, true);
  const c = await instance.connect();
  try {
    const meta = await requireMeta(
      c,
      path,
      role === 'shard' ? FIX_SHARDS : 'give another path for the merged file, or delete it',
    );
    const cols = Object.values(meta.columns.params);
    const types = new Map<string, ParamType>();
    if (cols.length > 0) {
      const r = await c.runAndReadAll(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = 'runs'",
      );
      const byCol = new Map(r.getRowsJS().map(([n, t]) => [String(n), String(t) as ParamType]));
      const used = await c.runAndReadAll(
        `SELECT ${cols.map((col) => `count(${ident(col)})`).join(', ')} FROM runs`,
      );
      const counts = used.getRowsJS()[0].map(Number);
      cols.forEach((col, k) => {
        const t = byCol.get(col);
        if (counts[k] > 0 && t !== undefined) types.set(col, t);
      });
    }
    const merged = new Map<number, { count: number; runs: number }>();
    const t = await c.runAndReadAll(
      `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = '${MERGED_TABLE}'`,
    );
    if (Number(t.getRowsJS()[0][0]) > 0) {
      const r = await c.runAndReadAll(`SELECT shard_index, shard_count, runs FROM ${MERGED_TABLE}`);
      for (const [i, n, runs] of r.getRowsJS())
        merged.set(Number(i), { count: Number(n), runs: Number(runs) });
    }
    return { path, meta, types, merged };
  } catch (err) {
    if (err instanceof IsosimError) throw err;
    throw new IsosimError(path, 'file', `cannot read it: ${duckMessage(err)}`, 'check the file');
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** Folds the write-ahead log of the DuckDB file `path` into it (a CHECKPOINT), so that no `.wal` is left beside it. */
async function checkpoint(path: string): Promise<void> {
  const instance = await openDuck(path, false);
  try {
    const c = await instance.connect();
    try {
      await c.run('CHECKPOINT');
    } finally {
      c.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** Makes a rename in `dir` durable (best effort: not every platform can sync a directory). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported here (e.g. Windows): the rename is still atomic.
  }
}
