/**
 * Log damage, fuzzed: random bit flips and overwrites (anywhere, and aimed at the
 * header, the block headers, the trailers and the end block), truncation, and bytes
 * appended after the end, against every reader of a log. Each must report the damage
 * with a byte offset at or before the first damaged byte, and build nothing from the
 * bytes past it: records read are the original's, replay states are the original's
 * states at the same record, exports end with the last sound record. A few CLI spot
 * checks run the commands as a user would.
 *
 * fast-check with a fixed seed and a modest run count (ISOSIM_FUZZ_RUNS to change it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenSystem } from '@isosim/actors';
import {
  IsosimError,
  Kernel,
  type LogDamage,
  LogDamageError,
  type LogDictionary,
  type LogRecord,
  LogWriter,
  logHeader,
} from '@isosim/core';
import { exportJsonl, FileSink, scanLog } from '@isosim/core/node';
import { diffLogs, exportPerfetto, exportXentrace, Replay, stateTimeline } from '@isosim/replay';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../packages/scenarios/src/load.ts';
import { toSystemConfig } from '../packages/scenarios/src/toConfig.ts';
import { VERSIONS } from '../packages/scenarios/src/versions.ts';
import { BIN, isosim } from './isosim.ts';

/** A record as comparable text: time, type, source, target and payload. */
function recordKey(r: LogRecord, d: LogDictionary): string {
  return JSON.stringify([
    r.timeNs,
    d.typeName(r.type),
    d.name(r.source),
    d.name(r.target),
    ...r.values.subarray(0, r.fieldCount),
  ]);
}

const RUNS = Number(process.env.ISOSIM_FUZZ_RUNS ?? 60);
const DURATION_S = 0.3;

const dir = mkdtempSync(join(tmpdir(), 'isosim-log-fuzz-'));
const good = join(dir, 'good.isolog');
let bytes: Buffer;
/** Where the structures start: the header, its trailer, every block header and trailer, the end block. */
let structure: number[];
/** The original log, record by record (as JSON), and its replay (for states at any record). */
let records: string[];
let times: number[];
let original: Replay;

/** A short run of Table 1 (plain SEDF), as `isosim run` writes it, in 8 KiB blocks (many of them). */
function writeLog(path: string): void {
  const s = loadScenario('table1-sedf');
  const spec = { ...s, durationS: DURATION_S, window: { startS: 0, endS: DURATION_S } };
  const log = new LogWriter(new FileSink(path), logHeader(s.name, s.seed, { spec, versions: VERSIONS }), {
    blockBytes: 8192,
  });
  const kernel = new Kernel({ seed: s.seed, log });
  const sys = new XenSystem(kernel, toSystemConfig(s));
  sys.start();
  kernel.runUntil(DURATION_S * 1e9);
  log.close();
}

beforeAll(() => {
  writeLog(good);
  bytes = readFileSync(good);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const headerLen = v.getUint32(8, true);
  structure = [8, 12 + headerLen];
  let off = 12 + headerLen + 8;
  while (v.getUint32(off, true) === 0x4b4c4249) {
    const payload = v.getUint32(off + 4, true);
    structure.push(off, off + 16 + payload);
    off += 16 + payload + 8;
  }
  structure.push(off);
  records = [];
  times = [];
  scanLog(good, {
    onRecord: (r, d) => {
      records.push(recordKey(r, d));
      times.push(r.timeNs);
      return undefined;
    },
  });
  original = Replay.open(good, { every: 2000, indexPath: false });
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Damage =
  | { kind: 'write'; edits: { pos: number; bytes: number[] }[] }
  | { kind: 'flip'; edits: { pos: number; bit: number }[] }
  | { kind: 'cut'; length: number }
  | { kind: 'append'; bytes: number[] | 'copy' };

/** A position: anywhere, or within a few bytes of the start of a structure. */
const position = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 0, max: bytes.length - 1 }),
    fc
      .tuple(fc.constantFrom(...structure), fc.integer({ min: 0, max: 23 }))
      .map(([base, k]) => Math.min(bytes.length - 1, base + k)),
  );

