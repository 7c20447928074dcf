/**
 * A fast interpreter for flat XState machines: the same machine definition, the same
 * semantics, a fraction of the cost per event.
 *
 * Why: XState's interpreter costs several microseconds an event on this machine (see
 * the library notes), and the devices and drivers on a host's packet path see one
 * event per interrupt or per polling batch. Their machines are flat (no nested or
 * parallel states), keep their context as a plain object changed only by `assign`,
 * and take their effects from implementations given in `setup` or `machine.provide`.
 * For such a machine `compileFlat` reads the definition (`machine.config` and
 * `machine.implementations`) into tables, and `FlatRunner` executes them with XState
 * v5's semantics:
 *
 * - An event selects the first transition of the current state whose guard holds; a
 *   targeted transition runs the source's exit actions, the transition's actions, then
 *   the target's entry actions (`reenter: true` on a self-transition exits and
 *   re-enters); then eventless (`always`) transitions are taken until none is enabled.
 * - Actions run in order. An `assign` (named in `setup({ actions })`, or inline)
 *   replaces the context with a new object, `{ ...context, ...update }`, at once: the
 *   actions, guards and delays after it in the same macrostep see the new context. Its
 *   assignment is a property-assigner object (values or functions of
 *   `{ context, event, self, spawn }` and the action's params) or one function
 *   returning the partial update. Other actions are called with `{ context, event,
 *   self }` and their params (`{ type, params }`, a value or a function of
 *   `{ context, event }`).
 * - `after` timers are set on entry (delay resolved then, after the entry actions, from
 *   the context and the event that caused the entry) and cancelled on exit. As in
 *   XState, setting and cancelling timers is deferred to the end of the macrostep,
 *   after every action has run; at start, the initial state's actions and timers run
 *   in the order they arise.
 * - Events sent to the actor while it processes one wait in a mailbox.
 * - An action or guard that throws stops the actor with an error; reaching a `final`
 *   state ends it (status `done`).
 * - A machine without `context` has `{}`, as in XState.
 *
 * Anything outside this subset (nested or parallel states, `invoke`, built-in actions
 * other than `assign` — `raise`, `sendTo`, `spawnChild`, `enqueueActions` … —, guards
 * built from `and`/`or`/`not`, targets by id, self-transitions without `reenter`, an
 * action or guard named but not implemented) makes `compileFlat` return undefined, and
 * the host runs the machine on XState's own interpreter. `test/engines.test.ts` runs
 * every built-in scenario on both and requires byte-identical logs;
 * `test/xstateConventions.test.ts` compares snapshots, persisted snapshots and
 * inspection events.
 */
import type { AnyStateMachine } from 'xstate';

type Impl = (args: { context: unknown; event: unknown; self?: unknown }, params?: unknown) => unknown;
type Params = ((args: { context: unknown; event: unknown }) => unknown) | unknown;

/** The arguments `assign`'s assigners receive (XState's, without `system`). */
interface AssignArgs {
  readonly context: unknown;
  readonly event: unknown;
  readonly self: unknown;
  readonly spawn: (...args: unknown[]) => never;
}

/** One action: a call, or an `assign` (`assignment` set). */
interface FlatAction {
  readonly fn: Impl | undefined;
  readonly assignment: Impl | Readonly<Record<string, unknown>> | undefined;
  /** Resolved per execution when a function, as XState does. */
  readonly params: Params;
  readonly hasParams: boolean;
}

interface FlatGuard {
  readonly fn: Impl;
  readonly params: Params;
  readonly hasParams: boolean;
}

interface FlatTransition {
  readonly target: string | undefined;
  readonly reenter: boolean;
  readonly guard: FlatGuard | undefined;
  readonly actions: readonly FlatAction[];
}

export interface FlatTimer {
  /** XState's event type for it: `xstate.after.<delay>.<machine>.<state>`. */
  readonly type: string;
  readonly delay: number | Impl;
}

interface FlatState {
  /** Reaching it ends the actor (status `done`), as a top-level final state does in XState. */
  readonly final: boolean;
  readonly entry: readonly FlatAction[];
  readonly exit: readonly FlatAction[];
  readonly on: ReadonlyMap<string, readonly FlatTransition[]>;
  readonly always: readonly FlatTransition[];
  readonly after: readonly FlatTimer[];
}

