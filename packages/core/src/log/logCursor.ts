/**
 * A log read by pulling instead of by callback: `scanSource` drives its caller, so two
 * logs cannot be read side by side with it; a `LogCursor` is driven by its caller, a
 * block or a record at a time, so `diffLogs` can walk two logs in lockstep in one pass
 * with one block of each in memory.
 *
 * It vouches for exactly what `scanSource` vouches for, and reports damage with the
 * same offsets, record numbers and messages: a block's records are handed out only
 * after its trailer matches the running digest and its records and definitions were
 * walked and counted; the end block must agree with everything before it and end the
 * file. The header is read by `scanSource` itself (so its checks, and the errors a bad
 * one throws, are the same by construction).
 *
 * What it adds is the raw block: a caller may compare two blocks' bytes and skip a
 * block whole (`skipRest`, no record decoded), and a block whose bytes and chain state
 * equal a twin's already verified block takes over the twin's checks instead of
 * repeating them (`verifyBlock(twin)`).
 */
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  BLOCK_TRAILER_BYTES,
  DEFINE_NAME,
  DEFINE_TYPE,
  END_BLOCK_BYTES,
  END_MAGIC,
  type LogHeader,
  MAX_FIELDS,
  TAG_DEFINE,
} from './format.ts';
import { blockTrailerWords, RunningHash } from './hash.ts';
import {
  type ByteSource,
  blankRecord,
  type LogDamage,
  LogDictionary,
  type LogRecord,
  type ResumePoint,
  scanSource,
} from './logReader.ts';

const decoder = new TextDecoder();
/** As `scanSource`'s limit: a larger block length is damage, not a reason to allocate. */
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

/** Thrown from `onBlock` to stop `scanSource` once it has read and checked the header. */
const AT_FIRST_BLOCK = Symbol('at the first block');

/**
 * The header, checked by `scanSource`, and where the first block starts with the
 * running digest there. Leaves `src` positioned at the first block.
 */
function readHeader(src: ByteSource, where: string): { header: LogHeader; first: ResumePoint } {
  let header: LogHeader | undefined;
  let first: ResumePoint | undefined;
  const keepOpen: ByteSource = { read: (into, n) => src.read(into, n), seek: (o) => src.seek(o), close() {} };
  try {
    scanSource(keepOpen, where, {
      onHeader: (h) => {
        header = h;
      },
      onBlock: (point) => {
        first = point;
        throw AT_FIRST_BLOCK;
      },
    });
  } catch (err) {
    if (err !== AT_FIRST_BLOCK) throw err;
  }
  // scanSource calls onBlock before it reads anything past the header, so both are set.
  return { header: header as LogHeader, first: first as ResumePoint };
}

/** Where `varint` left off: a module variable keeps the hot loops free of allocations. */
let pos = 0;

/** LEB128 at `pos` in `b`, exactly as `scanSource` reads it (up to 2^53; NaN if forged). */
function varint(b: Uint8Array): number {
  let byte = b[pos++];
  if (byte < 0x80) return byte;
  let x = byte & 0x7f;
  let shift = 7;
  for (;;) {
    byte = b[pos++];
    if (shift < 28) x |= (byte & 0x7f) << shift;
    else x += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return x;
    shift += 7;
    if (shift > 63) return Number.NaN;
  }
}

/** Steps over a string at `pos` (its length first: read it before moving `pos`). */
function skipString(b: Uint8Array): void {
  const len = varint(b);
  pos += len;
}

