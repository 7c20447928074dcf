/**
 * The discrete-event kernel: a virtual clock in integer nanoseconds, one queue of
 * pending events ordered by `(timeNs, priority, seq)`, and a single dispatch point
 * that appends every event it delivers to the log before handing it over.
 *
 * Design
 * - An event is a fixed-shape record: type id, source and target ids, four integer
 *   payload words, and an optional unlogged `ref` (a callback or an object the target
 *   needs, e.g. an XState timer's closure). Its fields live in parallel typed arrays
 *   indexed by a slot; the heap (`EventQueue`) moves only numbers.
 * - Targets are endpoints: a name interned in the registry plus a handler. Handlers
 *   post new events; they never dispatch (the loop is not re-entrant), so the order
 *   in which anything happens is the queue's order and nothing else.
 * - Priority breaks ties at equal times (lower first; see `Priority`), then the
 *   sequence number in posting order.
 *
 * Invariants: time never decreases; nothing is posted before `nowNs` or at a
 * fractional time; every dispatched event is logged exactly once, in dispatch order.
 */
import { InvariantError, IsosimError } from './errors.ts';
import { EventQueue, PRIORITY_MAX, packKey } from './eventQueue.ts';
import type { EventLog } from './log/logWriter.ts';
import { Prng, validateSeed } from './prng.ts';
import { Registry } from './registry.ts';

/** Tie-break order at equal times, lowest first. Components pick one; gaps leave room. */
export const Priority = {
  /** Device completions: a packet arriving on the wire, a DMA finishing. */
  HARDWARE: 10,
  /** Virtual interrupts (event-channel upcalls). */
  INTERRUPT: 20,
  /** Scheduler timers and decisions. */
  SCHEDULER: 30,
  /** Messages between actors. */
  ACTOR: 50,
  /** Actor timers (XState `after`). */
  TIMER: 60,
  /** Monitoring and control loops (XenMon samples, ShareGuard polls). */
  MONITOR: 80,
} as const;

/** The event being delivered. One object is reused for every delivery: copy what you keep. */
export interface Delivery {
  seq: number;
  timeNs: number;
  type: number;
  source: number;
  target: number;
  a0: number;
  a1: number;
  a2: number;
  a3: number;
  ref: unknown;
}

export type Handler = (ev: Delivery) => void;

export interface KernelOptions {
  seed: number;
  log?: EventLog;
}

/** Slots for pending events (a cancellable event's handle is generation·SLOT_LIMIT + slot). */
const SLOT_LIMIT = 2 ** 24;
/** Generations wrap here, keeping handles below 2^53. */
const GEN_MASK = 2 ** 29 - 1;

export class Kernel {
  nowNs = 0;
  readonly seed: number;
  readonly prng: Prng;
  readonly registry: Registry;
  readonly log: EventLog | undefined;
  /** Events dispatched so far (cancelled ones are not counted). */
  dispatched = 0;
  /** The id of the kernel itself, as a source. */
  readonly self: number;

  private readonly queue = new EventQueue();
  private handlers: (Handler | undefined)[] = [];
  private nextSeq = 0;
  private dispatching = false;
  private stopRequested = false;
  /** While `run`/`runUntil` runs: the last time it may deliver at, and its event budget. */
  private horizonNs = -1;
  private maxDispatched = 0;
  private readonly delivery: Delivery = {
    seq: 0,
    timeNs: 0,
    type: 0,
    source: 0,
    target: 0,
    a0: 0,
    a1: 0,
    a2: 0,
    a3: 0,
    ref: undefined,
  };

  // Slot storage for queued events (struct of arrays) and the free list of slots.
  private capacity = 0;
  private sType = new Int32Array(0);
  private sSource = new Int32Array(0);
  private sTarget = new Int32Array(0);
  private sSeq = new Float64Array(0);
  private sA = new Float64Array(0);
  private sCancelled = new Uint8Array(0);
  private sRef: unknown[] = [];
  private free = new Int32Array(0);
  private freeTop = 0;
  private lastSlot = 0;
  private sCancellable = new Uint8Array(0);
  private sGen = new Uint32Array(0);