export interface FlatProgram {
  readonly initial: string;
  readonly states: ReadonlyMap<string, FlatState>;
  readonly context: unknown;
}

const ROOT_KEYS = new Set([
  'id',
  'context',
  'initial',
  'states',
  'types',
  'schemas',
  'description',
  'version',
]);
const STATE_KEYS = new Set(['entry', 'exit', 'on', 'always', 'after', 'description', 'type']);
const TRANSITION_KEYS = new Set(['target', 'guard', 'actions', 'reenter', 'description']);

class Unsupported extends Error {}

const compiled = new WeakMap<AnyStateMachine, FlatProgram | null>();

/** The machine's tables, or undefined if it is outside the subset this runner handles. */
export function compileFlat(machine: AnyStateMachine): FlatProgram | undefined {
  let p = compiled.get(machine);
  if (p === undefined) {
    try {
      p = compile(machine);
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      p = null;
    }
    compiled.set(machine, p);
  }
  return p ?? undefined;
}

/** XState's `assign(...)` action object: a function tagged `xstate.assign` with its assignment. */
function isAssign(f: unknown): f is { assignment: Impl | Record<string, unknown> } {
  return (
    typeof f === 'function' &&
    (f as { type?: unknown }).type === 'xstate.assign' &&
    'assignment' in f &&
    (typeof f.assignment === 'function' || (typeof f.assignment === 'object' && f.assignment !== null))
  );
}

function compile(machine: AnyStateMachine): FlatProgram {
  const config = machine.config as Record<string, unknown>;
  for (const k of Object.keys(config)) if (!ROOT_KEYS.has(k)) throw new Unsupported(k);
  const impl = machine.implementations as {
    actions: Record<string, unknown>;
    guards: Record<string, unknown>;
    delays: Record<string, unknown>;
  };
  const statesConfig = config.states as Record<string, Record<string, unknown>> | undefined;
  const initial = config.initial;
  if (statesConfig === undefined || typeof initial !== 'string' || !(initial in statesConfig))
    throw new Unsupported('states');
  const machineId = machine.id;
  const names = new Set(Object.keys(statesConfig));

  const action = (v: unknown): FlatAction => {
    let f: unknown = v;
    let params: Params;
    let hasParams = false;
    if (typeof v === 'string') f = impl.actions[v];
    else if (typeof v === 'object' && v !== null) {
      const o = v as { type?: unknown; params?: unknown };
      if (typeof o.type !== 'string') throw new Unsupported('action object');
      f = impl.actions[o.type];
      hasParams = 'params' in o;
      params = o.params;
    } else if (typeof v !== 'function') throw new Unsupported('action');
    if (isAssign(f)) return { fn: undefined, assignment: f.assignment, params, hasParams };
    // Every other built-in (raise, sendTo, spawnChild, enqueueActions …) carries a
    // `resolve`; only plain functions are called here.
    if (typeof f !== 'function' || 'resolve' in f) throw new Unsupported(String(v));
    return { fn: f as Impl, assignment: undefined, params, hasParams };
  };
  const guard = (v: unknown): FlatGuard => {
    let f: unknown = v;
    let params: Params;
    let hasParams = false;
    if (typeof v === 'string') f = impl.guards[v];
    else if (typeof v === 'object' && v !== null) {
      const o = v as { type?: unknown; params?: unknown };
      if (typeof o.type !== 'string') throw new Unsupported('guard object');
      f = impl.guards[o.type];
      hasParams = 'params' in o;
      params = o.params;
    }
    // Guards built from and/or/not carry a `check`.
    if (typeof f !== 'function' || 'check' in f) throw new Unsupported(`guard ${String(v)}`);
    return { fn: f as Impl, params, hasParams };
  };
  const list = (v: unknown): FlatAction[] =>
    v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(action);
  const transitions = (from: string, v: unknown): FlatTransition[] =>
    (Array.isArray(v) ? v : [v]).map((t) => {
      const tc = (typeof t === 'string' ? { target: t } : t) as Record<string, unknown>;
      if (tc === null || typeof tc !== 'object') throw new Unsupported('transition');
      for (const k of Object.keys(tc)) if (!TRANSITION_KEYS.has(k)) throw new Unsupported(k);
      const target = tc.target;
      if (target !== undefined && (typeof target !== 'string' || !names.has(target)))
        throw new Unsupported('target');
      const reenter = tc.reenter === true;
      if (target === from && !reenter) throw new Unsupported('self-transition without reenter');
      return {
        target,
        reenter,
        guard: tc.guard === undefined ? undefined : guard(tc.guard),
        actions: list(tc.actions),
      };
    });

  const states = new Map<string, FlatState>();
  for (const [name, sc] of Object.entries(statesConfig)) {
    for (const k of Object.keys(sc)) if (!STATE_KEYS.has(k)) throw new Unsupported(k);
    const final = sc.type === 'final';
    if (sc.type !== undefined && !final) throw new Unsupported(`type ${String(sc.type)}`);
    if (final && (sc.on !== undefined || sc.always !== undefined || sc.after !== undefined))
      throw new Unsupported('transitions out of a final state');
    const on = new Map<string, FlatTransition[]>();
    for (const [ev, t] of Object.entries((sc.on ?? {}) as Record<string, unknown>)) {
      if (ev.includes('*')) throw new Unsupported('wildcard');
      on.set(ev, transitions(name, t));
    }
    const always = sc.always === undefined ? [] : transitions(name, sc.always);
    if (always.some((t) => t.target === undefined)) throw new Unsupported('targetless always');
    const after: FlatTimer[] = [];
    for (const [key, t] of Object.entries((sc.after ?? {}) as Record<string, unknown>)) {
      const delay: number | Impl = Number.isNaN(+key) ? delayImpl(impl.delays, key) : +key;
      const type = `xstate.after.${key}.${machineId}.${name}`;
      const ts = transitions(name, t);
      // As in XState, a timer's firing is an event the state handles like any other.
      on.set(type, ts);
      after.push({ type, delay });
    }
    states.set(name, {
      final,
      entry: list(sc.entry),
      exit: list(sc.exit),
      on,
      always,
      after,
    });
  }
  return { initial, states, context: config.context };
}

