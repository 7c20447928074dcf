/**
 * A `LogCursor` vouches for what `scanSource` vouches for: the same records, the same
 * damage (offset, record number, message) wherever a log is cut or a bit flipped,
 * whether records are read one by one or blocks skipped whole.
 */
import { describe, expect, it } from 'vitest';
import { logHeader } from './format.ts';
import { LogCursor } from './logCursor.ts';
import { type LogDamage, LogDamageError, memorySource, scanBytes } from './logReader.ts';
import { LogWriter } from './logWriter.ts';
import { MemorySink } from './sink.ts';

/** A log of `n` records over three types and a growing set of names, in small blocks. */
function sampleLog(n: number): Uint8Array {
  const sink = new MemorySink();
  const log = new LogWriter(sink, logHeader('cursor', 2), { blockBytes: 120 });
  log.defineType(1, 'a.one', ['x']);
  log.defineType(2, 'b.two', ['x', 'y']);
  log.defineType(3, 'c.none', []);
  let x = 7;
  const next = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  let t = 0;
  let names = 0;
  for (let i = 0; i < n; i++) {
    if (i % 25 === 0) log.defineName(names, `actor-${names++}`);
    t += next() % 2000;
    log.append(1 + (next() % 3), t, next() % names, next() % names, next() - 2 ** 23, next(), 0, 0);
  }
  log.close();
  return sink.bytes();
}

interface Read {
  records: string[];
  count: number;
  complete: boolean;
  damage: LogDamage | undefined;
}

/** What scanBytes delivers: each record as text, the count, completeness, damage. */
function byScan(bytes: Uint8Array): Read {
  const records: string[] = [];
  const r = scanBytes(bytes, {
    onRecord: (rec, d) => {
      records.push(
        `${rec.seq} ${rec.timeNs} ${d.typeName(rec.type)} ${d.name(rec.source)} ${d.name(rec.target)} ${[...rec.values.subarray(0, rec.fieldCount)]}`,
      );
      return undefined;
    },
  });
  return { records, count: r.records, complete: r.complete, damage: r.damage };
}

/** The same through a cursor: every other block skipped whole when `skip`, its records not read. */
function byCursor(bytes: Uint8Array, skip: boolean): Read {
  const c = new LogCursor(memorySource(bytes), '<memory>');
  const records: string[] = [];
  const d = c.dictionary;
  for (let block = 0; c.readBlock() && c.verifyBlock(); block++) {
    if (skip && block % 2 === 1) {
      c.skipRest();
      continue;
    }
    for (let rec = c.nextRecord(); rec; rec = c.nextRecord())
      records.push(
        `${rec.seq} ${rec.timeNs} ${d.typeName(rec.type)} ${d.name(rec.source)} ${d.name(rec.target)} ${[...rec.values.subarray(0, rec.fieldCount)]}`,
      );
  }
  return { records, count: c.seq, complete: c.complete, damage: c.damage };
}

const bytes = sampleLog(600);
const whole = byScan(bytes);

describe('LogCursor', () => {
  it('reads what scanBytes reads, record by record or skipping blocks', () => {
    expect(whole.complete).toBe(true);
    expect(byCursor(bytes, false)).toEqual(whole);
    const skipping = byCursor(bytes, true);
    expect(skipping.count).toBe(whole.count);
    expect(skipping.complete).toBe(true);
    // The records read are those scanBytes gives at their numbers, times included.
    const bySeq = new Map(whole.records.map((r) => [r.split(' ')[0], r]));
    for (const r of skipping.records) expect(r).toBe(bySeq.get(r.split(' ')[0]));
  });

  it('reports the damage scanBytes reports wherever the log is cut or a bit flipped', () => {
    const cuts: number[] = [];
    for (let at = 8; at < bytes.length; at += 29) cuts.push(at);
    const flips: number[] = [];
    for (let at = 0; at < bytes.length; at += 11) flips.push(at);
    const cases = [
      ...cuts.map((at) => bytes.subarray(0, at)),
      ...flips.map((at) => {
        const bad = Uint8Array.from(bytes);
        bad[at] ^= 1 << (at % 8);
        return bad;
      }),
      Uint8Array.from([...bytes, 0]),
    ];
    for (const bad of cases) {
      let scanned: Read | Error;
      try {
        scanned = byScan(bad);
      } catch (err) {
        scanned = err as Error;
      }
      if (scanned instanceof Error) {
        expect(() => byCursor(bad, false)).toThrow(scanned.message);
        if (scanned instanceof LogDamageError) expect(() => byCursor(bad, false)).toThrow(LogDamageError);
        continue;
      }
      expect(byCursor(bad, false)).toEqual(scanned);
      const skipping = byCursor(bad, true);
      expect(skipping.damage).toEqual(scanned.damage);
      expect(skipping.count).toBe(scanned.count);
    }
  });

  it('takes over a twin block’s checks only where they cannot come out otherwise', () => {
    const a = new LogCursor(memorySource(bytes), 'a');
    const bad = Uint8Array.from(bytes);
    // The trailer of the first block: A's check must not carry over to it.
    const first = 12 + new DataView(bad.buffer).getUint32(8, true) + 8;
    const payload = new DataView(bad.buffer).getUint32(first + 4, true);
    bad[first + 16 + payload + 2] ^= 1;
    const b = new LogCursor(memorySource(bad), 'b');
    expect(a.readBlock() && b.readBlock()).toBe(true);
    expect(b.samePayload(a)).toBe(true);
    expect(a.verifyBlock()).toBe(true);
    expect(b.verifyBlock(a)).toBe(false);
    expect(b.damage?.message).toBe('block digest does not match (corrupted)');
  });
});