  constructor(options: KernelOptions) {
    this.seed = validateSeed(options.seed, 'Kernel');
    this.prng = Prng.fromSeed(this.seed);
    this.log = options.log;
    this.registry = new Registry(options.log);
    this.self = this.registry.name('kernel');
    this.growSlots(1024);
    // Time fields hold doubles from the start: a field V8 first sees as a small integer
    // is re-represented when time passes 2^31 ns (2.1 s), deoptimizing every function
    // that had inlined it (59 of them in a Table 2 run, ~0.3 s; docs/performance.md).
    this.nowNs = 2 ** 31;
    this.nowNs = 0;
    this.horizonNs = 2 ** 31;
    this.horizonNs = -1;
    this.delivery.timeNs = 2 ** 31;
    this.delivery.timeNs = 0;
  }

  /** Registers a named endpoint and its handler; returns the endpoint's id. */
  endpoint(name: string, handler: Handler): number {
    const id = this.registry.name(name);
    if (this.handlers[id] !== undefined) throw new InvariantError(`endpoint ${name} already has a handler`);
    this.handlers[id] = handler;
    return id;
  }

  /** Interns an event type with its payload field names; returns its id. */
  type(name: string, fields: readonly string[] = []): number {
    return this.registry.type(name, fields).id;
  }

  /** Events waiting in the queue. */
  get pending(): number {
    return this.queue.size;
  }

  /** Time of the next event, or undefined when nothing is pending. */
  get nextTimeNs(): number | undefined {
    return this.queue.size > 0 ? this.queue.peekTime() : undefined;
  }

  /**
   * Queues an event for `target` at absolute time `atNs`. Returns its sequence number.
   * Throws if `atNs` is in the past or not a whole number of nanoseconds.
   */
  post(
    atNs: number,
    priority: number,
    target: number,
    type: number,
    source: number,
    a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0,
    ref?: unknown,
  ): number {
    if (!(atNs >= this.nowNs) || !Number.isSafeInteger(atNs)) this.badTime(atNs);
    if (priority >>> 0 !== priority || priority > PRIORITY_MAX) this.badPriority(priority);
    if (this.freeTop === 0) this.growSlots(this.capacity * 2);
    const slot = this.free[--this.freeTop];
    const seq = this.nextSeq++;
    this.lastSlot = slot;
    this.sType[slot] = type;
    this.sSource[slot] = source;
    this.sTarget[slot] = target;
    this.sSeq[slot] = seq;
    const a = slot * 4;
    this.sA[a] = a0;
    this.sA[a + 1] = a1;
    this.sA[a + 2] = a2;
    this.sA[a + 3] = a3;
    this.sRef[slot] = ref;
    this.queue.push(atNs, packKey(priority, seq), slot);
    return seq;
  }

  /** Like `post`, `delayNs` from now. A negative or fractional delay throws. */
  postIn(
    delayNs: number,
    priority: number,
    target: number,
    type: number,
    source: number,
    a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0,
    ref?: unknown,
  ): number {
    if (!(delayNs >= 0) || !Number.isSafeInteger(delayNs)) {
      throw new IsosimError(
        'Kernel.postIn',
        'delayNs',
        `${delayNs} is not a delay`,
        'give a whole, non-negative number of nanoseconds',
      );
    }
    return this.post(this.nowNs + delayNs, priority, target, type, source, a0, a1, a2, a3, ref);
  }

