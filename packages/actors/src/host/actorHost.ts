/**
 * Hosting XState v5 actors on the kernel.
 *
 * Design
 * - Each hosted actor is a root XState actor with an explicit id, and a kernel
 *   endpoint of the same name. Events reach it only through the kernel: `send` posts
 *   a kernel event, which the kernel logs as it dispatches it, and the endpoint's
 *   handler turns it back into an XState event. `deliver` hands an event over at once
 *   from inside a dispatch (how event-channel upcalls reach an actor) and logs it.
 * - XState's timers (`after`) go through a clock that posts cancellable kernel events:
 *   they fire at exactly their deadline, ties broken by the kernel's `(time, priority,
 *   seq)` order, and each firing is logged as `xstate.timer`. Delays are in XState's
 *   unit, milliseconds, unless `timerUnitNs` says otherwise.
 * - Every change of an actor's state value is logged as `xstate.state` with the new
 *   value as an interned string (`stateName`). XState's session ids, random delayed-
 *   event ids and wall-clock stamps never reach the log: only our ids do.
 * - Events have a fixed shape, like the log's records: a `type` and at most four
 *   integer fields, the same names every time a type is used.
 * - An actor that throws fails the run: the error comes out of the kernel's
 *   `run`/`runUntil` with the actor's id and the simulated time.
 * - No children: a machine that invokes or spawns actors is refused (`spawn` throws an
 *   `IsosimError`), since events between a parent and its children would not pass
 *   through the kernel, and the log (and so a replay) would not see them. Host each
 *   child as an actor of its own and send events between them through the host.
 * - Persistence: `HostedActor.getPersistedSnapshot()` is XState's persisted snapshot
 *   (restorable with `createActor(machine, { snapshot })`) plus the actor's pending
 *   `after` timers (`timers`, which XState's own persisted snapshots drop:
 *   xstate#5331); `spawn(id, machine, { snapshot })` restores both, under either
 *   engine, and the actor goes on exactly as the original would have.
 * - Inspection: `ActorHostOptions.inspect` sees every hosted actor's `@xstate.actor`,
 *   `@xstate.event` and `@xstate.snapshot` under both engines (XState reports them
 *   itself; the flat interpreter's are made here, with an ActorRef-like `ref`), and the
 *   events of a fast path (`recordDelivery` + `reportStep`). Without an inspector none
 *   of this runs.
 */
import { type Delivery, InvariantError, IsosimError, type Kernel, Priority } from '@isosim/core';
import {
  type Actor,
  type ActorRef,
  type AnyActorLogic,
  type AnyStateMachine,
  createActor,
  type EventFromLogic,
  type InputFrom,
  type InspectionEvent,
  type Observer,
  type Snapshot,
  type SnapshotFrom,
  type Subscription,
} from 'xstate';
import { compileFlat, FlatRunner } from './flatMachine.ts';

/** A fixed-shape event: a type and up to four integer fields. */
export type HostEvent = { readonly type: string; readonly [field: string]: unknown };

