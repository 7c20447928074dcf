/**
 * Replay debugging over a log: seek to any record or time, read the rebuilt state
 * there, step, and search forward for the first record where a predicate holds.
 *
 * Design
 * - Opening a log scans it once, streaming and checking its hash chain, folding every
 *   record into a `World` and keeping a snapshot (the world and the reader's resume
 *   point: byte offset, record count, time, running hash) at the first block boundary
 *   after every `every` records. The snapshots and the log's dictionary are persisted
 *   beside the log as `LOG.idx` (JSON), bound to the log's content: the SHA-256 of
 *   every byte of the log it was built from. The next open hashes the log (about
 *   1.5 GB/s, no decoding) and reuses the index only if that hash, the log's size and
 *   the snapshot interval all match; otherwise it rebuilds it. The index carries its
 *   own SHA-256 too, so a damaged index is rebuilt rather than believed. If the index
 *   cannot be written (a read-only directory, no permission, a full disk), it is kept
 *   in memory for this open.
 * - `seek(n)` restores the nearest snapshot at or before record n and folds forward
 *   from there (at most `every` records plus one block), verifying each block's digest
 *   as it goes. So seeking anywhere costs about the same in a log of any length.
 * - Besides the index, an open replay keeps the last `keep` block boundaries it folded
 *   past (seek, seekTime, until) as immutable worlds (`World.snapshot()`: immer,
 *   structurally shared, frozen) with their resume points, and starts every read from
 *   the nearest retained point, index or recent. So stepping back a few records, or
 *   bisecting near where one has been, folds at most one block (docs/replay.md,
 *   "Immutable worlds"). Index snapshots are parsed once and kept frozen too.
 * - Record numbers are positions in the log from 0; "the state at n" is the state
 *   after records [0, n), i.e. just before record n.
 * - A damaged log is usable up to its damage: `damage` says where, `records` counts
 *   only the verified ones. Every reading path (seek, seekTime, read, until) stops
 *   there: asking for anything past it throws `LogDamageError`, which says where; none
 *   returns a state or a record built from bytes past the damage.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import {
  IsosimError,
  type LogDamage,
  LogDamageError,
  LogDictionary,
  type LogHeader,
  type LogRecord,
  type ResumePoint,
  type ScanResult,
} from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import type { Immutable } from 'immer';
import { World, type WorldState } from './world.ts';

/**
 * The index's format. 3: a snapshot's world has the driver domains, the work by
 * principal, XenMon's per-driver rows and the disks (issue 16); 4: and the host's
 * memory (issue 18). An index of another version is rebuilt.
 */
export const INDEX_VERSION = 4;
/** The index file's first line: this tag, the version and the SHA-256 of the rest. */
const INDEX_TAG = 'isosim-replay-index';
/** Default records between snapshots. */
export const SNAPSHOT_EVERY = 100_000;
/** Default recent block boundaries an open replay keeps in memory (`OpenOptions.keep`). */
export const KEEP_RECENT = 256;

export interface Snapshot {
  readonly point: ResumePoint;
  /** `World.save()` text: the state after `point.seq` records. */
  readonly world: string;
}

export interface LogIndex {
  readonly version: number;
  readonly logBytes: number;
  /** SHA-256 of every byte of the log the index was built from: what binds it to the log. */
  readonly logSha256: string;
  /** The log's header, as verified when the index was built. */
  readonly header: LogHeader;
  /** The log's digest over the verified part (the whole log when `complete`). */
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
  // Null prototype: field names come from the log, and may be any string.
  const fields: Record<string, number | string> = Object.create(null);
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
  /**
   * Where to keep the index (default `LOG.idx`); `false`: build it in memory only. An
   * index that cannot be written there is kept in memory, with no error.
   */
  readonly indexPath?: string | false;
  /** Called while the first scan runs, with the records read so far. */
  readonly onProgress?: (records: number, bytes: number) => void;
  /**
   * Recent block boundaries to keep in memory, each an immutable world and its resume
   * point (default 256; 0: none). Reads start from the nearest kept point.
   */
  readonly keep?: number;
}

