/**
 * Reads a log by streaming it block by block, checking the hash chain as it goes.
 *
 * Every byte is checked (schema 2): the magic against its value, the header against
 * its trailer (the chain's first link), each block header's magic against its value
 * and its counts through the block's trailer, each payload through the chain, the end
 * block's magic, reserved word, record count and digest, and nothing may follow it.
 *
 * A block's records are handed out only after its trailer digest matches, so a
 * corrupted or truncated block never yields a wrong record: the scan stops there and
 * reports the byte offset and the sequence number of the first record it could not
 * vouch for; every record before it was delivered and is sound. A damaged header
 * vouches for nothing: `scanLog` throws `LogDamageError` before any callback runs.
 *
 * Memory stays flat: one block is held at a time, and the record passed to the
 * callback is a single reused object (copy what you keep).
 */
import { IsosimError } from '../errors.ts';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  BLOCK_TRAILER_BYTES,
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

const decoder = new TextDecoder();
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

export interface LogRecord {
  /** Position among event records, from 0. */
  seq: number;
  timeNs: number;
  type: number;
  source: number;
  target: number;
  /** The payload; only the first `fieldCount` entries are meaningful. */
  readonly values: Float64Array;
  fieldCount: number;
}

export interface LogDamage {
  /** Byte offset of the first part of the file that could not be vouched for. */
  readonly offset: number;
  /** Records before it (all delivered, all sound); the first record not vouched for. */
  readonly seq: number;
  readonly message: string;
}

/**
 * A log is damaged where the caller needed it sound: its header, or a record past the
 * damage. An `IsosimError` (one line, no stack); the CLI exits 1 for it, as for any
 * damaged log.
 */
export class LogDamageError extends IsosimError {
  constructor(
    readonly path: string,
    readonly damage: LogDamage,
    /** What was asked for that lies past the damage, e.g. "record 200000". */
    readonly wanted?: string,
  ) {
    super(
      path,
      `damaged at byte ${damage.offset}`,
      `${damage.message}${wanted ? `; ${wanted} is past the damage` : ''}`,
      damage.seq > 0
        ? `only records 0..${damage.seq - 1} are verified (isosim verify ${path}); re-run the scenario for a whole log`
        : `no record in it can be vouched for (isosim verify ${path}); re-run the scenario for a whole log`,
    );
  }
}

export interface ScanResult {
  readonly header: LogHeader;
  readonly records: number;
  /** Digest over every verified record. Equals the writer's digest when `complete`. */
  readonly digest: string;
  /** True when the end block was reached, agreed with everything before it, and ended the file. */
  readonly complete: boolean;
  readonly damage?: LogDamage;
  readonly bytes: number;
}

/** Name and type tables as the log defined them (filled while scanning). */
export class LogDictionary {
  readonly names: string[] = [];
  readonly types: { name: string; fields: string[] }[] = [];
  name(id: number): string {
    return this.names[id] ?? `#${id}`;
  }
  typeName(id: number): string {
    return this.types[id]?.name ?? `#${id}`;
  }
}

/** Where a log's bytes come from: memory here, a file in `@isosim/core/node`. */
export interface ByteSource {
  read(into: Uint8Array, length: number): number;
  seek(offset: number): void;
  close(): void;
}

/** The record a reader fills in place for each record it reads. */
export function blankRecord(): LogRecord {
  return {
    seq: 0,
    timeNs: 0,
    type: 0,
    source: 0,
    target: 0,
    values: new Float64Array(MAX_FIELDS),
    fieldCount: 0,
  };
}

/** A log's bytes in memory as a `ByteSource`. */
export function memorySource(bytes: Uint8Array): ByteSource {
  let off = 0;
  return {
    read(into, length) {
      const n = Math.min(length, bytes.length - off);
      into.set(bytes.subarray(off, off + n), 0);
      off += n;
      return n;
    },
    seek(offset) {
      off = Math.min(offset, bytes.length);
    },
    close() {},
  };
}

/**
 * Where a block starts, with everything needed to go on reading from there: the
 * byte offset, the number of records before it, the time of the last one (record
 * times are deltas), and the running hash. A replay index stores these.
 */
