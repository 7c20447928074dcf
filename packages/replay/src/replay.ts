/**
 * Replay debugging over a log: seek to any record or time, read the rebuilt state
 * there, step, and search forward for the first record where a predicate holds.
 *
 * Design
 * - Opening a log scans it once, streaming and checking its hash chain, folding every
 *   record into a `World` and keeping a snapshot (the world and the reader's resume
 *   point: byte offset, record count, time, running hash) at the first block boundary
 *   after every `every` records. The snapshots and the log's dictionary are persisted
 *   beside the log as `LOG.idx` (JSON), stamped with the log's size and digest; the
 *   next open reuses the index without scanning, unless the stamp no longer matches.
 * - `seek(n)` restores the nearest snapshot at or before record n and folds forward
 *   from there (at most `every` records plus one block), verifying each block's digest
 *   as it goes. So seeking anywhere costs about the same in a log of any length.
 * - Record numbers are positions in the log from 0; "the state at n" is the state
 *   after records [0, n), i.e. just before record n.
 * - A damaged log is usable up to its damage: `damage` says where, `records` counts
 *   only the verified ones.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import {
  IsosimError,
  type LogDamage,
  LogDictionary,
  type LogHeader,
  type LogRecord,
  type ResumePoint,
  scanLog,
} from '@isosim/core';
import { World } from './world.ts';

export const INDEX_VERSION = 1;
/** Default records between snapshots. */
export const SNAPSHOT_EVERY = 100_000;

export interface Snapshot {
  readonly point: ResumePoint;
  /** `World.save()` text: the state after `point.seq` records. */
  readonly world: string;
}

export interface LogIndex {
  readonly version: number;
  readonly logBytes: number;
  readonly digest: string;
  readonly records: number;
  readonly complete: boolean;
  readonly damage?: LogDamage;
  readonly every: number;
  readonly endTimeNs: number;
  readonly dictionary: { names: string[]; types: { name: string; fields: string[] }[] };
  readonly snapshots: Snapshot[];
}

/** A record with its names resolved, for printing and comparing. */
export interface DecodedRecord {
  readonly seq: number;
  readonly timeNs: number;
  readonly type: string;
  readonly source: string;
  readonly target: string;
  /** Payload by field name; fields named `…Name` hold interned strings and come resolved. */
  readonly fields: Record<string, number | string>;
}

export function decodeRecord(r: LogRecord, d: LogDictionary): DecodedRecord {
  const names = d.types[r.type]?.fields ?? [];
  const fields: Record<string, number | string> = {};
  for (let i = 0; i < r.fieldCount; i++) {
    const name = names[i] ?? `f${i}`;
    // Fields whose name ends in `Name` hold interned strings (see docs/log-format.md).
    fields[name] = name.endsWith('Name') ? d.name(r.values[i]) : r.values[i];
  }
  return {
    seq: r.seq,
    timeNs: r.timeNs,
    type: d.typeName(r.type),
    source: d.name(r.source),
    target: d.name(r.target),
    fields,
  };
}

export interface OpenOptions {
  /** Records between snapshots (default 100,000). */
  readonly every?: number;
  /** Where to keep the index (default `LOG.idx`); `false`: build it in memory only. */
  readonly indexPath?: string | false;
  /** Called while the first scan runs, with the records read so far. */
  readonly onProgress?: (records: number, bytes: number) => void;
}

export class Replay {
  readonly dictionary: LogDictionary;
  /** True when this open built the index (false: it was reused from disk). */
  readonly built: boolean;

  private constructor(
    readonly path: string,
    readonly header: LogHeader,
    readonly index: LogIndex,
    built: boolean,
  ) {
    this.built = built;
    this.dictionary = new LogDictionary();
    this.dictionary.names.push(...index.dictionary.names);
    this.dictionary.types.push(...index.dictionary.types);
  }

  get records(): number {
    return this.index.records;
  }