/** A point reads can start from: where in the log, and the state there (frozen). */
interface StartPoint {
  readonly point: ResumePoint;
  readonly state: Immutable<WorldState>;
}

export class Replay {
  readonly dictionary: LogDictionary;
  /** True when this open built the index (false: it was reused from disk). */
  readonly built: boolean;

  /** The log's size, inode and times when it was hashed: a cheap check that it is unchanged. */
  private stamp: string;
  /** Index snapshot i's world, parsed and frozen on first use. */
  private readonly indexed: (Immutable<WorldState> | undefined)[] = [];
  /** Recent block boundaries folded past, by record count, oldest first (at most `keep`). */
  private readonly recent = new Map<number, StartPoint>();
  private readonly keep: number;

  private constructor(
    readonly path: string,
    readonly header: LogHeader,
    readonly index: LogIndex,
    built: boolean,
    stamp: string,
    keep: number,
  ) {
    this.stamp = stamp;
    this.built = built;
    this.keep = keep;
    this.dictionary = new LogDictionary();
    this.dictionary.names.push(...index.dictionary.names);
    this.dictionary.types.push(...index.dictionary.types);
  }

  get records(): number {
    return this.index.records;
  }

  /** Recent block boundaries kept in memory (at most `OpenOptions.keep`). */
  get kept(): number {
    return this.recent.size;
  }

  /** Where the log is damaged, if it is: nothing at or past it can be read. */
  get damage(): LogDamage | undefined {
    return this.index.damage;
  }