export interface ResumePoint {
  readonly offset: number;
  readonly seq: number;
  readonly timeNs: number;
  readonly hash: readonly number[];
}

export interface ScanOptions {
  /**
   * Start at this block instead of the first (the header is still read and checked).
   * `dictionary` must then hold the log's definitions (a replay index keeps them).
   */
  start?: ResumePoint;
  /** Called at the start of every block, before its records. */
  onBlock?: (point: ResumePoint) => void;
  /** Called once with the header, before any record. */
  onHeader?: (header: LogHeader) => void;
  /** Called for every verified record; return `false` to stop early. */
  onRecord?: (record: LogRecord, dict: LogDictionary) => undefined | boolean;
  /** Filled with the log's definitions as they are read. */
  dictionary?: LogDictionary;
}

/** Reads a log from bytes (from a path: `scanLog` in `@isosim/core/node`). Throws only if the header is unusable. */
export function scanBytes(bytes: Uint8Array, options: ScanOptions = {}): ScanResult {
  return scanSource(memorySource(bytes), '<memory>', options);
}

/** Reads a log from any byte source, named `where` in errors; closes the source. */
export function scanSource(src: ByteSource, where: string, options: ScanOptions = {}): ScanResult {
  try {
    return new Scanner(src, where, options).run();
  } finally {
    src.close();
  }
}

class Scanner {
  private buf = new Uint8Array(256 * 1024);
  private offset = 0;
  private p = 0;
  private seq = 0;
  private timeNs = 0;
  private hash = new RunningHash();
  private readonly dict: LogDictionary;
  private readonly fieldCounts: number[] = [];
  private readonly record = blankRecord();

  constructor(
    private readonly src: ByteSource,
    private readonly where: string,
    private readonly options: ScanOptions,
  ) {
    this.dict = options.dictionary ?? new LogDictionary();
  }

  run(): ScanResult {
    const header = this.readHeader();
    this.options.onHeader?.(header);
    const start = this.options.start;
    if (start !== undefined) {
      this.src.seek(start.offset);
      this.offset = start.offset;
      this.seq = start.seq;
      this.timeNs = start.timeNs;
      this.hash = RunningHash.restore(start.hash);
      this.dict.types.forEach((t, id) => {
        if (t) this.fieldCounts[id] = t.fields.length;
      });
    }
    const onBlock = this.options.onBlock;
    const result = (complete: boolean, damage?: LogDamage): ScanResult => ({
      header,
      records: this.seq,
      digest: this.hash.digest(),
      complete,
      bytes: this.offset,
      ...(damage ? { damage } : {}),
    });
    for (;;) {
      const blockStart = this.offset;
      onBlock?.({ offset: blockStart, seq: this.seq, timeNs: this.timeNs, hash: this.hash.save() });
      const got = this.fill(0, BLOCK_HEADER_BYTES);
      if (got === 0)
        return result(false, this.damage(blockStart, 'log ends without its end block (truncated)'));
      if (got < 4) return result(false, this.damage(blockStart, 'truncated block header'));
      const v = new DataView(this.buf.buffer, 0, BLOCK_HEADER_BYTES);
      const magic = v.getUint32(0, true);
      if (magic === END_MAGIC) return this.readEnd(got, blockStart, result);
      if (magic !== BLOCK_MAGIC) return result(false, this.damage(blockStart, 'bad block magic'));
      if (got < BLOCK_HEADER_BYTES) return result(false, this.damage(blockStart, 'truncated block header'));
      const payload = v.getUint32(4, true);
      const count = v.getUint32(8, true);
      const defs = v.getUint32(12, true);
      if (payload === 0 || payload > MAX_BLOCK_BYTES)
        return result(false, this.damage(blockStart, 'bad block length'));
      const need = payload + BLOCK_TRAILER_BYTES;
      if (this.buf.length < need) this.buf = new Uint8Array(need * 2);
      if (this.fill(0, need) < need) return result(false, this.damage(blockStart, 'truncated block'));
      const tv = new DataView(this.buf.buffer, payload, BLOCK_TRAILER_BYTES);
      const next = this.hash.clone();
      next.update(this.buf, 0, payload);
      const [lo, hi] = blockTrailerWords(next, payload, count, defs);
      if (tv.getUint32(0, true) !== lo || tv.getUint32(4, true) !== hi) {
        return result(false, this.damage(blockStart, 'block digest does not match (corrupted)'));
      }
      const blockSeq = this.seq;
      const stopped = this.decode(payload, count, defs);
      if (typeof stopped === 'string') {
        // The digest matched, so only a writer bug or a forgery gets here: vouch for none of it.
        this.seq = blockSeq;
        return result(false, this.damage(blockStart, stopped));
      }
      this.hash = next;
      if (stopped) return result(false);
    }
  }