function delayImpl(delays: Record<string, unknown>, key: string): number | Impl {
  const d = delays[key];
  if (typeof d === 'number') return d;
  if (typeof d === 'function') return d as Impl;
  throw new Unsupported(`delay ${key}`);
}

/** What a runner needs from its host. */
export interface FlatHooks {
  /** Sets a timer `delay` (XState units) from now; returns a handle. */
  setTimer(delay: number, fire: () => void): number;
  clearTimer(handle: number): void;
  /**
   * After every macrostep (as XState's observers are called): the state value, and the
   * event the step handled.
   */
  onState(value: string, event: { readonly type: string }): void;
  onError(error: unknown): void;
  /**
   * An event reaches the actor (before it is handled or queued), as XState's
   * `@xstate.event` inspection reports it; `fromSelf` for a timer's event. Leave it out
   * when nothing inspects: then it costs nothing.
   */
  onEvent?(event: { readonly type: string }, fromSelf: boolean): void;
  /** Throws what the host says about a machine that spawns a child (from `assign`'s `spawn`). */
  refuseSpawn?(): never;
}

export interface FlatSnapshot {
  readonly value: string;
  readonly context: unknown;
  readonly status: 'active' | 'done' | 'stopped' | 'error';
}

/** Where a restored runner starts: a persisted snapshot's state value, context and status. */
export interface FlatRestore {
  readonly value: string;
  readonly context: unknown;
  readonly status: FlatSnapshot['status'];
}

/** Runs a compiled flat machine. */
export class FlatRunner {
  value: string;
  context: unknown;
  status: 'active' | 'done' | 'stopped' | 'error' = 'active';
  /** Pending `after` timers: event type → the host's handle. */
  private readonly timers = new Map<string, number>();
  private readonly deferred: (() => void)[] = [];
  private readonly mailbox: { readonly type: string }[] = [];
  private processing = false;
  private starting = true;
  private readonly restored: boolean;
  private readonly initEvent: { readonly type: string; readonly input: unknown };

  /** What implementations see as `self`: the actor's id and a `send`. */
  readonly self: { readonly id: string; send(event: { readonly type: string }): void };