  /**
   * Opens `path`, reusing its index if it was built from these very bytes, else scanning
   * the log and writing a new one. Throws `LogDamageError` if the header is damaged.
   */
  static open(path: string, options: OpenOptions = {}): Replay {
    const every = options.every ?? SNAPSHOT_EVERY;
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new IsosimError(path, 'every', `${every} is not a record count`, 'give a whole number ≥ 1');
    }
    const keep = options.keep ?? KEEP_RECENT;
    if (!Number.isSafeInteger(keep) || keep < 0) {
      throw new IsosimError(path, 'keep', `${keep} is not a count`, 'give a whole number ≥ 0');
    }
    const indexPath = options.indexPath === undefined ? `${path}.idx` : options.indexPath;
    const { bytes: logBytes, sha256: logSha256, stamp } = hashLog(path);
    if (indexPath !== false) {
      const idx = readIndex(indexPath);
      if (
        idx !== undefined &&
        idx.logBytes === logBytes &&
        idx.logSha256 === logSha256 &&
        idx.every === every
      ) {
        return new Replay(path, idx.header, idx, false, stamp, keep);
      }
    }
    const index = buildIndex(path, every, logBytes, logSha256, options.onProgress);
    if (indexPath !== false) writeIndex(indexPath, index);
    return new Replay(path, index.header, index, true, stamp, keep);
  }

  /**
   * Every read first checks that the log is still the one opened: if its size, inode or
   * times changed, it is hashed again, and if its bytes changed this throws (the index
   * describes the old bytes; open the log again).
   */
  private unchanged(): void {
    if (fileStamp(this.path) === this.stamp) return;
    const now = hashLog(this.path);
    if (now.sha256 !== this.index.logSha256) {
      throw new IsosimError(
        this.path,
        'log',
        'changed since it was opened (its bytes are not the ones indexed)',
        'open it again (run the command again) to replay what it holds now',
      );
    }
    this.stamp = now.stamp;
  }

  /** The state after records [0, n): n = 0 is before the first record, n = records after the last. */
  seek(n: number): World {
    this.check(n);
    this.unchanged();
    const start = this.startAt((p) => p.seq <= n);
    const world = new World(start.state);
    if (start.point.seq === n) return world;
    const scan = this.fold(start, world, (r, d) => {
      if (r.seq >= n) return false;
      world.apply(r, d);
      return undefined;
    });
    if (world.s.seq !== n) throw this.damaged(scan, `record ${n}`);
    return world;
  }

  /**
   * The state after every record at or before `timeNs`, and how many records that is.
   * Throws `LogDamageError` when the answer depends on records past the damage (every
   * verified record is at or before `timeNs`: the next one might be too).
   */
  seekTime(timeNs: number): { n: number; world: World } {
    this.unchanged();
    // Every record before a point is at or before its time: all of them are wanted.
    const start = this.startAt((p) => p.timeNs <= timeNs);
    const world = new World(start.state);
    let n = world.s.seq;
    let later = false;
    const scan = this.fold(start, world, (r, d) => {
      if (r.seq >= this.records) return false;
      if (r.timeNs > timeNs) {
        later = true;
        return false;
      }
      world.apply(r, d);
      n = r.seq + 1;
      return undefined;
    });
    if (!later && (n < this.records || this.index.damage !== undefined)) {
      throw this.damaged(scan, `time ${timeNs / 1e9} s`);
    }
    return { n, world };
  }

  /**
   * Records [from, to) decoded, up to the last verified one: a range that runs past the
   * damage is cut there (`damage` says where).
   */
  read(from: number, to: number): DecodedRecord[] {
    const lo = Math.max(0, from);
    const hi = Math.min(this.records, to);
    const out: DecodedRecord[] = [];
    if (lo >= hi) return out;
    this.unchanged();
    const scan = scanLog(this.path, {
      start: this.resumeAt(lo),
      dictionary: this.dictionary,
      onRecord: (r, d) => {
        if (r.seq >= hi) return false;
        if (r.seq >= lo) out.push(decodeRecord(r, d));
        return undefined;
      },
    });
    if (out.length !== hi - lo) throw this.damaged(scan, `record ${lo + out.length}`);
    return out;
  }

  /**
   * The first n ≥ `from` at which `predicate` holds for the state after records
   * [0, n] and record n itself; undefined if none does. The predicate sees the world
   * with record n folded in. In a damaged log, "none does" cannot be known: if no
   * verified record satisfies it, this throws `LogDamageError`.
   */
  until(
    predicate: (world: World, record: LogRecord, dict: LogDictionary) => boolean,
    from = 0,
  ): { n: number; world: World } | undefined {
    this.check(from);
    this.unchanged();
    const start = this.startAt((p) => p.seq <= from);
    const world = new World(start.state);
    let found: number | undefined;
    const scan = this.fold(start, world, (r, d) => {
      if (r.seq >= this.records) return false;
      world.apply(r, d);
      if (r.seq >= from && predicate(world, r, d)) {
        found = r.seq;
        return false;
      }
      return undefined;
    });
    if (found !== undefined) return { n: found, world };
    if (world.s.seq < this.records || this.index.damage !== undefined) {
      throw this.damaged(scan, `the rest of the search (records ${world.s.seq} on)`);
    }
    return undefined;
  }

  /** The damage met by `scan`, or the log's known damage, as an error naming what was wanted. */
  private damaged(scan: ScanResult, wanted: string): LogDamageError {
    const damage = scan.damage ??
      this.index.damage ?? {
        offset: scan.bytes,
        seq: scan.records,
        message: 'the log changed since it was opened',
      };
    return new LogDamageError(this.path, damage, wanted);
  }

  /**
   * The last index snapshot `fits` accepts (0, before any record, if none does). `fits`
   * must hold for a prefix of the snapshots: by record count or by time, it does.
   */
  private lastIndexed(fits: (p: ResumePoint) => boolean): number {
    const snaps = this.index.snapshots;
    let lo = 0;
    let hi = snaps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(snaps[mid].point)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Where a scan for records from `n` on starts: the latest kept point at or before it. */
  private resumeAt(n: number): ResumePoint {
    let best = this.index.snapshots[this.lastIndexed((p) => p.seq <= n)].point;
    for (const { point } of this.recent.values()) if (point.seq <= n && point.seq > best.seq) best = point;
    return best;
  }

  /**
   * The kept point with the most records among those `fits` accepts: a recent one, or
   * an index snapshot (the latest that fits; the first one, before any record, if none
   * does), its world parsed and frozen once.
   */
  private startAt(fits: (p: ResumePoint) => boolean): StartPoint {
    const snaps = this.index.snapshots;
    const i = this.lastIndexed(fits);
    let best: StartPoint | undefined;
    for (const p of this.recent.values())
      if (fits(p.point) && p.point.seq > (best ?? snaps[i]).point.seq) best = p;
    if (best !== undefined) return best;
    let state = this.indexed[i];
    if (state === undefined) {
      state = World.load(snaps[i].world).snapshot();
      this.indexed[i] = state;
    }
    return { point: snaps[i].point, state };
  }

  /**
   * Scans from `start`, handing records to `onRecord`, and keeps each block boundary
   * passed on the way as a recent point: `world`'s snapshot there (it shares with the
   * one before all that did not change) with the boundary's resume point.
   */
  private fold(
    start: StartPoint,
    world: World,
    onRecord: (r: LogRecord, d: LogDictionary) => undefined | boolean,
  ): ScanResult {
    return scanLog(this.path, {
      start: start.point,
      dictionary: this.dictionary,
      onBlock: (point) => {
        if (this.keep === 0 || point.seq <= start.point.seq) return;
        // Kept already: now the most recent (the state there is the same).
        const kept = this.recent.get(point.seq) ?? { point, state: world.snapshot() };
        this.recent.delete(point.seq);
        this.recent.set(point.seq, kept);
        if (this.recent.size > this.keep) this.recent.delete(this.recent.keys().next().value as number);
      },
      onRecord,
    });
  }

  private check(n: number): void {
    const damage = this.index.damage;
    if (damage !== undefined && Number.isSafeInteger(n) && n > this.records) {
      throw new LogDamageError(this.path, damage, `record ${n}`);
    }
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

/** Size, inode, modification and change times (ns): what changes when a file is written. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return 'gone';
  }
}

/** The log's size and the SHA-256 of all its bytes, streamed, and its stamp before that. */
function hashLog(path: string): { bytes: number; sha256: string; stamp: string } {
  const fail = (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new IsosimError(
      path,
      'log',
      code === 'ENOENT' ? 'does not exist' : `cannot read (${code})`,
      'give the path of a log written by isosim (events.isolog)',
    );
  };
  let fd: number;
  let stamp: string;
  try {
    if (!statSync(path).isFile()) fail({ code: 'not a file' });
    stamp = fileStamp(path);
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof IsosimError) throw err;
    return fail(err);
  }
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      bytes += n;
    }
    return { bytes, sha256: h.digest('hex'), stamp };
  } catch (err) {
    return fail(err);
  } finally {
    closeSync(fd);
  }
}

