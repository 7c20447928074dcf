import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvariantError, IsosimError } from '../errors.ts';
import { BLOCK_HEADER_BYTES, FILE_MAGIC } from './format.ts';
import { exportJsonl } from './jsonl.ts';
import { LogDictionary, scanLog } from './logReader.ts';
import { LogWriter } from './logWriter.ts';
import { FileSink, MemorySink } from './sink.ts';

const header = { format: 'isosim-log' as const, schema: 1, scenario: { name: 'log' }, seed: 5, versions: {} };
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
    // Find the third block's offset by walking the headers.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    let off = FILE_MAGIC.length + 4 + view.getUint32(FILE_MAGIC.length, true);
    let before = 0;
    for (let b = 0; b < 2; b++) {
      before += view.getUint32(off + 8, true);
      off += BLOCK_HEADER_BYTES + view.getUint32(off + 4, true) + 8;
    }
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
    const headerEnd = FILE_MAGIC.length + 4 + new DataView(bytes.buffer).getUint32(FILE_MAGIC.length, true);
    const full = read(bytes).recs;
    for (let cut = headerEnd; cut < bytes.length; cut++) {
      const { recs, result } = read(bytes.subarray(0, cut));
      expect(result.complete).toBe(false);
      expect(result.damage).toBeDefined();
      expect(recs).toEqual(full.slice(0, recs.length));
    }
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