  private readEnd(got: number, at: number, result: (c: boolean, d?: LogDamage) => ScanResult): ScanResult {
    if (got < END_BLOCK_BYTES && this.fill(got, END_BLOCK_BYTES - got) + got < END_BLOCK_BYTES) {
      return result(false, this.damage(at, 'truncated end block'));
    }
    const v = new DataView(this.buf.buffer, 0, END_BLOCK_BYTES);
    if (v.getUint32(4, true) !== 0) {
      return result(false, this.damage(at, "end block's reserved word is not 0 (corrupted)"));
    }
    const [lo, hi] = this.hash.digestWords();
    if (v.getFloat64(8, true) !== this.seq || v.getUint32(16, true) !== lo || v.getUint32(20, true) !== hi) {
      return result(false, this.damage(at, 'end block disagrees with the records (corrupted)'));
    }
    // The end block ends the file: anything after it (garbage, a second copy) is damage.
    const end = this.offset;
    let extra = 0;
    for (let n = this.fill(0, this.buf.length); n > 0; n = this.fill(0, this.buf.length)) extra += n;
    if (extra > 0) {
      return result(
        false,
        this.damage(end, `${extra} byte${extra === 1 ? '' : 's'} after the end block (appended to the log)`),
      );
    }
    return result(true);
  }

