/**
 * A fast interpreter for flat XState machines: the same machine definition, the same
 * semantics, a fraction of the cost per event.
 *
 * Why: XState's interpreter costs several microseconds an event on this machine (see
 * the library notes), and the devices and drivers on a host's packet path see one
 * event per interrupt or per polling batch. Their machines are flat (no nested or
 * parallel states), name every action, guard and delay in `setup`, and keep their
 * context as a plain object. For such a machine `compileFlat` reads the definition
 * (`machine.config` and `machine.implementations`) into tables, and `FlatRunner`
 * executes them with XState v5's semantics:
 *
 * - An event selects the first transition of the current state whose guard holds; a
 *   targeted transition runs the source's exit actions, the transition's actions, then
 *   the target's entry actions (`reenter: true` on a self-transition exits and
 *   re-enters); then eventless (`always`) transitions are taken until none is enabled.
 * - `after` timers are set on entry (delay resolved then, from the context and the
 *   event that caused the entry) and cancelled on exit. As in XState, setting and
 *   cancelling timers is deferred to the end of the macrostep, after every action has
 *   run; at start, the initial state's actions and timers run in the order they arise.
 * - Events sent to the actor while it processes one wait in a mailbox.
 * - An action or guard that throws stops the actor with an error; reaching a `final`
 *   state ends it (status `done`).
 *
 * Anything outside this subset (nested or parallel states, `invoke`, built-in actions
 * such as `assign`, inline functions, guards built from `and`/`or`/`not`, targets by
 * id, self-transitions without `reenter`) makes `compileFlat` return undefined, and the
 * host runs the machine on XState's own interpreter. `test/engines.test.ts` runs every
 * built-in scenario on both and requires byte-identical logs.
 */
import type { AnyStateMachine } from 'xstate';

type Impl = (args: { context: unknown; event: unknown; self?: unknown }, params?: unknown) => unknown;

interface FlatTransition {
  readonly target: string | undefined;
  readonly reenter: boolean;
  readonly guard: Impl | undefined;
  readonly actions: readonly Impl[];
}

interface FlatTimer {
  /** XState's event type for it: `xstate.after.<delay>.<machine>.<state>`. */
  readonly type: string;
  readonly delay: number | Impl;
}

interface FlatState {
  /** Reaching it ends the actor (status `done`), as a top-level final state does in XState. */
  readonly final: boolean;
  readonly entry: readonly Impl[];
  readonly exit: readonly Impl[];
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

  const fn = (table: Record<string, unknown>, name: unknown): Impl => {
    if (typeof name !== 'string') throw new Unsupported('inline implementation');
    const f = table[name];
    // XState's built-in actions and guards (assign, raise, and/or/not …) carry a
    // `resolve` or `check`; only plain functions are interpreted here.
    if (typeof f !== 'function' || 'resolve' in f || 'check' in f) throw new Unsupported(name);
    return f as Impl;
  };
  const list = (table: Record<string, unknown>, v: unknown): Impl[] =>
    v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => fn(table, x));
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
        guard: tc.guard === undefined ? undefined : fn(impl.guards, tc.guard),
        actions: list(impl.actions, tc.actions),
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
      entry: list(impl.actions, sc.entry),
      exit: list(impl.actions, sc.exit),
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
  /** The state value after a macrostep (called after every macrostep, as XState's observers are). */
  onState(value: string): void;
  onError(error: unknown): void;
}

export interface FlatSnapshot {
  readonly value: string;
  readonly context: unknown;
  readonly status: 'active' | 'done' | 'stopped' | 'error';
}

/** Runs a compiled flat machine. */
export class FlatRunner {
  value: string;
  context: unknown;
  status: 'active' | 'done' | 'stopped' | 'error' = 'active';
  private readonly timers = new Map<string, number>();
  private readonly deferred: (() => void)[] = [];
  private readonly mailbox: unknown[] = [];
  private processing = false;
  private starting = true;

  /** What implementations see as `self`: the actor's id and a `send`. */
  readonly self: { readonly id: string; send(event: { readonly type: string }): void };

  constructor(
    private readonly program: FlatProgram,
    id: string,
    input: unknown,
    private readonly hooks: FlatHooks,
  ) {
    this.self = { id, send: (event) => this.send(event) };
    const c = program.context;
    this.context = typeof c === 'function' ? c({ input, self: this.self }) : structuredClone(c);
    this.value = program.initial;
  }

  snapshot(): FlatSnapshot {
    return { value: this.value, context: this.context, status: this.status };
  }

  start(): void {
    const event = { type: 'xstate.init' };
    this.run(() => {
      this.enter(this.program.initial, event);
      this.settle(event);
    });
    this.starting = false;
    this.drain();
  }

  send(event: { readonly type: string }): void {
    if (this.status !== 'active') return;
    if (this.processing) {
      this.mailbox.push(event);
      return;
    }
    this.run(() => this.handle(event));
    this.drain();
  }

  private drain(): void {
    while (this.mailbox.length > 0 && this.status === 'active') {
      const next = this.mailbox.shift() as { readonly type: string };
      this.run(() => this.handle(next));
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

  /** One macrostep: the work, the deferred timer operations, then the observers. */
  private run(work: () => void): void {
    this.processing = true;
    try {
      work();
      for (const d of this.deferred) d();
      this.deferred.length = 0;
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
    this.hooks.onState(this.value);
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
    this.send({ type: timer.type });
  }

  private settle(event: unknown): void {
    for (;;) {
      const t = this.select(this.state(this.value).always, event);
      if (t === undefined) return;
      this.take(t, event);
    }
  }

  private select(ts: readonly FlatTransition[], event: unknown): FlatTransition | undefined {
    for (const t of ts)
      if (t.guard === undefined || t.guard({ context: this.context, event, self: this.self })) return t;
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

  private exec(actions: readonly Impl[], event: unknown): void {
    for (const a of actions) a({ context: this.context, event, self: this.self });
  }

  private state(name: string): FlatState {
    return this.program.states.get(name) as FlatState;
  }
}
