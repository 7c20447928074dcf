/**
 * A web server in a guest, loaded by an open-loop client like httperf.
 *
 * The client opens connections at a fixed rate (httperf `--rate`: evenly spaced) and
 * asks each for one file. Per connection (packets on the wire; see profiles.ts):
 *   client → SYN;  guest → SYN-ACK;  client → ACK, GET;
 *   guest: `webRequestNs` of CPU, then n = ceil(fileBytes / MSS) data segments,
 *   ACK-clocked: an initial window of `INITIAL_WINDOW` segments (RFC 3390 for a
 *   1448-byte MSS) growing by one per segment acknowledged below `ssthresh` (slow
 *   start) and by one per window above it (congestion avoidance), up to the client's
 *   64 KiB receive window; a lost segment halves the window (Reno's multiplicative
 *   decrease) and is sent again after the retransmission timeout;
 *   client → an ACK per two segments (and for the last), then FIN when all are in;
 *   guest → FIN-ACK (the server closes too); client → the last ACK. httperf closes a
 *   connection once its reply is in, and Apache's end of it closes on the client's FIN.
 * A reply counts when its last segment reaches the client within `timeoutNs` of the
 * connection's start (httperf `--timeout`); later, it counts as a failed request and
 * the client ignores the rest. A dropped packet is sent again by its sender after a
 * retransmission timeout (`RTO_NS`; `SYN_RTO_NS` for the SYN, twice as long at each
 * retry), as TCP would, unless the connection has failed; the server stops sending on
 * a failed connection (httperf closes it). Fast retransmit and SACK are not modelled.
 *
 * The server side is Apache's prefork model (`WebServer`, one per guest: every web
 * workload of a guest loads the same server, as httperf clients of one Apache do): at
 * most `MAX_CLIENTS` connections are being served at once; a GET that finds every
 * worker busy waits; a SYN that finds `LISTEN_BACKLOG` connections already waiting is
 * dropped by the guest's kernel (the client tries again after `SYN_RTO_NS`). A worker
 * is free again when its response is fully acknowledged or the client has given up.
 *
 * In a guest with resource containers (guest/containers.ts, docs/containers.md) each
 * workload is one client class (`clientClass`), and each of its connections is bound to
 * that class's container: the request's work and the connection's packets are charged
 * to it, and scheduled by it (its packets' protocol work only with LRP). The server
 * then listens on one socket per class, each with its own backlog, and a free worker
 * takes the next waiting connection of the class with the fewest workers for its share
 * (as Banga et al.'s server accepts by container priority).
 */
import { InvariantError } from '@isosim/core';
import type { GuestContainers } from '../guest/containers.ts';
import { ACK_BYTES, Direction, type DropReason, type Flow, MSS_BYTES, type Packet } from '../net/packet.ts';
import type { Endpoints } from './endpoints.ts';
import { EventCounter } from './eventCounter.ts';
import { FixedDelayTimers } from './fixedDelayTimers.ts';
import type { WorkloadEngine } from './lifecycle.ts';

/** Linux's minimum TCP retransmission timeout, 200 ms. */
export const RTO_NS = 200_000_000;
/** Linux 2.6's initial SYN retransmission timeout, 3 s. */
export const SYN_RTO_NS = 3_000_000_000;
/** Apache 2.0's default MaxClients (prefork). */
export const MAX_CLIENTS = 150;
/** Linux 2.6's default somaxconn: connections waiting for accept(). */
export const LISTEN_BACKLOG = 128;
/** Segments a connection may send before its first acknowledgement (RFC 3390, MSS 1448). */
export const INITIAL_WINDOW = 3;
/** The client's receive window, segments (64 KiB / 1448). */
export const MAX_WINDOW = 45;
/** Request line and headers of a GET, bytes on the wire. */
export const GET_BYTES = 250;

const SYN = 0;
const HS_ACK = 1;
const GET = 2;
const DATA_ACK = 3;
const FIN = 4;
const SYN_ACK = 5;
/** The server's FIN (with the ACK of the client's), and the client's ACK of it. */
const SRV_FIN = 6;
const LAST_ACK = 7;
/** Data segment k has tag DATA + k. */
const DATA = 16;

export interface WebOptions {
  /** Connections per second. */
  readonly rate: number;
  /**
   * `uniform`: evenly spaced, as httperf `--rate` (the default); `poisson`:
   * exponential gaps with the same mean, drawn from the workload's own seeded stream.
   */
  readonly arrivals?: 'uniform' | 'poisson';
  readonly fileBytes: number;
  readonly timeoutNs: number;
  /** Guest CPU per request beyond its packets, ns. */
  readonly requestNs: number;
  /**
   * The client class, in a guest with resource containers: the container its
   * connections are bound to (one of the guest's classes; required there, refused elsewhere).
   */
  readonly clientClass?: string;
}

