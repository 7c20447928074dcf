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
 */
import { type Delivery, InvariantError, type Kernel, Priority } from '@isosim/core';
import {
  type Actor,
  type AnyActorLogic,
  type AnyStateMachine,
  createActor,
  type InputFrom,
  type SnapshotFrom,
} from 'xstate';
import { compileFlat, FlatRunner } from './flatMachine.ts';

/** A fixed-shape event: a type and up to four integer fields. */
export type HostEvent = { readonly type: string; readonly [field: string]: unknown };

export interface HostedActor<TLogic extends AnyActorLogic = AnyStateMachine> {
  readonly id: string;
  readonly endpoint: number;
  /** Which interpreter runs it (see `ActorHostOptions.engine`). */
  readonly engine: ActorEngine;
  /** The XState actor, when XState's interpreter runs it. */
  readonly ref: Actor<TLogic> | undefined;
  snapshot(): SnapshotFrom<TLogic>;
  /** Hands an event to the interpreter (the host logs deliveries; use `send`/`deliver`). */
  receive(event: HostEvent): void;
  stop(): void;
  /** Calls `listener` with the snapshot after every step the actor takes. */
  subscribe(listener: (snapshot: SnapshotFrom<TLogic>) => void): void;
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

  constructor(kernel: Kernel, options: ActorHostOptions = {}) {
    this.kernel = kernel;
    this.engine = options.engine ?? 'flat';
    this.timerUnitNs = options.timerUnitNs ?? 1_000_000;
    this.timerType = kernel.type('xstate.timer');
    this.stateType = kernel.type('xstate.state', ['stateName']);
  }

  /** Creates, registers and starts an actor. Its initial state is logged. */
  spawn<TLogic extends AnyStateMachine>(
    id: string,
    logic: TLogic,
    options: { input?: InputFrom<TLogic> } = {},
  ): HostedActor<TLogic> {
    if (this.actors.has(id)) throw new InvariantError(`an actor with id ${id} already exists`);
    const kernel = this.kernel;
    let endpoint = -1;
    const setTimer = (fn: () => void, delay: number): number =>
      kernel.postCancellable(
        kernel.nowNs + Math.round(delay * this.timerUnitNs),
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
    let lastState = '';
    const listeners: ((snapshot: SnapshotFrom<TLogic>) => void)[] = [];
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
    if (program !== undefined) {
      const runner = new FlatRunner(program, id, options.input, {
        setTimer: (delay, fire) => setTimer(fire, delay),
        clearTimer: (handle) => kernel.cancel(handle),
        onState,
        onError,
      });
      hosted = {
        id,
        endpoint: -1,
        engine: 'flat',
        ref: undefined,
        snapshot: () => runner.snapshot() as unknown as SnapshotFrom<TLogic>,
        receive: (event) => runner.send(event),
        stop: () => runner.stop(),
        subscribe: (l) => listeners.push(l),
      };
      start = () => runner.start();
    } else {
      const clock = {
        setTimeout: (fn: (...args: unknown[]) => void, delay: number): number => setTimer(fn, delay),
        clearTimeout: (handle: unknown): void => {
          kernel.cancel(handle as number);
        },
      };
      const ref = createActor(logic, { id, systemId: id, clock, input: options.input }) as Actor<TLogic>;
      ref.subscribe({ next: (snap: { value?: unknown }) => onState(snap.value), error: onError });
      hosted = {
        id,
        endpoint: -1,
        engine: 'xstate',
        ref,
        snapshot: () => ref.getSnapshot() as SnapshotFrom<TLogic>,
        receive: (event) => ref.send(event as never),
        stop: () => ref.stop(),
        subscribe: (l) => listeners.push(l),
      };
      start = () => ref.start();
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
    this.recordDelivery(to, event, source);
    to.receive(event);
    this.check();
  }

  /**
   * Logs `event` as delivered to `to` without running XState's interpreter: for an
   * actor's fast path, where the caller applies the machine's own transition function
   * to the actor's context itself (see hypervisor/schedulerPort.ts). The record is the
   * one `deliver` writes, so a replay cannot tell the two apart.
   */
  recordDelivery(to: HostedActor, event: HostEvent, source = this.kernel.self): void {
    const c = this.codec(event);
    const v = this.values(c, event);
    this.kernel.record(c.id, source, to.endpoint, v[0], v[1], v[2], v[3]);
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

  private values(c: Codec, event: HostEvent): [number, number, number, number] {
    const out: [number, number, number, number] = [0, 0, 0, 0];
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
