/**
 * Immutable worlds (docs/replay.md, "Immutable worlds"): a snapshot is frozen and never
 * changes as the world folds on, it shares every unchanged part with the one before,
 * it keeps null-prototype maps, key order and non-finite numbers; and a replay that
 * starts reads from its recent points (stepping back, searching, seeking by time)
 * gives exactly the world a fresh fold from the first record gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogDictionary, type LogRecord } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExportHost } from './export/exportHost.testkit.ts';
import { Replay } from './replay.ts';
import { emptyWorld, World } from './world.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-world-'));
const path = join(dir, 'host.isolog');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let records = 0;
beforeAll(() => {
  // Two pCPUs under SEDF, a driver domain preempted mid-item: a few hundred thousand
  // records, a few dozen 64 KB blocks.
  runExportHost(path, 1.5);
  records = scanLog(path, { onRecord: () => undefined }).records;
});

/** The state after records [0, n), folded from the first record with no index and no snapshot. */
function fresh(n: number): World {
  const w = new World();
  scanLog(path, {
    onRecord: (r, d) => {
      if (r.seq >= n) return false;
      w.apply(r, d);
      return undefined;
    },
  });
  return w;
}

/** Every object reachable from `v` is frozen. */
function deeplyFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Object.isFrozen(v) && Object.values(v).every(deeplyFrozen);
}

/** Counts the objects of `b` that are the very objects of `a` at the same path, and checks none is missed. */
function shared(a: unknown, b: unknown): number {
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return 0;
  if (a === b) return 1;
  // Equal as data at the same path, with the same keys in the same order: must be shared.
  if (JSON.stringify(a) === JSON.stringify(b)) throw new Error(`equal but not shared: ${JSON.stringify(b)}`);
  let n = 0;
  for (const k of Object.keys(b)) if (Object.hasOwn(a, k)) n += shared((a as never)[k], (b as never)[k]);
  return n;
}

