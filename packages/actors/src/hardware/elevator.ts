/**
 * The block layer's I/O schedulers ("elevators") of Linux 2.6.16-18, as pure queues: no
 * kernel, no clock of their own. The disk (disk.ts) adds each submitted request and asks
 * for the next one whenever the device has room; the elevator decides the order.
 *
 * Design
 * - `fifo`: Linux's noop (block/noop-iosched.c): arrival order.
 * - `deadline`: block/deadline-iosched.c of Linux 2.6.16, step for step
 *   (`deadline_dispatch_requests`): requests sorted by start sector per direction, each
 *   with a FIFO of expiry times. A batch continues in sector order from the last
 *   dispatched request while the next is contiguous and fewer than `fifo_batch` were
 *   dispatched; otherwise a new batch picks a direction (reads, unless writes are
 *   waiting and reads have already won `writes_starved` times) and, in it, the oldest
 *   request if it has expired, else the next in sector order (the one-way sweep), else
 *   the lowest sector. Not modelled: merging of requests, and the rbtree "alias" rule
 *   (a request with the same start sector as a queued one dispatches the queued one at
 *   once); equal sectors keep arrival order instead.
 * - `cfq`: a CFQ-like order after block/cfq-iosched.c of Linux 2.6.18, simplified: one
 *   queue per guest (the principal; CFQ has one per process), served round robin; the
 *   active queue keeps the disk for a time slice (`cfq_slice_sync` if the request it
 *   starts with is a read, `cfq_slice_async` if a write: every request is treated as
 *   synchronous if it is a read, as CFQ does for a process's reads) or until it is
 *   empty; within a queue, requests go in sector order, a one-way sweep from the disk's
 *   head, except that once per slice the queue's oldest request goes first if it has
 *   waited longer than `cfq_fifo_expire` (125 ms for a read, 250 ms for a write;
 *   `cfq_check_fifo`, which keeps a request below a busy sweep from starving inside its
 *   own queue; the expiry is chosen by the request's direction, where CFQ uses the
 *   queue's). Not modelled: the idle window (`cfq_slice_idle`: an empty queue gives up
 *   the disk at once, so a reader with one request outstanding loses its slice at each
 *   completion), `cfq_quantum` and `cfq_slice_async_rq` (limits on requests in the
 *   driver), backward seeks (`cfq_back_max`, `cfq_back_penalty`), I/O priorities (all
 *   queues have the default best-effort priority 4, whose slice is the base slice), and
 *   the slice starting at the first completion (here it starts when the queue becomes
 *   active).
 *
 * Invariants: every request added is returned by `next` exactly once; `length` is the
 * number added and not yet returned; `next` returns undefined only when `length` is 0.
 * Deadline: a read is dispatched at most 2·fifo_batch calls of `next` after it has
 * expired and every older read has been dispatched (3·fifo_batch for a write).
 * CFQ: a guest with queued requests waits at most for the slices of the other guests,
 * one each (and the rest of its own).
 */
import { IsosimError, NS_PER_MS } from '@isosim/core';
import type { DiskOp, DiskRequest } from './disk.ts';

/** Which I/O scheduler orders the requests: noop, deadline or CFQ (see the module doc). */
export type ElevatorKind = 'fifo' | 'deadline' | 'cfq';

/** The elevator kinds, for validating options. */
export const ELEVATOR_KINDS: readonly ElevatorKind[] = ['fifo', 'deadline', 'cfq'];

/** `DiskOp.READ`, here to keep this module free of a runtime import of disk.ts. */
const READ: DiskOp = 0;
/** `DiskOp.WRITE`. */
const WRITE: DiskOp = 1;

/**
 * The deadline scheduler's tunables, at Linux 2.6.16's defaults
 * (block/deadline-iosched.c: `read_expire = HZ / 2`, `write_expire = 5 * HZ`,
 * `writes_starved = 2`, `fifo_batch = 16`).
 */