  constructor(
    private readonly program: FlatProgram,
    id: string,
    input: unknown,
    private readonly hooks: FlatHooks,
    restore?: FlatRestore,
  ) {
    this.self = { id, send: (event) => this.send(event) };
    this.initEvent = { type: 'xstate.init', input };
    if (restore !== undefined) {
      if (!program.states.has(restore.value))
        throw new Error(`a persisted snapshot in state ${JSON.stringify(restore.value)}: no such state`);
      this.value = restore.value;
      this.context = restore.context;
      this.status = restore.status;
      this.restored = true;
      return;
    }
    this.restored = false;
    const c = program.context;
    this.context =
      typeof c === 'function'
        ? c({ input, self: this.self, spawn: this.spawn })
        : c === undefined
          ? {}
          : structuredClone(c);
    this.value = program.initial;
  }

  /** The last snapshot handed out: the same object while nothing changed (no allocation per read). */
  private snap: FlatSnapshot | undefined;

  snapshot(): FlatSnapshot {
    const c = this.snap;
    if (c !== undefined && c.value === this.value && c.context === this.context && c.status === this.status)
      return c;
    const n: FlatSnapshot = { value: this.value, context: this.context, status: this.status };
    this.snap = n;
    return n;
  }

  /** Pending timers, in the order they were set: XState event type → the host's handle. */
  pendingTimers(): ReadonlyMap<string, number> {
    return this.timers;
  }

  /**
   * Starts the actor: from the initial state (its entry actions and timers), or, when
   * restored, where the snapshot left it (nothing runs; no timer is set: see `rearm`).
   */
  start(): void {
    const event = this.initEvent;
    this.hooks.onEvent?.(event, false);
    if (this.restored) {
      this.starting = false;
      this.hooks.onState(this.value, event);
      return;
    }
    this.macrostep(event, true);
    this.starting = false;
    this.drain();
  }

  /**
   * Sets the current state's timer for `type` again (restoring a persisted one): `set`
   * posts `fire` when it is due and returns the host's handle.
   */
  rearm(type: string, set: (fire: () => void) => number): void {
    const timer = this.state(this.value).after.find((t) => t.type === type);
    if (timer === undefined) throw new Error(`state ${this.value} has no timer ${type}`);
    if (this.timers.has(type)) throw new Error(`timer ${type} is already set`);
    this.timers.set(
      type,
      set(() => this.fire(timer)),
    );
  }

  send(event: { readonly type: string }): void {
    this.receive(event, false);
  }

  private receive(event: { readonly type: string }, fromSelf: boolean): void {
    if (this.status !== 'active') return;
    this.hooks.onEvent?.(event, fromSelf);
    if (this.processing) {
      this.mailbox.push(event);
      return;
    }
    this.macrostep(event);
    if (this.mailbox.length > 0) this.drain();
  }

  private drain(): void {
    while (this.mailbox.length > 0 && this.status === 'active') {
      const next = this.mailbox.shift() as { readonly type: string };
      this.macrostep(next);
    }
  }

  stop(): void {
    if (this.status !== 'active') return;
    this.status = 'stopped';
    this.cancelTimers();
  }

  private cancelTimers(): void {
    for (const h of this.timers.values()) this.hooks.clearTimer(h);
    this.timers.clear();
  }

  /**
   * One macrostep: `event` handled (or, for `init`, the initial state entered), then
   * the deferred timer operations, then the observers. No closure per event: this runs
   * for every packet some actor sees.
   */
  private macrostep(event: { readonly type: string }, init = false): void {
    this.processing = true;
    try {
      if (init) {
        this.enter(this.program.initial, event);
        this.settle(event);
      } else {
        this.handle(event);
      }
      const d = this.deferred;
      if (d.length > 0) {
        for (const f of d) f();
        d.length = 0;
      }
    } catch (error) {
      this.deferred.length = 0;
      this.status = 'error';
      this.processing = false;
      this.hooks.onError(error);
      return;
    }
    this.processing = false;
    if (this.state(this.value).final) {
      this.status = 'done';
      this.cancelTimers();
    }
    this.hooks.onState(this.value, event);
  }

