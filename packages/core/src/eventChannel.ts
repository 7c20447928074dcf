/**
 * Event channels with Xen's semantics, delivered on an RxJS stream.
 *
 * Model (after Xen's `evtchn_set_pending` and the shared-info pending/mask bitmaps):
 * a receiver (one domain's vCPU) owns a set of ports; each port has a pending bit and
 * a mask bit, and the set has one "upcall pending" flag (vcpu_info's
 * `evtchn_upcall_pending`).
 * - `notify(port)`: if the port is already pending, the notification coalesces into
 *   it. Otherwise the bit is set; if the port is masked nothing more happens; if the
 *   upcall flag is clear it is set and one upcall is queued on the kernel.
 * - The upcall, when the kernel delivers it, clears the upcall flag (the guest does so
 *   on entry) and emits the set of ports that are pending and unmasked on `upcalls$`.
 * - The receiver clears each port's pending bit (`clearPending`) when it handles it;
 *   until it does, further notifications on that port coalesce.
 * - `unmask(port)` re-raises the upcall if the port became pending while masked.
 *
 * Delivery is driven only by the kernel's queue: `upcalls$` emits from inside the
 * kernel's dispatch, which is never re-entered, so subscribers cannot observe the
 * reordering that a re-entrant RxJS `Subject` would cause.
 *
 * Errors: RxJS catches an error thrown by a subscriber and rethrows it later from a
 * real timer, outside the simulation. `onUpcall(fn)` subscribes with a guard that
 * keeps the error and rethrows it from the upcall's dispatch, so it comes out of the
 * kernel's `run` at the simulated time it happened. Use it for anything that can throw.
 *
 * Every notification (`evtchn.send`, with its outcome) and every upcall
 * (`evtchn.upcall`) is in the log.
 */
import { Observable, Subject, type Subscription } from 'rxjs';
import { InvariantError } from './errors.ts';
import { type Delivery, type Kernel, Priority } from './kernel.ts';

/**
 * At most this many ports per receiver: Xen's 2-level event-channel ABI on a 64-bit
 * guest (64 selector bits x 64-bit words, `EVTCHN_2L_NR_CHANNELS`). The driver domain
 * binds one port per guest's vif plus one for the NIC, so this bounds a host's guests.
 * (The FIFO ABI allows 2^17; the model does not need it.)
 */
export const MAX_PORTS = 4096;

/** What happened to a notification (the `outcome` field of `evtchn.send`). */
export const NotifyOutcome = {
  /** The port became pending and an upcall was queued. */
  RAISED: 0,
  /** The port was already pending: coalesced. */
  COALESCED: 1,
  /** The port became pending but is masked: no upcall until unmask. */
  MASKED: 2,
  /** The port became pending; an upcall was already on its way and will carry it. */
  JOINED: 3,
} as const;

export interface Upcall {
  readonly timeNs: number;
  /** Pending and unmasked ports at delivery, ascending. */
  readonly ports: readonly number[];
}

export interface EventChannelStats {
  notifies: number;
  coalesced: number;
  upcalls: number;
}

export interface EventChannelSetOptions {
  /** Delay from a raising notification to the upcall, in ns (default 0). */
  latencyNs?: number;
}

export class EventChannelSet {
  readonly name: string;
  readonly endpoint: number;
  readonly upcalls$: Observable<Upcall>;
  readonly stats: EventChannelStats = { notifies: 0, coalesced: 0, upcalls: 0 };
  private readonly kernel: Kernel;
  private readonly subject = new Subject<Upcall>();
  private readonly latencyNs: number;
  private readonly sendType: number;
  private readonly upcallType: number;
  private readonly pending = new Uint8Array(MAX_PORTS);
  private readonly masked = new Uint8Array(MAX_PORTS);
  private readonly bound: string[] = [];
  private upcallPending = false;
  private emitting = false;
  private fault: { error: unknown } | undefined;