describe('World snapshots', () => {
  it('are frozen, never change as the world folds on, and share what did not change', () => {
    const w = new World();
    const snaps: { n: number; state: ReturnType<World['snapshot']>; json: string }[] = [];
    scanLog(path, {
      onRecord: (r, d) => {
        w.apply(r, d);
        if ((r.seq + 1) % 5_000 === 0) {
          const state = w.snapshot();
          snaps.push({ n: r.seq + 1, state, json: JSON.stringify(state) });
        }
        return undefined;
      },
    });
    expect(snaps.length).toBeGreaterThan(20);
    let sharedObjects = 0;
    for (let i = 0; i < snaps.length; i++) {
      const { n, state, json } = snaps[i];
      // Folding on did not change it, and it is the world a fresh fold gives there.
      expect(JSON.stringify(state)).toBe(json);
      expect(state.seq).toBe(n);
      expect(deeplyFrozen(state)).toBe(true);
      if (i % 10 === 0) expect(new World(state).save()).toBe(fresh(n).save());
      if (i > 0) sharedObjects += shared(snaps[i - 1].state, state);
    }
    // Consecutive snapshots share their unchanged parts (the pCPU and vCPU tables, actors, ...).
    expect(sharedObjects).toBeGreaterThan(snaps.length);
    // A write to a snapshot fails instead of changing every holder of it.
    const last = snaps[snaps.length - 1].state;
    expect(() => {
      (last.actors as Record<string, string>).nic0 = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (last.pcpus[0] as { vcpu: number }).vcpu = 99;
    }).toThrow(TypeError);
    // A snapshot with nothing folded since is the same object.
    expect(w.snapshot()).toBe(w.snapshot());
  });

  it('are not changed by a world started from them', () => {
    const half = Math.floor(records / 2);
    const base = fresh(half).snapshot();
    const json = JSON.stringify(base);
    const w = new World(base);
    expect(w.s).toBe(base);
    scanLog(path, {
      onRecord: (r, d) => {
        if (r.seq < half) return undefined;
        if (r.seq >= half + 20_000) return false;
        w.apply(r, d);
        return undefined;
      },
    });
    expect(JSON.stringify(base)).toBe(json);
    expect(w.s.seq).toBe(half + 20_000);
    expect(w.save()).toBe(fresh(half + 20_000).save());
  });

  it('keep null-prototype maps, keys named like Object.prototype, key order and non-finite numbers', () => {
    const d = new LogDictionary();
    d.names.push('xen', '__proto__', 'idle', 'constructor');
    d.types.push(
      { name: 'xstate.state', fields: ['stateName'] },
      { name: 'shareguard.block', fields: ['guest', 'tdefNs', 'usedPpm'] },
      { name: 'shareguard.restore', fields: ['guest'] },
    );
    let seq = 0;
    const rec = (type: number, target: number, ...values: number[]): LogRecord => ({
      seq: seq++,
      timeNs: seq * 1000,
      type,
      source: 0,
      target,
      values: Float64Array.from([...values, 0, 0, 0, 0]),
      fieldCount: values.length,
    });
    const start = emptyWorld();
    start.scheduler = {
      kind: 'sedf',
      context: { state: { up: Infinity, down: -Infinity, none: Number.NaN }, decisions: [], preempt: false },
    };
    const w = new World(start);
    w.apply(rec(0, 1, 2), d); // __proto__ → idle
    w.apply(rec(1, 0, 1, 5e6, 0), d); // block guest 1
    w.apply(rec(1, 0, 3, 5e6, 0), d); // block guest 3
    const a = w.snapshot();
    expect(Object.getPrototypeOf(a.actors)).toBeNull();
    expect(Object.hasOwn(a.actors, '__proto__')).toBe(true);
    expect(w.actor('__proto__')).toBe('idle');
    expect(w.actor('constructor')).toBeUndefined();
    expect(Object.keys(a.shareGuard)).toEqual(['1', '3']);
    const ctx = a.scheduler?.context.state as { up: number; down: number; none: number };
    expect([ctx.up, ctx.down, ctx.none]).toEqual([Infinity, -Infinity, Number.NaN]);
    // Guest 1 restored and blocked again; ids order themselves (integer keys), names do not.
    w.apply(rec(2, 0, 1), d);
    w.apply(rec(1, 0, 1, 7e6, 0), d);
    const b = w.snapshot();
    expect(Object.keys(b.shareGuard)).toEqual(['1', '3']);
    expect(b.shareGuard['1'].tdefNs).toBe(7e6);
    expect(a.shareGuard['1'].tdefNs).toBe(5e6);
    expect(b.scheduler).toBe(a.scheduler);
    expect(b.actors).toBe(a.actors);
    expect(b.shareGuard['3']).toBe(a.shareGuard['3']);
    // Through save/load and a snapshot of that.
    const back = new World(World.load(new World(b).save()).snapshot());
    expect(back.save()).toBe(new World(b).save());
    expect(Object.getPrototypeOf(back.s.actors)).toBeNull();
    expect(back.actor('__proto__')).toBe('idle');
    expect((back.s.scheduler?.context.state as { up: number } | undefined)?.up).toBe(Infinity);
  });

  it('keep the order of named keys when one is removed and added again', () => {
    // No handler removes a named key today; a plain state handed to a world is its
    // working copy, so writing it stands for a handler that would.
    const start = emptyWorld();
    start.drops['1:a'] = 1;
    start.drops['1:b'] = 2;
    start.drops['2:c'] = 3;
    const w = new World(start);
    const a = w.snapshot();
    delete start.drops['1:a'];
    start.drops['1:a'] = 4;
    start.drops['0:z'] = 5;
    const b = w.snapshot();
    expect(Object.keys(b.drops)).toEqual(['1:b', '2:c', '1:a', '0:z']);
    expect(Object.keys(a.drops)).toEqual(['1:a', '1:b', '2:c']);
    expect(JSON.stringify(b)).toBe(JSON.stringify(start));
    // Removed only, and added at the end only: key by key.
    delete start.drops['2:c'];
    start.drops['3:y'] = 6;
    const c = w.snapshot();
    expect(Object.keys(c.drops)).toEqual(['1:b', '1:a', '0:z', '3:y']);
    expect(Object.getPrototypeOf(c.drops)).toBeNull();
    expect(c.actors).toBe(a.actors);
  });

  it('replace an object with an own __proto__ key whole, keeping the key and the prototype', () => {
    const start = emptyWorld();
    const state = JSON.parse('{"table":{"__proto__":1,"x":{"y":2}},"other":{"z":3}}');
    start.scheduler = { kind: 'credit', context: { state, decisions: [], preempt: false } };
    const w = new World(start);
    const a = w.snapshot();
    const key = '__proto__';
    state.table[key] = 7; // an own data property: a plain write sets it
    state.table.x.y = 5;
    const b = w.snapshot();
    for (const [snap, proto, y] of [
      [a, 1, 2],
      [b, 7, 5],
    ] as const) {
      const table = (snap.scheduler?.context.state as { table: { x: { y: number } } } | undefined)?.table;
      expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(table, '__proto__')?.value).toBe(proto);
      expect(table?.x.y).toBe(y);
    }
    const other = (s: typeof a) => (s.scheduler?.context.state as { other: object } | undefined)?.other;
    expect(other(b)).toBe(other(a));
    expect(new World(b).save()).toBe(JSON.stringify(start));
  });
});