  /**
   * Like `post`, but the event can be withdrawn with `cancel(handle)` until it fires.
   * Returns the handle (not the sequence number): the event's slot and that slot's
   * generation, so cancelling is an array lookup, and a stale handle (its event fired
   * or was cancelled, the slot reused since) is recognised as such.
   */
  postCancellable(
    atNs: number,
    priority: number,
    target: number,
    type: number,
    source: number,
    a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0,
    ref?: unknown,
  ): number {
    this.post(atNs, priority, target, type, source, a0, a1, a2, a3, ref);
    const slot = this.lastSlot;
    this.sCancellable[slot] = 1;
    return this.sGen[slot] * SLOT_LIMIT + slot;
  }

  /** Withdraws a cancellable event. Returns false if it already fired or was cancelled. */
  cancel(handle: number): boolean {
    const slot = handle % SLOT_LIMIT;
    if (!(slot < this.capacity) || this.sGen[slot] !== (handle - slot) / SLOT_LIMIT) return false;
    if (this.sCancellable[slot] !== 1 || this.sCancelled[slot] === 1) return false;
    this.sCancelled[slot] = 1;
    return true;
  }

  /**
   * Delivery in place: called by a handler that would post an event to itself and
   * handle it when it comes, this checks whether that event would be the very next one
   * delivered (earlier than everything queued, or at the same time and ahead in
   * priority, and within the current run's bounds). If so, it does what delivering it
   * would do (consumes its sequence number, advances the clock to `atNs`, logs it,
   * counts it) and returns true; the caller then handles it at once, without a trip
   * through the queue. If not, it returns false and changes nothing: post it. The log
   * is the same either way; this only saves the queue's work on self-timers that
   * nothing else interleaves with (the hypervisor's, between one work item and the
   * next).
   */
  dispatchInPlace(
    atNs: number,
    priority: number,
    target: number,
    type: number,
    source: number,
    a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0,
  ): boolean {
    if (!this.dispatching || this.stopRequested) return false;
    if (!(atNs >= this.nowNs) || atNs > this.horizonNs || this.dispatched >= this.maxDispatched) return false;
    if (!Number.isSafeInteger(atNs)) this.badTime(atNs);
    if (priority >>> 0 !== priority || priority > PRIORITY_MAX) this.badPriority(priority);
    const q = this.queue;
    if (q.size > 0) {
      const t = q.peekTime();
      if (atNs > t || (atNs === t && packKey(priority, this.nextSeq) > q.peekKey())) return false;
    }
    this.nextSeq++;
    this.nowNs = atNs;
    this.log?.append(type, atNs, source, target, a0, a1, a2, a3);
    this.dispatched++;
    return true;
  }

  /**
   * Appends a record that is not a queued event (an actor's state change, a counter
   * snapshot) at the current time. Types used here must be interned like any other.
   */
  record(type: number, source: number, target: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): void {
    this.log?.append(type, this.nowNs, source, target, a0, a1, a2, a3);
  }

  /** Delivers the next event. Returns false when the queue is empty. */
  step(): boolean {
    if (this.queue.size === 0) return false;
    this.dispatchNext();
    return true;
  }

  /**
   * Delivers every event due at or before `endNs`, then sets the clock to `endNs`.
   * Returns how many events were delivered.
   */
  runUntil(endNs: number): number {
    if (!(endNs >= this.nowNs) || !Number.isSafeInteger(endNs)) this.badTime(endNs);
    const before = this.dispatched;
    this.stopRequested = false;
    const q = this.queue;
    this.horizonNs = endNs;
    this.maxDispatched = Number.POSITIVE_INFINITY;
    try {
      while (q.size > 0 && q.peekTime() <= endNs && !this.stopRequested) this.dispatchNext();
    } finally {
      this.horizonNs = -1;
    }
    if (!this.stopRequested) this.nowNs = endNs;
    return this.dispatched - before;
  }

  /** Delivers events until none is left (or `maxEvents` were delivered). */
  run(maxEvents = Number.POSITIVE_INFINITY): number {
    const before = this.dispatched;
    this.stopRequested = false;
    this.horizonNs = Number.POSITIVE_INFINITY;
    this.maxDispatched = before + maxEvents;
    try {
      while (this.queue.size > 0 && this.dispatched - before < maxEvents && !this.stopRequested) {
        this.dispatchNext();
      }
    } finally {
      this.horizonNs = -1;
    }
    return this.dispatched - before;
  }

