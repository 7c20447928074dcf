/**
 * `diffLogs` in one pass: the exact record where two logs part, wherever it falls
 * among the blocks (inside one, on a boundary, in the last partial one), with logs that
 * number their names differently, cut their records into other blocks, or carry other
 * headers; and the same answer as the two-pass implementation it replaced (kept below
 * as the reference) on all of those and on damaged logs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LogDamage,
  LogDamageError,
  type LogDictionary,
  type LogHeader,
  type LogRecord,
  LogWriter,
  logHeader,
} from '@isosim/core';
import { FileSink, scanLog } from '@isosim/core/node';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { diffLogs, type LogDiff } from './diff.ts';
import { type DecodedRecord, decodeRecord } from './replay.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-diff-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------
// The reference: diffLogs as it was before the one-pass rewrite (a 32-bit fingerprint
// per record of A, then B against them, each candidate confirmed on the decoded
// records). Its answers are the specification the new one must keep.

function fingerprint(r: LogRecord, d: LogDictionary): number {
  let h = 0x811c9dc5;
  const mix = (x: number): void => {
    h = Math.imul(h ^ (x | 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(x / 4294967296), 0x01000193);
  };
  const str = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  };
  mix(r.timeNs);
  str(d.typeName(r.type));
  str(d.name(r.source));
  str(d.name(r.target));
  const fields = d.types[r.type]?.fields ?? [];
  for (let i = 0; i < r.fieldCount; i++) {
    if (fields[i]?.endsWith('Name')) str(d.name(r.values[i]));
    else mix(r.values[i]);
  }
  return h >>> 0;
}

function sameDecoded(a: DecodedRecord, b: DecodedRecord): boolean {
  return (
    a.timeNs === b.timeNs &&
    a.type === b.type &&
    a.source === b.source &&
    a.target === b.target &&
    JSON.stringify(a.fields) === JSON.stringify(b.fields)
  );
}

function recordAt(path: string, i: number): DecodedRecord | 'end' | 'damaged' {
  const recs: DecodedRecord[] = [];
  const scan = scanLog(path, {
    onRecord: (r, d) => {
      if (r.seq < i) return undefined;
      recs.push(decodeRecord(r, d));
      return false;
    },
  });
  return recs[0] ?? (scan.complete ? 'end' : 'damaged');
}

function readRange(path: string, from: number, to: number): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  scanLog(path, {
    onRecord: (r, d) => {
      if (r.seq >= to) return false;
      if (r.seq >= from) out.push(decodeRecord(r, d));
      return undefined;
    },
  });
  return out;
}

function referenceDiff(pathA: string, pathB: string, context = 5): LogDiff {
  let prints = new Uint32Array(1 << 16);
  let n = 0;
  const a = scanLog(pathA, {
    onRecord: (r, d) => {
      if (n === prints.length) {
        const bigger = new Uint32Array(prints.length * 2);
        bigger.set(prints);
        prints = bigger;
      }
      prints[n++] = fingerprint(r, d);
      return undefined;
    },
  });
  let at: number | undefined;
  const b = scanLog(pathB, {
    onRecord: (r, d) => {
      if (r.seq >= n) {
        if (a.complete) at = r.seq;
        return false;
      }
      if (prints[r.seq] !== fingerprint(r, d)) {
        at = r.seq;
        return false;
      }
      return undefined;
    },
  });
  const recordsB = b.records;
  if (at === undefined && b.complete && b.records < a.records) at = b.records;
  const damage = {
    ...(a.damage ? { damageA: a.damage } : {}),
    ...(b.damage ? { damageB: b.damage } : {}),
  };
  if (at !== undefined) {
    for (;;) {
      const ra = recordAt(pathA, at);
      const rb = recordAt(pathB, at);
      if (typeof ra === 'object' && typeof rb === 'object') {
        if (!sameDecoded(ra, rb)) break;
        at++;
        continue;
      }
      if (ra === 'damaged' || rb === 'damaged' || ra === rb) at = undefined;
      break;
    }
  }
  const base = { headerA: a.header, headerB: b.header, recordsA: a.records, recordsB };
  if (at === undefined) return { ...base, at, contextA: [], contextB: [], ...damage };
  const from = Math.max(0, at - context);
  return {
    ...base,
    at,
    contextA: readRange(pathA, from, at + context + 1),
    contextB: readRange(pathB, from, at + context + 1),
    ...damage,
  };
}

// ---------------------------------------------------------------------------------
// Logs written for the tests: records by name, numbered as each log likes.

const TYPES: Record<string, readonly string[]> = {
  'a.one': ['x', 'y'],
  'b.two': ['x', 'y', 'z'],
  'c.state': ['stateName'],
  'd.tick': [],
};
const TYPE_NAMES = Object.keys(TYPES);
const STATES = ['idle', 'busy', 'polling', 'masked'];

interface Rec {
  timeNs: number;
  type: string;
  source: string;
  target: string;
  /** Payload; a string is an interned name (the `stateName` field). */
  fields: (number | string)[];
}