  /** Decodes a verified block; returns true if the callback asked to stop, or an error. */
  private decode(payload: number, count: number, defs: number): boolean | string {
    const rec = this.record;
    const onRecord = this.options.onRecord;
    let seen = 0;
    let defined = 0;
    this.p = 0;
    while (this.p < payload) {
      const tag = this.varint();
      if (tag === TAG_DEFINE) {
        if (!this.readDefinition()) return `bad definition at block offset ${this.p}`;
        defined++;
        continue;
      }
      const n = this.fieldCounts[tag];
      if (n === undefined) return `record uses undefined type ${tag} at block offset ${this.p}`;
      this.timeNs += this.varint();
      rec.seq = this.seq;
      rec.timeNs = this.timeNs;
      rec.type = tag;
      rec.source = this.varint();
      rec.target = this.varint();
      rec.fieldCount = n;
      for (let i = 0; i < n; i++) {
        const z = this.varint();
        rec.values[i] = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      this.seq++;
      seen++;
      if (onRecord && onRecord(rec, this.dict) === false) return true;
    }
    if (this.p !== payload) return `last record runs past the block's end by ${this.p - payload} bytes`;
    if (seen !== count) return `block holds ${seen} records, its header says ${count}`;
    if (defined !== defs) return `block holds ${defined} definitions, its header says ${defs}`;
    return false;
  }

  /** LEB128; the first four bytes on 32-bit ops, the rest (up to 2^53) by multiplication. */
  private varint(): number {
    const b = this.buf;
    let byte = b[this.p++];
    if (byte < 0x80) return byte;
    let x = byte & 0x7f;
    let shift = 7;
    for (;;) {
      byte = b[this.p++];
      if (shift < 28) x |= (byte & 0x7f) << shift;
      else x += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return x;
      shift += 7;
      // Only a forged block gets here: no varint of the format is this long.
      if (shift > 63) return Number.NaN;
    }
  }

  private readDefinition(): boolean {
    const kind = this.buf[this.p++];
    const id = this.varint();
    const name = this.string();
    if (kind === DEFINE_NAME) {
      this.dict.names[id] = name;
      return true;
    }
    if (kind !== DEFINE_TYPE) return false;
    const nf = this.varint();
    if (nf > MAX_FIELDS) return false;
    const fields: string[] = [];
    for (let i = 0; i < nf; i++) fields.push(this.string());
    this.dict.types[id] = { name, fields };
    this.fieldCounts[id] = nf;
    return true;
  }

  private string(): string {
    const len = this.varint();
    const at = this.p;
    this.p += len;
    return decoder.decode(this.buf.subarray(at, at + len));
  }

  /**
   * The magic, the header and its trailer, which must match the running digest of the
   * bytes before it (the chain's first link). Leaves the hash holding those bytes.
   */
  private readHeader(): LogHeader {
    const notLog = (problem: string): never => {
      throw new IsosimError(
        this.where,
        'header',
        problem,
        'give a log written by isosim (it starts with ISOSIMLG)',
      );
    };
    const damaged = (message: string): never => {
      throw new LogDamageError(this.where, { offset: FILE_MAGIC.length, seq: 0, message });
    };
    const pre = FILE_MAGIC.length + 4;
    const got = this.fill(0, pre);
    if (got < FILE_MAGIC.length) notLog('file is too short to be a log');
    for (let i = 0; i < FILE_MAGIC.length; i++)
      if (this.buf[i] !== FILE_MAGIC[i]) notLog('not an isosim log (its first 8 bytes are not ISOSIMLG)');
    if (got < pre) damaged('header is truncated');
    const len = new DataView(this.buf.buffer).getUint32(FILE_MAGIC.length, true);
    if (len > MAX_BLOCK_BYTES) damaged(`header length ${len} is implausible (corrupted)`);
    const need = pre + len + BLOCK_TRAILER_BYTES;
    if (this.buf.length < need) {
      const bigger = new Uint8Array(need);
      bigger.set(this.buf.subarray(0, pre));
      this.buf = bigger;
    }
    if (this.fill(pre, len + BLOCK_TRAILER_BYTES) < len + BLOCK_TRAILER_BYTES) damaged('header is truncated');
    const parse = (): LogHeader | undefined => {
      try {
        return JSON.parse(decoder.decode(this.buf.subarray(pre, pre + len))) as LogHeader;
      } catch {
        return undefined;
      }
    };
    this.hash.update(this.buf, 0, pre + len);
    const [lo, hi] = this.hash.digestWords();
    const tv = new DataView(this.buf.buffer, pre + len, BLOCK_TRAILER_BYTES);
    if (tv.getUint32(0, true) !== lo || tv.getUint32(4, true) !== hi) {
      // A schema 1 log has no header trailer: a block (or the end) follows the JSON.
      const h = parse();
      const after = tv.getUint32(0, true);
      if (h?.format === 'isosim-log' && h.schema === 1 && (after === BLOCK_MAGIC || after === END_MAGIC)) {
        throw new IsosimError(
          this.where,
          'schema',
          `is 1 (an older isosim wrote it); this isosim reads schema ${LOG_SCHEMA}, whose hash covers every byte`,
          `run the scenario again with this isosim (isosim run SCENARIO --out DIR), or read it with the isosim that wrote it`,
        );
      }
      damaged('header does not match its digest (corrupted)');
    }
    const header = parse();
    if (header === undefined) return damaged('header is not JSON');
    if (header.format !== 'isosim-log') notLog('header format is not isosim-log');
    if (header.schema !== LOG_SCHEMA) {
      throw new IsosimError(
        this.where,
        'schema',
        `is ${String(header.schema)}; this isosim reads schema ${LOG_SCHEMA}`,
        'read it with the isosim that wrote it',
      );
    }
    return header;
  }

  private fill(at: number, length: number): number {
    const view = at === 0 ? this.buf : this.buf.subarray(at);
    const n = this.src.read(view, length);
    this.offset += n;
    return n;
  }

  private damage(offset: number, message: string): LogDamage {
    return { offset, seq: this.seq, message };
  }
}