export interface WebStats {
  issued: number;
  /** SYNs the guest's kernel dropped because the listen backlog was full. */
  synDrops: number;
  replies: number;
  failed: number;
  /** Sum of reply latencies, ns. */
  latencyNs: number;
  retransmits: number;
  /** Replies completed in each second of simulated time (index = second): `repliesIn.perBucket`. */
  readonly repliesPerSecond: number[];
  /** Replies by the time they completed, to count over a window (`between`). */
  readonly repliesIn: EventCounter;
  /** Failed requests by the time they timed out. */
  readonly failuresIn: EventCounter;
}

function newStats(): WebStats {
  const repliesIn = new EventCounter();
  return {
    issued: 0,
    synDrops: 0,
    replies: 0,
    failed: 0,
    latencyNs: 0,
    retransmits: 0,
    repliesPerSecond: repliesIn.perBucket,
    repliesIn,
    failuresIn: new EventCounter(),
  };
}

/**
 * A guest's web server: one Apache 2.0 (prefork) listening on one socket. Its workers
 * and its listen backlog are shared by every web workload of the guest: before issue
 * 13 each workload had its own, so Fig. 6's eight load steps met eight servers with
 * 1,200 workers between them, and processor sharing among them pushed every reply past
 * the client's timeout (docs/calibration.md, "Goodput collapse").
 */
export class WebServer {
  /** Workers serving a connection now. */
  busy = 0;
  /** Connections accepted by the kernel, waiting for a worker (in order). */
  readonly waiting: Connection[] = [];
  /** With containers: workers per class, and each class's socket's waiting connections. */
  private readonly busyOf: number[] = [];
  private readonly waitingOf: Connection[][] = [];

  constructor(
    /** Workers at most (Apache's MaxClients). */
    readonly maxClients = MAX_CLIENTS,
    /** Connections waiting for accept() at most (the listen backlog, per socket). */
    readonly backlog = LISTEN_BACKLOG,
    /**
     * With resource containers: each class's share (the guest's containers, in order).
     * The server then has a listen socket per class and hands workers out by share.
     */
    readonly shares?: readonly number[],
  ) {
    for (const _ of shares ?? []) {
      this.busyOf.push(0);
      this.waitingOf.push([]);
    }
  }

  /** A SYN for `c` arrives: false if the kernel drops it (backlog full). */
  admit(c: Connection): boolean {
    if (this.shares !== undefined) return this.admitByClass(c);
    if (this.busy < this.maxClients) {
      // A connection that no longer needs a worker takes none.
      if (!c.serve()) return false;
      this.busy++;
      return true;
    }
    if (this.waiting.length >= this.backlog) return false;
    this.waiting.push(c);
    return true;
  }

  /** A worker is free (`c`'s): the next waiting connection gets it. */
  release(c: Connection): void {
    if (this.shares !== undefined) {
      this.busy--;
      this.busyOf[c.container]--;
      this.fillByClass();
      return;
    }
    this.busy--;
    while (this.busy < this.maxClients && this.waiting.length > 0) {
      const c = this.waiting.shift() as Connection;
      if (c.serve()) this.busy++;
    }
  }

  /** `c` gave up while waiting in the backlog. */
  leave(c: Connection): void {
    const waiting = this.shares !== undefined ? this.waitingOf[c.container] : this.waiting;
    const i = waiting.indexOf(c);
    if (i >= 0) waiting.splice(i, 1);
  }

  /** Workers serving class `k` now (with containers). */
  busyIn(k: number): number {
    return this.busyOf[k] ?? 0;
  }

  private admitByClass(c: Connection): boolean {
    const k = c.container;
    const waiting = this.waitingOf[k];
    if (this.busy < this.maxClients && waiting.length === 0) {
      if (c.serve()) {
        this.busy++;
        this.busyOf[k]++;
      }
      return true;
    }
    if (waiting.length >= this.backlog) return false;
    waiting.push(c);
    this.fillByClass();
    return true;
  }

  /**
   * Free workers take waiting connections, each from the class with the fewest workers
   * for its share (busy_k / share_k least, compared exactly; ties: the first class).
   */
  private fillByClass(): void {
    const shares = this.shares as readonly number[];
    while (this.busy < this.maxClients) {
      let best = -1;
      for (let k = 0; k < shares.length; k++) {
        if (this.waitingOf[k].length === 0) continue;
        if (best < 0 || this.busyOf[k] * shares[best] < this.busyOf[best] * shares[k]) best = k;
      }
      if (best < 0) return;
      const c = this.waitingOf[best].shift() as Connection;
      if (c.serve()) {
        this.busy++;
        this.busyOf[best]++;
      }
    }
  }
}