/** `n` deterministic records; new names keep appearing, so definitions fall all through the log. */
function sample(n: number, seed = 1): Rec[] {
  let x = seed;
  const next = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  const out: Rec[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += next() % 3000;
    const actors = Math.min(40, 3 + Math.floor(i / 40));
    const type = TYPE_NAMES[next() % TYPE_NAMES.length];
    const fields = TYPES[type].map((f) =>
      f === 'stateName' ? STATES[next() % STATES.length] : (next() % 100_000) - 20_000,
    );
    out.push({
      timeNs: t,
      type,
      source: `actor-${next() % actors}`,
      target: `actor-${next() % actors}`,
      fields,
    });
  }
  return out;
}

interface WriteOptions {
  blockBytes?: number;
  seed?: number;
  /** Number names and types from the top down (and with wider ids) instead of 0, 1, 2, … */
  renumber?: boolean;
  /** Define record `redefineAfter`'s source again, as it was, right after it: other bytes, the same records. */
  redefineAfter?: number;
}

/** Writes `recs` to `name` in the test directory; returns its path. */
function write(name: string, recs: readonly Rec[], options: WriteOptions = {}): string {
  const path = join(dir, `${name}.isolog`);
  const log = new LogWriter(new FileSink(path), logHeader('diff-test', options.seed ?? 1), {
    blockBytes: options.blockBytes ?? 256,
  });
  const names = new Map<string, number>();
  const types = new Map<string, number>();
  const nameId = (s: string): number => {
    let id = names.get(s);
    if (id === undefined) {
      id = options.renumber ? 5000 - names.size * 3 : names.size;
      names.set(s, id);
      log.defineName(id, s);
    }
    return id;
  };
  const typeId = (s: string): number => {
    let id = types.get(s);
    if (id === undefined) {
      id = options.renumber ? 300 - types.size : types.size + 1;
      types.set(s, id);
      log.defineType(id, s, TYPES[s]);
    }
    return id;
  };
  recs.forEach((r, i) => {
    const f = r.fields.map((v) => (typeof v === 'string' ? nameId(v) : v));
    log.append(
      typeId(r.type),
      r.timeNs,
      nameId(r.source),
      nameId(r.target),
      f[0] ?? 0,
      f[1] ?? 0,
      f[2] ?? 0,
      0,
    );
    if (i === options.redefineAfter) log.defineName(nameId(r.source), r.source);
  });
  log.close();
  return path;
}

/** The record number each block starts at, and the total: [0, s1, s2, …, records]. */
function blockStarts(path: string): number[] {
  const bytes = readFileSync(path);
  let off = 12 + bytes.readUInt32LE(8) + 8;
  const starts = [0];
  while (bytes.readUInt32LE(off) === 0x4b4c4249) {
    starts.push(starts[starts.length - 1] + bytes.readUInt32LE(off + 8));
    off += 16 + bytes.readUInt32LE(off + 4) + 8;
  }
  return starts;
}

/** Byte offsets of every block, then of the end block. */
function blockOffsets(path: string): number[] {
  const bytes = readFileSync(path);
  let off = 12 + bytes.readUInt32LE(8) + 8;
  const out: number[] = [];
  while (bytes.readUInt32LE(off) === 0x4b4c4249) {
    out.push(off);
    off += 16 + bytes.readUInt32LE(off + 4) + 8;
  }
  out.push(off);
  return out;
}

