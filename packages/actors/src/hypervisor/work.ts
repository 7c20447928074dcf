/**
 * CPU work: what a vCPU does when it runs. A domain's vCPU holds a FIFO of work
 * items; each costs a number of nanoseconds of CPU and names its principal, the
 * domain on whose behalf the time is spent (a guest's own work is its own; the IDD's
 * packet processing names the guest it serves). When an item's time has all been
 * spent, its `onDone` runs at that simulated instant: that is how packets move on,
 * requests complete and interrupts get handled. A vCPU with no items blocks.
 *
 * The principal is the simulator's ground truth of who caused each nanosecond of
 * CPU; XenMon's estimate is compared against it.
 *
 * Kernel work (interrupt handlers, drivers, the network stack) runs before user work
 * (a workload's own processing), as softirqs preempt processes in a Linux guest: a
 * vCPU's queue is two FIFOs, and kernel work that arrives while user work is running
 * takes over at once (the user item keeps what it has left).
 */
export interface WorkItem {
  /** CPU time still to run, ns (may be +Infinity for a CPU-bound loop). */
  remainingNs: number;
  /** Domain id the time is spent for. */
  readonly principal: number;
  readonly onDone?: (arg: never) => void;
  /**
   * Passed to `onDone`: lets a hot path use one long-lived function for every item
   * (a closure per packet costs an allocation, and under tsx a property definition).
   */
  readonly arg?: unknown;
  /** User-level work (default: kernel-level, which runs first). */
  readonly user?: boolean;
}

class Fifo {
  private items: (WorkItem | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): WorkItem | undefined {
    return this.items[this.head];
  }

  push(item: WorkItem): void {
    this.items.push(item);
  }

  pop(): WorkItem | undefined {
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** A vCPU's work: kernel items first, then user items, each in arrival order. */
export class WorkQueue {
  private readonly kernel = new Fifo();
  private readonly user = new Fifo();

  get length(): number {
    return this.kernel.length + this.user.length;
  }

  peek(): WorkItem | undefined {
    return this.kernel.peek() ?? this.user.peek();
  }

  push(item: WorkItem): void {
    if (item.user) this.user.push(item);
    else this.kernel.push(item);
  }

  pop(): WorkItem | undefined {
    return this.kernel.length > 0 ? this.kernel.pop() : this.user.pop();
  }
}