export class WebLoad implements WorkloadEngine {
  readonly stats: WebStats = newStats();
  readonly segments: number;
  /**
   * The connections' timers, one queue per delay (fixedDelayTimers.ts): httperf's
   * timeout, a segment's retransmission (the dropped packet; its flow is the
   * connection), and the SYN's k-th retransmission at `SYN_RTO_NS` × 2^k. A connection
   * releases its timeout and SYN timers when it is over, so that they do not keep it.
   */
  readonly timeouts: FixedDelayTimers<Connection>;
  readonly retransmits: FixedDelayTimers<Packet>;
  private readonly synRetries: FixedDelayTimers<Connection>[] = [];
  private active = false;
  private readonly intervalNs: number;
  private readonly gapNs: () => number;
  /** `open` as one function for the arrival timer (not a closure per connection). */
  private readonly openNext = () => this.open();
  /** The guest's resource containers, if it has them, and this workload's (its client class's). */
  readonly containers: GuestContainers | undefined;
  readonly container: number;

  constructor(
    readonly ends: Endpoints,
    readonly options: WebOptions,
    /** The guest's server (shared by its web workloads; a server of its own if omitted). */
    readonly server: WebServer = new WebServer(),
  ) {
    this.containers = ends.net.containers;
    this.container = this.containers?.indexOf(options.clientClass ?? '') ?? -1;
    if (this.containers !== undefined && this.container < 0) {
      throw new InvariantError(
        `${ends.name}: client class ${JSON.stringify(options.clientClass)} is none of the guest's containers`,
      );
    }
    this.segments = Math.max(1, Math.ceil(options.fileBytes / MSS_BYTES));
    this.intervalNs = Math.round(1e9 / options.rate);
    const rng = ends.kernel.prng.fork(ends.name);
    this.gapNs =
      options.arrivals === 'poisson' ? () => rng.exponentialNs(this.intervalNs) : () => this.intervalNs;
    this.timeouts = new FixedDelayTimers(ends, options.timeoutNs, 1, (c) => c.timedOut());
    this.retransmits = new FixedDelayTimers(ends, RTO_NS, 2, (p) => (p.flow as Connection).resend(p));
  }

  start(): void {
    this.active = true;
    this.open();
  }

  stop(): void {
    this.active = false;
  }

  private open(): void {
    if (!this.active) return;
    this.stats.issued++;
    new Connection(this, this.ends.kernel.nowNs).begin();
    this.ends.after(this.gapNs(), 0, this.openNext);
  }

  /** The timers of a SYN's `retry`-th retransmission (0: the first), made on first use. */
  synTimers(retry: number): FixedDelayTimers<Connection> {
    let t = this.synRetries[retry];
    if (t === undefined) {
      t = new FixedDelayTimers(this.ends, SYN_RTO_NS * 2 ** retry, 2, (c) => c.resendSyn());
      this.synRetries[retry] = t;
    }
    return t;
  }

  /**
   * The guest sends a packet of `flow`'s: at once, or with containers through the
   * connection's container (its stack's work charged to it, and with LRP scheduled by it).
   */
  send(bytes: number, flow: Connection, tag: number): void {
    const containers = this.containers;
    if (containers === undefined) this.ends.fromGuest(bytes, flow, tag);
    else containers.send(this.container, this.sendOutFn, { bytes, flow, tag });
  }

  private readonly sendOutFn = (o: { bytes: number; flow: Connection; tag: number }): void =>
    this.ends.fromGuest(o.bytes, o.flow, o.tag);

  /** Bytes on the wire of segment k (the last one may be short). */
  segmentBytes(k: number): number {
    const payload = Math.min(MSS_BYTES, this.options.fileBytes - k * MSS_BYTES);
    return Math.max(payload, 0) + ACK_BYTES;
  }
}

