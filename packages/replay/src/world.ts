/**
 * The host's state rebuilt from its log alone: fold records, one at a time, into a
 * `World`. Nothing is re-run: no workload, no device, no random draw.
 *
 * What is rebuilt, and from which records:
 * - every actor's state value (`xstate.state`, written after each state change);
 * - the scheduler's whole context (SEDF or Credit, with SEDF-DC/Credit-DC debt), by
 *   folding `sched.*` deliveries through `applySchedulerEvent`, the very transition
 *   function the live actor runs (its XState action and the port's fast path), from a
 *   fresh context built as the machine builds it (`sched.init` gives the pCPU count);
 * - each vCPU's run state (`vcpu.state`) and what runs on each pCPU since when
 *   (`cpu.switch`), the principal of the work on it (`cpu.timer`);
 * - XenMon's last second of samples per domain (`xenmon.sample`: own CPU, the IDD's
 *   work for it, estimated and true), ShareGuard's blocks (`shareguard.*`), drops by
 *   guest and reason (`net.drop`), ring occupancy per guest (`ring.occupancy`).
 *
 * Immutable snapshots, mutable fold (docs/replay.md, "Immutable worlds")
 * - `snapshot()` gives the state now as an immutable, deeply frozen `WorldState`,
 *   made with immer's `produce` from the previous snapshot: every part that did not
 *   change since then is the very same object, so keeping many snapshots (a replay's
 *   ring of recent points, for stepping back) costs only what changed between them.
 *   Keeping one is keeping a reference; `new World(snapshot)` folds on from it and
 *   never changes it.
 * - Records are folded into a private, plain working copy, in place, as before. Folding
 *   through immer drafts instead (a `produce` per record, or one draft per log block)
 *   was measured 8 to 40 times slower (the scheduler's transition function alone costs
 *   about 8 us an event on a draft); a snapshot costs a walk of the state (a few KB)
 *   and a copy of what changed, so it is taken at snapshot points only (block
 *   boundaries), never per record. The working copy is made from the last snapshot
 *   when the first record is folded (copy-on-write), and is never shared.
 * - `s` is the state now, read-only to callers: the working copy once records have
 *   been folded, else the snapshot the world started from (frozen).
 *
 * A world is plain JSON (`save`/`World.load`, with non-finite numbers kept), so a
 * replay index can persist one every K records and a seek starts from the nearest.
 *
 * The maps keyed by names from the log (actors, and the per-domain tables) are
 * null-prototype objects, and the handlers a Map: an actor or a type may be called
 * `constructor` or `__proto__`, and looking it up must not find Object's own. Copies,
 * snapshots and `load` keep the null prototypes and every key's order.
 */
import { applySchedulerEvent, credit, DROP_REASONS, type SchedulerEvent, sedf } from '@isosim/actors';
import type { LogDictionary, LogRecord } from '@isosim/core';
import { freeze, Immer, type Immutable } from 'immer';

/** Samples kept per domain: XenMon samples every 100 ms, so ten make the last second. */
export const XENMON_WINDOW = 10;

export interface XenMonRow {
  atNs: number;
  gottenNs: number;
  iddEstNs: number;
  iddTrueNs: number;
}

export interface WorldState {
  /** Records folded in (the world is the state after records [0, seq)). */
  seq: number;
  timeNs: number;
  /** By actor name (null prototype: look names up with `World.actor`, or `Object.hasOwn`). */
  actors: Record<string, string>;
  /** By global vCPU index: domain id and state (0 blocked, 1 runnable, 2 running). */
  vcpus: { domain: number; state: number }[];
  /** By pCPU: the vCPU running (-1 idle), since when, its slice, the principal of its work. */
  pcpus: { vcpu: number; sinceNs: number; runNs: number; principal: number }[];
  scheduler: { kind: 'sedf' | 'credit'; context: SchedulerCtx } | undefined;
  /** By domain id: the last `XENMON_WINDOW` XenMon samples, oldest first. */
  xenmon: Record<string, XenMonRow[]>;
  /** By guest domain id: ShareGuard's current block (until when), if any. */
  shareGuard: Record<string, { sinceNs: number; tdefNs: number }>;
  /** `guest:reason` → count. */
  drops: Record<string, number>;
  /** By guest domain id: tx requests waiting and rx buffers posted at the last netback poll. */
  rings: Record<string, { txRequests: number; rxBuffers: number }>;
}

