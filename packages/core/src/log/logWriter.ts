/**
 * Appends records to a log, block by block, with flat memory.
 *
 * Records are encoded as LEB128 varints into one reusable buffer; when the payload
 * reaches `blockBytes` the block gets its header and a trailer holding the running
 * digest, and goes to the sink. Times are written as deltas from the previous record
 * (they never decrease), names and types as small ids defined once in the stream, and
 * payload fields as zigzag varints, so a typical record takes 8 to 16 bytes.
 *
 * Invariants: record times are non-decreasing integers; payload fields are safe
 * integers; every id is defined in the stream before a record uses it.
 */
import { InvariantError } from '../errors.ts';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  BLOCK_TRAILER_BYTES,
  DEFAULT_BLOCK_BYTES,
  DEFINE_NAME,
  DEFINE_TYPE,
  END_BLOCK_BYTES,
  END_MAGIC,
  FILE_MAGIC,
  LOG_SCHEMA,
  type LogHeader,
  MAX_FIELDS,
  TAG_DEFINE,
} from './format.ts';
import { blockTrailerWords, RunningHash } from './hash.ts';
import type { LogSink } from './sink.ts';

/** Room for one record of the largest shape, or one definition. */
const SLACK_BYTES = 4096;
const encoder = new TextEncoder();

export interface LogWriterOptions {
  blockBytes?: number;
}

export interface LogSummary {
  readonly records: number;
  readonly digest: string;
  readonly bytes: number;
}

/** JSON with every object's keys in sorted order (arrays keep theirs). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * What the kernel and the registry write to: records and the definitions of their
 * types and names, in order. `LogWriter` encodes them on the caller's thread;
 * `ThreadedLogWriter` (`@isosim/core/node`) checks them there and encodes them on a
 * worker thread. Both write the same bytes.
 */
export interface EventLog {
  /** Records appended so far. */
  readonly records: number;
  append(
    type: number,
    timeNs: number,
    source: number,
    target: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
  ): void;
  defineType(id: number, name: string, fields: readonly string[]): void;
  defineName(id: number, name: string): void;
  /** Writes what is left, ends the log and closes its sink. Idempotent. */
  close(): LogSummary;
}

/**
 * The checks on every record before it is encoded: times never go back and are whole
 * nanoseconds, the type is defined, the payload fields it uses are integers below 2^52.
 * Both writers run them on the caller's thread, so a bad record throws at the call
 * that made it.
 */
export class RecordCheck {
  private lastTimeNs = 0;
  private readonly fieldCounts: number[] = [];

  constructor() {
    // A double from the start, not a small integer V8 re-represents at 2^31 ns (kernel.ts).
    this.lastTimeNs = 2 ** 31;
    this.lastTimeNs = 0;
  }

  /** The time of the last record checked. */
  get timeNs(): number {
    return this.lastTimeNs;
  }

  defined(type: number, fields: number): void {
    this.fieldCounts[type] = fields;
  }

  /** Checks a record and makes its time the last; returns its type's field count. */
  record(type: number, timeNs: number, a0: number, a1: number, a2: number, a3: number): number {
    if (!(timeNs >= this.lastTimeNs) || !Number.isSafeInteger(timeNs)) {
      throw new InvariantError(`log time ${timeNs} is before ${this.lastTimeNs} or not an integer`);
    }
    const n = this.fieldCounts[type];
    if (n === undefined) throw new InvariantError(`log type ${type} used before it was defined`);
    if (n > 0) {
      checkField(a0);
      if (n > 1) {
        checkField(a1);
        if (n > 2) {
          checkField(a2);
          if (n > 3) checkField(a3);
        }
      }
    }
    this.lastTimeNs = timeNs;
    return n;
  }
}

function checkField(v: number): void {
  if ((v | 0) !== v && !(Number.isSafeInteger(v) && Math.abs(v) < 2 ** 52)) {
    throw new InvariantError(`log payload ${v} is not an integer below 2^52`);
  }
}

export class LogWriter implements EventLog {
  private readonly sink: LogSink;
  private readonly blockBytes: number;
  private buf: Uint8Array;
  private view: DataView;
  private pos = BLOCK_HEADER_BYTES;
  private blockRecords = 0;
  private blockDefs = 0;
  private readonly check = new RecordCheck();
  private readonly hash = new RunningHash();
  private closed = false;
  records = 0;
  bytes = 0;

  constructor(sink: LogSink, header: LogHeader, options: LogWriterOptions = {}) {
    this.sink = sink;
    this.blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    this.buf = new Uint8Array(this.blockBytes + SLACK_BYTES);
    this.view = new DataView(this.buf.buffer);
    // The layout below is schema LOG_SCHEMA's whatever the caller's header says. Keys
    // sorted: two headers that say the same thing are the same bytes, and hash alike.
    const json = encoder.encode(canonicalJson({ ...header, schema: LOG_SCHEMA }));
    const covered = FILE_MAGIC.length + 4 + json.length;
    const head = new Uint8Array(covered + BLOCK_TRAILER_BYTES);
    const hv = new DataView(head.buffer);
    head.set(FILE_MAGIC, 0);
    hv.setUint32(FILE_MAGIC.length, json.length, true);
    head.set(json, FILE_MAGIC.length + 4);
    // The magic and the header start the hash chain: every trailer and the final digest cover them.
    this.hash.update(head, 0, covered);
    const [lo, hi] = this.hash.digestWords();
    hv.setUint32(covered, lo, true);
    hv.setUint32(covered + 4, hi, true);
    this.emit(head);
  }