  private handle(event: { readonly type: string }): void {
    const state = this.state(this.value);
    const candidates = state.on.get(event.type);
    if (candidates === undefined) return;
    const t = this.select(candidates, event);
    if (t === undefined) return;
    this.take(t, event);
    this.settle(event);
  }

  private fire(timer: FlatTimer): void {
    this.timers.delete(timer.type);
    this.receive({ type: timer.type }, true);
  }

  private settle(event: unknown): void {
    for (;;) {
      const t = this.select(this.state(this.value).always, event);
      if (t === undefined) return;
      this.take(t, event);
    }
  }

  private select(ts: readonly FlatTransition[], event: unknown): FlatTransition | undefined {
    for (const t of ts) {
      const g = t.guard;
      if (g === undefined) return t;
      const context = this.context;
      const params = g.hasParams ? resolveParams(g.params, context, event) : undefined;
      if (g.fn({ context, event, self: this.self }, params)) return t;
    }
    return undefined;
  }

  private take(t: FlatTransition, event: unknown): void {
    if (t.target === undefined) {
      this.exec(t.actions, event);
      return;
    }
    this.exit(this.value, event);
    this.exec(t.actions, event);
    this.enter(t.target, event);
  }

  private exit(name: string, event: unknown): void {
    const s = this.state(name);
    this.exec(s.exit, event);
    for (const timer of s.after) {
      const cancel = (): void => {
        const h = this.timers.get(timer.type);
        if (h === undefined) return;
        this.timers.delete(timer.type);
        this.hooks.clearTimer(h);
      };
      if (this.starting) cancel();
      else this.deferred.push(cancel);
    }
  }

  private enter(name: string, event: unknown): void {
    this.value = name;
    const s = this.state(name);
    this.exec(s.entry, event);
    for (const timer of s.after) {
      const d = timer.delay;
      const delay = typeof d === 'number' ? d : d({ context: this.context, event, self: this.self });
      if (typeof delay !== 'number') throw new Error(`delay of ${timer.type} is not a number`);
      const set = (): void => {
        this.timers.set(
          timer.type,
          this.hooks.setTimer(delay, () => this.fire(timer)),
        );
      };
      if (this.starting) set();
      else this.deferred.push(set);
    }
  }

  private exec(actions: readonly FlatAction[], event: unknown): void {
    for (const a of actions) {
      const context = this.context;
      const params = a.hasParams ? resolveParams(a.params, context, event) : undefined;
      if (a.fn !== undefined) a.fn({ context, event, self: this.self }, params);
      else this.context = this.assign(a.assignment as Impl | Record<string, unknown>, context, event, params);
    }
  }

  /** XState's `assign`: `{ ...context, ...update }`, the update from the assignment. */
  private assign(
    assignment: Impl | Readonly<Record<string, unknown>>,
    context: unknown,
    event: unknown,
    params: unknown,
  ): unknown {
    if (context === undefined || context === null)
      throw new Error(
        'Cannot assign to undefined `context`. Ensure that `context` is defined in the machine config.',
      );
    const args: AssignArgs = { context, event, self: this.self, spawn: this.spawn };
    let update: unknown;
    if (typeof assignment === 'function') update = assignment(args, params);
    else {
      const partial: Record<string, unknown> = {};
      for (const key of Object.keys(assignment)) {
        const v = assignment[key];
        partial[key] = typeof v === 'function' ? (v as Impl)(args, params) : v;
      }
      update = partial;
    }
    return Object.assign({}, context, update);
  }

  private readonly spawn = (): never => {
    if (this.hooks.refuseSpawn !== undefined) return this.hooks.refuseSpawn();
    throw new Error(`actor ${this.self.id} spawns a child actor: the flat interpreter runs no children`);
  };

  /** The last state looked up: most lookups ask for the current state again. */
  private stateName = '';
  private stateCache: FlatState | undefined;

  private state(name: string): FlatState {
    if (name === this.stateName) return this.stateCache as FlatState;
    const st = this.program.states.get(name) as FlatState;
    this.stateName = name;
    this.stateCache = st;
    return st;
  }
}

function resolveParams(params: Params, context: unknown, event: unknown): unknown {
  return typeof params === 'function' ? params({ context, event }) : params;
}