export const DEADLINE = {
  /** A read's expiry after it was added, ns: `read_expire = HZ / 2`, 500 ms. */
  readExpireNs: 500 * NS_PER_MS,
  /** A write's expiry, ns: `write_expire = 5 * HZ`, 5 s. */
  writeExpireNs: 5_000 * NS_PER_MS,
  /** How many times reads may win a new batch while writes wait: `writes_starved = 2`. */
  writesStarved: 2,
  /** Requests in one batch at most: `fifo_batch = 16`. */
  fifoBatch: 16,
} as const;

/**
 * CFQ's time slices and FIFO expiry, at Linux 2.6.18's defaults (block/cfq-iosched.c:
 * `cfq_slice_sync = HZ / 10`, `cfq_slice_async = HZ / 25`,
 * `cfq_fifo_expire[2] = { HZ / 4, HZ / 8 }`, async then sync).
 */
export const CFQ = {
  /** A queue's slice when it starts with a read, ns: `cfq_slice_sync = HZ / 10`, 100 ms. */
  sliceSyncNs: 100 * NS_PER_MS,
  /** A queue's slice when it starts with a write, ns: `cfq_slice_async = HZ / 25`, 40 ms. */
  sliceAsyncNs: 40 * NS_PER_MS,
  /** A read's FIFO expiry, ns: `cfq_fifo_expire[1] = HZ / 8`, 125 ms. */
  fifoExpireSyncNs: 125 * NS_PER_MS,
  /** A write's FIFO expiry, ns: `cfq_fifo_expire[0] = HZ / 4`, 250 ms. */
  fifoExpireAsyncNs: 250 * NS_PER_MS,
} as const;

/**
 * An I/O scheduler: requests go in with `add`, come out in its order with `next`. `T` is
 * what is queued: a `DiskRequest`, or the caller's object with a request's fields.
 */
export interface Elevator<T extends DiskRequest = DiskRequest> {
  /** Queues a request; `nowNs` (default: the elevator's clock) starts its deadline. */
  add(req: T, nowNs?: number): void;
  /**
   * Takes the request to dispatch next, or undefined when none is queued. `headSector`
   * is where the disk's head will be: the sector after the last request dispatched (0
   * before the first). `nowNs` defaults to the elevator's clock.
   */
  next(headSector: number, nowNs?: number): T | undefined;
  /** Requests added and not yet taken by `next`. */
  readonly length: number;
}

/**
 * Makes an elevator of the given kind. `nowNs` is its clock (simulated time, integer
 * ns), read when `add` or `next` is called without a time.
 *
 * @example
 * const elevator = createElevator('deadline', () => kernel.nowNs);
 * elevator.add(req);
 * const first = elevator.next(0);
 */
export function createElevator<T extends DiskRequest = DiskRequest>(
  kind: ElevatorKind,
  nowNs: () => number,
): Elevator<T> {
  switch (kind) {
    case 'fifo':
      return new FifoElevator<T>();
    case 'deadline':
      return new DeadlineElevator<T>(nowNs);
    case 'cfq':
      return new CfqElevator<T>(nowNs);
    default:
      throw new IsosimError(
        'createElevator',
        'kind',
        `${String(kind)} is not an elevator`,
        `give one of ${ELEVATOR_KINDS.join(', ')}`,
      );
  }
}

/** A queued request with what the elevators keep about it. */
interface Entry<T extends DiskRequest> {
  readonly req: T;
  /** Arrival order: breaks ties between equal sectors. */
  readonly seq: number;
  /** Deadline and CFQ: when it expires, ns. */
  readonly expiresNs: number;
  /** Dispatched from the sort order, still in the FIFO until it reaches its head. */
  dispatched: boolean;
}

