/**
 * Where do two runs part? `diffLogs` finds the first record at which two logs differ
 * (type, time, source, target or payload, compared by name, so that the two logs'
 * dictionaries need not number things alike) and returns both sides around it.
 *
 * One pass over both logs in lockstep, one block of each in memory, so memory stays
 * flat whatever their length. Two runs of one scenario by one isosim cut their records
 * into blocks alike and number their names alike, so while the logs agree their blocks
 * are byte for byte the same: such a pair of blocks is compared as bytes and skipped
 * whole, no record decoded (and where the digest before them was the same too, B's
 * block is not even hashed again: A's check holds for it). Records are decoded and
 * compared by name only where that shortcut does not hold: in the first pair of blocks
 * whose bytes differ, and wherever the dictionaries disagree or the block boundaries
 * do not line up, until they line up again with agreeing dictionaries.
 *
 * Only verified records are compared. A damaged log is never "the same" as another:
 * past its damage nothing is known, so `damageA`/`damageB` say where, and a log that
 * merely stops at its damage is not a difference. A is always read to its end (its
 * record count and any damage are reported); B only as far as the comparison went.
 */
import {
  type LogCursor,
  type LogDamage,
  LogDictionary,
  type LogHeader,
  type LogRecord,
  type ResumePoint,
} from '@isosim/core';
import { openLogCursor, scanLog } from '@isosim/core/node';
import { type DecodedRecord, decodeRecord } from './replay.ts';

export interface LogDiff {
  readonly headerA: LogHeader;
  readonly headerB: LogHeader;
  readonly recordsA: number;
  /** Records of B read (all of them when the logs agree; up to the first difference otherwise). */
  readonly recordsB: number;
  /** First record number at which they differ; undefined if the logs are the same. */
  readonly at: number | undefined;
  /** Records [at - context, at + context] of each (fewer at the ends). */
  readonly contextA: DecodedRecord[];
  readonly contextB: DecodedRecord[];
  /** Where A is damaged: no record from there on was compared. */
  readonly damageA?: LogDamage;
  /** Where B is damaged, if B was read that far. */
  readonly damageB?: LogDamage;
}

/** What a log holds at a record number: the record, or why there is none. */
type Slot = LogRecord | 'end' | 'damaged';

/** Where the lockstep stopped: the first difference if any, and B's records read. */
interface Stop {
  readonly at: number | undefined;
  readonly recordsB: number;
}

/** The decoded records say the same (the definition of "same"; `sameRecord` is its fast path). */
function same(a: DecodedRecord, b: DecodedRecord): boolean {
  return (
    a.timeNs === b.timeNs &&
    a.type === b.type &&
    a.source === b.source &&
    a.target === b.target &&
    JSON.stringify(a.fields) === JSON.stringify(b.fields)
  );
}

/**
 * True if `a` (of a log with dictionary `da`) is the same record as `b` (`db`), by
 * name. Names and fields are compared without building the decoded records; where that
 * quick look finds a difference, `same` on the decoded records decides (so a difference
 * it could misjudge, e.g. a NaN field, is judged exactly as `same` judges it).
 */
function sameRecord(a: LogRecord, da: LogDictionary, b: LogRecord, db: LogDictionary): boolean {
  if (a.timeNs !== b.timeNs) return false;
  return quickSame(a, da, b, db) || same(decodeRecord(a, da), decodeRecord(b, db));
}

function quickSame(a: LogRecord, da: LogDictionary, b: LogRecord, db: LogDictionary): boolean {
  const ta = da.types[a.type];
  const tb = db.types[b.type];
  if (ta === undefined || tb === undefined || ta.name !== tb.name) return false;
  if (da.name(a.source) !== db.name(b.source) || da.name(a.target) !== db.name(b.target)) return false;
  const n = a.fieldCount;
  if (n !== b.fieldCount || ta.fields.length !== n || tb.fields.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const field = ta.fields[i];
    if (field !== tb.fields[i]) return false;
    const va = a.values[i];
    const vb = b.values[i];
    // Interned-string fields compare by the string, not by its id in each log.
    if (field.endsWith('Name') ? da.name(va) !== db.name(vb) : va !== vb) return false;
  }
  return true;
}

/** Every id means the same in both: then equal bytes are equal records. */
function dictionariesAgree(da: LogDictionary, db: LogDictionary): boolean {
  if (da.names.length !== db.names.length || da.types.length !== db.types.length) return false;
  for (let i = 0; i < da.names.length; i++) if (da.names[i] !== db.names[i]) return false;
  for (let i = 0; i < da.types.length; i++) {
    const x = da.types[i];
    const y = db.types[i];
    if (x === y) continue;
    if (x === undefined || y === undefined || x.name !== y.name || x.fields.length !== y.fields.length)
      return false;
    for (let f = 0; f < x.fields.length; f++) if (x.fields[f] !== y.fields[f]) return false;
  }
  return true;
}

function copyDictionary(d: LogDictionary): LogDictionary {
  const copy = new LogDictionary();
  Object.assign(copy.names, d.names);
  Object.assign(copy.types, d.types);
  return copy;
}

/**
 * One log as the lockstep reads it: its cursor, and the starts of its last few blocks,
 * from which the records before the difference are read back for the context (only
 * as many as `context` records need: memory stays flat).
 */
class Side {
  private readonly starts: ResumePoint[] = [];

