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
 * Several driver domains and disks (issue 16):
 * - `drivers`: every driver domain the log has shown so far, not only domain 0: a
 *   domain whose vCPU ran a work item of another principal (`cpu.timer`), or one
 *   XenMon reports per driver (`xenmon.idd`). The World reads records only, never the
 *   header; `hostLayout(header).drivers` names them all from the start.
 * - `work`: CPU by (domain, principal), exact, from `cpu.switch` and `cpu.timer` as the
 *   Perfetto export attributes its work slices: the stretch since a pCPU's last timer
 *   or switch belongs to the principal its next `cpu.timer` names, and a stretch cut
 *   by a deschedule mid-item (`cutNs`) to the principal of that vCPU's next timer
 *   (nothing overtakes a driver domain's kernel work). For a driver domain, its CPU
 *   per guest served; for a guest, its own CPU. What runs now is counted when its
 *   item's timer comes.
 * - `xenmonIdd`: XenMon's last second per driver domain and domain (`xenmon.idd`: that
 *   driver's work for the domain, estimated and true), logged on hosts with several
 *   driver domains or a disk; `xenmon.sample` keeps the sums over drivers.
 * - `disks`: per disk (named by its actor: the records' endpoint is `<disk>.io`) and per
 *   guest, requests dispatched to the device (`disk.dispatch`) and completed
 *   (`disk.complete`), those in flight at the device (the difference), sectors read
 *   and written, and latencies (since blkback submitted the request: the elevator's
 *   queueing included). Requests waiting in the elevator have no record until their
 *   dispatch, so they are not counted.
 * - ShareGuard on a host with several driver domains logs from `shareguard.<driver>`:
 *   its blocks are keyed `<guest>@<driver>` (with `driver` set), so that two driver
 *   domains' blocks of one guest are told apart; a single ShareGuard's stay `<guest>`.
 *
 * Memory (issue 18; the fold is in worldMemory.ts, whose header says it field by field):
 * - `memory`, absent until the first `mem.*` record (a log without memory keeps the
 *   world, and its saved text, as before): the page allocator's counters as
 *   `PageAllocator` has them, `totalPages`, `freePages`, `outstandingClaims` and per
 *   domain id (`DOMID_XEN` 0x7FF2 and `DOMID_COW` 0x7FF3 included) `totPages`,
 *   `maxPages`, `outstandingPages`, from `mem.domain.create` / `mem.domain.destroy`,
 *   `mem.claim`, `mem.alloc` (a refused one still draws its claim), `mem.free` and
 *   `mem.maxpages`; the toolstack's builds (`building`, `done`, `failed` late,
 *   `refused` at once; populated pages) from `mem.build.start` / `done` / `fail` and the
 *   builds' `mem.alloc`; the domains frozen now with their frozen `max_pages`, from
 *   `mem.freeze` (the `mem.maxpages` records just before it) and `mem.thaw`; per guest
 *   its balloon target (`mem.balloon.target`), its tmem pools (`mem.tmem.put` / `get` /
 *   `evict`) and its shared pages broken on write (`mem.share.break` / `merge`); the
 *   last domain destroyed.
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
import { loadMemory, MEMORY_HANDLERS, type MemoryDomainState, type MemoryState } from './worldMemory.ts';

export type {
  DestroyedDomain,
  MemoryBuild,
  MemoryBuildState,
  MemoryDomainState,
  MemoryState,
  SharingCounts,
  TmemPools,
} from './worldMemory.ts';

/** Samples kept per domain: XenMon samples every 100 ms, so ten make the last second. */
export const XENMON_WINDOW = 10;

/** One XenMon sample of a domain (`xenmon.sample`), ns over the sample's 100 ms. */
export interface XenMonRow {
  atNs: number;
  /** The domain's own CPU. */
  gottenNs: number;
  /** Every driver domain's work for it: XenMon's estimate, and the ground truth. */
  iddEstNs: number;
  iddTrueNs: number;
}

/** One XenMon sample of one driver domain's work for one domain (`xenmon.idd`), ns. */
export interface XenMonIddRow {
  atNs: number;
  iddEstNs: number;
  iddTrueNs: number;
}

/** Block requests of a disk, or of one guest on it, from `disk.dispatch` and `disk.complete`. */
export interface DiskCounts {
  /** Requests dispatched to the device. */
  dispatched: number;
  /** Requests the device completed. */
  completed: number;
  /** Dispatched and not yet completed: at the device (`dispatched - completed`). */
  inFlight: number;
  readSectors: number;
  writeSectors: number;
  /** Sum of the completed requests' latencies (the mean is `latencySumNs / completed`). */
  latencySumNs: number;
  /** The last completion's latency, since blkback submitted it (-1 before any). */
  lastLatencyNs: number;
  maxLatencyNs: number;
  /** When the last completion came (-1 before any). */
  lastAtNs: number;
}

/** A disk's requests, in all and by guest domain id (null prototype). */
export interface DiskState extends DiskCounts {
  guests: Record<string, DiskCounts>;
}

/** A ShareGuard block in force: since when, for how long, and (several driver domains) whose. */
export interface ShareGuardBlock {
  sinceNs: number;
  tdefNs: number;
  /** The driver domain whose ShareGuard blocks (`shareguard.<driver>`); absent with one ShareGuard. */
  driver?: string;
}

export interface WorldState {
  /** Records folded in (the world is the state after records [0, seq)). */
  seq: number;
  timeNs: number;
  /** By actor name (null prototype: look names up with `World.actor`, or `Object.hasOwn`). */
  actors: Record<string, string>;
  /** By global vCPU index: domain id and state (0 blocked, 1 runnable, 2 running). */
  vcpus: { domain: number; state: number }[];
  /**
   * By pCPU: the vCPU running (-1 idle), since when, its slice, the principal of its
   * work, and since when its work has not been attributed (`work`).
   */
  pcpus: { vcpu: number; sinceNs: number; runNs: number; principal: number; workNs: number }[];
  scheduler: { kind: 'sedf' | 'credit'; context: SchedulerCtx } | undefined;
  /** By domain id: the last `XENMON_WINDOW` XenMon samples, oldest first. */
  xenmon: Record<string, XenMonRow[]>;
  /**
   * By guest domain id (`<guest>@<driver>` from a driver domain's own ShareGuard):
   * ShareGuard's current block, if any.
   */
  shareGuard: Record<string, ShareGuardBlock>;
  /** `guest:reason` → count. */
  drops: Record<string, number>;
  /** By guest domain id: tx requests waiting and rx buffers posted at the last netback poll. */
  rings: Record<string, { txRequests: number; rxBuffers: number }>;
  /** Ids of the driver domains the log has shown so far, ascending. */
  drivers: number[];
  /** By domain id, then principal id: ns the domain ran work items of that principal (attributed so far). */
  work: number[][];
  /** By vCPU: ns it ran in stretches cut by a deschedule, attributed at its next `cpu.timer`. */
  cutNs: number[];
  /** `driver:domain` → the last `XENMON_WINDOW` samples of that driver's work for the domain. */
  xenmonIdd: Record<string, XenMonIddRow[]>;
  /** By disk name: its requests. */
  disks: Record<string, DiskState>;
  /** The host's memory (`mem.*` records, worldMemory.ts); undefined until the first. */
  memory: MemoryState | undefined;
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

const HANDLERS = new Map<string, Handler>([
  ...Object.entries({
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
      const t = r.timeNs;
      const next = r.values[2];
      const old = s.pcpus[r.values[0]];
      let workNs = t;
      if (old !== undefined && old.vcpu === next) workNs = old.workNs;
      else if (old !== undefined && old.vcpu >= 0 && t > old.workNs) {
        // Switched out with no timer now: stopped in the middle of an item.
        const v = old.vcpu;
        while (s.cutNs.length <= v) s.cutNs.push(0);
        s.cutNs[v] += t - old.workNs;
      }
      s.pcpus[r.values[0]] = { vcpu: next, sinceNs: t, runNs: r.values[3], principal: -1, workNs };
    },
    'cpu.timer': (s: WorldState, r: LogRecord) => {
      const p = s.pcpus[r.values[0]];
      if (p === undefined) return;
      const principal = r.values[1];
      p.principal = principal;
      const v = p.vcpu;
      const domain = v >= 0 ? (s.vcpus[v]?.domain ?? -1) : -1;
      if (domain >= 0 && principal >= 0) {
        // The item this timer ends is the one every cut stretch of this vCPU was running.
        let ns = r.timeNs - p.workNs;
        if (v < s.cutNs.length) {
          ns += s.cutNs[v];
          s.cutNs[v] = 0;
        }
        const work = s.work;
        while (work.length <= domain) work.push([]);
        const row = work[domain];
        while (row.length <= principal) row.push(0);
        row[principal] += ns;
        if (principal !== domain) addDriver(s, domain);
      }
      p.workNs = r.timeNs;
    },
    'xenmon.sample': (s: WorldState, r: LogRecord) => {
      const key = String(r.values[0]);
      const rows = s.xenmon[key] ?? [];
      s.xenmon[key] = rows;
      rows.push({ atNs: r.timeNs, gottenNs: r.values[1], iddEstNs: r.values[2], iddTrueNs: r.values[3] });
      if (rows.length > XENMON_WINDOW) rows.shift();
    },
    'xenmon.idd': (s: WorldState, r: LogRecord) => {
      addDriver(s, r.values[0]);
      const key = `${r.values[0]}:${r.values[1]}`;
      const rows = s.xenmonIdd[key] ?? [];
      s.xenmonIdd[key] = rows;
      rows.push({ atNs: r.timeNs, iddEstNs: r.values[2], iddTrueNs: r.values[3] });
      if (rows.length > XENMON_WINDOW) rows.shift();
    },
    'shareguard.block': (s: WorldState, r: LogRecord, d: LogDictionary) => {
      const driver = shareGuardDriver(d.name(r.target));
      s.shareGuard[shareGuardKey(r.values[0], driver)] =
        driver === undefined
          ? { sinceNs: r.timeNs, tdefNs: r.values[1] }
          : { sinceNs: r.timeNs, tdefNs: r.values[1], driver };
    },
    'shareguard.restore': (s: WorldState, r: LogRecord, d: LogDictionary) => {
      delete s.shareGuard[shareGuardKey(r.values[0], shareGuardDriver(d.name(r.target)))];
    },
    'disk.dispatch': (s: WorldState, r: LogRecord, d: LogDictionary) => {
      const disk = diskOf(s, d.name(r.target));
      const guest = guestOf(disk, r.values[0]);
      disk.dispatched++;
      disk.inFlight++;
      guest.dispatched++;
      guest.inFlight++;
    },
    'disk.complete': (s: WorldState, r: LogRecord, d: LogDictionary) => {
      const disk = diskOf(s, d.name(r.target));
      completed(disk, r);
      completed(guestOf(disk, r.values[0]), r);
    },
    'net.drop': (s: WorldState, r: LogRecord) => {
      const key = `${r.values[0]}:${DROP_REASONS[r.values[1]] ?? r.values[1]}`;
      s.drops[key] = (s.drops[key] ?? 0) + 1;
    },
    'ring.occupancy': (s: WorldState, r: LogRecord) => {
      s.rings[String(r.values[0])] = { txRequests: r.values[1], rxBuffers: r.values[2] };
    },
  } satisfies Record<string, Handler>),
  ...MEMORY_HANDLERS,
]);

/** Orders strings by UTF-16 code units (no locale: the same order everywhere). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Notes `domain` as a driver domain (kept ascending). */
function addDriver(s: WorldState, domain: number): void {
  const list = s.drivers;
  if (list.includes(domain)) return;
  list.push(domain);
  list.sort((a, b) => a - b);
}

/** The driver domain a ShareGuard endpoint acts for: `shareguard.<driver>`; none for `shareguard`. */
function shareGuardDriver(endpoint: string): string | undefined {
  return endpoint.startsWith('shareguard.') ? endpoint.slice('shareguard.'.length) : undefined;
}

function shareGuardKey(guest: number, driver: string | undefined): string {
  return driver === undefined ? String(guest) : `${guest}@${driver}`;
}

/** A disk's name from its records' endpoint, `<disk>.io`. */
export function diskName(endpoint: string): string {
  return endpoint.endsWith('.io') ? endpoint.slice(0, -3) : endpoint;
}

function diskCounts(): DiskCounts {
  return {
    dispatched: 0,
    completed: 0,
    inFlight: 0,
    readSectors: 0,
    writeSectors: 0,
    latencySumNs: 0,
    lastLatencyNs: -1,
    maxLatencyNs: 0,
    lastAtNs: -1,
  };
}

function diskOf(s: WorldState, endpoint: string): DiskState {
  const name = diskName(endpoint);
  let disk = Object.hasOwn(s.disks, name) ? s.disks[name] : undefined;
  if (disk === undefined) {
    disk = { ...diskCounts(), guests: keyed() };
    s.disks[name] = disk;
  }
  return disk;
}

function guestOf(disk: DiskState, guest: number): DiskCounts {
  const key = String(guest);
  let c = disk.guests[key];
  if (c === undefined) {
    c = diskCounts();
    disk.guests[key] = c;
  }
  return c;
}

/** Counts the request `disk.complete` record `r` completes in `c`. */
function completed(c: DiskCounts, r: LogRecord): void {
  const sectors = r.values[2];
  const latencyNs = r.values[3];
  c.completed++;
  c.inFlight--;
  if (r.values[1] === 0) c.readSectors += sectors;
  else c.writeSectors += sectors;
  c.latencySumNs += latencyNs;
  c.lastLatencyNs = latencyNs;
  if (latencyNs > c.maxLatencyNs) c.maxLatencyNs = latencyNs;
  c.lastAtNs = r.timeNs;
}

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
const KEYED = ['actors', 'xenmon', 'shareGuard', 'drops', 'rings', 'xenmonIdd', 'disks'] as const;

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
    drivers: [],
    work: [],
    cutNs: [],
    xenmonIdd: keyed(),
    disks: keyed(),
    memory: undefined,
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

  /**
   * A world from `save()` text. Text saved before a part of the state existed (the
   * driver domains, work, per-driver XenMon rows and disks came with issue 16, memory
   * with issue 18) loads with that part empty, as if its records had not come yet.
   */
  static load(text: string): World {
    const parsed = JSON.parse(text, (_k, v) =>
      v !== null && typeof v === 'object' && typeof v.$num === 'string' && Object.keys(v).length === 1
        ? Number(v.$num)
        : v,
    ) as WorldState;
    const s = Object.assign(emptyWorld(), parsed);
    for (const p of s.pcpus) if (p !== null && p.workNs === undefined) p.workNs = p.sinceNs;
    for (const k of KEYED)
      (s as unknown as Record<string, unknown>)[k] = keyed(s[k] as Record<string, unknown>);
    for (const disk of Object.values(s.disks)) disk.guests = keyed(disk.guests);
    s.memory = s.memory ? loadMemory(s.memory) : undefined;
    return new World(s);
  }

  /** The state value of the actor called `name`, if the log has started one by that name. */
  actor(name: string): string | undefined {
    const actors = this.s.actors;
    return Object.hasOwn(actors, name) ? actors[name] : undefined;
  }

  /**
   * XenMon's view of a domain over the last second: its own CPU and the driver
   * domains' work for it (estimated and true), ns. With `driver` (a driver domain's
   * id), the work is that driver domain's alone (`xenmon.idd`). A log with no
   * `xenmon.idd` record is of a host with one driver domain (and no disk): its
   * `xenmon.sample` sums are that driver's work, and are given for any driver but one
   * the log shows is not it (another of `drivers`).
   */
  lastSecond(domain: number, driver?: number): { ownNs: number; iddEstNs: number; iddTrueNs: number } {
    const s = this.s;
    const from = s.timeNs - 1_000_000_000;
    let ownNs = 0;
    let iddEstNs = 0;
    let iddTrueNs = 0;
    const perDriver = driver !== undefined && Object.keys(s.xenmonIdd).length > 0;
    const sums =
      driver === undefined || (!perDriver && (s.drivers.length === 0 || s.drivers.includes(driver)));
    for (const row of s.xenmon[String(domain)] ?? []) {
      if (row.atNs <= from) continue;
      ownNs += row.gottenNs;
      if (!sums) continue;
      iddEstNs += row.iddEstNs;
      iddTrueNs += row.iddTrueNs;
    }
    if (perDriver) {
      for (const row of s.xenmonIdd[`${driver}:${domain}`] ?? []) {
        if (row.atNs <= from) continue;
        iddEstNs += row.iddEstNs;
        iddTrueNs += row.iddTrueNs;
      }
    }
    return { ownNs, iddEstNs, iddTrueNs };
  }

  /**
   * ns `domain` ran work items of `principal` so far (exact; what runs now is counted
   * when its item ends). For a driver domain and a guest: its work for that guest.
   */
  workFor(domain: number, principal: number): number {
    return this.s.work[domain]?.[principal] ?? 0;
  }

  /** The principals `domain` has worked for so far (more than 0 ns), by principal id ascending. */
  workOf(domain: number): { principal: number; ns: number }[] {
    const out: { principal: number; ns: number }[] = [];
    (this.s.work[domain] ?? []).forEach((ns, principal) => {
      if (ns > 0) out.push({ principal, ns });
    });
    return out;
  }

  /**
   * A domain's memory counters (`tot_pages`, `max_pages`, claim) as the page allocator
   * has them, or undefined if it does not exist (or the log has no memory).
   */
  memoryDomain(domain: number): Immutable<MemoryDomainState> | undefined {
    const domains = this.s.memory?.domains;
    const key = String(domain);
    return domains !== undefined && Object.hasOwn(domains, key) ? domains[key] : undefined;
  }

  /** ShareGuard's blocks in force, by guest id, then driver domain (a single ShareGuard's first). */
  blocks(): { guest: number; driver?: string; sinceNs: number; tdefNs: number }[] {
    return Object.entries(this.s.shareGuard)
      .map(([k, b]) => ({ guest: Number.parseInt(k, 10), ...b }))
      .sort((a, b) => a.guest - b.guest || cmp(a.driver ?? '', b.driver ?? ''));
  }
}