const damageArb = (): fc.Arbitrary<Damage> =>
  fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('flip' as const),
        edits: fc.array(fc.record({ pos: position(), bit: fc.integer({ min: 0, max: 7 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('write' as const),
        edits: fc.array(
          fc.record({
            pos: position(),
            bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('cut' as const),
        length: fc.oneof(
          fc.integer({ min: 0, max: bytes.length - 1 }),
          fc.constantFrom(...structure).map((p) => Math.min(p, bytes.length - 1)),
        ),
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('append' as const),
        bytes: fc.oneof(
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }),
          fc.constant('copy' as const),
        ),
      }),
      weight: 1,
    },
  );

/** The damaged bytes, and the first byte that differs from the original (or its length, if cut). */
function apply(d: Damage): { bad: Buffer; first: number } {
  if (d.kind === 'cut') return { bad: bytes.subarray(0, d.length), first: d.length };
  if (d.kind === 'append') {
    const extra = d.bytes === 'copy' ? bytes : Buffer.from(d.bytes);
    return { bad: Buffer.concat([bytes, extra]), first: bytes.length };
  }
  const bad = Buffer.from(bytes);
  if (d.kind === 'flip') for (const e of d.edits) bad[e.pos] ^= 1 << e.bit;
  else for (const e of d.edits) bad.set(e.bytes.slice(0, bad.length - e.pos), e.pos);
  let first = 0;
  while (first < bad.length && bad[first] === bytes[first]) first++;
  return { bad, first };
}

let runs = 0;
/** How many runs damaged what: each kind must come up, or the fuzz proves little. */
const seen = { 'not a log': 0, header: 0, blocks: 0, end: 0, appended: 0 };

/** Checks every library reader of `path` (damaged from byte `first`); returns what scanLog said. */
function checkReaders(path: string, first: number, tag: string): LogDamage | 'not a log' {
  const out = (name: string) => join(dir, `${tag}.${name}`);
  // scanLog (verify, log info, resim's reader).
  let damage: LogDamage;
  const read: string[] = [];
  try {
    const r = scanLog(path, {
      onRecord: (rec, d) => {
        read.push(recordKey(rec, d));
        return undefined;
      },
    });
    expect(r.complete).toBe(false);
    expect(r.damage).toBeDefined();
    damage = r.damage as LogDamage;
  } catch (err) {
    if (first < 8) {
      expect(err).toBeInstanceOf(IsosimError);
      expect(String(err)).toMatch(/not an isosim log|too short/);
      // Every other reader refuses it too, and writes nothing.
      expect(() => Replay.open(path, { indexPath: false })).toThrow(/not an isosim log|too short/);
      expect(() => exportPerfetto(path, out('json'))).toThrow(IsosimError);
      expect(existsSync(out('json'))).toBe(false);
      return 'not a log';
    }
    expect(err).toBeInstanceOf(LogDamageError);
    damage = (err as LogDamageError).damage;
    expect(damage.offset).toBe(8);
    expect(damage.seq).toBe(0);
  }
  expect(damage.offset).toBeLessThanOrEqual(first);
  expect(read.length).toBe(damage.seq);
  expect(read).toEqual(records.slice(0, damage.seq));
  const sound = damage.seq;
  const headerDamaged = damage.offset === 8;

  // Every other reader: a damaged header stops each before it writes anything.
  if (headerDamaged) {
    expect(() => Replay.open(path, { indexPath: false })).toThrow(LogDamageError);
    expect(() => diffLogs(good, path)).toThrow(LogDamageError);
    expect(() => exportPerfetto(path, out('json'))).toThrow(LogDamageError);
    expect(existsSync(out('json'))).toBe(false);
    expect(() => exportXentrace(path, out('bin'))).toThrow(LogDamageError);
    expect(existsSync(out('bin'))).toBe(false);
    expect(() => exportJsonl(path, out('jsonl'))).toThrow(LogDamageError);
    expect(() => stateTimeline(path, 'nic0')).toThrow(LogDamageError);
    return damage;
  }

  // Replay: the same damage; the state at the last sound record is the original's; past it, errors.
  const r = Replay.open(path, { every: 2000, indexPath: out('idx') });
  expect(r.damage).toEqual(damage);
  expect(r.records).toBe(sound);
  expect(r.seek(sound).save()).toBe(original.seek(sound).save());
  const mid = Math.floor(sound / 2);
  expect(r.seek(mid).save()).toBe(original.seek(mid).save());
  expect(() => r.seek(sound + 1)).toThrow(LogDamageError);
  expect(() => r.until(() => false)).toThrow(LogDamageError);
  expect(() => r.seekTime(Number.MAX_SAFE_INTEGER)).toThrow(LogDamageError);
  expect(r.read(Math.max(0, sound - 2), sound + 2)).toHaveLength(Math.min(sound, 2));
  // Reopened from its index: the same.
  const again = Replay.open(path, { every: 2000, indexPath: out('idx') });
  expect(again.built).toBe(false);
  expect(again.damage).toEqual(damage);

  // diff: never "the same", never a difference where there is only damage.
  const ab = diffLogs(good, path);
  expect(ab.at).toBeUndefined();
  expect(ab.damageB).toEqual(damage);
  const ba = diffLogs(path, good);
  expect(ba.at).toBeUndefined();
  expect(ba.damageA).toEqual(damage);

  // Exports: each says where, and holds nothing later than the last sound record.
  const lastNs = sound > 0 ? times[sound - 1] : 0;
  const p = exportPerfetto(path, out('json'));
  expect(p.complete).toBe(false);
  expect(p.damage).toContain(`at byte ${damage.offset}`);
  const trace = JSON.parse(readFileSync(out('json'), 'utf8')) as {
    traceEvents: { ts?: number; dur?: number }[];
  };
  for (const e of trace.traceEvents)
    expect((e.ts ?? 0) + (e.dur ?? 0)).toBeLessThanOrEqual(lastNs / 1000 + 1e-6);
  const x = exportXentrace(path, out('bin'));
  expect(x.damage).toContain(`at byte ${damage.offset}`);
  const bin = readFileSync(out('bin'));
  for (let off = 0; off < bin.length; ) {
    const h = bin.readUInt32LE(off);
    const extra = (h >>> 28) & 7;
    if (h >>> 31 === 1) {
      const tsc = bin.readUInt32LE(off + 4) + bin.readUInt32LE(off + 8) * 2 ** 32;
      expect(tsc).toBeLessThanOrEqual(1 + Math.ceil(lastNs * 2.8));
      off += 12 + 4 * extra;
    } else off += 4 + 4 * extra;
  }
  const j = exportJsonl(path, out('jsonl'));
  expect(j.damage).toEqual(damage);
  const lines = readFileSync(out('jsonl'), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(sound + 2);
  expect(JSON.parse(lines[lines.length - 1]).end.damage).toEqual(damage);
  expect(() => stateTimeline(path, 'nic0')).toThrow(LogDamageError);
  return damage;
}

describe('log damage, fuzzed', () => {
  it('every reader reports it where it starts, and builds nothing from the bytes past it', () => {
    fc.assert(
      fc.property(damageArb(), (d) => {
        const { bad, first } = apply(d);
        fc.pre(first < bad.length || bad.length !== bytes.length);
        const tag = `run${runs++}`;
        const path = join(dir, `${tag}.isolog`);
        writeFileSync(path, bad);
        const damage = checkReaders(path, first, tag);
        if (damage === 'not a log') seen['not a log']++;
        else if (damage.offset === 8) seen.header++;
        else if (damage.offset >= bytes.length) seen.appended++;
        else if (damage.offset >= structure[structure.length - 1]) seen.end++;
        else seen.blocks++;
        for (const f of ['isolog', 'idx', 'json', 'bin', 'jsonl'])
          rmSync(join(dir, `${tag}.${f}`), { force: true });
      }),
      { seed: 12, numRuns: RUNS },
    );
    for (const [kind, n] of Object.entries(seen)) expect(n, `runs that damaged ${kind}`).toBeGreaterThan(0);
  }, 120_000);

  it('the commands say where, exit 1, and write nothing from past the damage', () => {
    const cli = join(dir, 'cli');
    mkdirSync(cli, { recursive: true });
    const put = (name: string, b: Buffer): string => {
      const p = join(cli, name);
      writeFileSync(p, b);
      return p;
    };
    // "rate":400 → "rate":500 in the header: resim ran the edited scenario and said DIFFERENT.
    const text = bytes.toString('latin1');
    const rateAt = text.indexOf('"rate":400');
    expect(rateAt).toBeGreaterThan(0);
    const edited = Buffer.from(bytes);
    edited.write('"rate":500', rateAt, 'latin1');
    const header = put('header.isolog', edited);
    const middle = Buffer.from(bytes);
    middle[Math.floor(bytes.length * 0.6)] ^= 0x04;
    const flipped = put('middle.isolog', middle);
    const garbage = put('garbage.isolog', Buffer.concat([bytes, Buffer.from('\n#garbage\n')]));

    const expectDamage = (r: { code: number; out: string; err: string }, at: RegExp): void => {
      expect(r.code, r.out + r.err).toBe(1);
      expect(r.out + r.err).toMatch(at);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    };
    const atHeader = /damaged at byte 8: header does not match its digest|DAMAGED\s+at byte 8: header/;
    expectDamage(isosim('verify', header), atHeader);
    expectDamage(isosim('resim', header), atHeader);
    const jsonl = join(cli, 'header.jsonl');
    expectDamage(isosim('log', 'export', header, '--jsonl', jsonl), atHeader);
    expect(existsSync(jsonl)).toBe(false);

    const m =
      /DAMAGED\s+at byte (\d+): block digest does not match \(corrupted\); records 0\.\.(\d+) are verified/.exec(
        isosim('verify', flipped).out,
      );
    expect(m).not.toBeNull();
    const [offset, last] = [Number(m?.[1]), Number(m?.[2])];
    expect(offset).toBeLessThanOrEqual(Math.floor(bytes.length * 0.6));
    const past = isosim('replay', flipped, '--at', String(records.length));
    expectDamage(
      past,
      new RegExp(`damaged at byte ${offset}: .*record ${records.length} is past the damage`),
    );
    expect(past.out).not.toMatch(/state after/);
    const until = isosim('replay', flipped, '--until', 'type=no.such.type');
    expectDamage(until, new RegExp(`damaged at byte ${offset}`));
    expect(until.out).not.toMatch(/holds nowhere/);
    const before = isosim('replay', flipped, '--at', String(last + 1), '--next', '3');
    expect(before.code).toBe(1);
    expect(before.out).toContain(`state after ${last + 1} of ${last + 1} records`);
    expect(before.out).toMatch(new RegExp(`damaged at byte ${offset}: no record past #${last}`));
    expectDamage(isosim('resim', flipped), new RegExp(`damaged at byte ${offset}`));
    const trace = join(cli, 'middle.json');
    expectDamage(isosim('export', flipped, '--perfetto', trace), new RegExp(`at byte ${offset}`));

    expectDamage(
      isosim('verify', garbage),
      new RegExp(`DAMAGED\\s+at byte ${bytes.length}: 10 bytes after the end block`),
    );
    const same = isosim('diff', garbage, good);
    expectDamage(same, new RegExp(`A .*DAMAGED\\s+at byte ${bytes.length}`));
    expect(same.out).not.toMatch(/identical/);
    expectDamage(isosim('log', 'info', garbage), new RegExp(`damage\\s+at byte ${bytes.length}`));

    // An actor called `constructor` is not Object's.
    const ctor = isosim('replay', good, '--at', '100', '--actor', 'constructor');
    expect(ctor.code).toBe(2);
    expect(ctor.err).toMatch(/^error: .*--actor: no actor constructor/);
    expect(ctor.out + ctor.err).not.toMatch(/function/);
  }, 180_000);

  it('log export into a pipe whose reader is slow writes every line (a full pipe is waited for)', () => {
    // The reader sleeps first: the pipe fills, and a non-blocking stdout says EAGAIN.
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" log export "${good}" | (sleep 1; wc -l)`],
      {
        encoding: 'utf8',
        env: { ...process.env, CI: '1' },
      },
    );
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBe(records.length + 2);
  }, 60_000);
});