  /** Asks a running `run`/`runUntil` to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  private dispatchNext(): void {
    if (this.dispatching) throw new InvariantError('kernel dispatch re-entered from a handler');
    const timeNs = this.queue.peekTime();
    const slot = this.queue.pop();
    const d = this.delivery;
    const seq = this.sSeq[slot];
    d.ref = this.sRef[slot];
    this.sRef[slot] = undefined;
    if (this.sCancellable[slot] === 1) {
      this.sCancellable[slot] = 0;
      this.sGen[slot] = (this.sGen[slot] + 1) & GEN_MASK;
      if (this.sCancelled[slot] === 1) {
        this.sCancelled[slot] = 0;
        this.free[this.freeTop++] = slot;
        return;
      }
    }
    const a = slot * 4;
    d.seq = seq;
    d.timeNs = timeNs;
    d.type = this.sType[slot];
    d.source = this.sSource[slot];
    d.target = this.sTarget[slot];
    d.a0 = this.sA[a];
    d.a1 = this.sA[a + 1];
    d.a2 = this.sA[a + 2];
    d.a3 = this.sA[a + 3];
    this.free[this.freeTop++] = slot;
    this.nowNs = timeNs;
    const handler = this.handlers[d.target];
    if (handler === undefined) {
      throw new InvariantError(
        `event ${this.registry.typeById(d.type).name} for ${d.target}, which has no handler`,
      );
    }
    this.log?.append(d.type, timeNs, d.source, d.target, d.a0, d.a1, d.a2, d.a3);
    this.dispatched++;
    this.dispatching = true;
    try {
      handler(d);
    } finally {
      this.dispatching = false;
    }
  }

  private growSlots(capacity: number): void {
    if (capacity > SLOT_LIMIT)
      throw new InvariantError(`more than ${SLOT_LIMIT} events pending: a handler is posting without end`);
    const old = this.capacity;
    const grow = <T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(
      arr: T,
      make: (n: number) => T,
      n: number,
    ): T => {
      const next = make(n);
      next.set(arr);
      return next;
    };
    this.sType = grow(this.sType, (n) => new Int32Array(n), capacity);
    this.sSource = grow(this.sSource, (n) => new Int32Array(n), capacity);
    this.sTarget = grow(this.sTarget, (n) => new Int32Array(n), capacity);
    this.sSeq = grow(this.sSeq, (n) => new Float64Array(n), capacity);
    this.sA = grow(this.sA, (n) => new Float64Array(n), capacity * 4);
    this.sCancelled = grow(this.sCancelled, (n) => new Uint8Array(n), capacity);
    this.sCancellable = grow(this.sCancellable, (n) => new Uint8Array(n), capacity);
    this.sGen = grow(this.sGen, (n) => new Uint32Array(n), capacity);
    this.sRef.length = capacity;
    const free = new Int32Array(capacity);
    free.set(this.free.subarray(0, this.freeTop));
    // New slots go on the stack highest first, so slot numbers are handed out in order.
    for (let s = capacity - 1; s >= old; s--) free[this.freeTop++] = s;
    this.free = free;
    this.capacity = capacity;
  }

  private badTime(t: number): never {
    throw new IsosimError(
      'Kernel',
      'timeNs',
      `${t} is ${Number.isSafeInteger(t) ? `before the current time ${this.nowNs}` : 'not a whole number of nanoseconds'}`,
      'schedule at or after now, in whole nanoseconds',
    );
  }

  private badPriority(p: number): never {
    throw new IsosimError(
      'Kernel',
      'priority',
      `${p} is not a priority`,
      `give a whole number from 0 to ${PRIORITY_MAX}`,
    );
  }
}