/** `recs` with record `k` changed (one field, or its source when it has none). */
function changedAt(recs: readonly Rec[], k: number): Rec[] {
  const copy = recs.map((r) => ({ ...r, fields: [...r.fields] }));
  const r = copy[k];
  if (r.fields.length === 0) r.source = `${r.source}-x`;
  else if (typeof r.fields[0] === 'string') r.fields[0] = `${r.fields[0]}-x`;
  else r.fields[0] = (r.fields[0] as number) + 1;
  return copy;
}

/** The new diff, checked against the reference (damage, counts, context and all). */
function checkedDiff(a: string, b: string, context = 5): LogDiff {
  const got = diffLogs(a, b, context);
  expect(got).toEqual(referenceDiff(a, b, context));
  return got;
}

const N = 2500;
const recs = sample(N);
const base = write('base', recs);
const starts = blockStarts(base);

describe('diffLogs', () => {
  it('finds no difference between two logs of the same records, however they are written', () => {
    expect(starts.length).toBeGreaterThan(40); // many blocks, so boundaries are exercised
    const twin = write('twin', recs);
    expect(readFileSync(twin)).toEqual(readFileSync(base));
    for (const other of [
      twin,
      base, // a log against itself
      write('renumbered', recs, { renumber: true }),
      write('big-blocks', recs, { blockBytes: 4096 }),
      write('other-seed', recs, { seed: 9 }), // another header: another digest chain
      write('renumbered-big', recs, { renumber: true, blockBytes: 1000 }),
    ]) {
      const d = checkedDiff(base, other);
      expect(d.at, other).toBeUndefined();
      expect(d.recordsA).toBe(N);
      expect(d.recordsB).toBe(N);
      expect(d.damageA ?? d.damageB).toBeUndefined();
    }
  });

  it('finds the exact record in the middle of a block, at a boundary, and in the last block', () => {
    const last = starts[starts.length - 2];
    const ks = [
      0,
      1,
      Math.floor((starts[10] + starts[11]) / 2), // inside a block
      starts[20], // first of a block
      starts[21] - 1, // last of a block
      last, // first of the last, partial block
      Math.floor((last + N) / 2),
      N - 1,
    ];
    for (const k of ks) {
      const b = write(`at-${k}`, changedAt(recs, k));
      for (const [x, y] of [
        [base, b],
        [b, base],
      ]) {
        const d = checkedDiff(x, y);
        expect(d.at, `record ${k}`).toBe(k);
        expect(d.recordsB).toBe(k + 1);
        expect(d.contextA.map((r) => r.seq)).toEqual(
          Array.from({ length: Math.min(N, k + 6) - Math.max(0, k - 5) }, (_, i) => Math.max(0, k - 5) + i),
        );
        const ra = d.contextA.find((r) => r.seq === k);
        const rb = d.contextB.find((r) => r.seq === k);
        expect(JSON.stringify(ra)).not.toBe(JSON.stringify(rb));
      }
    }
  });

  it('finds it by name across renumbered dictionaries, other block sizes and other headers', () => {
    const k = starts[30] + 3;
    const changed = changedAt(recs, k);
    for (const [name, options] of [
      ['renumbered', { renumber: true }],
      ['big-blocks', { blockBytes: 3000 }],
      ['other-seed', { seed: 4 }],
    ] as const) {
      const b = write(`at-${k}-${name}`, changed, options);
      expect(checkedDiff(base, b).at, name).toBe(k);
      expect(checkedDiff(b, base).at, name).toBe(k);
    }
  });

  it('goes back to comparing whole blocks once the blocks line up again', () => {
    // A redundant definition in B shifts its block boundaries from there on; find a
    // place where they come back into line with A's a few blocks later.
    const aStarts = new Set(starts);
    let realigned: { b: string; j: number } | undefined;
    for (let m = 10; m < 30 && realigned === undefined; m++) {
      const j = starts[m] + 2;
      const b = write(`redefined-${j}`, recs, { redefineAfter: j });
      const bStarts = blockStarts(b);
      const shifted = bStarts.some((s) => s > j && !aStarts.has(s));
      const again = bStarts.some((s) => s > j + 100 && s < N && aStarts.has(s));
      if (shifted && again) realigned = { b, j };
    }
    expect(realigned).toBeDefined();
    const { b } = realigned as { b: string; j: number };
    expect(checkedDiff(base, b).at).toBeUndefined();
    expect(checkedDiff(b, base).at).toBeUndefined();
    // And a difference after the boundaries line up again is still found exactly.
    const k = N - 30;
    const later = write('redefined-then-changed', changedAt(recs, k), { redefineAfter: realigned?.j });
    expect(checkedDiff(base, later).at).toBe(k);
  });

  it('shows context from blocks before the difference, however wide', () => {
    const k = starts[25] + 1;
    const b = write('wide', changedAt(recs, k));
    for (const context of [0, 1, 40, 200, 5000]) {
      const d = checkedDiff(base, b, context);
      expect(d.contextA[0]?.seq).toBe(Math.max(0, k - context));
      expect(d.contextA.length).toBe(Math.min(N, k + context + 1) - Math.max(0, k - context));
    }
  });

  it('says where a log that is a prefix of the other ends', () => {
    for (const cut of [starts[12], starts[12] + 7, N - 1, 0]) {
      const short = write(`prefix-${cut}`, recs.slice(0, cut));
      const ab = checkedDiff(base, short);
      expect(ab.at).toBe(cut);
      expect(ab.recordsB).toBe(cut);
      expect(ab.contextB.some((r) => r.seq === cut)).toBe(false);
      const ba = checkedDiff(short, base);
      expect(ba.at).toBe(cut);
      expect(ba.recordsA).toBe(cut);
      expect(ba.recordsB).toBe(cut + 1);
    }
  });

  it('reads A to its end for its count and damage, B only as far as the comparison went', () => {
    const k = starts[5] + 2;
    const b = write('early', changedAt(recs, k));
    const bytes = readFileSync(b);
    const late = blockOffsets(b)[40];
    const lateDamage = Buffer.from(bytes);
    lateDamage[late + 20] ^= 0x10;
    const damaged = join(dir, 'early-late-damage.isolog');
    writeFileSync(damaged, lateDamage);
    const ab = checkedDiff(base, damaged);
    expect(ab.at).toBe(k);
    expect(ab.damageB).toBeUndefined(); // past the difference: never read
    const ba = checkedDiff(damaged, base);
    expect(ba.at).toBe(k);
    expect(ba.damageA?.offset).toBe(late);
    expect(ba.recordsA).toBe(blockStarts(b)[40]);
  });
});