describe('Replay from recent points', () => {
  it('steps back after a seek to the world a fresh fold gives', () => {
    const r = Replay.open(path, { every: 50_000, indexPath: false });
    // To the end: the fold from the last index snapshot passes a few block boundaries.
    let n = records;
    expect(r.seek(n).save()).toBe(fresh(n).save());
    expect(r.kept).toBeGreaterThan(2);
    for (const k of [1, 1, 2, 10, 100, 1_000, 9_000, 1, 30_000, 5]) {
      n -= k;
      const w = r.seek(n);
      expect(w.s.seq).toBe(n);
      expect(w.save(), `back ${k} to ${n}`).toBe(fresh(n).save());
    }
    // A world from seek is its own: folding it or seeking again does not change another.
    const w1 = r.seek(n);
    const json = w1.save();
    r.seek(n + 3);
    r.seek(n - 3);
    expect(w1.save()).toBe(json);
  });

  it('gives the same answers with few or no recent points as with many, whatever the order of reads', () => {
    const none = Replay.open(path, { every: 40_000, indexPath: false, keep: 0 });
    const few = Replay.open(path, { every: 40_000, indexPath: false, keep: 3 });
    const many = Replay.open(path, { every: 40_000, indexPath: false });
    const points = [0.9, 0.2, 0.21, 0.5, 0.1, 0.89, 0.88, 0.31, 1].map((f) => Math.floor(f * records));
    for (const n of points) {
      const want = none.seek(n).save();
      expect(few.seek(n).save()).toBe(want);
      expect(many.seek(n).save()).toBe(want);
      const t = none.read(Math.max(0, n - 1), n)[0]?.timeNs ?? 0;
      const byTime = none.seekTime(t);
      for (const r of [few, many]) {
        const got = r.seekTime(t);
        expect(got.n).toBe(byTime.n);
        expect(got.world.save()).toBe(byTime.world.save());
        expect(r.read(n - 5, n + 5)).toEqual(none.read(n - 5, n + 5));
      }
      const pred = (_w: World, rec: LogRecord, d: LogDictionary) => d.typeName(rec.type) === 'cpu.switch';
      const hit = none.until(pred, n);
      for (const r of [few, many]) {
        const got = r.until(pred, n);
        expect(got?.n).toBe(hit?.n);
        expect(got?.world.save()).toBe(hit?.world.save());
      }
    }
    expect(none.kept).toBe(0);
    expect(few.kept).toBe(3);
    expect(many.kept).toBeGreaterThan(3);
  });
});