export class Connection implements Flow {
  /**
   * Client side, the data segments in: all of 0..inOrder-1, and those past a gap in
   * `outOfOrder` (made only when one arrives past a gap: segments go out in order, so
   * most connections never need it, and a bitmap per connection was garbage at 600
   * connections a second).
   */
  private inOrder = 0;
  private outOfOrder: Set<number> | undefined;
  private received = 0;
  private done = false;
  private dead = false;
  /** Server side: accepted into the backlog, holding a worker, got its GET, released. */
  private accepted = false;
  private hasWorker = false;
  private gotRequest = false;
  private released = false;
  /** Server side: segments sent, segments acknowledged, congestion window. */
  private sent = 0;
  private acked = 0;
  private window = INITIAL_WINDOW;
  private ssthresh = MAX_WINDOW;
  /** Segments acknowledged since the window last grew in congestion avoidance. */
  private avoidance = 0;
  /** SYNs sent again so far (each waits twice as long as the one before). */
  private synRetries = 0;
  /** In CWR (local congestion) until this many segments are acknowledged. */
  private cwrUntil = 0;
  /** Tickets of the timeout and of the pending SYN retransmission (-1: none), to release them. */
  private timeoutTicket = -1;
  private synTicket = -1;

  constructor(
    private readonly load: WebLoad,
    private readonly startNs: number,
  ) {}

  /** The container this connection is bound to (its workload's client class; -1: none). */
  get container(): number {
    return this.load.container;
  }

  begin(): void {
    this.load.ends.fromClient(ACK_BYTES, this, SYN, true);
    this.timeoutTicket = this.load.timeouts.set(this);
  }

  /** httperf's timeout, unless the reply is in. */
  timedOut(): void {
    this.timeoutTicket = -1;
    if (this.done) return;
    this.dead = true;
    this.load.stats.failed++;
    this.load.stats.failuresIn.add(this.load.ends.kernel.nowNs);
    this.releaseSyn();
    // httperf closes the connection; the server's worker (if any) is freed.
    this.finish();
  }

  /** The connection is over for the client: its pending SYN retransmission no longer holds it. */
  private releaseSyn(): void {
    if (this.synTicket < 0) return;
    this.load.synTimers(this.synRetries - 1).release(this.synTicket);
    this.synTicket = -1;
  }

  arrived(p: Packet): void {
    if (p.direction === Direction.INBOUND) {
      const containers = this.load.containers;
      if (containers === undefined) this.atServer(p.tag);
      else if (!containers.receive(this.load.container, Connection.atServerFn, p)) this.lost(p);
    } else if (!this.dead) this.atClient(p.tag);
  }

  /** An inbound packet through its container: at the server once processed. */
  private static readonly atServerFn = (p: Packet): void => (p.flow as Connection).atServer(p.tag);

  dropped(p: Packet, _reason: DropReason): void {
    this.lost(p);
  }

  /** `p` did not arrive: its sender sends it again after a timeout (TCP). */
  private lost(p: Packet): void {
    if (this.dead || (this.done && !this.serverWaits(p))) return;
    if (p.direction === Direction.OUTBOUND && p.tag >= DATA) {
      this.ssthresh = Math.max(2, Math.floor(this.window / 2));
      this.window = this.ssthresh;
    }
    if (p.direction === Direction.INBOUND && p.tag === SYN) this.retrySyn();
    else this.load.retransmits.set(p);
  }

  /**
   * The guest's qdisc was full: the segment waits in the socket (netfront holds it).
   * TCP enters CWR once per window (`tcp_enter_cwr` only acts below TCP_CA_CWR):
   * ssthresh = max(2, cwnd / 2) and the window shrinks to it; no retransmission.
   */
  localCongestion(_p: Packet): void {
    if (this.acked < this.cwrUntil) return;
    this.cwrUntil = this.sent;
    this.ssthresh = Math.max(2, Math.floor(this.window / 2));
    this.window = this.ssthresh;
  }

  /**
   * Sends the SYN again after the SYN timeout, doubled for each retry (Linux 2.6:
   * TCP_TIMEOUT_INIT 3 s, backed off exponentially, `tcp_retransmit_timer`; RFC 2988
   * 5.5). A retransmitted SYN does not open a second connection (`opens` false).
   */
  private retrySyn(): void {
    this.synTicket = this.load.synTimers(this.synRetries++).set(this);
  }

  /** The SYN retransmission timer fired: the SYN again, unless the connection has ended. */
  resendSyn(): void {
    this.synTicket = -1;
    if (this.dead || this.done) return;
    this.load.stats.retransmits++;
    this.load.ends.fromClient(ACK_BYTES, this, SYN);
  }

  /**
   * Whether the server still waits for `p` though the client has its whole reply: an
   * acknowledgement of the data. Until it comes, the server's worker stays busy (in TCP
   * the server would send the data again after its timeout, and the client acknowledge it
   * again); before, a lost last acknowledgement held the worker for good.
   */
  private serverWaits(p: Packet): boolean {
    return p.direction === Direction.INBOUND && p.tag === DATA_ACK && !this.released;
  }