/** The index at `path` if it is whole (its own SHA-256 matches) and of this version. */
function readIndex(path: string): LogIndex | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const nl = text.indexOf('\n');
    const [tag, version, sha] = text.slice(0, nl).split(' ');
    const body = text.slice(nl + 1);
    if (tag !== INDEX_TAG || Number(version) !== INDEX_VERSION) return undefined;
    if (createHash('sha256').update(body).digest('hex') !== sha) return undefined;
    const idx = JSON.parse(body) as LogIndex;
    return idx.version === INDEX_VERSION && idx.snapshots.length > 0 ? idx : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the index beside the log (to `.partial`, then renamed). An index is a cache:
 * if it cannot be written (EACCES, EROFS, EPERM, ENOSPC, …) it stays in memory and the
 * replay goes on; a stale index left in place is not reused (it is bound to other bytes).
 */
function writeIndex(path: string, index: LogIndex): void {
  const body = JSON.stringify(index);
  const sha = createHash('sha256').update(body).digest('hex');
  const tmp = `${path}.partial`;
  try {
    writeFileSync(tmp, `${INDEX_TAG} ${INDEX_VERSION} ${sha}\n${body}`);
    renameSync(tmp, path);
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written there, or it cannot be removed: either way it is never read as an index.
    }
  }
}

function buildIndex(
  path: string,
  every: number,
  logBytes: number,
  logSha256: string,
  onProgress?: (records: number, bytes: number) => void,
): LogIndex {
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
    version: INDEX_VERSION,
    logBytes,
    logSha256,
    header: result.header,
    digest: result.digest,
    records: result.records,
    complete: result.complete,
    ...(result.damage ? { damage: result.damage } : {}),
    every,
    endTimeNs,
    dictionary: { names: [...dictionary.names], types: dictionary.types.map((t) => ({ ...t })) },
    snapshots,
  };
}