/** The same bytes in `a[from, to)` and `b[from, to)`; both views start at offset 0 of their buffers. */
function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  // Word by word where both are 4-aligned (blocks sit at offset 0 of their buffers).
  let i = from;
  if (a.byteOffset === 0 && b.byteOffset === 0 && (from & 3) === 0) {
    const wa = new Uint32Array(a.buffer, 0, to >>> 2);
    const wb = new Uint32Array(b.buffer, 0, to >>> 2);
    for (let w = from >>> 2; w < wa.length; w++) if (wa[w] !== wb[w]) return false;
    i = wa.length << 2;
  }
  for (; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameState(x: RunningHash, y: RunningHash): boolean {
  const sx = x.save();
  const sy = y.save();
  for (let i = 0; i < sx.length; i++) if (sx[i] !== sy[i]) return false;
  return true;
}

/**
 * A log read by pulling: `readBlock` then `verifyBlock` for each block, then its records
 * one by one (`nextRecord`) or all at once unread (`skipRest`). `openLogCursor(path)` in
 * `@isosim/core/node` opens a file.
 */
export class LogCursor {
  readonly header: LogHeader;
  /** The log's definitions so far: those of every verified block. */
  readonly dictionary = new LogDictionary();
  /** Records taken (read or skipped): the number of the next record. */
  seq = 0;
  /** The time of the last record taken (records carry the time since it). */
  timeNs = 0;
  /** Definitions read so far: the dictionary changed if and only if this grew. */
  definitionsRead = 0;
  /** True once the end block was read, agreed with everything before it, and ended the file. */
  complete = false;
  /** Where the log is damaged, once a read reached it. */
  damage: LogDamage | undefined;

  private buf = new Uint8Array(256 * 1024);
  /** File offset of the next byte to read. */
  private offset: number;
  private finished = false;
  /** Records in verified blocks: every record before the current block's end. */
  private verified = 0;
  /** The current block: where it starts, its counts, and the time before and after it. */
  private blockOffset = 0;
  private blockSeq = 0;
  private payloadBytes = 0;
  private blockRecords = 0;
  private blockDefinitions = 0;
  private blockStartNs = 0;
  private blockEndNs = 0;
  /** Records of the current block not yet taken, and where the next one starts in `buf`. */
  private left = 0;
  private p = 0;
  /** The running digest before the current block, and after it once it is verified. */
  private before: RunningHash;
  private hash: RunningHash;
  private readonly fieldCounts: number[] = [];
  private readonly record = blankRecord();

  /**
   * Reads and checks the header of the log in `src` (named `where` in errors); throws
   * as `scanSource` does for a file that is not a log or a damaged header, closing
   * `src`. Otherwise the cursor owns `src`: `close()` it.
   */
  constructor(
    private readonly src: ByteSource,
    where: string,
  ) {
    try {
      const { header, first } = readHeader(src, where);
      this.header = header;
      this.offset = first.offset;
      this.hash = RunningHash.restore(first.hash);
      this.before = this.hash;
    } catch (err) {
      src.close();
      throw err;
    }
  }

  close(): void {
    this.src.close();
  }

  /** True when every record of the current block was taken (or there is none). */
  get atBlockEnd(): boolean {
    return this.left === 0;
  }

  /** Where the current block starts, and the state there: for `scanSource`'s `start`. */
  blockStart(): ResumePoint {
    return {
      offset: this.blockOffset,
      seq: this.blockSeq,
      timeNs: this.blockStartNs,
      hash: this.before.save(),
    };
  }

  /**
   * Reads the next block's bytes, unchecked (call `verifyBlock` before taking a record).
   * False at the end of the log (then `complete` says whether the end block vouched for
   * it) or at damage (`damage`). Call it only when the current block is taken whole.
   */
  readBlock(): boolean {
    if (this.finished) return false;
    const at = this.offset;
    const got = this.fill(0, BLOCK_HEADER_BYTES);
    if (got === 0) return this.fail(at, 'log ends without its end block (truncated)');
    if (got < 4) return this.fail(at, 'truncated block header');
    const v = new DataView(this.buf.buffer, 0, BLOCK_HEADER_BYTES);
    const magic = v.getUint32(0, true);
    if (magic === END_MAGIC) return this.readEnd(got, at);
    if (magic !== BLOCK_MAGIC) return this.fail(at, 'bad block magic');
    if (got < BLOCK_HEADER_BYTES) return this.fail(at, 'truncated block header');
    const payload = v.getUint32(4, true);
    if (payload === 0 || payload > MAX_BLOCK_BYTES) return this.fail(at, 'bad block length');
    const need = BLOCK_HEADER_BYTES + payload + BLOCK_TRAILER_BYTES;
    if (this.buf.length < need) {
      const bigger = new Uint8Array(need * 2);
      bigger.set(this.buf.subarray(0, BLOCK_HEADER_BYTES));
      this.buf = bigger;
    }
    const rest = payload + BLOCK_TRAILER_BYTES;
    if (this.fill(BLOCK_HEADER_BYTES, rest) < rest) return this.fail(at, 'truncated block');
    this.blockOffset = at;
    this.blockSeq = this.verified;
    this.payloadBytes = payload;
    this.blockRecords = v.getUint32(8, true);
    this.blockDefinitions = v.getUint32(12, true);
    this.blockStartNs = this.timeNs;
    this.before = this.hash;
    return true;
  }

  /**
   * True if the block just read has the same counts and payload as `other`'s: the same
   * records and definitions, in the same encoding (which means the same records only
   * where the two dictionaries agree).
   */
  samePayload(other: LogCursor): boolean {
    const end = BLOCK_HEADER_BYTES + this.payloadBytes;
    return this.payloadBytes === other.payloadBytes && sameBytes(this.buf, other.buf, 4, end);
  }

  /**
   * Checks the block just read as `scanSource` does (its trailer against the running
   * digest, then a walk over its records and definitions that must match its counts)
   * and applies its definitions. False, with `damage` at the block, if it fails: none
   * of its records is then handed out.
   *
   * `twin`: a cursor whose current block was verified, has the same payload
   * (`samePayload`) and was read with a dictionary that agreed with this one. Where the
   * check cannot come out otherwise, its result carries over instead of being redone:
   * the digest when the whole block and the digest before it are the same, the walk
   * when the block defines nothing.
   */
  verifyBlock(twin?: LogCursor): boolean {
    const payloadEnd = BLOCK_HEADER_BYTES + this.payloadBytes;
    const blockEnd = payloadEnd + BLOCK_TRAILER_BYTES;
    if (twin && sameState(this.before, twin.before) && sameBytes(this.buf, twin.buf, payloadEnd, blockEnd)) {
      this.hash = twin.hash;
    } else {
      const next = this.before.clone();
      next.update(this.buf, BLOCK_HEADER_BYTES, payloadEnd);
      const [lo, hi] = blockTrailerWords(next, this.payloadBytes, this.blockRecords, this.blockDefinitions);
      const tv = new DataView(this.buf.buffer, payloadEnd, BLOCK_TRAILER_BYTES);
      if (tv.getUint32(0, true) !== lo || tv.getUint32(4, true) !== hi) {
        return this.fail(this.blockOffset, 'block digest does not match (corrupted)');
      }
      this.hash = next;
    }
    if (twin && this.blockDefinitions === 0) {
      this.blockEndNs = this.blockStartNs + (twin.blockEndNs - twin.blockStartNs);
    } else {
      const problem = this.walk();
      if (problem !== undefined) {
        // The digest matched, so only a writer bug or a forgery gets here: vouch for none of it.
        this.hash = this.before;
        return this.fail(this.blockOffset, problem);
      }
    }
    this.verified += this.blockRecords;
    this.left = this.blockRecords;
    this.p = BLOCK_HEADER_BYTES;
    return true;
  }

  /** Takes the rest of the current, verified block without decoding it. */
  skipRest(): void {
    if (this.left === 0) return;
    this.seq += this.left;
    this.timeNs = this.blockEndNs;
    this.left = 0;
  }

  /**
   * The next record of the current block (a reused object: copy what you keep), or
   * undefined when the block is taken whole.
   */
  nextRecord(): LogRecord | undefined {
    if (this.left === 0) return undefined;
    const b = this.buf;
    const rec = this.record;
    pos = this.p;
    let tag = varint(b);
    while (tag === TAG_DEFINE) {
      this.skipDefinition();
      tag = varint(b);
    }
    const n = this.fieldCounts[tag];
    this.timeNs += varint(b);
    rec.seq = this.seq;
    rec.timeNs = this.timeNs;
    rec.type = tag;
    rec.source = varint(b);
    rec.target = varint(b);
    rec.fieldCount = n;
    for (let i = 0; i < n; i++) {
      const z = varint(b);
      rec.values[i] = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    this.p = pos;
    this.seq++;
    this.left--;
    return rec;
  }

  /**
   * `scanSource`'s decode without the records: counts them and the definitions, applies
   * the definitions, and finds the time of the block's last record. A message if the
   * block does not hold what its header says.
   */
  private walk(): string | undefined {
    const b = this.buf;
    const base = BLOCK_HEADER_BYTES;
    const end = base + this.payloadBytes;
    const counts = this.fieldCounts;
    let t = this.blockStartNs;
    let seen = 0;
    let defined = 0;
    pos = base;
    while (pos < end) {
      const tag = varint(b);
      if (tag === TAG_DEFINE) {
        if (!this.readDefinition()) return `bad definition at block offset ${pos - base}`;
        defined++;
        continue;
      }
      const n = counts[tag];
      if (n === undefined) return `record uses undefined type ${tag} at block offset ${pos - base}`;
      t += varint(b);
      // Source, target and the fields: skipped, not decoded.
      for (let i = n + 2; i > 0; i--) while (b[pos++] >= 0x80);
      seen++;
    }
    if (pos !== end) return `last record runs past the block's end by ${pos - end} bytes`;
    if (seen !== this.blockRecords)
      return `block holds ${seen} records, its header says ${this.blockRecords}`;
    if (defined !== this.blockDefinitions)
      return `block holds ${defined} definitions, its header says ${this.blockDefinitions}`;
    this.blockEndNs = t;
    return undefined;
  }

  /** A definition at `pos`, into the dictionary; false if it is malformed. */
  private readDefinition(): boolean {
    const b = this.buf;
    const kind = b[pos++];
    const id = varint(b);
    const name = this.string();
    if (kind === DEFINE_NAME) {
      this.dictionary.names[id] = name;
      this.definitionsRead++;
      return true;
    }
    if (kind !== DEFINE_TYPE) return false;
    const nf = varint(b);
    if (nf > MAX_FIELDS) return false;
    const fields: string[] = [];
    for (let i = 0; i < nf; i++) fields.push(this.string());
    this.dictionary.types[id] = { name, fields };
    this.fieldCounts[id] = nf;
    this.definitionsRead++;
    return true;
  }

  /** Steps over a definition at `pos` (the walk applied it already). */
  private skipDefinition(): void {
    const b = this.buf;
    const kind = b[pos++];
    varint(b);
    skipString(b);
    if (kind === DEFINE_TYPE) for (let nf = varint(b); nf > 0; nf--) skipString(b);
  }

  private string(): string {
    const len = varint(this.buf);
    const at = pos;
    pos += len;
    return decoder.decode(this.buf.subarray(at, at + len));
  }

  /** The end block: it must agree with the records and the digest, and end the file. */
  private readEnd(got: number, at: number): boolean {
    if (got < END_BLOCK_BYTES && this.fill(got, END_BLOCK_BYTES - got) + got < END_BLOCK_BYTES) {
      return this.fail(at, 'truncated end block');
    }
    const v = new DataView(this.buf.buffer, 0, END_BLOCK_BYTES);
    if (v.getUint32(4, true) !== 0) return this.fail(at, "end block's reserved word is not 0 (corrupted)");
    const [lo, hi] = this.hash.digestWords();
    if (
      v.getFloat64(8, true) !== this.verified ||
      v.getUint32(16, true) !== lo ||
      v.getUint32(20, true) !== hi
    ) {
      return this.fail(at, 'end block disagrees with the records (corrupted)');
    }
    const end = this.offset;
    let extra = 0;
    for (let n = this.fill(0, this.buf.length); n > 0; n = this.fill(0, this.buf.length)) extra += n;
    if (extra > 0) {
      return this.fail(
        end,
        `${extra} byte${extra === 1 ? '' : 's'} after the end block (appended to the log)`,
      );
    }
    this.finished = true;
    this.complete = true;
    return false;
  }

  /** Records the damage (records before it: every verified one); always false. */
  private fail(offset: number, message: string): false {
    this.finished = true;
    this.damage = { offset, seq: this.verified, message };
    return false;
  }

  private fill(at: number, length: number): number {
    const n = this.src.read(at === 0 ? this.buf : this.buf.subarray(at), length);
    this.offset += n;
    return n;
  }
}