  /** `p`'s retransmission timer fired: `p` again, unless the connection has ended. */
  resend(p: Packet): void {
    if (this.dead || (this.done && !this.serverWaits(p))) return;
    this.load.stats.retransmits++;
    if (p.direction === Direction.OUTBOUND && this.load.containers !== undefined)
      this.load.send(p.bytes, this, p.tag);
    else this.load.ends.resend(p);
  }

  /** Gives this connection a worker; false if it no longer needs one. */
  serve(): boolean {
    if (this.dead || this.released) return false;
    this.hasWorker = true;
    if (this.gotRequest) this.process();
    return true;
  }

  private process(): void {
    const { containers, options } = this.load;
    if (containers === undefined) this.load.ends.work(options.requestNs, () => this.sendWindow(), this);
    else containers.run(this.load.container, options.requestNs, Connection.sendWindowFn, this);
  }

  private static readonly sendWindowFn = (c: Connection): void => c.sendWindow();

  /** Frees the server side: the worker, or the place in the backlog. */
  private finish(): void {
    if (!this.accepted || this.released) return;
    this.released = true;
    if (this.hasWorker) {
      this.hasWorker = false;
      this.load.server.release(this);
    } else {
      this.load.server.leave(this);
    }
  }

  private atServer(tag: number): void {
    const { segments } = this.load;
    if (tag === SYN) {
      // A SYN of a connection httperf has closed meets no one (the client would answer
      // the SYN-ACK with a reset): it takes no worker. (Before, admitting it counted a
      // worker busy that `serve` then refused, and the worker was never freed.)
      if (this.dead) return;
      if (!this.accepted) {
        if (!this.load.server.admit(this)) {
          // The guest's kernel drops the SYN; the client tries again later.
          this.load.stats.synDrops++;
          this.retrySyn();
          return;
        }
        this.accepted = true;
      }
      this.load.send(ACK_BYTES, this, SYN_ACK);
    } else if (tag === FIN) {
      this.load.send(ACK_BYTES, this, SRV_FIN);
    } else if (tag === GET) {
      if (this.gotRequest || this.released) return;
      this.gotRequest = true;
      if (this.hasWorker) this.process();
    } else if (tag === DATA_ACK) {
      // Each ACK covers two segments (or the last one); slow start opens the window.
      const newly = Math.min(2, this.sent - this.acked);
      this.acked += newly;
      if (this.window < this.ssthresh) {
        this.window = Math.min(MAX_WINDOW, this.window + newly);
      } else {
        this.avoidance += newly;
        if (this.avoidance >= this.window) {
          this.avoidance -= this.window;
          this.window = Math.min(MAX_WINDOW, this.window + 1);
        }
      }
      this.sendWindow();
      if (this.acked >= segments) this.finish();
    }
  }

  /** Sends segments while the window allows; nothing once the client has given up. */
  private sendWindow(): void {
    const { segments } = this.load;
    while (!this.dead && this.sent < segments && this.sent - this.acked < this.window) {
      const k = this.sent++;
      this.load.send(this.load.segmentBytes(k), this, DATA + k);
    }
  }

  /** Notes data segment `k` in at the client: false if it was in already. */
  private gotNew(k: number): boolean {
    if (k < this.inOrder) return false;
    if (k > this.inOrder) {
      this.outOfOrder ??= new Set();
      if (this.outOfOrder.has(k)) return false;
      this.outOfOrder.add(k);
      return true;
    }
    this.inOrder++;
    const later = this.outOfOrder;
    if (later !== undefined) while (later.delete(this.inOrder)) this.inOrder++;
    return true;
  }

  private atClient(tag: number): void {
    const { ends, segments, stats } = this.load;
    if (tag === SRV_FIN) {
      ends.fromClient(ACK_BYTES, this, LAST_ACK);
      return;
    }
    if (tag === SYN_ACK) {
      ends.fromClient(ACK_BYTES, this, HS_ACK);
      ends.fromClient(GET_BYTES, this, GET);
      return;
    }
    const k = tag - DATA;
    if (k < 0 || !this.gotNew(k)) return;
    this.received++;
    if (this.received % 2 === 0 || this.received === segments) ends.fromClient(ACK_BYTES, this, DATA_ACK);
    if (this.received === segments) {
      this.done = true;
      const now = ends.kernel.nowNs;
      stats.replies++;
      stats.latencyNs += now - this.startNs;
      stats.repliesIn.add(now);
      this.load.timeouts.release(this.timeoutTicket);
      this.timeoutTicket = -1;
      this.releaseSyn();
      ends.fromClient(ACK_BYTES, this, FIN);
    }
  }
}