describe('diffLogs on damaged logs: as before', () => {
  const bytes = readFileSync(base);
  const offsets = blockOffsets(base);
  const end = offsets[offsets.length - 1];
  const headerEnd = offsets[0];
  const k = starts[20] + 4;
  const differs = write('differs', changedAt(recs, k));

  /** Damaged copies of `base`, by what was done to it. */
  const damaged: [string, Buffer][] = [
    ['cut mid-block', bytes.subarray(0, offsets[10] + 30)],
    ['cut at a boundary', bytes.subarray(0, offsets[21])],
    ['cut before the difference', bytes.subarray(0, offsets[15])],
    ['cut in the end block', bytes.subarray(0, end + 10)],
    ['cut after the last block', bytes.subarray(0, end)],
    ['appended garbage', Buffer.concat([bytes, Buffer.from('garbage')])],
    ['appended copy', Buffer.concat([bytes, bytes])],
  ];
  const flip = (what: string, at: number, bit = 1): void => {
    const bad = Buffer.from(bytes);
    bad[at] ^= bit;
    damaged.push([what, bad]);
  };
  flip('payload byte, early block', offsets[3] + 40);
  flip('payload byte, block of the difference', offsets[20] + 25);
  flip('payload byte, late block', offsets[40] + 17);
  flip('block magic', offsets[8]);
  flip('block length', offsets[9] + 4, 0x40);
  flip('block record count', offsets[11] + 8);
  flip('block trailer', offsets[13] - 3);
  flip('last block', offsets[offsets.length - 2] + 20);
  flip('end reserved word', end + 4);
  flip('end record count', end + 9);
  flip('end digest', end + 20);

  it.each(damaged)('%s', (what, bad) => {
    const path = join(dir, `damaged-${what.replaceAll(' ', '-')}.isolog`);
    writeFileSync(path, bad);
    const good = write('good-twin', recs);
    // A damaged copy of the same records: the damage, never a difference.
    for (const [x, y] of [
      [base, path],
      [path, base],
      [good, path],
    ]) {
      const d = checkedDiff(x, y);
      expect(d.at, `${what}: ${x} vs ${y}`).toBeUndefined();
      expect(d.damageA ?? d.damageB, `${what}: ${x} vs ${y}`).toBeDefined();
    }
    // Against a log that differs: the difference if it comes first, else the damage; never "the same".
    for (const [x, y] of [
      [path, differs],
      [differs, path],
    ]) {
      const d = checkedDiff(x, y);
      expect(d.at !== undefined || (d.damageA ?? d.damageB) !== undefined, `${what}: ${x} vs ${y}`).toBe(
        true,
      );
    }
  });

  it('refuses a damaged header as before, naming the damaged log', () => {
    const bad = Buffer.from(bytes);
    bad[headerEnd - 20] ^= 1;
    const path = join(dir, 'damaged-header.isolog');
    writeFileSync(path, bad);
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    for (const [x, y] of [
      [base, path],
      [path, base],
    ]) {
      const got = thrown(() => diffLogs(x, y));
      expect(got).toBeInstanceOf(LogDamageError);
      expect(String(got)).toBe(String(thrown(() => referenceDiff(x, y))));
      expect((got as LogDamageError).path).toBe(path);
    }
  });

  it('reports the same damage scanLog does', () => {
    for (const [, bad] of damaged) {
      const path = join(dir, 'damaged-scan.isolog');
      writeFileSync(path, bad);
      const scan = scanLog(path);
      const d = diffLogs(path, base);
      expect(d.damageA as LogDamage | undefined).toEqual(scan.damage);
      expect(d.recordsA).toBe(scan.records);
      expect(d.headerA as LogHeader).toEqual(scan.header);
    }
  });
});