  /** Defines event type `id` with its payload field names (at most MAX_FIELDS). */
  defineType(id: number, name: string, fields: readonly string[]): void {
    if (fields.length > MAX_FIELDS)
      throw new InvariantError(`type ${name} has more than ${MAX_FIELDS} fields`);
    this.check.defined(id, fields.length);
    this.ensureRoom(name, fields);
    let p = this.putVarint(this.pos, TAG_DEFINE);
    this.buf[p++] = DEFINE_TYPE;
    p = this.putVarint(p, id);
    p = this.putString(p, name);
    p = this.putVarint(p, fields.length);
    for (const f of fields) p = this.putString(p, f);
    this.endDefinition(p);
  }

  /** Defines name `id` (an actor, a device, a channel: any source or target). */
  defineName(id: number, name: string): void {
    this.ensureRoom(name, []);
    let p = this.putVarint(this.pos, TAG_DEFINE);
    this.buf[p++] = DEFINE_NAME;
    p = this.putVarint(p, id);
    p = this.putString(p, name);
    this.endDefinition(p);
  }

  /**
   * Appends one event record. The payload is the first `fields` of (a0..a3), where
   * `fields` is the count the type was defined with; the rest are ignored.
   */
  append(
    type: number,
    timeNs: number,
    source: number,
    target: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
  ): void {
    const before = this.check.timeNs;
    const n = this.check.record(type, timeNs, a0, a1, a2, a3);
    const dt = timeNs - before;
    let p = this.pos;
    p = this.putVarint(p, type);
    p = this.putVarint(p, dt);
    p = this.putVarint(p, source);
    p = this.putVarint(p, target);
    if (n > 0) {
      p = this.putSigned(p, a0);
      if (n > 1) {
        p = this.putSigned(p, a1);
        if (n > 2) {
          p = this.putSigned(p, a2);
          if (n > 3) p = this.putSigned(p, a3);
        }
      }
    }
    this.pos = p;
    this.records++;
    this.blockRecords++;
    if (p >= this.blockBytes) this.flush();
  }

  /** The digest of the header and everything appended so far (flushed or not) without closing. */
  digest(): string {
    const copy = this.hash.clone();
    copy.update(this.buf, BLOCK_HEADER_BYTES, this.pos);
    return copy.digest();
  }

  /** Flushes the last block, writes the end block, closes the sink. Idempotent. */
  close(): LogSummary {
    if (!this.closed) {
      this.flush();
      const end = new Uint8Array(END_BLOCK_BYTES);
      const v = new DataView(end.buffer);
      const [lo, hi] = this.hash.digestWords();
      v.setUint32(0, END_MAGIC, true);
      v.setUint32(4, 0, true);
      v.setFloat64(8, this.records, true);
      v.setUint32(16, lo, true);
      v.setUint32(20, hi, true);
      this.emit(end);
      this.sink.close();
      this.closed = true;
    }
    return { records: this.records, digest: this.hash.digest(), bytes: this.bytes };
  }

  private flush(): void {
    const payload = this.pos - BLOCK_HEADER_BYTES;
    if (payload === 0) return;
    this.hash.update(this.buf, BLOCK_HEADER_BYTES, this.pos);
    const v = this.view;
    v.setUint32(0, BLOCK_MAGIC, true);
    v.setUint32(4, payload, true);
    v.setUint32(8, this.blockRecords, true);
    v.setUint32(12, this.blockDefs, true);
    const [lo, hi] = blockTrailerWords(this.hash, payload, this.blockRecords, this.blockDefs);
    v.setUint32(this.pos, lo, true);
    v.setUint32(this.pos + 4, hi, true);
    this.emit(this.buf.subarray(0, this.pos + BLOCK_TRAILER_BYTES));
    this.pos = BLOCK_HEADER_BYTES;
    this.blockRecords = 0;
    this.blockDefs = 0;
  }

  private emit(bytes: Uint8Array): void {
    if (this.closed) throw new InvariantError('log written after close');
    this.sink.write(bytes);
    this.bytes += bytes.length;
  }

  private ensureRoom(name: string, fields: readonly string[]): void {
    let need = 32 + name.length * 3;
    for (const f of fields) need += 8 + f.length * 3;
    if (need > SLACK_BYTES) throw new InvariantError(`definition of ${name} is too long for the log`);
    if (this.pos + need > this.buf.length - BLOCK_TRAILER_BYTES) this.flush();
  }

  private endDefinition(p: number): void {
    this.pos = p;
    this.blockDefs++;
    if (p >= this.blockBytes) this.flush();
  }

  private putString(p: number, s: string): number {
    const bytes = encoder.encode(s);
    p = this.putVarint(p, bytes.length);
    this.buf.set(bytes, p);
    return p + bytes.length;
  }

  private putVarint(p: number, v: number): number {
    const b = this.buf;
    while (v > 0x7fffffff) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    return p;
  }

  /** A payload field `RecordCheck` passed, zigzag-encoded. */
  private putSigned(p: number, v: number): number {
    return this.putVarint(p, v >= 0 ? v * 2 : -v * 2 - 1);
  }
}