export interface SchedulerCtx {
  state: unknown;
  decisions: { vcpu: number; runNs: number }[];
  preempt: boolean;
}

const SCHED_EVENTS = new Set([
  'sched.add',
  'sched.sedf',
  'sched.credit',
  'sched.dc',
  'sched.debt',
  'sched.wake',
  'sched.sleep',
  'sched.do_schedule',
]);

type Handler = (s: WorldState, r: LogRecord, d: LogDictionary) => void;

const HANDLERS = new Map<string, Handler>(
  Object.entries({
    'xstate.state': (s: WorldState, r: LogRecord, d: LogDictionary) => {
      s.actors[d.name(r.target)] = d.name(r.values[0]);
    },
    'sched.init': (s: WorldState, r: LogRecord, d: LogDictionary) => {
      const kind = d.name(r.target) === 'sched.credit' ? 'credit' : 'sedf';
      const pcpus = r.values[0];
      const ops = kind === 'sedf' ? sedf : credit;
      const decisions = Array.from({ length: pcpus }, () => ({ vcpu: -1, runNs: 0 }));
      s.scheduler = { kind, context: { state: ops.init(pcpus, r.timeNs), decisions, preempt: false } };
    },
    'vcpu.state': (s: WorldState, r: LogRecord) => {
      s.vcpus[r.values[0]] = { domain: r.values[1], state: r.values[2] };
    },
    'cpu.switch': (s: WorldState, r: LogRecord) => {
      s.pcpus[r.values[0]] = { vcpu: r.values[2], sinceNs: r.timeNs, runNs: r.values[3], principal: -1 };
    },
    'cpu.timer': (s: WorldState, r: LogRecord) => {
      const p = s.pcpus[r.values[0]];
      if (p !== undefined) p.principal = r.values[1];
    },
    'xenmon.sample': (s: WorldState, r: LogRecord) => {
      const key = String(r.values[0]);
      const rows = s.xenmon[key] ?? [];
      s.xenmon[key] = rows;
      rows.push({ atNs: r.timeNs, gottenNs: r.values[1], iddEstNs: r.values[2], iddTrueNs: r.values[3] });
      if (rows.length > XENMON_WINDOW) rows.shift();
    },
    'shareguard.block': (s: WorldState, r: LogRecord) => {
      s.shareGuard[String(r.values[0])] = { sinceNs: r.timeNs, tdefNs: r.values[1] };
    },
    'shareguard.restore': (s: WorldState, r: LogRecord) => {
      delete s.shareGuard[String(r.values[0])];
    },
    'net.drop': (s: WorldState, r: LogRecord) => {
      const key = `${r.values[0]}:${DROP_REASONS[r.values[1]] ?? r.values[1]}`;
      s.drops[key] = (s.drops[key] ?? 0) + 1;
    },
    'ring.occupancy': (s: WorldState, r: LogRecord) => {
      s.rings[String(r.values[0])] = { txRequests: r.values[1], rxBuffers: r.values[2] };
    },
  } satisfies Record<string, Handler>),
);

function schedulerHandler(name: string): Handler {
  return (s, r, d) => {
    const sch = s.scheduler;
    if (sch === undefined) return;
    const fields = d.types[r.type]?.fields ?? [];
    const e: Record<string, unknown> = Object.create(null);
    e.type = name;
    for (let i = 0; i < fields.length; i++) e[fields[i]] = r.values[i];
    const ops = sch.kind === 'sedf' ? sedf : credit;
    // In place, on the world's plain working copy (never on a snapshot or a draft).
    applySchedulerEvent(ops as never, sch.context as never, e as unknown as SchedulerEvent, r.timeNs);
    // A vCPU exists (blocked) from its `sched.add`, even if it never changes state.
    if (name === 'sched.add') {
      const index = (sch.context.state as { vcpus: unknown[] }).vcpus.length - 1;
      s.vcpus[index] ??= { domain: Number(e.domain), state: 0 };
    }
  };
}