describe('diffLogs against the reference on generated pairs', () => {
  it('agrees on logs written, changed and damaged every way at once', () => {
    let n = 0;
    fc.assert(
      fc.property(
        fc.record({
          length: fc.oneof(fc.constant(N), fc.integer({ min: 0, max: N })),
          change: fc.option(fc.integer({ min: 0, max: N - 1 }), { nil: undefined }),
          renumber: fc.boolean(),
          blockBytes: fc.constantFrom(64, 256, 700),
          seed: fc.constantFrom(1, 2),
          damage: fc.option(
            fc.record({ cut: fc.boolean(), at: fc.double({ min: 0.3, max: 1, noNaN: true }) }),
            { nil: undefined },
          ),
          swap: fc.boolean(),
          context: fc.integer({ min: 0, max: 60 }),
        }),
        (g) => {
          const tag = `gen-${n++}`;
          const theirs = recs.slice(0, g.length);
          const changed =
            g.change !== undefined && g.change < g.length ? changedAt(theirs, g.change) : theirs;
          let b = write(tag, changed, { renumber: g.renumber, blockBytes: g.blockBytes, seed: g.seed });
          if (g.damage) {
            const bytes = readFileSync(b);
            const at = Math.floor(bytes.length * g.damage.at) - 1;
            const bad = g.damage.cut ? bytes.subarray(0, at) : Buffer.from(bytes);
            if (!g.damage.cut) bad[at] ^= 4;
            b = join(dir, `${tag}-damaged.isolog`);
            writeFileSync(b, bad);
          }
          const [x, y] = g.swap ? [b, base] : [base, b];
          let want: LogDiff | string;
          try {
            want = referenceDiff(x, y, g.context);
          } catch (err) {
            want = String(err);
          }
          if (typeof want === 'string')
            expect(() => diffLogs(x, y, g.context)).toThrow(want.replace(/^\w+: /, ''));
          else expect(diffLogs(x, y, g.context)).toEqual(want);
        },
      ),
      { seed: 15, numRuns: 80 },
    );
  });
});
