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
 * A world is plain JSON (`save`/`World.load`, with non-finite numbers kept), so a
 * replay index can persist one every K records and a seek starts from the nearest.
 *
 * The maps keyed by names from the log (actors, and the per-domain tables) are
 * null-prototype objects, and the handlers a Map: an actor or a type may be called
 * `constructor` or `__proto__`, and looking it up must not find Object's own.
 */
import { applySchedulerEvent, credit, DROP_REASONS, type SchedulerEvent, sedf } from '@isosim/actors';
import type { LogDictionary, LogRecord } from '@isosim/core';

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

type Handler = (w: World, r: LogRecord, d: LogDictionary) => void;

const HANDLERS = new Map<string, Handler>(
  Object.entries({
    'xstate.state': (w: World, r: LogRecord, d: LogDictionary) => {
      w.s.actors[d.name(r.target)] = d.name(r.values[0]);
    },
    'sched.init': (w: World, r: LogRecord, d: LogDictionary) => {
      const kind = d.name(r.target) === 'sched.credit' ? 'credit' : 'sedf';
      const pcpus = r.values[0];
      const ops = kind === 'sedf' ? sedf : credit;
      const decisions = Array.from({ length: pcpus }, () => ({ vcpu: -1, runNs: 0 }));
      w.s.scheduler = { kind, context: { state: ops.init(pcpus, r.timeNs), decisions, preempt: false } };
    },
    'vcpu.state': (w: World, r: LogRecord) => {
      w.s.vcpus[r.values[0]] = { domain: r.values[1], state: r.values[2] };
    },
    'cpu.switch': (w: World, r: LogRecord) => {
      w.s.pcpus[r.values[0]] = { vcpu: r.values[2], sinceNs: r.timeNs, runNs: r.values[3], principal: -1 };
    },
    'cpu.timer': (w: World, r: LogRecord) => {
      const p = w.s.pcpus[r.values[0]];
      if (p !== undefined) p.principal = r.values[1];
    },
    'xenmon.sample': (w: World, r: LogRecord) => {
      const key = String(r.values[0]);
      const rows = w.s.xenmon[key] ?? [];
      w.s.xenmon[key] = rows;
      rows.push({ atNs: r.timeNs, gottenNs: r.values[1], iddEstNs: r.values[2], iddTrueNs: r.values[3] });
      if (rows.length > XENMON_WINDOW) rows.shift();
    },
    'shareguard.block': (w: World, r: LogRecord) => {
      w.s.shareGuard[String(r.values[0])] = { sinceNs: r.timeNs, tdefNs: r.values[1] };
    },
    'shareguard.restore': (w: World, r: LogRecord) => {
      delete w.s.shareGuard[String(r.values[0])];
    },
    'net.drop': (w: World, r: LogRecord) => {
      const key = `${r.values[0]}:${DROP_REASONS[r.values[1]] ?? r.values[1]}`;
      w.s.drops[key] = (w.s.drops[key] ?? 0) + 1;
    },
    'ring.occupancy': (w: World, r: LogRecord) => {
      w.s.rings[String(r.values[0])] = { txRequests: r.values[1], rxBuffers: r.values[2] };
    },
  } satisfies Record<string, Handler>),
);

function schedulerHandler(name: string): Handler {
  return (w, r, d) => {
    const sch = w.s.scheduler;
    if (sch === undefined) return;
    const fields = d.types[r.type]?.fields ?? [];
    const e: Record<string, unknown> = Object.create(null);
    e.type = name;
    for (let i = 0; i < fields.length; i++) e[fields[i]] = r.values[i];
    const ops = sch.kind === 'sedf' ? sedf : credit;
    applySchedulerEvent(ops as never, sch.context as never, e as unknown as SchedulerEvent, r.timeNs);
    // A vCPU exists (blocked) from its `sched.add`, even if it never changes state.
    if (name === 'sched.add') {
      const index = (sch.context.state as { vcpus: unknown[] }).vcpus.length - 1;
      w.s.vcpus[index] ??= { domain: Number(e.domain), state: 0 };
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

export class World {
  /** Per log type id: its handler, or null when the world ignores that type. */
  private readonly byType: (Handler | null)[] = [];

  constructor(public s: WorldState = emptyWorld()) {}

  /** Folds one record in. Records must come in log order, starting at `s.seq`. */
  apply(r: LogRecord, d: LogDictionary): void {
    let h = this.byType[r.type];
    if (h === undefined) {
      const name = d.typeName(r.type);
      h = HANDLERS.get(name) ?? (SCHED_EVENTS.has(name) ? schedulerHandler(name) : null);
      this.byType[r.type] = h;
    }
    if (h !== null) h(this, r, d);
    this.s.seq = r.seq + 1;
    this.s.timeNs = r.timeNs;
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
    return Object.hasOwn(this.s.actors, name) ? this.s.actors[name] : undefined;
  }

  /** XenMon's view of a domain over the last second: own CPU and the IDD's work for it, ns. */
  lastSecond(domain: number): { ownNs: number; iddEstNs: number; iddTrueNs: number } {
    const rows = this.s.xenmon[String(domain)] ?? [];
    let ownNs = 0;
    let iddEstNs = 0;
    let iddTrueNs = 0;
    for (const row of rows) {
      if (row.atNs <= this.s.timeNs - 1_000_000_000) continue;
      ownNs += row.gottenNs;
      iddEstNs += row.iddEstNs;
      iddTrueNs += row.iddTrueNs;
    }
    return { ownNs, iddEstNs, iddTrueNs };
  }
}
