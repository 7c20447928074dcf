import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvariantError, IsosimError } from '../errors.ts';
import { FileSink, scanLog } from '../node.ts';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_TRAILER_BYTES,
  END_BLOCK_BYTES,
  FILE_MAGIC,
  type LogHeader,
} from './format.ts';
import { RunningHash } from './hash.ts';
import { exportJsonl } from './jsonl.ts';
import { LogDamageError, LogDictionary } from './logReader.ts';
import { LogWriter } from './logWriter.ts';
import { MemorySink } from './sink.ts';

const header: LogHeader = {
  format: 'isosim-log',
  schema: 1,
  scenario: { name: 'log' },
  seed: 5,
  versions: {},
};
type Rec = [number, number, number, number, number[]];

/** A deterministic sample of records: several types and names, negative and large payloads. */
function sample(n: number): Rec[] {
  const out: Rec[] = [];
  let t = 0;
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < n; i++) {
    t += next() % 5000;
    const type = 1 + (next() % 3);
    const fields = [next() % 1000, -(next() % 100_000), 2 ** 51 - (next() % 1000), next() % 7].slice(
      0,
      type + 1,
    );
    out.push([type, t, next() % 4, next() % 4, fields]);
  }
  return out;
}

function write(records: Rec[], blockBytes?: number): { bytes: Uint8Array; digest: string } {
  const sink = new MemorySink();
  const log = new LogWriter(sink, header, { blockBytes });
  for (let i = 0; i < 4; i++) log.defineName(i, `actor-${i}`);
  log.defineType(1, 'a.one', ['x', 'y']);
  log.defineType(2, 'b.two', ['x', 'y', 'z']);
  log.defineType(3, 'c.three', ['x', 'y', 'z', 'w']);
  for (const [type, t, s, d, f] of records)
    log.append(type, t, s, d, f[0] ?? 0, f[1] ?? 0, f[2] ?? 0, f[3] ?? 0);
  const { digest } = log.close();
  return { bytes: sink.bytes(), digest };
}

/** Where the first block starts: after the magic, the header and the header's trailer. */
function headerEnd(bytes: Uint8Array): number {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(FILE_MAGIC.length, true);
  return FILE_MAGIC.length + 4 + len + BLOCK_TRAILER_BYTES;
}

/** Byte offsets of every block, and of the end block (last). */
function blockOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out: number[] = [];
  let off = headerEnd(bytes);
  while (off + BLOCK_HEADER_BYTES <= bytes.length && view.getUint32(off, true) === 0x4b4c4249) {
    out.push(off);
    off += BLOCK_HEADER_BYTES + view.getUint32(off + 4, true) + BLOCK_TRAILER_BYTES;
  }
  out.push(off);
  return out;
}

function read(bytes: Uint8Array): { recs: Rec[]; result: ReturnType<typeof scanLog> } {
  const recs: Rec[] = [];
  const result = scanLog(bytes, {
    onRecord(r) {
      recs.push([r.type, r.timeNs, r.source, r.target, Array.from(r.values.subarray(0, r.fieldCount))]);
      return undefined;
    },
  });
  return { recs, result };
}