/** The state's maps keyed by names or ids from the log. */
const KEYED = ['actors', 'xenmon', 'shareGuard', 'drops', 'rings'] as const;

/** A null-prototype copy of `o`: a key like `constructor` or `__proto__` is just a key. */
function keyed<T>(o: Record<string, T> = {}): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const k of Object.keys(o)) out[k] = o[k];
  return out;
}

export function emptyWorld(): WorldState {
  return {
    seq: 0,
    timeNs: 0,
    actors: keyed(),
    vcpus: [],
    pcpus: [],
    scheduler: undefined,
    xenmon: keyed(),
    shareGuard: keyed(),
    drops: keyed(),
    rings: keyed(),
  };
}

// --- Snapshots: copy-on-write between the working copy and immer's frozen states.

/**
 * immer for the world's snapshots only, with its own settings (not the process-wide
 * ones): produced states are deeply frozen (`autoFreeze`), always, not only in tests.
 * A snapshot is shared (between a replay's retained points, and with every world
 * started from it), so a write to one must fail loudly rather than change the others;
 * freezing costs only at snapshot points, on what changed (bench: `replay.snapshotUs`).
 */
const immer = new Immer({ autoFreeze: true });

/** The state before any record, frozen: the base of a world that starts from a plain state. */
const EMPTY: Immutable<WorldState> = freeze(emptyWorld() as Immutable<WorldState>, true);

type Obj = Record<PropertyKey, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object';
}

/**
 * A deep, mutable copy of plain JSON-like data: arrays (holes kept) and objects with
 * their prototype (null or Object's) and key order.
 */
function thaw<T>(v: T): T {
  if (!isObj(v)) return v;
  if (Array.isArray(v)) return v.map(thaw) as T;
  const out: Obj = Object.create(Object.getPrototypeOf(v));
  for (const k of Object.keys(v)) {
    // On an object with Object's prototype, `out.__proto__ = x` would set the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: thaw(v[k]), ...OWN });
    else out[k] = thaw(v[k]);
  }
  return out as T;
}

const OWN = { enumerable: true, writable: true, configurable: true } as const;

/**
 * Whether a draft of `v` can be written key by key. Not when it has Object's prototype
 * and an own key `__proto__`: immer's set trap would take that key for Object's
 * `__proto__` setter (and drop the write), so such an object is replaced whole.
 */
function draftable(v: Obj): boolean {
  return Object.getPrototypeOf(v) === null || !Object.hasOwn(v, '__proto__');
}

/** Whether `b` and `c` differ as data (keys in order, values by `Object.is`). */
function differs(b: unknown, c: unknown): boolean {
  if (b === c) return false;
  if (!isObj(b) || !isObj(c)) return !Object.is(b, c);
  if (Array.isArray(b) !== Array.isArray(c) || Object.getPrototypeOf(b) !== Object.getPrototypeOf(c))
    return true;
  const kb = Object.keys(b);
  const kc = Object.keys(c);
  if (kb.length !== kc.length) return true;
  for (let i = 0; i < kc.length; i++) if (kb[i] !== kc[i] || differs(b[kc[i]], c[kc[i]])) return true;
  return false;
}

/**
 * Whether `c`'s keys are `b`'s, in `b`'s order, less some removed, plus some new at
 * the end: then the draft of `b` becomes `c` key by key, in the same order. (A key
 * removed and added again moves to the end: then the whole object is copied.)
 */
function sameOrder(b: Obj, c: Obj): boolean {
  const kc = Object.keys(c);
  let j = 0;
  for (const k of Object.keys(b)) {
    if (!Object.hasOwn(c, k)) continue;
    if (kc[j] !== k) return false;
    j++;
  }
  return true;
}

