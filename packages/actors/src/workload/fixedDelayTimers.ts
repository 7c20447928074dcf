/**
 * Timers of one fixed delay that a workload sets by the thousand (a web connection's
 * httperf timeout, its SYN and segment retransmissions), without a closure per timer
 * and without a pending timer keeping alive what it was set for once that is over.
 *
 * Each timer is still one kernel event, posted exactly as `Endpoints.after` posts it
 * (same time, priority, tag: the log does not change), but the event's callback is
 * one function shared by all of them, and the item each timer is for waits in a queue
 * here. The kernel runs events of equal time in the order they were posted, and these
 * are set at nondecreasing times with one delay, so they fire in the order they were
 * set: the queue's head is the item of the timer firing. `release(ticket)` lets go of
 * an item whose timer no longer matters (the connection is over): the timer still
 * fires, runs nothing, and holds nothing until then.
 *
 * Why (issue 15, flat memory): in an overloaded Table 1 run a connection's 10 s
 * timeout closure kept every connection, with its closures and buffers, for 10 s after
 * it had long finished, and a SYN retry for up to 12 s more: about 9,000 connections
 * at 600 a second, objects that V8 promoted to its old generation and then sized that
 * generation to about four times over.
 */
import type { Endpoints } from './endpoints.ts';

export class FixedDelayTimers<T> {
  /**
   * The items of the pending timers, a ring: ticket t (timers count from 0 as set)
   * sits at `t & mask`, from `fired` (the next to fire) to `setCount - 1`; undefined:
   * released. It doubles when full and is otherwise never reallocated: a queue that
   * shifted or sliced would make garbage as fast as timers are set.
   */
  private ring: (T | undefined)[] = new Array(64).fill(undefined);
  private mask = 63;
  /** Timers fired so far: the ticket of the next to fire. */
  private fired = 0;
  /** Timers set so far: the ticket of the next one set. */
  private setCount = 0;
  private readonly fireNext: () => void;

  constructor(
    /** Where the timers are posted (the workload's `Endpoints`). */
    private readonly ends: Pick<Endpoints, 'after'>,
    /** The delay of every timer, ns. */
    readonly delayNs: number,
    /** The tag the firing is logged with (`Endpoints.after`). */
    private readonly tag: number,
    /** Runs when a timer fires, with its item unless released. */
    onFire: (item: T) => void,
  ) {
    this.fireNext = () => {
      if (this.fired === this.setCount) throw new Error('FixedDelayTimers: a timer fired with none pending');
      const i = this.fired++ & this.mask;
      const item = this.ring[i];
      this.ring[i] = undefined;
      if (item !== undefined) onFire(item);
    };
  }

  /** Timers set and not yet fired (released ones too). */
  get pending(): number {
    return this.setCount - this.fired;
  }

  /** Pending timers that still hold an item (not released): O(pending), for tests and diagnostics. */
  get held(): number {
    let n = 0;
    for (let t = this.fired; t < this.setCount; t++) if (this.ring[t & this.mask] !== undefined) n++;
    return n;
  }

  /** Sets a timer `delayNs` from now for `item`; returns its ticket, for `release`. */
  set(item: T): number {
    if (this.setCount - this.fired > this.mask) this.grow();
    this.ends.after(this.delayNs, this.tag, this.fireNext);
    const ticket = this.setCount++;
    this.ring[ticket & this.mask] = item;
    return ticket;
  }

  /** The timer of `ticket` no longer holds its item nor runs it (no-op once it has fired). */
  release(ticket: number): void {
    if (ticket >= this.fired && ticket < this.setCount) this.ring[ticket & this.mask] = undefined;
  }

  private grow(): void {
    const size = 2 * this.ring.length;
    const ring: (T | undefined)[] = new Array(size).fill(undefined);
    for (let t = this.fired; t < this.setCount; t++) ring[t & (size - 1)] = this.ring[t & this.mask];
    this.ring = ring;
    this.mask = size - 1;
  }
}