describe('the event log', () => {
  const records = sample(3000);

  it('reads back every record exactly, across many blocks', () => {
    const { bytes, digest } = write(records, 64);
    const { recs, result } = read(bytes);
    expect(result.damage).toBeUndefined();
    expect(result.complete).toBe(true);
    expect(result.digest).toBe(digest);
    expect(recs).toEqual(records.map(([ty, t, s, d, f]) => [ty, t, s, d, f.slice(0, ty + 1)]));
  });

  it('has a digest that depends on the records, not on block size', () => {
    const small = write(records, 64);
    const large = write(records, 65_536);
    expect(small.digest).toBe(large.digest);
    expect(write(records, 64).bytes).toEqual(small.bytes);
    const changed = records.map((r) => [...r] as Rec);
    changed[1500][4] = [...changed[1500][4]];
    changed[1500][4][0]++;
    expect(write(changed, 64).digest).not.toBe(small.digest);
  });

  it('takes few bytes per record', () => {
    const { bytes } = write(records);
    expect(bytes.length / records.length).toBeLessThan(20);
  });

  it('reports a corrupted block with its offset, after delivering every record before it', () => {
    const { bytes } = write(records, 256);
    // The third block's offset, and the records of the two before it.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const blocks = blockOffsets(bytes);
    const off = blocks[2];
    const before = view.getUint32(blocks[0] + 8, true) + view.getUint32(blocks[1] + 8, true);
    const bad = bytes.slice();
    bad[off + BLOCK_HEADER_BYTES + 5] ^= 0x40;
    const { recs, result } = read(bad);
    expect(result.complete).toBe(false);
    expect(result.damage?.offset).toBe(off);
    expect(result.damage?.seq).toBe(before);
    expect(recs.length).toBe(before);
  });

  it('never throws or delivers a wrong record when truncated anywhere', () => {
    const short = sample(60);
    const { bytes } = write(short, 128);
    const full = read(bytes).recs;
    for (let cut = headerEnd(bytes); cut < bytes.length; cut++) {
      const { recs, result } = read(bytes.subarray(0, cut));
      expect(result.complete).toBe(false);
      expect(result.damage).toBeDefined();
      expect(recs).toEqual(full.slice(0, recs.length));
    }
  });

  it('has a digest that covers the header too', () => {
    const sink = new MemorySink();
    const log = new LogWriter(sink, { ...header, seed: 6 });
    for (let i = 0; i < 4; i++) log.defineName(i, `actor-${i}`);
    log.defineType(1, 'a.one', ['x', 'y']);
    log.defineType(2, 'b.two', ['x', 'y', 'z']);
    log.defineType(3, 'c.three', ['x', 'y', 'z', 'w']);
    for (const [type, t, s, d, f] of records)
      log.append(type, t, s, d, f[0] ?? 0, f[1] ?? 0, f[2] ?? 0, f[3] ?? 0);
    expect(log.close().digest).not.toBe(write(records).digest);
    // The same header with its keys in another order is the same bytes (resim rebuilds it).
    const digestOf = (h: typeof header): string => {
      const w = new LogWriter(new MemorySink(), h);
      w.defineType(1, 't', ['x']);
      w.append(1, 1, 0, 0, 1, 0, 0, 0);
      return w.close().digest;
    };
    const reordered: LogHeader = {
      versions: {},
      seed: 5,
      scenario: { spec: { b: 1, a: 2 }, name: 'log' },
      schema: 1,
      format: 'isosim-log' as const,
    };
    expect(digestOf(reordered)).toBe(
      digestOf({ ...header, scenario: { name: 'log', spec: { a: 2, b: 1 } } }),
    );
    expect(digestOf(reordered)).not.toBe(
      digestOf({ ...header, scenario: { name: 'log', spec: { a: 2, b: 2 } } }),
    );
  });

  it('covers every byte: any bit flipped anywhere is reported at or before it, and nothing after it is read', () => {
    const short = sample(40);
    const { bytes } = write(short, 96);
    const full = read(bytes).recs;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const blocks = blockOffsets(bytes);
    // Records whose block (trailer included) ends at or before byte `pos`.
    const soundBefore = (pos: number): number => {
      let n = 0;
      for (const b of blocks.slice(0, -1)) {
        const end = b + BLOCK_HEADER_BYTES + view.getUint32(b + 4, true) + BLOCK_TRAILER_BYTES;
        if (end <= pos) n += view.getUint32(b + 8, true);
      }
      return n;
    };
    expect(blocks.length).toBeGreaterThan(4);
    for (let pos = 0; pos < bytes.length; pos++) {
      for (const bit of [0x01, 0x80]) {
        const bad = bytes.slice();
        bad[pos] ^= bit;
        const where = `bit ${bit} of byte ${pos}`;
        if (pos < FILE_MAGIC.length) {
          expect(() => read(bad), where).toThrow(/not an isosim log/);
          continue;
        }
        let got: ReturnType<typeof read>;
        try {
          got = read(bad);
        } catch (err) {
          expect(err, where).toBeInstanceOf(LogDamageError);
          expect((err as LogDamageError).damage.offset, where).toBeLessThanOrEqual(pos);
          expect((err as LogDamageError).damage.seq, where).toBe(0);
          continue;
        }
        const { recs, result } = got;
        expect(result.complete, where).toBe(false);
        expect(result.damage?.offset, where).toBeLessThanOrEqual(pos);
        expect(recs.length, where).toBe(result.damage?.seq);
        expect(recs.length, where).toBeLessThanOrEqual(soundBefore(pos));
        expect(recs, where).toEqual(full.slice(0, recs.length));
      }
    }
  });

  it("reports a header edited in place, a block header's counts, the end block's reserved word", () => {
    const { bytes } = write(records, 256);
    const text = new TextDecoder().decode(bytes.subarray(12, headerEnd(bytes) - BLOCK_TRAILER_BYTES));
    // Same length, still JSON: a renamed scenario.
    const renamed = bytes.slice();
    renamed.set(new TextEncoder().encode(text.replace('"name":"log"', '"name":"lag"')), 12);
    expect(() => read(renamed)).toThrow(LogDamageError);
    expect(() => read(renamed)).toThrow(/damaged at byte 8: header does not match its digest/);
    // JSON Lines of it: nothing written, an earlier file left as it was.
    const out = join(mkdtempSync(join(tmpdir(), 'isosim-log-')), 'out.jsonl');
    writeFileSync(out, 'earlier export');
    expect(() => exportJsonl(renamed, out)).toThrow(LogDamageError);
    expect(readFileSync(out, 'utf8')).toBe('earlier export');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const blocks = blockOffsets(bytes);
    const before = view.getUint32(blocks[0] + 8, true);
    for (const field of [8, 12]) {
      const bad = bytes.slice();
      const bv = new DataView(bad.buffer);
      bv.setUint32(blocks[1] + field, bv.getUint32(blocks[1] + field, true) + 1, true);
      const { recs, result } = read(bad);
      expect(result.damage).toEqual({
        offset: blocks[1],
        seq: before,
        message: 'block digest does not match (corrupted)',
      });
      expect(recs.length).toBe(before);
    }
    const end = blocks[blocks.length - 1];
    const reserved = bytes.slice();
    reserved[end + 4] = 1;
    const r = read(reserved);
    expect(r.result.damage?.offset).toBe(end);
    expect(r.result.damage?.message).toMatch(/reserved word/);
    expect(r.recs.length).toBe(records.length);
  });

  it('reports bytes after the end block: garbage, or a second copy of the log', () => {
    const { bytes } = write(records, 256);
    for (const extra of [Uint8Array.of(0), new TextEncoder().encode('garbage\n'), bytes]) {
      const long = new Uint8Array(bytes.length + extra.length);
      long.set(bytes);
      long.set(extra, bytes.length);
      const { recs, result } = read(long);
      expect(result.complete).toBe(false);
      expect(result.damage).toEqual({
        offset: bytes.length,
        seq: records.length,
        message: `${extra.length} byte${extra.length === 1 ? '' : 's'} after the end block (appended to the log)`,
      });
      expect(recs.length).toBe(records.length);
    }
  });

  it('refuses a schema 1 log with a clear error, and writes schema 2 whatever the header says', () => {
    const { bytes } = write(records, 256);
    expect(read(bytes).result.header.schema).toBe(2);
    // Rebuild the same records as schema 1 wrote them: no header trailer, payload-only chain.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const jsonEnd = headerEnd(bytes) - BLOCK_TRAILER_BYTES;
    const json = new TextDecoder().decode(bytes.subarray(12, jsonEnd)).replace('"schema":2', '"schema":1');
    const parts: Uint8Array[] = [bytes.subarray(0, 12), new TextEncoder().encode(json)];
    const h = new RunningHash();
    const blocks = blockOffsets(bytes);
    for (const b of blocks.slice(0, -1)) {
      const payload = view.getUint32(b + 4, true);
      const block = bytes.slice(b, b + BLOCK_HEADER_BYTES + payload + BLOCK_TRAILER_BYTES);
      h.update(block, BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + payload);
      const [lo, hi] = h.digestWords();
      new DataView(block.buffer).setUint32(BLOCK_HEADER_BYTES + payload, lo, true);
      new DataView(block.buffer).setUint32(BLOCK_HEADER_BYTES + payload + 4, hi, true);
      parts.push(block);
    }
    const end = bytes.slice(blocks[blocks.length - 1]);
    expect(end.length).toBe(END_BLOCK_BYTES);
    const [lo, hi] = h.digestWords();
    new DataView(end.buffer).setUint32(16, lo, true);
    new DataView(end.buffer).setUint32(20, hi, true);
    parts.push(end);
    const old = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      old.set(p, off);
      off += p.length;
    }
    expect(() => read(old)).toThrow(IsosimError);
    expect(() => read(old)).not.toThrow(LogDamageError);
    expect(() => read(old)).toThrow(/schema: is 1 \(an older isosim wrote it\); this isosim reads schema 2/);
  });

  it('refuses non-integer payloads and time going backwards', () => {
    const log = new LogWriter(new MemorySink(), header);
    log.defineType(1, 't', ['x']);
    log.append(1, 10, 0, 0, 1, 0, 0, 0);
    expect(() => log.append(1, 11, 0, 0, 1.5, 0, 0, 0)).toThrow(InvariantError);
    expect(() => log.append(1, 11, 0, 0, 2 ** 53, 0, 0, 0)).toThrow(InvariantError);
    expect(() => log.append(1, 9, 0, 0, 1, 0, 0, 0)).toThrow(/before/);
    expect(() => log.append(2, 12, 0, 0, 1, 0, 0, 0)).toThrow(/before it was defined/);
  });

  it('exports JSON Lines with named fields, and the file sink only replaces the target on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-log-'));
    const path = join(dir, 'run.isolog');
    writeFileSync(path, 'previous good log');
    const log = new LogWriter(new FileSink(path), header);
    log.defineName(0, 'src');
    log.defineName(1, 'idle');
    log.defineType(1, 'xstate.state', ['stateName']);
    log.defineType(2, 'evt', ['a', 'b']);
    log.append(1, 0, 0, 0, 1, 0, 0, 0);
    log.append(2, 5, 0, 0, -3, 4, 0, 0);
    expect(readFileSync(path, 'utf8')).toBe('previous good log');
    expect(existsSync(`${path}.partial`)).toBe(true);
    const { digest } = log.close();
    expect(existsSync(`${path}.partial`)).toBe(false);
    const out = join(dir, 'run.jsonl');
    exportJsonl(path, out);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].header.seed).toBe(5);
    expect(lines[1]).toEqual({
      seq: 0,
      timeNs: 0,
      source: 'src',
      target: 'src',
      type: 'xstate.state',
      payload: { stateName: 'idle' },
    });
    expect(lines[2].payload).toEqual({ a: -3, b: 4 });
    expect(lines[3].end).toEqual({ records: 2, digest, complete: true });
  });

  it('throws IsosimError for a missing file or one that is not a log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-log-'));
    expect(() => scanLog(join(dir, 'nope.isolog'))).toThrow(IsosimError);
    writeFileSync(join(dir, 'x.txt'), 'not a log at all, not at all');
    expect(() => scanLog(join(dir, 'x.txt'))).toThrow(/not an isosim log/);
    const dict = new LogDictionary();
    expect(dict.name(3)).toBe('#3');
  });
});