  /** Opens `path`, reusing its index if it is current, else scanning and writing one. */
  static open(path: string, options: OpenOptions = {}): Replay {
    if (!existsSync(path)) {
      throw new IsosimError(
        path,
        'log',
        'does not exist',
        'give the path of a log written by isosim (events.isolog)',
      );
    }
    const every = options.every ?? SNAPSHOT_EVERY;
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new IsosimError(path, 'every', `${every} is not a record count`, 'give a whole number ≥ 1');
    }
    const indexPath = options.indexPath === undefined ? `${path}.idx` : options.indexPath;
    const logBytes = statSync(path).size;
    let header: LogHeader | undefined;
    if (indexPath !== false && existsSync(indexPath)) {
      const idx = readIndex(indexPath);
      if (idx !== undefined && idx.logBytes === logBytes && idx.every === every) {
        // The header is cheap to read and tells a renamed or rewritten log apart.
        scanLog(path, {
          onHeader: (h) => {
            header = h;
          },
          onRecord: () => false,
        });
        const first = idx.snapshots[0];
        if (header !== undefined && first !== undefined) return new Replay(path, header, idx, false);
      }
    }
    const index = buildIndex(path, every, options.onProgress);
    header = index.header;
    if (indexPath !== false) {
      const tmp = `${indexPath}.partial`;
      writeFileSync(tmp, JSON.stringify(index.index));
      renameSync(tmp, indexPath);
    }
    return new Replay(path, header, index.index, true);
  }

  /** The state after records [0, n): n = 0 is before the first record, n = records after the last. */
  seek(n: number): World {
    this.check(n);
    const snap = this.snapshotAtOrBefore(n);
    const world = World.load(snap.world);
    if (world.s.seq === n) return world;
    scanLog(this.path, {
      start: snap.point,
      dictionary: this.dictionary,
      onRecord: (r, d) => {
        if (r.seq >= n) return false;
        world.apply(r, d);
        return undefined;
      },
    });
    return world;
  }

  /** The state after every record at or before `timeNs`, and how many records that is. */
  seekTime(timeNs: number): { n: number; world: World } {
    const snaps = this.index.snapshots;
    let lo = 0;
    while (lo + 1 < snaps.length && snaps[lo + 1].point.timeNs <= timeNs) lo++;
    const world = World.load(snaps[lo].world);
    let n = world.s.seq;
    scanLog(this.path, {
      start: snaps[lo].point,
      dictionary: this.dictionary,
      onRecord: (r, d) => {
        if (r.timeNs > timeNs || r.seq >= this.records) return false;
        world.apply(r, d);
        n = r.seq + 1;
        return undefined;
      },
    });
    return { n, world };
  }

  /** Records [from, to) decoded. */
  read(from: number, to: number): DecodedRecord[] {
    const lo = Math.max(0, from);
    const hi = Math.min(this.records, to);
    const out: DecodedRecord[] = [];
    if (lo >= hi) return out;
    const snap = this.snapshotAtOrBefore(lo);
    scanLog(this.path, {
      start: snap.point,
      dictionary: this.dictionary,
      onRecord: (r, d) => {
        if (r.seq >= hi) return false;
        if (r.seq >= lo) out.push(decodeRecord(r, d));
        return undefined;
      },
    });
    return out;
  }

  /**
   * The first n ≥ `from` at which `predicate` holds for the state after records
   * [0, n] and record n itself; undefined if none does. The predicate sees the world
   * with record n folded in.
   */
  until(
    predicate: (world: World, record: LogRecord, dict: LogDictionary) => boolean,
    from = 0,
  ): { n: number; world: World } | undefined {
    this.check(from);
    const snap = this.snapshotAtOrBefore(from);
    const world = World.load(snap.world);
    let found: number | undefined;
    scanLog(this.path, {
      start: snap.point,
      dictionary: this.dictionary,
      onRecord: (r, d) => {
        if (r.seq >= this.records) return false;
        world.apply(r, d);
        if (r.seq >= from && predicate(world, r, d)) {
          found = r.seq;
          return false;
        }
        return undefined;
      },
    });
    return found === undefined ? undefined : { n: found, world };
  }

  private snapshotAtOrBefore(n: number): Snapshot {
    const snaps = this.index.snapshots;
    let lo = 0;
    let hi = snaps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (snaps[mid].point.seq <= n) lo = mid;
      else hi = mid - 1;
    }
    return snaps[lo];
  }

  private check(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.records) {
      throw new IsosimError(
        this.path,
        'record',
        `${n} is outside the log, which has ${this.records} records`,
        `give a record number from 0 to ${this.records}`,
      );
    }
  }
}

function readIndex(path: string): LogIndex | undefined {
  try {
    const idx = JSON.parse(readFileSync(path, 'utf8')) as LogIndex;
    return idx.version === INDEX_VERSION ? idx : undefined;
  } catch {
    return undefined;
  }
}

function buildIndex(
  path: string,
  every: number,
  onProgress?: (records: number, bytes: number) => void,
): { header: LogHeader; index: LogIndex } {
  const dictionary = new LogDictionary();
  const world = new World();
  const snapshots: Snapshot[] = [];
  let last = Number.NEGATIVE_INFINITY;
  let endTimeNs = 0;
  const result = scanLog(path, {
    dictionary,
    onBlock: (point) => {
      if (point.seq - last >= every) {
        snapshots.push({ point, world: world.save() });
        last = point.seq;
        onProgress?.(point.seq, point.offset);
      }
    },
    onRecord: (r, d) => {
      world.apply(r, d);
      endTimeNs = r.timeNs;
      return undefined;
    },
  });
  return {
    header: result.header,
    index: {
      version: INDEX_VERSION,
      logBytes: statSync(path).size,
      digest: result.digest,
      records: result.records,
      complete: result.complete,
      ...(result.damage ? { damage: result.damage } : {}),
      every,
      endTimeNs,
      dictionary: { names: [...dictionary.names], types: dictionary.types.map((t) => ({ ...t })) },
      snapshots,
    },
  };
}