/** What `ActorHostOptions.inspect` takes: XState's inspection observer. */
export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * A hosted actor's persisted snapshot: XState's (`actor.getPersistedSnapshot()` of a
 * machine: status, value, context, history, children, output, error), JSON-safe when
 * the machine's context is, plus `timers`, isosim's: the pending `after` timers, by
 * XState's event type (`xstate.after.<delay>.<machine>.<state>`), each with the
 * nanoseconds it had left when the snapshot was taken. XState's own
 * `createActor(machine, { snapshot })` ignores `timers` (and loses pending timers, as
 * it always does: xstate#5331); `ActorHost.spawn(id, machine, { snapshot })` sets them.
 */
export interface PersistedActorSnapshot {
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  readonly value: unknown;
  readonly context: unknown;
  readonly historyValue?: unknown;
  readonly children?: Readonly<Record<string, unknown>>;
  readonly output?: unknown;
  readonly error?: unknown;
  readonly timers?: Readonly<Record<string, number>>;
}

export interface HostedActor<TLogic extends AnyActorLogic = AnyStateMachine> {
  readonly id: string;
  readonly endpoint: number;
  /** Which interpreter runs it (see `ActorHostOptions.engine`). */
  readonly engine: ActorEngine;
  /**
   * The actor as an XState `ActorRef`: XState's own actor under the `xstate` engine
   * (its `send` goes straight to the interpreter, unlogged: use the host's `send`);
   * under `flat`, a facade with the same face (`id`, `sessionId`, `logic`,
   * `getSnapshot` giving an XState machine snapshot, `getPersistedSnapshot`,
   * `subscribe`, `select`) whose `send` posts through the kernel like `host.send`.
   */
  readonly ref: ActorRef<SnapshotFrom<TLogic>, EventFromLogic<TLogic>>;
  /**
   * The current snapshot: XState's under `xstate`; under `flat` a plain
   * `{ value, context, status }` (cheap: read it on hot paths; `ref.getSnapshot()`
   * gives XState's form).
   */
  snapshot(): SnapshotFrom<TLogic>;
  /** A deep copy of the state to restore later: see `PersistedActorSnapshot`. */
  getPersistedSnapshot(): PersistedActorSnapshot;
  /** Hands an event to the interpreter (the host logs deliveries; use `send`/`deliver`). */
  receive(event: HostEvent): void;
  stop(): void;
  /**
   * Calls `listener` with the snapshot after every step the interpreter takes (not the
   * steps of a fast path such as the scheduler port's).
   */
  subscribe(listener: (snapshot: SnapshotFrom<TLogic>) => void): Subscription;
}

/**
 * `flat`: machines inside the subset of `flatMachine.ts` run on its interpreter, the
 * rest on XState's; `xstate`: everything on XState's. Both write the same log.
 */
export type ActorEngine = 'flat' | 'xstate';

export interface ActorHostOptions {
  /** Nanoseconds per unit of XState delay (default 1_000_000: XState delays are ms). */
  timerUnitNs?: number;
  /** Default `flat`. */
  engine?: ActorEngine;
  /**
   * An observer of XState's inspection events (`InspectionEvent`, as
   * `createActor(logic, { inspect })` takes, e.g. @statelyai/inspect's
   * `inspector.inspect`) for every hosted actor: `@xstate.actor` when it is spawned,
   * `@xstate.event` for each event it receives (timers' with `sourceRef` the actor
   * itself, others with none), `@xstate.snapshot` after each step, including the steps
   * of a fast path. Under `xstate` XState also sends its `@xstate.microstep` and
   * `@xstate.action`; the flat interpreter does not. Costs nothing when left out.
   */
  inspect?: InspectObserver;
}

/** How an actor starts: fresh from `input`, or from a persisted snapshot. */
export interface SpawnOptions<TLogic extends AnyStateMachine> {
  readonly input?: InputFrom<TLogic>;
  /** Restores the actor (`HostedActor.getPersistedSnapshot()`, or XState's own). */
  readonly snapshot?: PersistedActorSnapshot;
}

interface Codec {
  readonly id: number;
  readonly name: string;
  readonly fields: readonly string[];
}

/** The string that names a state value: `'idle'`, or `'{"net":"busy","cpu":"idle"}'`. */
export function stateKey(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** XState's marker for an actor reference in JSON. */
const ACTOR_TYPE = 1;
/** The interop observable key, as XState finds it. */
const OBSERVABLE: symbol | string =
  (typeof Symbol === 'function' && (Symbol as { observable?: symbol }).observable) || '@@observable';
let flatSessions = 0;

export class ActorHost {
  readonly kernel: Kernel;
  private readonly timerUnitNs: number;
  private readonly timerType: number;
  private readonly stateType: number;
  private readonly codecs = new Map<string, Codec>();
  private readonly codecById: Codec[] = [];
  private readonly actors = new Map<string, HostedActor>();
  private failure: { id: string; error: unknown } | undefined;
  private readonly engine: ActorEngine;
  private readonly inspectFn: ((event: InspectionEvent) => void) | undefined;
  /** Each pending timer's deadline, by its kernel handle's slot (see `dueOf`). */
  private dueBySlot = new Float64Array(1024);
  /** When set, the next timer is set exactly this many ns ahead (restoring a timer under XState). */
  private exactDelayNs: number | undefined;

  constructor(kernel: Kernel, options: ActorHostOptions = {}) {
    this.kernel = kernel;
    this.engine = options.engine ?? 'flat';
    this.timerUnitNs = options.timerUnitNs ?? 1_000_000;
    this.timerType = kernel.type('xstate.timer');
    this.stateType = kernel.type('xstate.state', ['stateName']);
    const inspect = options.inspect;
    this.inspectFn =
      inspect === undefined
        ? undefined
        : typeof inspect === 'function'
          ? inspect
          : (e) => (inspect as Observer<InspectionEvent>).next?.(e);
  }

  /**
   * Creates, registers and starts an actor: from `input`, or restored from `snapshot`
   * (its pending timers too). Its state is logged. A machine that invokes or spawns
   * child actors is refused (see the module's doc).
   */
  spawn<TLogic extends AnyStateMachine>(
    id: string,
    logic: TLogic,
    options: SpawnOptions<TLogic> = {},
  ): HostedActor<TLogic> {
    if (this.actors.has(id)) throw new InvariantError(`an actor with id ${id} already exists`);
    const childish = childrenOf(logic);
    if (childish !== undefined) throw refuseChildren(id, childish);
    const kernel = this.kernel;
    const restore = options.snapshot === undefined ? undefined : structuredClone(options.snapshot);
    const timers = restore?.timers;
    if (restore !== undefined) delete (restore as { timers?: unknown }).timers;
    let endpoint = -1;
    const setTimer = (fn: () => void, delay: number): number => {
      const exact = this.exactDelayNs;
      const atNs = kernel.nowNs + (exact ?? Math.round(delay * this.timerUnitNs));
      const handle = kernel.postCancellable(
        atNs,
        Priority.TIMER,
        endpoint,
        this.timerType,
        endpoint,
        0,
        0,
        0,
        0,
        fn,
      );
      this.setDue(handle, atNs);
      return handle;
    };
    let lastState = '';
    const listeners: ((snapshot: SnapshotFrom<TLogic>) => void)[] = [];
    const subscribe = (l: (snapshot: SnapshotFrom<TLogic>) => void): Subscription => {
      listeners.push(l);
      return {
        unsubscribe: () => {
          const i = listeners.indexOf(l);
          if (i >= 0) listeners.splice(i, 1);
        },
      };
    };
    const onState = (value: unknown): void => {
      for (const l of listeners) l(hosted.snapshot());
      const key = stateKey(value);
      if (key !== lastState) {
        lastState = key;
        kernel.record(this.stateType, endpoint, endpoint, kernel.registry.name(key));
      }
    };
    const onError = (error: unknown): void => {
      this.failure ??= { id, error };
    };
    const program = this.engine === 'flat' ? compileFlat(logic) : undefined;
    let hosted: HostedActor<TLogic>;
    let start: () => void;
    const inspect = this.inspectFn;
    if (program !== undefined) {
      let facade: FlatActorRef | undefined;
      const refOf = (): FlatActorRef => {
        facade ??= new FlatActorRef(this, hosted, logic, runner, subscribe);
        return facade;
      };
      const runner = new FlatRunner(
        program,
        id,
        options.input,
        {
          setTimer: (delay, fire) => setTimer(fire, delay),
          clearTimer: (handle) => kernel.cancel(handle),
          onState:
            inspect === undefined
              ? onState
              : (value, event) => {
                  onState(value);
                  const ref = refOf();
                  inspect({
                    type: '@xstate.snapshot',
                    actorRef: ref,
                    rootId: ref.sessionId,
                    event,
                    snapshot: ref.getSnapshot() as Snapshot<unknown>,
                  });
                },
          onError,
          onEvent:
            inspect === undefined
              ? undefined
              : (event, fromSelf) => {
                  const ref = refOf();
                  inspect({
                    type: '@xstate.event',
                    actorRef: ref,
                    rootId: ref.sessionId,
                    sourceRef: fromSelf ? ref : undefined,
                    event,
                  });
                },
          refuseSpawn: () => {
            throw refuseChildren(id, 'spawns a child actor (the spawn of an assign)');
          },
        },
        restore === undefined ? undefined : flatRestore(id, restore),
      );
      hosted = {
        id,
        endpoint: -1,
        engine: 'flat',
        get ref() {
          return refOf() as unknown as HostedActor<TLogic>['ref'];
        },
        snapshot: () => runner.snapshot() as unknown as SnapshotFrom<TLogic>,
        getPersistedSnapshot: () => {
          const s = runner.snapshot();
          const persisted: PersistedActorSnapshot = {
            status: s.status,
            output: undefined,
            error: undefined,
            value: s.value,
            historyValue: {},
            context: structuredClone(s.context),
            children: {},
          };
          return this.withTimers(persisted, [...runner.pendingTimers()]);
        },
        receive: (event) => runner.send(event),
        stop: () => runner.stop(),
        subscribe,
      };
      start = () => {
        if (inspect !== undefined) {
          const ref = refOf();
          inspect({ type: '@xstate.actor', actorRef: ref, rootId: ref.sessionId });
        }
        runner.start();
        if (timers !== undefined && runner.status === 'active')
          for (const [type, ns] of Object.entries(timers))
            runner.rearm(type, (fire) => this.exactly(ns, () => setTimer(fire, 0)));
      };
    } else {
      // Handles of this actor's pending timers, in the order they were set (to pair
      // with XState's scheduled events when persisting).
      const pending = new Set<number>();
      const clock = {
        setTimeout: (fn: (...args: unknown[]) => void, delay: number): number => {
          const handle: number = setTimer(() => {
            pending.delete(handle);
            fn();
          }, delay);
          pending.add(handle);
          return handle;
        },
        clearTimeout: (handle: unknown): void => {
          pending.delete(handle as number);
          kernel.cancel(handle as number);
        },
      };
      const ref = createActor(logic, {
        id,
        systemId: id,
        clock,
        input: options.input,
        snapshot: restore as never,
        inspect,
      }) as Actor<TLogic>;
      ref.subscribe({
        next: (snap: { value?: unknown; children?: Record<string, unknown> }) => {
          // A child spawned at run time (an assign's spawn, enqueueActions): refuse it.
          for (const child in snap.children) {
            onError(refuseChildren(id, `spawned the child actor ${child}`));
            break;
          }
          onState(snap.value);
        },
        error: onError,
      });
      hosted = {
        id,
        endpoint: -1,
        engine: 'xstate',
        ref: ref as unknown as HostedActor<TLogic>['ref'],
        snapshot: () => ref.getSnapshot() as SnapshotFrom<TLogic>,
        getPersistedSnapshot: () => {
          const persisted = structuredClone(ref.getPersistedSnapshot()) as PersistedActorSnapshot;
          const scheduled = Object.values(ref.system.getSnapshot()._scheduledEvents);
          const handles = [...pending];
          if (scheduled.length !== handles.length)
            throw new InvariantError(
              `actor ${id}: ${scheduled.length} scheduled events, ${handles.length} timers`,
            );
          return this.withTimers(
            persisted,
            scheduled.map((s, i) => [s.id, handles[i]] as [string, number]),
          );
        },
        receive: (event) => ref.send(event as never),
        stop: () => ref.stop(),
        subscribe,
      };
      start = () => {
        ref.start();
        if (timers !== undefined && (ref.getSnapshot() as Snapshot<unknown>).status === 'active')
          for (const [type, ns] of Object.entries(timers))
            this.exactly(ns, () => ref.system.scheduler.schedule(ref, ref, { type }, 0, type));
      };
    }
    endpoint = kernel.endpoint(id, (ev) => this.dispatch(hosted, ev));
    (hosted as { endpoint: number }).endpoint = endpoint;
    this.actors.set(id, hosted as unknown as HostedActor);
    start();
    this.check();
    return hosted;
  }

  get(id: string): HostedActor | undefined {
    return this.actors.get(id);
  }

  /** Every actor, in the order they were spawned. */
  all(): HostedActor[] {
    return [...this.actors.values()];
  }

  /**
   * Posts `event` to actor `to` after `delayNs` (default 0: later in this instant, in
   * queue order). `source` is the sender's endpoint id (default: the kernel).
   */
  send(to: HostedActor | string, event: HostEvent, delayNs = 0, source = this.kernel.self): void {
    const target = this.resolve(to);
    const c = this.codec(event);
    const v = this.values(c, event);
    this.kernel.postIn(delayNs, Priority.ACTOR, target.endpoint, c.id, source, v[0], v[1], v[2], v[3]);
  }

  /**
   * Delivers `event` to `to` now, from inside a kernel dispatch (e.g. an upcall handler
   * bridging an event channel to an actor). Logged like any delivery.
   */
  deliver(to: HostedActor, event: HostEvent, source = this.kernel.self): void {
    const c = this.codec(event);
    const v = this.values(c, event);
    this.kernel.record(c.id, source, to.endpoint, v[0], v[1], v[2], v[3]);
    to.receive(event);
    this.check();
  }

  /**
   * Logs `event` as delivered to `to` without running XState's interpreter: for an
   * actor's fast path, where the caller applies the machine's own transition function
   * to the actor's context itself (see hypervisor/schedulerPort.ts). The record is the
   * one `deliver` writes, so a replay cannot tell the two apart; an inspector sees the
   * event (`@xstate.event`). Call `reportStep` once the event is applied.
   */
  recordDelivery(to: HostedActor, event: HostEvent, source = this.kernel.self): void {
    const c = this.codec(event);
    const v = this.values(c, event);
    this.kernel.record(c.id, source, to.endpoint, v[0], v[1], v[2], v[3]);
    const inspect = this.inspectFn;
    if (inspect !== undefined) {
      const ref = to.ref;
      inspect({ type: '@xstate.event', actorRef: ref, rootId: ref.sessionId, sourceRef: undefined, event });
    }
  }

  /**
   * The log type id of events shaped like `event` (interned as `deliver` would): for a
   * fast path that writes its records from plain numbers (`kernel.record`).
   */
  eventTypeId(event: HostEvent): number {
    return this.codec(event).id;
  }

  /** True when an inspector is attached: fast paths must then report every step. */
  get inspecting(): boolean {
    return this.inspectFn !== undefined;
  }

  /**
   * After a fast path applied `event` (see `recordDelivery`): shows an inspector the
   * actor's new snapshot (`@xstate.snapshot`). Nothing at all without an inspector.
   */
  reportStep(to: HostedActor, event: HostEvent): void {
    const inspect = this.inspectFn;
    if (inspect === undefined) return;
    const ref = to.ref;
    inspect({
      type: '@xstate.snapshot',
      actorRef: ref,
      rootId: ref.sessionId,
      event,
      snapshot: ref.getSnapshot(),
    });
  }

  /** Stops every actor (their pending timers are cancelled by XState through the clock). */
  stopAll(): void {
    for (const a of this.actors.values()) a.stop();
  }

  private dispatch(actor: HostedActor, ev: Delivery): void {
    if (ev.type === this.timerType) {
      (ev.ref as () => void)();
    } else {
      actor.receive(this.decode(ev));
    }
    this.check();
  }

  /** Runs `set` with the next timer set exactly `ns` from now. */
  private exactly<T>(ns: number, set: () => T): T {
    if (!Number.isSafeInteger(ns) || ns < 0)
      throw new IsosimError(
        'ActorHost.spawn',
        'snapshot.timers',
        `${ns} is not a time left in ns`,
        'give whole ns >= 0',
      );
    this.exactDelayNs = ns;
    try {
      return set();
    } finally {
      this.exactDelayNs = undefined;
    }
  }

  private setDue(handle: number, atNs: number): void {
    const slot = handle % 2 ** 24;
    if (slot >= this.dueBySlot.length) {
      const grown = new Float64Array(Math.max(slot + 1, this.dueBySlot.length * 2));
      grown.set(this.dueBySlot);
      this.dueBySlot = grown;
    }
    this.dueBySlot[slot] = atNs;
  }

  /** The deadline of a pending timer (a handle's slot holds its event until it fires). */
  private dueOf(handle: number): number {
    return this.dueBySlot[handle % 2 ** 24];
  }

  private withTimers(
    persisted: PersistedActorSnapshot,
    pending: readonly (readonly [string, number])[],
  ): PersistedActorSnapshot {
    if (pending.length === 0) return persisted;
    const timers: Record<string, number> = {};
    for (const [type, handle] of pending) timers[type] = this.dueOf(handle) - this.kernel.nowNs;
    return { ...persisted, timers };
  }

  private decode(ev: Delivery): HostEvent {
    const c = this.codecById[ev.type];
    if (c === undefined) throw new InvariantError(`actor event type ${ev.type} has no codec`);
    const out: Record<string, unknown> = { type: c.name };
    const f = c.fields;
    if (f.length > 0) out[f[0]] = ev.a0;
    if (f.length > 1) out[f[1]] = ev.a1;
    if (f.length > 2) out[f[2]] = ev.a2;
    if (f.length > 3) out[f[3]] = ev.a3;
    return out as HostEvent;
  }

  private codec(event: HostEvent): Codec {
    let c = this.codecs.get(event.type);
    if (c === undefined) {
      const fields = Object.keys(event).filter((k) => k !== 'type');
      const id = this.kernel.type(event.type, fields);
      c = { id, name: event.type, fields };
      this.codecs.set(event.type, c);
      this.codecById[id] = c;
    }
    return c;
  }

  /** `values`' answer, reused: it is read at once by `kernel.record` (no tuple per event). */
  private readonly scratch: [number, number, number, number] = [0, 0, 0, 0];

  private values(c: Codec, event: HostEvent): [number, number, number, number] {
    const out = this.scratch;
    out[1] = out[2] = out[3] = out[0] = 0;
    const fields: Readonly<Record<string, unknown>> = event;
    let n = 0;
    for (const k in fields) if (k !== 'type') n++;
    if (n !== c.fields.length) this.badShape(c, event);
    for (let i = 0; i < c.fields.length; i++) {
      const v = fields[c.fields[i]];
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.badShape(c, event);
      out[i] = v as number;
    }
    return out;
  }

  private badShape(c: Codec, event: HostEvent): never {
    throw new InvariantError(
      `event ${c.name} must carry exactly the integer fields [${c.fields.join(', ')}]; got ${JSON.stringify(event)}`,
    );
  }

  private resolve(to: HostedActor | string): HostedActor {
    const a = typeof to === 'string' ? this.actors.get(to) : to;
    if (a === undefined) throw new InvariantError(`no actor with id ${String(to)}`);
    return a;
  }

  private check(): void {
    const f = this.failure;
    if (f === undefined) return;
    this.failure = undefined;
    const msg = f.error instanceof Error ? f.error.message : String(f.error);
    throw new InvariantError(`actor ${f.id} failed at t=${this.kernel.nowNs} ns: ${msg}`, { cause: f.error });
  }
}

/** A persisted snapshot as the flat interpreter restores it (one state value, no children). */
function flatRestore(id: string, s: PersistedActorSnapshot) {
  if (typeof s.value !== 'string')
    throw new IsosimError(
      'ActorHost.spawn',
      `snapshot of ${id}`,
      `value ${stateKey(s.value)} is not a flat state`,
      'give a snapshot of this machine',
    );
  if (s.children !== undefined && Object.keys(s.children).length > 0)
    throw refuseChildren(id, 'has child actors in its snapshot');
  return { value: s.value, context: s.context, status: s.status };
}

function refuseChildren(id: string, what: string): IsosimError {
  return new IsosimError(
    'ActorHost.spawn',
    `actor ${id}`,
    `${what}: events between an actor and its children bypass the kernel, so the log and a replay would not see them`,
    'host each child as an actor of its own (host.spawn) and send events between them through the host (host.send, host.deliver)',
  );
}

/**
 * What makes `machine` have children, found in its definition: a state's `invoke`, or
 * a `spawnChild` action (named or inline). Undefined if nothing does (an `assign`'s
 * `spawn` or `enqueueActions` can still spawn at run time: the host refuses it then).
 */
function childrenOf(machine: AnyStateMachine): string | undefined {
  const actions = machine.implementations.actions as Record<string, unknown>;
  const spawns = (a: unknown): boolean => {
    const f =
      typeof a === 'string' ? actions[a] : typeof a === 'function' ? a : (a as { type?: string })?.type;
    const impl = typeof f === 'string' ? actions[f] : f;
    return (impl as { type?: unknown } | undefined)?.type === 'xstate.spawnChild';
  };
  const inList = (v: unknown): boolean =>
    (Array.isArray(v) ? v : [v]).some((a) => a !== undefined && spawns(a));
  const inTransitions = (v: unknown): boolean =>
    (Array.isArray(v) ? v : [v]).some(
      (t) => t !== null && typeof t === 'object' && inList((t as { actions?: unknown }).actions),
    );
  const visit = (path: string, node: Record<string, unknown>): string | undefined => {
    const where = path === '' ? 'the machine' : `state ${path}`;
    if (node.invoke !== undefined) return `invokes a child actor (${where})`;
    if (inList(node.entry) || inList(node.exit)) return `spawns a child actor (${where}, entry or exit)`;
    const on = (node.on ?? {}) as Record<string, unknown>;
    const after = (node.after ?? {}) as Record<string, unknown>;
    for (const t of [...Object.values(on), ...Object.values(after), node.always])
      if (t !== undefined && inTransitions(t)) return `spawns a child actor (${where}, a transition)`;
    for (const [name, child] of Object.entries(
      (node.states ?? {}) as Record<string, Record<string, unknown>>,
    )) {
      const found = visit(path === '' ? name : `${path}.${name}`, child);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit('', machine.config as Record<string, unknown>);
}

/**
 * The flat interpreter's actor as an XState `ActorRef`, enough for inspectors
 * (@statelyai/inspect reads `id`, `sessionId`, `logic.config`, `_parent` and
 * `getSnapshot()`) and for code written against XState's actors. `send` posts through
 * the kernel (logged, delivered in queue order), unlike XState's.
 */
class FlatActorRef {
  readonly id: string;
  readonly sessionId: string;
  readonly systemId: string;
  readonly src: AnyStateMachine;
  readonly _parent = undefined;
  readonly system: unknown;
  private cached: { value: string; context: unknown; status: string; snapshot: unknown } | undefined;

  constructor(
    private readonly host: ActorHost,
    private readonly hosted: HostedActor,
    readonly logic: AnyStateMachine,
    private readonly runner: FlatRunner,
    private readonly subscribeHosted: (l: (s: never) => void) => Subscription,
  ) {
    this.id = hosted.id;
    this.systemId = hosted.id;
    this.sessionId = `flat:${flatSessions++}`;
    this.src = logic;
    this.system = {
      get: (systemId: string) => host.get(systemId)?.ref,
      getAll: () => Object.fromEntries(host.all().map((a) => [a.id, a.ref])),
    };
    // Interop observable (RxJS `from(ref)`), as XState's actors are.
    (this as unknown as Record<symbol | string, unknown>)[OBSERVABLE] = () => this;
  }

  send(event: HostEvent): void {
    this.host.send(this.hosted, event);
  }

  start(): void {}

  stop(): void {
    this.hosted.stop();
  }

  /** XState's machine snapshot for the runner's state (made when the state changed). */
  getSnapshot(): unknown {
    const r = this.runner;
    const c = this.cached;
    if (c !== undefined && c.value === r.value && c.context === r.context && c.status === r.status)
      return c.snapshot;
    const snapshot = this.logic.resolveState({
      value: r.value,
      context: r.context as never,
      status: r.status,
    } as never);
    this.cached = { value: r.value, context: r.context, status: r.status, snapshot };
    return snapshot;
  }

  getPersistedSnapshot(): PersistedActorSnapshot {
    return this.hosted.getPersistedSnapshot();
  }

  subscribe(next: Observer<unknown> | ((snapshot: unknown) => void)): Subscription {
    const fn = typeof next === 'function' ? next : (s: unknown) => next.next?.(s);
    return this.subscribeHosted(() => fn(this.getSnapshot()));
  }

  on(): Subscription {
    // Flat machines emit nothing (`emit` is outside the flat subset).
    return { unsubscribe: () => {} };
  }

  select<T>(selector: (snapshot: unknown) => T, equal: (a: T, b: T) => boolean = Object.is) {
    return {
      subscribe: (next: Observer<T> | ((value: T) => void)) => {
        const fn = typeof next === 'function' ? next : (v: T) => next.next?.(v);
        let last = selector(this.getSnapshot());
        return this.subscribe((s) => {
          const v = selector(s);
          if (!equal(last, v)) {
            last = v;
            fn(v);
          }
        });
      },
      get: () => selector(this.getSnapshot()),
    };
  }

  toJSON(): { xstate$$type: number; id: string } {
    return { xstate$$type: ACTOR_TYPE, id: this.id };
  }
}