  constructor(kernel: Kernel, name: string, options: EventChannelSetOptions = {}) {
    this.kernel = kernel;
    this.name = name;
    this.latencyNs = options.latencyNs ?? 0;
    this.sendType = kernel.type('evtchn.send', ['port', 'outcome']);
    this.upcallType = kernel.type('evtchn.upcall', ['port']);
    this.endpoint = kernel.endpoint(name, (ev) => this.deliver(ev));
    this.upcalls$ = this.subject.asObservable();
  }

  /** Allocates the next port, labelled for diagnostics. */
  bind(label: string): number {
    if (this.bound.length >= MAX_PORTS)
      throw new InvariantError(
        `${this.name}: more than ${MAX_PORTS} ports (Xen's 2-level event-channel ABI on 64-bit)`,
      );
    this.bound.push(label);
    return this.bound.length - 1;
  }

  /** Upcalls that carry `port`, one per delivery. */
  port$(port: number): Observable<Upcall> {
    return new Observable<Upcall>((sub) =>
      this.upcalls$.subscribe((u) => {
        if (u.ports.includes(port)) sub.next(u);
      }),
    );
  }

  /** Subscribes `fn` to upcalls; an error it throws comes out of the kernel's run loop. */
  onUpcall(fn: (upcall: Upcall) => void): Subscription {
    return this.subject.subscribe((u) => {
      try {
        fn(u);
      } catch (error) {
        this.fault ??= { error };
      }
    });
  }

  /** Signals `port` on behalf of `source` (an endpoint id). See the model above. */
  notify(port: number, source: number): void {
    this.checkPort(port);
    this.stats.notifies++;
    let outcome: number;
    if (this.pending[port] === 1) {
      this.stats.coalesced++;
      outcome = NotifyOutcome.COALESCED;
    } else {
      this.pending[port] = 1;
      if (this.masked[port] === 1) outcome = NotifyOutcome.MASKED;
      else outcome = this.raise(port) ? NotifyOutcome.RAISED : NotifyOutcome.JOINED;
    }
    this.kernel.record(this.sendType, source, this.endpoint, port, outcome);
  }

  /** Ports that are pending and unmasked now, ascending. */
  pendingPorts(): number[] {
    const ports: number[] = [];
    for (let p = 0; p < this.bound.length; p++)
      if (this.pending[p] === 1 && this.masked[p] === 0) ports.push(p);
    return ports;
  }

  isPending(port: number): boolean {
    return this.pending[port] === 1;
  }

  isMasked(port: number): boolean {
    return this.masked[port] === 1;
  }

  /** The receiver acknowledges `port`; later notifications raise a new upcall. */
  clearPending(port: number): void {
    this.checkPort(port);
    this.pending[port] = 0;
  }

  mask(port: number): void {
    this.checkPort(port);
    this.masked[port] = 1;
  }

  /** Unmasks `port`; if it became pending meanwhile, raises the upcall now. */
  unmask(port: number): void {
    this.checkPort(port);
    this.masked[port] = 0;
    if (this.pending[port] === 1) this.raise(port);
  }

  private raise(port: number): boolean {
    if (this.upcallPending) return false;
    this.upcallPending = true;
    this.kernel.postIn(
      this.latencyNs,
      Priority.INTERRUPT,
      this.endpoint,
      this.upcallType,
      this.kernel.self,
      port,
    );
    return true;
  }

  private deliver(ev: Delivery): void {
    this.upcallPending = false;
    const ports: number[] = [];
    for (let p = 0; p < this.bound.length; p++)
      if (this.pending[p] === 1 && this.masked[p] === 0) ports.push(p);
    if (ports.length === 0) return;
    if (this.emitting) throw new InvariantError(`${this.name}: upcall delivered while delivering another`);
    this.stats.upcalls++;
    this.emitting = true;
    try {
      this.subject.next({ timeNs: ev.timeNs, ports });
    } finally {
      this.emitting = false;
    }
    const fault = this.fault;
    if (fault !== undefined) {
      this.fault = undefined;
      throw fault.error;
    }
  }

  private checkPort(port: number): void {
    if (!(port >= 0 && port < this.bound.length) || (port | 0) !== port) {
      throw new InvariantError(`${this.name}: port ${port} is not bound`);
    }
  }
}
