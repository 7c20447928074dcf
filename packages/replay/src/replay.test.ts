/**
 * Replay over a damaged log, and an index that no longer fits its log (issue 12.6):
 * the index is bound to the log's bytes, every reading path stops at the damage and
 * says where, an index that cannot be written stays in memory, and names from the log
 * are keys, never Object's own properties.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PacketPipeline } from '@isosim/actors';
import { LogDamageError, LogWriter, logHeader, MemorySink } from '@isosim/core';
import { FileSink } from '@isosim/core/node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { diffLogs } from './diff.ts';
import { parseQuery } from './query.ts';
import { Replay } from './replay.ts';
import { stateTimeline } from './stateTimeline.ts';
import { World } from './world.ts';

/** Write failures to simulate for the index (the tests run as root, which chmod cannot stop). */
const failIndexWrites = vi.hoisted(() => ({ code: undefined as string | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    writeFileSync: (...args: Parameters<typeof fs.writeFileSync>) => {
      const code = failIndexWrites.code;
      if (code !== undefined && String(args[0]).endsWith('.idx.partial')) {
        throw Object.assign(new Error(`${code}: simulated`), { code });
      }
      return fs.writeFileSync(...args);
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'isosim-replay-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The demo pipeline's log for `ns` simulated nanoseconds, in small blocks (many of them). */
function demoLog(path: string, ns = 4_000_000): void {
  const log = new LogWriter(new FileSink(path), logHeader('demo', 3), { blockBytes: 2048 });
  new PacketPipeline({ seed: 3, log }).run(ns);
  log.close();
}

/** Offset of the block that holds byte `at` (walking the block headers). */
function blockHolding(bytes: Uint8Array, at: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  let off = 12 + v.getUint32(8, true) + 8;
  for (;;) {
    const next = off + 16 + v.getUint32(off + 4, true) + 8;
    if (next > at) return off;
    off = next;
  }
}

describe('replay of a log damaged in place', () => {
  it('does not reuse the index: it rebuilds it, and every path stops at the damage and says where', () => {
    const path = join(dir, 'inplace.isolog');
    demoLog(path);
    const first = Replay.open(path, { every: 500 });
    const all = first.records;
    expect(first.built).toBe(true);
    expect(first.damage).toBeUndefined();
    const end = first.seek(all);
    expect(end.s.seq).toBe(all);

    // One byte flipped in a block near 60% of the file: same size, same index interval.
    const bytes = readFileSync(path);
    const pos = Math.floor(bytes.length * 0.6);
    bytes[pos] ^= 0x10;
    writeFileSync(path, bytes);
    const at = blockHolding(bytes, pos);

    const r = Replay.open(path, { every: 500 });
    expect(r.built).toBe(true);
    expect(r.damage?.offset).toBe(at);
    expect(r.records).toBeLessThan(all);
    expect(r.records).toBeGreaterThan(all / 3);
    const sound = r.records;
    // Up to the damage, everything as before.
    expect(r.seek(sound).s.seq).toBe(sound);
    expect(r.read(sound - 1, sound + 5)).toHaveLength(1);
    // Past it, every path says where the damage is instead of answering.
    expect(() => r.seek(all)).toThrow(LogDamageError);
    expect(() => r.seek(sound + 1)).toThrow(
      new RegExp(`damaged at byte ${at}: .*record ${sound + 1} is past`),
    );
    expect(() => r.until(() => false)).toThrow(LogDamageError);
    expect(() => r.until(() => false, sound)).toThrow(new RegExp(`damaged at byte ${at}`));
    expect(() => r.seekTime(Number.MAX_SAFE_INTEGER)).toThrow(LogDamageError);
    // A time before the damage is answered (the next record is later, so it is known).
    const early = r.read(10, 11)[0];
    expect(r.seekTime(early.timeNs).n).toBeGreaterThan(10);
    // The index written for the damaged log is reused, and still knows the damage.
    const again = Replay.open(path, { every: 500 });
    expect(again.built).toBe(false);
    expect(again.damage).toEqual(r.damage);
    expect(() => again.seek(all)).toThrow(LogDamageError);
  });

  it('refuses to read a log whose bytes changed after it was opened, instead of returning the old state', () => {
    const path = join(dir, 'after-open.isolog');
    demoLog(path);
    const r = Replay.open(path, { every: 500, indexPath: false });
    const all = r.records;
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length * 0.5)] ^= 0x01;
    writeFileSync(path, bytes);
    // Where the damage lies before the snapshot a read starts from, only a fresh look finds it.
    for (const read of [
      () => r.seek(all),
      () => r.read(all - 3, all),
      () => r.until(() => false),
      () => r.seekTime(Number.MAX_SAFE_INTEGER),
    ])
      expect(read).toThrow(/changed since it was opened/);
    // Only the times changed (touched, or rewritten with the same bytes): reads go on.
    bytes[Math.floor(bytes.length * 0.5)] ^= 0x01;
    writeFileSync(path, bytes);
    expect(r.seek(all).s.seq).toBe(all);
  });

  it('rebuilds an index whose log was replaced by other bytes of the same size, or that was itself edited', () => {
    const a = join(dir, 'a.isolog');
    const b = join(dir, 'b.isolog');
    demoLog(a);
    // Same records under another scenario name of the same length: same size, other bytes.
    const log = new LogWriter(new FileSink(b), logHeader('dome', 3), { blockBytes: 2048 });
    new PacketPipeline({ seed: 3, log }).run(4_000_000);
    log.close();
    expect(readFileSync(b).length).toBe(readFileSync(a).length);
    expect(Replay.open(a, { every: 500 }).built).toBe(true);
    writeFileSync(a, readFileSync(b));
    const replaced = Replay.open(a, { every: 500 });
    expect(replaced.built).toBe(true);
    expect(replaced.header.scenario.name).toBe('dome');
    expect(Replay.open(a, { every: 500 }).built).toBe(false);

    // An index edited by hand (still JSON) is not believed.
    const idx = `${a}.idx`;
    const text = readFileSync(idx, 'utf8');
    expect(text).toContain('"dome"');
    writeFileSync(idx, text.replace('"dome"', '"demo"'));
    const edited = Replay.open(a, { every: 500 });
    expect(edited.built).toBe(true);
    expect(edited.header.scenario.name).toBe('dome');
  });

  it('keeps the index in memory, with no error, when it cannot be written', () => {
    const path = join(dir, 'readonly.isolog');
    demoLog(path, 1_000_000);
    try {
      for (const code of ['EACCES', 'EROFS', 'EPERM', 'ENOSPC']) {
        failIndexWrites.code = code;
        const r = Replay.open(path, { every: 500 });
        expect(r.built).toBe(true);
        expect(r.seek(r.records).s.seq).toBe(r.records);
      }
    } finally {
      failIndexWrites.code = undefined;
    }
    // A real one: the index's directory is a file.
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const r = Replay.open(path, { every: 500, indexPath: join(blocker, 'x.idx') });
    expect(r.seek(5).s.seq).toBe(5);
    // And a directory where the index's temporary file would go.
    mkdirSync(`${path}.idx.partial`);
    expect(Replay.open(path, { every: 500 }).built).toBe(true);
  });
});

describe('names from the log', () => {
  /** A log whose actors and types are called like Object's own properties. */
  function oddLog(): Uint8Array {
    const sink = new MemorySink();
    const log = new LogWriter(sink, logHeader('odd', 1));
    const names = ['__proto__', 'constructor', 'toString', 'idle', 'busy', 'hasOwnProperty'];
    names.forEach((n, i) => {
      log.defineName(i, n);
    });
    log.defineType(1, 'xstate.state', ['stateName']);
    log.defineType(2, '__proto__', ['x']);
    log.defineType(3, 'constructor', ['x']);
    log.append(1, 0, 0, 0, 3, 0, 0, 0); // __proto__ → idle
    log.append(1, 1, 2, 2, 4, 0, 0, 0); // toString → busy
    log.append(2, 2, 0, 0, 7, 0, 0, 0);
    log.append(3, 3, 0, 0, 7, 0, 0, 0);
    log.close();
    return sink.bytes();
  }

  it('are keys: an actor or a type called __proto__ or constructor is just a name', () => {
    const path = join(dir, 'odd.isolog');
    writeFileSync(path, oddLog());
    const r = Replay.open(path, { indexPath: false });
    const w = r.seek(r.records);
    expect(w.actor('__proto__')).toBe('idle');
    expect(w.actor('toString')).toBe('busy');
    expect(w.actor('constructor')).toBeUndefined();
    expect(w.actor('hasOwnProperty')).toBeUndefined();
    expect(Object.keys(w.s.actors).sort()).toEqual(['__proto__', 'toString']);
    // Through an index snapshot and back.
    const back = World.load(w.save());
    expect(back.actor('__proto__')).toBe('idle');
    expect(back.actor('constructor')).toBeUndefined();
    expect(back.s.actors.constructor).toBeUndefined();
    // In a query.
    expect(parseQuery('state(constructor)=idle', r.header)(w, {} as never, r.dictionary)).toBe(false);
    expect(parseQuery('state(__proto__)=idle', r.header)(w, {} as never, r.dictionary)).toBe(true);
    // Decoded payload fields named like Object's properties.
    expect(r.read(2, 3)[0].fields).toEqual({ x: 7 });
    expect(stateTimeline(path, '__proto__').map((c) => c.state)).toEqual(['idle']);
  });
});

describe('diff of a damaged log', () => {
  it('reports the damage instead of "identical", and does not call the damage a difference', () => {
    const a = join(dir, 'diff-a.isolog');
    demoLog(a, 1_000_000);
    const bytes = readFileSync(a);
    const records = Replay.open(a, { indexPath: false }).records;
    const garbage = join(dir, 'diff-garbage.isolog');
    writeFileSync(garbage, Buffer.concat([bytes, Buffer.from('garbage')]));
    const twice = join(dir, 'diff-twice.isolog');
    writeFileSync(twice, Buffer.concat([bytes, bytes]));
    const reserved = join(dir, 'diff-reserved.isolog');
    const rb = Buffer.from(bytes);
    rb[rb.length - 20] = 1;
    writeFileSync(reserved, rb);
    const cut = join(dir, 'diff-cut.isolog');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    for (const bad of [garbage, twice, reserved, cut]) {
      for (const [x, y] of [
        [a, bad],
        [bad, a],
      ]) {
        const d = diffLogs(x, y);
        expect(d.at, `${x} vs ${y}`).toBeUndefined();
        expect(d.damageA ?? d.damageB, `${x} vs ${y}`).toBeDefined();
      }
    }
    expect(diffLogs(a, garbage).damageB?.offset).toBe(bytes.length);
    expect(diffLogs(a, cut).damageB?.seq).toBeLessThan(records);
    // Two sound logs still compare as before.
    const same = diffLogs(a, a);
    expect(same.at).toBeUndefined();
    expect(same.damageA ?? same.damageB).toBeUndefined();
  });
});