/**
 * For an object `c` whose values are all primitives (a leaf: copied whole when it
 * changes), whether it differs from `b` (same prototype): 1 if so, 0 if not; -1 if `c`
 * is not a leaf.
 */
function leafDiffers(b: Obj, c: Obj): -1 | 0 | 1 {
  const kc = Object.keys(c);
  const kb = Object.keys(b);
  let out: 0 | 1 = kb.length === kc.length ? 0 : 1;
  for (let i = 0; i < kc.length; i++) {
    const v = c[kc[i]];
    if (isObj(v)) return -1;
    if (out === 0 && (kb[i] !== kc[i] || !Object.is(b[kc[i]], v))) out = 1;
  }
  return out;
}

/**
 * How far `cur` is `base` moved up by (a window that dropped its oldest entries and
 * took new ones at the end, as XenMon's rows do): the smallest k ≥ 1 with
 * cur[i] = base[i + k] for every i < base.length - k; 0 if none, or if the first
 * element did not change.
 */
function shiftOf(base: readonly unknown[], cur: readonly unknown[]): number {
  if (base.length < 2 || cur.length === 0 || !differs(base[0], cur[0])) return 0;
  for (let k = 1; k < base.length; k++) {
    if (differs(base[k], cur[0])) continue;
    let ok = true;
    for (let i = 1; ok && i + k < base.length; i++) ok = i < cur.length && !differs(base[i + k], cur[i]);
    if (ok) return k;
  }
  return 0;
}

/** A node's immer draft, made on the first write under it (so an unchanged node is never drafted). */
type LazyDraft = () => Obj;

function child(parent: LazyDraft, k: string | number): LazyDraft {
  let d: Obj | undefined;
  return () => {
    d ??= parent()[k] as Obj;
    return d;
  };
}

/**
 * Makes the draft of `base` equal to `cur` in one walk, writing only where `cur`
 * differs from `base`: the comparing is done on `base` (plain, no proxy), and a node's
 * draft is made only when something under it changed, so immer copies only the paths
 * to what changed and shares the rest. New values are copies of `cur`'s (which goes on
 * changing). An object of primitives that changed is replaced by a copy (one write
 * instead of a draft and a write per field); an array that slid along keeps the
 * elements it still holds.
 */
function sync(draft: LazyDraft, base: Obj, cur: Obj): void {
  if (Array.isArray(cur)) {
    if ((base as unknown as unknown[]).length !== cur.length)
      (draft() as unknown as unknown[]).length = cur.length;
    for (let i = 0; i < cur.length; i++) put(draft, base, cur, i);
    return;
  }
  for (const k of Object.keys(base)) if (!Object.hasOwn(cur, k)) delete draft()[k];
  for (const k of Object.keys(cur)) put(draft, base, cur, k);
}

function put(draft: LazyDraft, base: Obj, cur: Obj, k: string | number): void {
  const had = Object.hasOwn(base, k);
  if (!Object.hasOwn(cur, k)) {
    if (had) delete draft()[k];
    return;
  }
  const b = had ? base[k] : undefined;
  const c = cur[k];
  if (had && b === c) return;
  if (
    had &&
    isObj(b) &&
    isObj(c) &&
    Array.isArray(b) === Array.isArray(c) &&
    Object.getPrototypeOf(b) === Object.getPrototypeOf(c)
  ) {
    if (Array.isArray(c)) {
      const shift = shiftOf(b as unknown as unknown[], c);
      if (shift === 0) {
        sync(child(draft, k), b, c);
        return;
      }
      const kept = (b as unknown as unknown[]).slice(shift);
      draft()[k] = [...kept, ...c.slice(kept.length).map(thaw)];
      return;
    }
    const leaf = leafDiffers(b, c);
    if (leaf === 0) return;
    if (leaf === -1 && sameOrder(b, c) && draftable(c)) {
      sync(child(draft, k), b, c);
      return;
    }
  } else if (had && !isObj(c) && Object.is(b, c)) {
    return;
  }
  // A key `__proto__` here belongs to a null-prototype draft (see `draftable`), where
  // immer's set trap makes it an own key.
  draft()[k] = thaw(c);
}