  constructor(
    readonly path: string,
    readonly cursor: LogCursor,
    private readonly context: number,
  ) {}

  /** Verifies the block just read (with `twin`'s checks where they carry over) and keeps its start; false if damaged. */
  verifyBlock(twin?: Side): boolean {
    if (!this.cursor.verifyBlock(twin?.cursor)) return false;
    const start = this.cursor.blockStart();
    this.starts.push(start);
    // The difference is at or after this block's first record: keep the last start at
    // or before `context` records earlier, drop the ones before it.
    while (this.starts.length > 1 && this.starts[1].seq <= start.seq - this.context) this.starts.shift();
    return true;
  }

  /** The record numbered `cursor.seq`, reading the next block if need be; or why there is none. */
  take(): Slot {
    const c = this.cursor;
    for (;;) {
      const r = c.nextRecord();
      if (r !== undefined) return r;
      if (!(c.readBlock() && this.verifyBlock())) return c.complete ? 'end' : 'damaged';
    }
  }

  /** Records [from, to) (fewer where the log ends or is damaged), read from the nearest kept block start. */
  read(from: number, to: number): DecodedRecord[] {
    let start: ResumePoint | undefined;
    for (const s of this.starts) if (s.seq <= from) start = s;
    const out: DecodedRecord[] = [];
    scanLog(this.path, {
      // The dictionary as it is now: it holds every definition before `start` (and
      // some after, which change nothing: a log never redefines an id).
      ...(start ? { start, dictionary: copyDictionary(this.cursor.dictionary) } : {}),
      onRecord: (r, d) => {
        if (r.seq >= to) return false;
        if (r.seq >= from) out.push(decodeRecord(r, d));
        return undefined;
      },
    });
    return out;
  }

  /** Reads to the end (or the damage) without decoding, for the record count and the damage. */
  finish(): void {
    const c = this.cursor;
    c.skipRest();
    while (c.readBlock() && c.verifyBlock()) c.skipRest();
  }
}

/**
 * The outcome at record `i` where at least one log has no record: a log that ends
 * while the other goes on differs there; damage on either side leaves it unknown.
 * B has read `i` records, and record `i` too if it has one.
 */
function stopAt(i: number, a: Slot, b: Slot): Stop {
  const bHasIt = typeof b === 'object';
  const oneEnds = (a === 'end' && bHasIt) || (b === 'end' && typeof a === 'object');
  return { at: oneEnds ? i : undefined, recordsB: bHasIt ? i + 1 : i };
}

/**
 * Compares record by record from where both logs stand (the same record number) until
 * both have taken their current blocks whole at once; the stop, if one was found.
 */
function recordByRecord(a: Side, b: Side): Stop | undefined {
  do {
    const i = a.cursor.seq;
    const ra = a.take();
    const rb = b.take();
    if (typeof ra !== 'object' || typeof rb !== 'object') return stopAt(i, ra, rb);
    if (!sameRecord(ra, a.cursor.dictionary, rb, b.cursor.dictionary)) return { at: i, recordsB: i + 1 };
  } while (!(a.cursor.atBlockEnd && b.cursor.atBlockEnd));
  return undefined;
}

/** The two logs in lockstep, a pair of blocks at a time, down to records where the blocks differ. */
function lockstep(a: Side, b: Side): Stop {
  let agree = true;
  let definitionsA = -1;
  let definitionsB = -1;
  for (;;) {
    // Both logs have taken their blocks whole, and the same number of records.
    const ca = a.cursor;
    const cb = b.cursor;
    if (ca.definitionsRead !== definitionsA || cb.definitionsRead !== definitionsB) {
      agree = dictionariesAgree(ca.dictionary, cb.dictionary);
      definitionsA = ca.definitionsRead;
      definitionsB = cb.definitionsRead;
    }
    const readA = ca.readBlock();
    const readB = cb.readBlock();
    const samePayload = readA && readB && agree && cb.samePayload(ca);
    const okA = readA && a.verifyBlock();
    const okB = readB && b.verifyBlock(samePayload && okA ? a : undefined);
    if (samePayload && okA && okB) {
      ca.skipRest();
      cb.skipRest();
      continue;
    }
    const stop = recordByRecord(a, b);
    if (stop !== undefined) return stop;
  }
}

/**
 * The first record at which the logs at `pathA` and `pathB` differ, with `context`
 * records either side from each; throws as `scanLog` does for a file that is not a log
 * or a damaged header (A's first).
 */
export function diffLogs(pathA: string, pathB: string, context = 5): LogDiff {
  const ca = openLogCursor(pathA);
  let cb: LogCursor;
  try {
    cb = openLogCursor(pathB);
  } catch (err) {
    ca.close();
    throw err;
  }
  try {
    const a = new Side(pathA, ca, context);
    const b = new Side(pathB, cb, context);
    const { at, recordsB } = lockstep(a, b);
    const from = Math.max(0, (at ?? 0) - context);
    const contextA = at === undefined ? [] : a.read(from, at + context + 1);
    const contextB = at === undefined ? [] : b.read(from, at + context + 1);
    a.finish();
    return {
      headerA: ca.header,
      headerB: cb.header,
      recordsA: ca.seq,
      recordsB,
      at,
      contextA,
      contextB,
      ...(ca.damage ? { damageA: ca.damage } : {}),
      ...(cb.damage ? { damageB: cb.damage } : {}),
    };
  } finally {
    ca.close();
    cb.close();
  }
}