/** Index of the first entry at or after (sector, seq) in a list sorted by (sector, seq). */
function lowerBound<T extends DiskRequest>(list: readonly Entry<T>[], sector: number, seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = list[mid];
    if (e.req.sector < sector || (e.req.sector === sector && e.seq < seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted<T extends DiskRequest>(list: Entry<T>[], e: Entry<T>): void {
  list.splice(lowerBound(list, e.req.sector, e.seq), 0, e);
}

/** The one-way sweep: the first entry at or above `headSector`, else the lowest. */
function sweepIndex<T extends DiskRequest>(list: readonly Entry<T>[], headSector: number): number {
  const i = lowerBound(list, headSector, -1);
  return i < list.length ? i : 0;
}

/** Linux's noop: arrival order. */
class FifoElevator<T extends DiskRequest> implements Elevator<T> {
  private readonly queue: (T | undefined)[] = [];
  private head = 0;

  add(req: T): void {
    this.queue.push(req);
  }

  next(): T | undefined {
    if (this.head >= this.queue.length) return undefined;
    const req = this.queue[this.head];
    this.queue[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return req;
  }

  get length(): number {
    return this.queue.length - this.head;
  }
}

/** Entries in arrival order; those dispatched meanwhile (marked) are dropped at the head. */
class Fifo<T extends DiskRequest> {
  private readonly list: Entry<T>[] = [];
  private head = 0;

  push(e: Entry<T>): void {
    this.list.push(e);
  }

  /** The oldest entry not yet dispatched, undefined when none. */
  first(): Entry<T> | undefined {
    const list = this.list;
    let h = this.head;
    while (h < list.length && list[h].dispatched) h++;
    if (h > 1024 && h * 2 > list.length) {
      list.splice(0, h);
      h = 0;
    }
    this.head = h;
    return list[h];
  }
}

/** Linux 2.6.16's deadline scheduler (see the module doc). */
class DeadlineElevator<T extends DiskRequest> implements Elevator<T> {
  /** Per direction (index `DiskOp`), sorted by (sector, seq): Linux's `sort_list`. */
  private readonly sorted: [Entry<T>[], Entry<T>[]] = [[], []];
  /** Per direction, in arrival order, dispatched entries skipped lazily: `fifo_list`. */
  private readonly fifo: [Fifo<T>, Fifo<T>] = [new Fifo(), new Fifo()];
  /** The sort-order successor of the last dispatched request, in its direction: `next_drq`. */
  private readonly nextEntry: [Entry<T> | undefined, Entry<T> | undefined] = [undefined, undefined];
  /** Requests dispatched in the current batch (grows past fifo_batch to end it): `batching`. */
  private batching = 0;
  /** Times reads won a new batch while writes waited: `starved`. */
  private starved = 0;
  private seq = 0;

  constructor(private readonly clock: () => number) {}

  get length(): number {
    return this.sorted[READ].length + this.sorted[WRITE].length;
  }

  add(req: T, nowNs = this.clock()): void {
    const dir = req.op;
    const expire = dir === READ ? DEADLINE.readExpireNs : DEADLINE.writeExpireNs;
    const e: Entry<T> = { req, seq: this.seq++, expiresNs: nowNs + expire, dispatched: false };
    insertSorted(this.sorted[dir], e);
    this.fifo[dir].push(e);
  }

  next(headSector: number, nowNs = this.clock()): T | undefined {
    // Batches are reads XOR writes: at most one of the two is set.
    const continuing = this.nextEntry[WRITE] ?? this.nextEntry[READ];
    if (continuing !== undefined) {
      // End the batch on a non-sequential request.
      if (headSector !== continuing.req.sector) this.batching += DEADLINE.fifoBatch;
      if (this.batching < DEADLINE.fifoBatch) return this.move(continuing);
    }
    // Not in a batch: choose the direction.
    const reads = this.sorted[READ].length > 0;
    const writes = this.sorted[WRITE].length > 0;
    let dir: DiskOp;
    if (reads && !(writes && this.starved++ >= DEADLINE.writesStarved)) dir = READ;
    else if (writes) {
      this.starved = 0;
      dir = WRITE;
    } else return undefined;
    // Choose the request in that direction.
    const oldest = this.fifo[dir].first() as Entry<T>;
    if (nowNs > oldest.expiresNs) {
      // An expired request exists: satisfy it.
      this.batching = 0;
      return this.move(oldest);
    }
    const next = this.nextEntry[dir];
    if (next !== undefined) return this.move(next);
    // The last request was the other direction or the sweep ran out of higher sectors:
    // back to the lowest sector (one-way elevator), a new batch.
    this.batching = 0;
    return this.move(this.sorted[dir][0]);
  }

  /** Dispatches `e`: `deadline_move_request`. */
  private move(e: Entry<T>): T {
    const dir = e.req.op;
    const list = this.sorted[dir];
    const i = lowerBound(list, e.req.sector, e.seq);
    list.splice(i, 1);
    this.batching++;
    this.nextEntry[READ] = undefined;
    this.nextEntry[WRITE] = undefined;
    this.nextEntry[dir] = list[i];
    e.dispatched = true;
    return e.req;
  }
}

/** One guest's CFQ queue. */
interface CfqQueue<T extends DiskRequest> {
  readonly guest: number;
  /** Sorted by (sector, seq). */
  readonly sorted: Entry<T>[];
  /** Arrival order, for the expiry check. */
  readonly fifo: Fifo<T>;
  /** The expiry check served a request in this slice already (`cfq_cfqq_fifo_expire`). */
  fifoUsed: boolean;
}

/** A CFQ-like order (see the module doc). */
class CfqElevator<T extends DiskRequest> implements Elevator<T> {
  private readonly queues = new Map<number, CfqQueue<T>>();
  /** Queues with requests waiting for a slice, in service order (not the active one). */
  private readonly roundRobin: CfqQueue<T>[] = [];
  private active: CfqQueue<T> | undefined;
  private sliceEndNs = 0;
  private count = 0;
  private seq = 0;

  constructor(private readonly clock: () => number) {}

  get length(): number {
    return this.count;
  }

  add(req: T, nowNs = this.clock()): void {
    let q = this.queues.get(req.guest);
    if (q === undefined) {
      q = { guest: req.guest, sorted: [], fifo: new Fifo(), fifoUsed: false };
      this.queues.set(req.guest, q);
    }
    if (q.sorted.length === 0 && q !== this.active) this.roundRobin.push(q);
    const expire = req.op === READ ? CFQ.fifoExpireSyncNs : CFQ.fifoExpireAsyncNs;
    const e: Entry<T> = { req, seq: this.seq++, expiresNs: nowNs + expire, dispatched: false };
    insertSorted(q.sorted, e);
    q.fifo.push(e);
    this.count++;
  }

  next(headSector: number, nowNs = this.clock()): T | undefined {
    let q = this.active;
    if (q !== undefined && (q.sorted.length === 0 || nowNs >= this.sliceEndNs)) {
      // Slice over (or the queue ran dry: no idle window): to the back of the line.
      if (q.sorted.length > 0) this.roundRobin.push(q);
      q = this.active = undefined;
    }
    const starting = q === undefined;
    if (q === undefined) {
      q = this.roundRobin.shift();
      if (q === undefined) return undefined;
      this.active = q;
      q.fifoUsed = false;
    }
    let e = this.expired(q, nowNs);
    const i = e === undefined ? sweepIndex(q.sorted, headSector) : lowerBound(q.sorted, e.req.sector, e.seq);
    e = q.sorted[i];
    if (starting) this.sliceEndNs = nowNs + (e.req.op === READ ? CFQ.sliceSyncNs : CFQ.sliceAsyncNs);
    q.sorted.splice(i, 1);
    e.dispatched = true;
    this.count--;
    return e.req;
  }

  /** The queue's oldest request if it has expired and the check has not served one this slice. */
  private expired(q: CfqQueue<T>, nowNs: number): Entry<T> | undefined {
    if (q.fifoUsed) return undefined;
    const oldest = q.fifo.first() as Entry<T>;
    if (!(nowNs > oldest.expiresNs)) return undefined;
    q.fifoUsed = true;
    return oldest;
  }
}