/** `cur` as a frozen state sharing with `base` every part that equals it. */
function commit(base: Immutable<WorldState>, cur: WorldState): Immutable<WorldState> {
  return immer.produce(base, (draft) => {
    sync(() => draft as unknown as Obj, base as unknown as Obj, cur as unknown as Obj);
  }) as Immutable<WorldState>;
}

export class World {
  /** Per log type id: its handler, or null when the world ignores that type. */
  private readonly byType: (Handler | null)[] = [];
  /** The last snapshot: frozen, possibly shared. */
  private base: Immutable<WorldState>;
  /** The working copy records are folded into, this world's own; undefined until the first. */
  private work: WorldState | undefined;

  /**
   * A world at `state`. A snapshot (frozen: from `snapshot()`) is kept as it is and
   * never changed: the first record folded copies it. A plain state is taken over as
   * the working copy, folded into in place (hand it over; do not keep writing it).
   * Default: before any record.
   */
  constructor(state: Immutable<WorldState> | WorldState = emptyWorld()) {
    if (Object.isFrozen(state)) {
      this.base = state as Immutable<WorldState>;
    } else {
      this.base = EMPTY;
      this.work = state as WorldState;
    }
  }

  /** The state now (after records [0, s.seq)). Read-only: it changes as records are folded. */
  get s(): Immutable<WorldState> {
    return this.work ?? this.base;
  }

  /** Folds one record in. Records must come in log order, starting at `s.seq`. */
  apply(r: LogRecord, d: LogDictionary): void {
    let s = this.work;
    if (s === undefined) {
      s = thaw(this.base) as WorldState;
      this.work = s;
    }
    let h = this.byType[r.type];
    if (h === undefined) {
      const name = d.typeName(r.type);
      h = HANDLERS.get(name) ?? (SCHED_EVENTS.has(name) ? schedulerHandler(name) : null);
      this.byType[r.type] = h;
    }
    if (h !== null) h(s, r, d);
    s.seq = r.seq + 1;
    s.timeNs = r.timeNs;
  }

  /**
   * The state now, immutable and deeply frozen, sharing with the previous snapshot
   * every part that has not changed since (immer's `produce`). Cheap to keep: a
   * reference. Costs a walk of the state, so take it at points worth keeping, not
   * after every record.
   */
  snapshot(): Immutable<WorldState> {
    if (this.work !== undefined) this.base = commit(this.base, this.work);
    return this.base;
  }

  /** A deep copy as JSON text (non-finite numbers survive). */
  save(): string {
    return JSON.stringify(this.s, (_k, v) =>
      typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v,
    );
  }

  static load(text: string): World {
    const s = JSON.parse(text, (_k, v) =>
      v !== null && typeof v === 'object' && typeof v.$num === 'string' && Object.keys(v).length === 1
        ? Number(v.$num)
        : v,
    ) as WorldState;
    for (const k of KEYED)
      (s as unknown as Record<string, unknown>)[k] = keyed(s[k] as Record<string, unknown>);
    return new World(s);
  }

  /** The state value of the actor called `name`, if the log has started one by that name. */
  actor(name: string): string | undefined {
    const actors = this.s.actors;
    return Object.hasOwn(actors, name) ? actors[name] : undefined;
  }

  /** XenMon's view of a domain over the last second: own CPU and the IDD's work for it, ns. */
  lastSecond(domain: number): { ownNs: number; iddEstNs: number; iddTrueNs: number } {
    const s = this.s;
    const rows = s.xenmon[String(domain)] ?? [];
    let ownNs = 0;
    let iddEstNs = 0;
    let iddTrueNs = 0;
    for (const row of rows) {
      if (row.atNs <= s.timeNs - 1_000_000_000) continue;
      ownNs += row.gottenNs;
      iddEstNs += row.iddEstNs;
      iddTrueNs += row.iddTrueNs;
    }
    return { ownNs, iddEstNs, iddTrueNs };
  }
}
