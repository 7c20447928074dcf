/**
 * A disk: the block layer's elevator in front of one device (a hard disk or an SSD), the
 * device's service times from its physics, and its interrupt line (diskMachine.ts).
 *
 * Design
 * - The driver (blkback in the driver domain) `submit`s requests. They wait in the
 *   elevator (elevator.ts: noop, deadline or CFQ) and are dispatched to the device, in
 *   the elevator's order, while fewer than `queueDepth` are at the device (`disk.dispatch`
 *   is logged then). The device serves them and posts each completion as a kernel event
 *   at `Priority.HARDWARE` (`disk.complete`, logged with the latency since submit); the
 *   driver takes completions in completion order with `takeCompleted`.
 * - Interrupts: a completion while the line is armed raises `onInterrupt` (the
 *   hypervisor traps it and notifies the driver domain) and masks the line; the driver
 *   re-enables it with `enableInterrupts` when done, which raises it again at once if
 *   completions arrived meanwhile. No coalescing.
 * - Hard disk (`HddModel`): one actuator, so one request in service at a time; the
 *   others at the device wait in dispatch order (NCQ's reordering in the drive is not
 *   modelled). Service = controller overhead + seek + rotational latency + transfer:
 *   - geometry: `cylinder = floor(sector / (sectorsPerTrack · heads))`, the same number
 *     of sectors on every track (zoned recording not modelled);
 *   - seek over d > 0 cylinders: `trackToTrack + (fullStroke − trackToTrack) ·
 *     sqrt(d / (cylinders − 1))`, 0 for d = 0: the square-root curve of short seeks in
 *     Ruemmler & Wilkes 1994 ("An introduction to disk drive modeling", §3.2), used
 *     over the whole stroke (a stated simplification: their long seeks are linear);
 *   - rotation from physics, no randomness: the platter's angle at time t is
 *     `(t mod rotation) / rotation` and sector s sits at angle
 *     `(s mod sectorsPerTrack) / sectorsPerTrack`; after the seek the head waits for it;
 *   - transfer at `mediaBytesPerSec`, head and track switches inside a request hidden
 *     (as track skew hides them in a real drive);
 *   - streaming (stated assumption, after the drive's read-ahead and write cache): a
 *     request that begins at the sector where the previous one ended, with the same
 *     operation, within `readAheadSectors` of media time after it, continues the media
 *     stream: its transfer follows the previous one's without a seek or a rotation, and
 *     the controller overhead overlaps the media. So back-to-back sequential requests run
 *     at the media rate and random ones pay a seek and, on average, half a rotation.
 *     Without it, the controller overhead alone would make every sequential request
 *     miss its sector and wait a whole rotation. Outside the stream, write caching is
 *     not modelled: a write completes when it is on the platter.
 * - SSD (`SsdModel`): `channels` independent channels; a request starts on the lowest
 *   free channel, or waits in dispatch order; service = the operation's latency + bytes
 *   at one channel's rate. A request is not striped over channels.
 *
 * Invariants: `stats.submitted = stats.completed + queued + atDevice`; `inFlight =
 * queued + atDevice + completedWaiting`; every time is an integer nanosecond from the
 * kernel's clock.
 */
import {
  type Delivery,
  IsosimError,
  type Kernel,
  NS_PER_MS,
  NS_PER_S,
  NS_PER_US,
  Priority,
} from '@isosim/core';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import { diskMachine } from './diskMachine.ts';
import { createElevator, ELEVATOR_KINDS, type Elevator, type ElevatorKind } from './elevator.ts';

export type { ElevatorKind } from './elevator.ts';

/** Bytes in a sector, the unit of every disk address and length. */
export const SECTOR_BYTES = 512;

/** A request's direction. */
export const DiskOp = { READ: 0, WRITE: 1 } as const;
/** A request's direction: `DiskOp.READ` (0) or `DiskOp.WRITE` (1). */
export type DiskOp = (typeof DiskOp)[keyof typeof DiskOp];

/** One block request, as the driver hands it to the block layer. */
export interface DiskRequest {
  /** Unique per disk, given by the caller. */
  readonly id: number;
  /** Domain id of the principal: CFQ queues by it, and it is logged. */
  readonly guest: number;
  readonly op: DiskOp;
  /** First 512-byte sector, an integer >= 0. */
  readonly sector: number;
  /** Length in sectors, an integer >= 1. */
  readonly sectors: number;
  /** The caller's object, carried through untouched. */
  readonly tag?: unknown;
}

/** A hard disk's mechanics (see the module doc for how each is used). */
export interface HddModel {
  readonly kind: 'hdd';
  /** Spindle speed, revolutions per minute (an integer). */
  readonly rpm: number;
  /** Capacity in sectors. */
  readonly sectors: number;
  readonly sectorsPerTrack: number;
  /** Recording surfaces: tracks per cylinder. */
  readonly heads: number;
  /** Seek to the next cylinder, ns. */
  readonly trackToTrackSeekNs: number;
  /** Seek across the whole stroke, ns. */
  readonly fullStrokeSeekNs: number;
  /** Sustained media transfer rate, bytes per second. */
  readonly mediaBytesPerSec: number;
  /** Controller overhead per request, ns. */
  readonly controllerNs: number;
  /**
   * How far the drive streams on after a request (read-ahead, write cache), in sectors
   * of media time: a request continuing it within this many sectors' time of its end
   * needs no positioning. Default `DEFAULT_READ_AHEAD_SECTORS`.
   */
  readonly readAheadSectors?: number;
}

/** A solid-state disk's timing. */
export interface SsdModel {
  readonly kind: 'ssd';
  /** Capacity in sectors. */
  readonly sectors: number;
  /** Latency of a read before its data moves, ns. */
  readonly readLatencyNs: number;
  /** Latency of a write, ns. */
  readonly writeLatencyNs: number;
  /** Independent flash channels: requests served at once. */
  readonly channels: number;
  /** One channel's transfer rate, bytes per second. */
  readonly channelBytesPerSec: number;
}

/** A device's model: a hard disk or an SSD. */
export type DiskModel = HddModel | SsdModel;

/**
 * How far a hard disk streams on after a request when its model does not say: 1 MiB.
 * Stated assumption: a read-ahead segment well inside the 8-16 MB cache of a 2006 SATA
 * disk (Barracuda 7200.10 data sheet), long enough (13 ms of media at 78 MB/s) to cover
 * the round trip to a guest and back between two sequential requests.
 */
export const DEFAULT_READ_AHEAD_SECTORS = 2048;

/**
 * A 7200 rpm SATA disk of 2006, the paper's time: Seagate Barracuda 7200.10, 250 GB
 * (ST3250620AS / ST3250820AS). From its data sheet: 7200 rpm (average latency 4.16 ms),
 * track-to-track seek 0.8 ms (read), average seek 11 ms (read), sustained media rate
 * 78 MB/s. Capacity: 250 GB by IDEMA LBA1-02 (97,696,368 + 1,953,504 · (250 − 50) =
 * 488,397,168 sectors). The rest is derived or assumed, as each field says.
 */
export const HDD_7200: HddModel = {
  kind: 'hdd',
  rpm: 7200,
  sectors: 488_397_168,
  // Derived: the sectors one rotation carries at the media rate, 78e6 B/s · 8.333 ms
  // / 512 B = 1269.5, rounded up (the model has one zone).
  sectorsPerTrack: 1270,
  // Stated assumption: two platters, both surfaces recorded.
  heads: 4,
  trackToTrackSeekNs: 800 * NS_PER_US,
  // Derived: not on the data sheet; chosen so that the square-root curve's mean over
  // uniformly random pairs of cylinders, trackToTrack + (fullStroke − trackToTrack) ·
  // 8/15, is the data sheet's 11 ms average seek: 0.8 + 19.2 · 8/15 = 11.04 ms.
  fullStrokeSeekNs: 20 * NS_PER_MS,
  mediaBytesPerSec: 78_000_000,
  // Stated assumption: command decode and status for a SATA request, 0.1 ms (not on
  // the data sheet; Ruemmler & Wilkes 1994 give controller overheads of a few tenths of
  // a ms to 2 ms for early-1990s drives, and a 2006 drive is faster).
  controllerNs: 100 * NS_PER_US,
};

/**
 * A SATA SSD: Intel X25-M 80 GB (SSDSA2MH080G1), from its 2008 data sheet: read latency
 * 85 us, write latency 115 us, 10 parallel NAND channels, sequential read up to
 * 250 MB/s. Capacity: 80 GB by IDEMA LBA1-02 (97,696,368 + 1,953,504 · 30 = 156,301,488
 * sectors). Per channel: the 250 MB/s shared by the 10 channels, 25 MB/s (derived; the
 * data sheet's 70 MB/s sequential writes are not modelled apart).
 */
export const SSD_SATA: SsdModel = {
  kind: 'ssd',
  sectors: 156_301_488,
  readLatencyNs: 85 * NS_PER_US,
  writeLatencyNs: 115 * NS_PER_US,
  channels: 10,
  channelBytesPerSec: 25_000_000,
};

/** How a `Disk` is built. */
export interface DiskOptions {
  /** Names its actor (the interrupt line) and, with `.io`, its kernel endpoint. */
  readonly name: string;
  readonly model: DiskModel;
  readonly elevator: ElevatorKind;
  /** Requests at the device at once (dispatched, not completed), >= 1. */
  readonly queueDepth: number;
}

/** A disk's counters since it was built. */
export interface DiskStats {
  /** Requests submitted. */
  readonly submitted: number;
  /** Requests the device completed (taken by the driver or not). */
  readonly completed: number;
  /** Bytes of completed reads. */
  readonly bytesRead: number;
  /** Bytes of completed writes. */
  readonly bytesWritten: number;
  /** Time the device served at least one request, ns, up to the last event. */
  readonly busyNs: number;
  /** Longest time from submit to completion, ns. */
  readonly maxWaitNs: number;
}

/** A request on its way through the disk: its fields (for the elevator) and its journey. */
interface Job extends DiskRequest {
  readonly req: DiskRequest;
  readonly submitNs: number;
  /** The actuator or channel serving it, -1 until it starts. */
  server: number;
}

/** Nanoseconds per minute: the unit rpm is counted in. */
const NS_PER_MIN = 60 * NS_PER_S;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Whole ns to move `bytes` at `bytesPerSec`, rounded up. */
function transferNs(bytes: number, bytesPerSec: number): number {
  return Math.ceil((bytes * NS_PER_S) / bytesPerSec);
}

/** The hard disk's mechanics: where the head is, and how long a request takes from there. */
class HddMechanics {
  readonly cylinders: number;
  private readonly readAheadNs: number;
  /** The platter's angle repeats every this many whole ns. */
  private readonly periodNs: number;
  /** The cylinder under the head. */
  private cylinder = 0;
  /** Where the media stream stands: the sector after the last one transferred, -1 for none. */
  private streamSector = -1;
  private streamOp: DiskOp = DiskOp.READ;
  /** When the last transfer left the media, ns. */
  private streamEndNs = 0;

  constructor(private readonly m: HddModel) {
    this.cylinders = Math.ceil(m.sectors / (m.sectorsPerTrack * m.heads));
    this.readAheadNs = this.transfer(m.readAheadSectors ?? DEFAULT_READ_AHEAD_SECTORS);
    this.periodNs = NS_PER_MIN / gcd(NS_PER_MIN, m.rpm);
  }

  /** When `req`, starting service at `startNs`, completes; moves the head there. */
  serve(req: DiskRequest, startNs: number): number {
    const m = this.m;
    const xfer = this.transfer(req.sectors);
    let doneNs: number;
    let mediaEndNs: number;
    if (
      req.sector === this.streamSector &&
      req.op === this.streamOp &&
      startNs <= this.streamEndNs + this.readAheadNs
    ) {
      mediaEndNs = this.streamEndNs + xfer;
      doneNs = Math.max(startNs + m.controllerNs, mediaEndNs);
    } else {
      const target = this.cylinderOf(req.sector);
      const onTrackNs = startNs + m.controllerNs + this.seekNs(Math.abs(target - this.cylinder));
      mediaEndNs = onTrackNs + this.rotationalWaitNs(onTrackNs, req.sector) + xfer;
      doneNs = mediaEndNs;
    }
    const end = req.sector + req.sectors;
    this.cylinder = this.cylinderOf(end - 1);
    this.streamSector = end;
    this.streamOp = req.op;
    this.streamEndNs = mediaEndNs;
    return doneNs;
  }

  cylinderOf(sector: number): number {
    return Math.floor(sector / (this.m.sectorsPerTrack * this.m.heads));
  }

  /** Ruemmler & Wilkes' square-root seek curve (see the module doc). */
  seekNs(distance: number): number {
    if (distance === 0) return 0;
    const m = this.m;
    const span = m.fullStrokeSeekNs - m.trackToTrackSeekNs;
    return Math.round(m.trackToTrackSeekNs + span * Math.sqrt(distance / (this.cylinders - 1)));
  }

  /**
   * Whole ns from `atNs` until `sector`'s start comes under the head. Exact integer
   * arithmetic in units of 1/(NS_PER_MIN · sectorsPerTrack) of a rotation: the platter
   * turns `rpm` rotations per NS_PER_MIN ns.
   */
  rotationalWaitNs(atNs: number, sector: number): number {
    const { rpm, sectorsPerTrack: spt } = this.m;
    const phase = ((atNs % this.periodNs) * rpm) % NS_PER_MIN; // 1/NS_PER_MIN rotations
    let diff = (sector % spt) * NS_PER_MIN - phase * spt;
    if (diff < 0) diff += NS_PER_MIN * spt;
    return Math.ceil(diff / (spt * rpm));
  }

  private transfer(sectors: number): number {
    return transferNs(sectors * SECTOR_BYTES, this.m.mediaBytesPerSec);
  }
}

/**
 * A disk (see the module doc): submit requests, hear its interrupt, take completions.
 *
 * @example
 * const disk = new Disk(kernel, host, { name: 'sda', model: HDD_7200, elevator: 'cfq', queueDepth: 1 });
 * disk.onInterrupt = () => {
 *   for (let r = disk.takeCompleted(); r !== undefined; r = disk.takeCompleted()) finish(r);
 *   disk.enableInterrupts();
 * };
 * disk.submit({ id: 1, guest: 1, op: DiskOp.READ, sector: 0, sectors: 8 });
 */
export class Disk {
  /** The interrupt line (diskMachine.ts), hosted as actor `options.name`. */
  readonly actor: HostedActor<typeof diskMachine>;
  /** The device's model (`options.model`). */
  readonly model: DiskModel;
  /** Interrupts raised so far. */
  interrupts = 0;
  /**
   * Called when the disk raises its physical interrupt (the hypervisor traps it and
   * raises the driver domain's event channel). Default no-op.
   */
  onInterrupt: () => void = () => {};
  private readonly counters = {
    submitted: 0,
    completed: 0,
    bytesRead: 0,
    bytesWritten: 0,
    busyNs: 0,
    maxWaitNs: 0,
  };
  /** The disk's counters (live: read them at any time). */
  readonly stats: DiskStats = this.counters;

  private readonly elevator: Elevator<Job>;
  private readonly hdd: HddMechanics | undefined;
  private readonly endpoint: number;
  private readonly dispatchType: number;
  private readonly completeType: number;
  /** Per actuator or channel, the job in service. */
  private readonly servers: (Job | undefined)[];
  /** Dispatched jobs waiting for a server, in dispatch order. */
  private readonly waiting: Job[] = [];
  private inService = 0;
  private busySinceNs = 0;
  /** The sector after the last request dispatched: the elevator's head position. */
  private headSector = 0;
  private readonly completed: (DiskRequest | undefined)[] = [];
  private completedHead = 0;
  private raising = false;

  constructor(
    private readonly kernel: Kernel,
    private readonly host: ActorHost,
    readonly options: DiskOptions,
  ) {
    validateOptions(options);
    const model = options.model;
    this.model = model;
    this.hdd = model.kind === 'hdd' ? new HddMechanics(model) : undefined;
    this.servers = new Array(model.kind === 'hdd' ? 1 : model.channels).fill(undefined);
    this.elevator = createElevator<Job>(options.elevator, () => kernel.nowNs);
    this.dispatchType = kernel.type('disk.dispatch', ['guest', 'op', 'sector', 'sectors']);
    this.completeType = kernel.type('disk.complete', ['guest', 'op', 'sectors', 'latencyNs']);
    this.endpoint = kernel.endpoint(`${options.name}.io`, (ev) => this.complete(ev));
    const machine = diskMachine.provide({
      actions: {
        raise: () => {
          this.interrupts++;
          this.raising = true;
          try {
            this.onInterrupt();
          } finally {
            this.raising = false;
          }
        },
      },
      guards: { completedWaiting: () => this.completedWaiting > 0 },
    });
    this.actor = host.spawn(options.name, machine);
  }

  /** Requests submitted and not yet taken by `takeCompleted`. */
  get inFlight(): number {
    return this.counters.submitted - (this.counters.completed - this.completedWaiting);
  }

  /** Requests in the elevator, not yet dispatched. */
  get queued(): number {
    return this.elevator.length;
  }

  /** Requests dispatched to the device and not yet completed. */
  get atDevice(): number {
    return this.inService + this.waiting.length;
  }

  /** Requests completed and not yet taken by `takeCompleted`. */
  get completedWaiting(): number {
    return this.completed.length - this.completedHead;
  }

  /**
   * The driver (blkback in the driver domain) hands a request to the block layer: into
   * the elevator, dispatched to the device while fewer than `queueDepth` are there.
   * Throws an `IsosimError` for a request outside the disk or of a bad shape.
   */
  submit(req: DiskRequest): void {
    this.validate(req);
    this.counters.submitted++;
    const now = this.kernel.nowNs;
    const { id, guest, op, sector, sectors } = req;
    this.elevator.add({ id, guest, op, sector, sectors, req, submitNs: now, server: -1 }, now);
    this.pump();
  }

  /** The driver takes the next completed request (undefined when none), in completion order. */
  takeCompleted(): DiskRequest | undefined {
    if (this.completedHead >= this.completed.length) return undefined;
    const req = this.completed[this.completedHead];
    this.completed[this.completedHead++] = undefined;
    if (this.completedHead > 1024 && this.completedHead * 2 > this.completed.length) {
      this.completed.splice(0, this.completedHead);
      this.completedHead = 0;
    }
    return req;
  }

  /**
   * The driver, done handling completions, re-enables the interrupt; if completions are
   * waiting, the interrupt is raised again at once. May be called from `onInterrupt`.
   */
  enableInterrupts(): void {
    // Inside `raise` the line is still `armed` until the transition ends; the event
    // waits in the actor's mailbox and finds it `masked`.
    if (this.raising || this.actor.snapshot().value === 'masked')
      this.host.deliver(this.actor, { type: 'disk.enable' }, this.endpoint);
  }

  /** Dispatches from the elevator while the device has room. */
  private pump(): void {
    const depth = this.options.queueDepth;
    while (this.atDevice < depth) {
      const job = this.elevator.next(this.headSector, this.kernel.nowNs);
      if (job === undefined) return;
      const req = job.req;
      this.headSector = req.sector + req.sectors;
      this.kernel.record(
        this.dispatchType,
        this.endpoint,
        this.endpoint,
        req.guest,
        req.op,
        req.sector,
        req.sectors,
      );
      this.toDevice(job);
    }
  }

  private toDevice(job: Job): void {
    const free = this.servers.indexOf(undefined);
    if (free < 0) this.waiting.push(job);
    else this.start(job, free);
  }

  private start(job: Job, server: number): void {
    const now = this.kernel.nowNs;
    this.accountBusy(now);
    this.inService++;
    this.servers[server] = job;
    job.server = server;
    const req = job.req;
    const model = this.options.model;
    const doneNs =
      this.hdd !== undefined
        ? this.hdd.serve(req, now)
        : now +
          (req.op === DiskOp.READ ? (model as SsdModel).readLatencyNs : (model as SsdModel).writeLatencyNs) +
          transferNs(req.sectors * SECTOR_BYTES, (model as SsdModel).channelBytesPerSec);
    this.kernel.post(
      doneNs,
      Priority.HARDWARE,
      this.endpoint,
      this.completeType,
      this.endpoint,
      req.guest,
      req.op,
      req.sectors,
      doneNs - job.submitNs,
      job,
    );
  }

  /** A completion event: free the server, queue the request for the driver, raise. */
  private complete(ev: Delivery): void {
    const job = ev.ref as Job;
    const now = ev.timeNs;
    this.accountBusy(now);
    this.inService--;
    this.servers[job.server] = undefined;
    const req = job.req;
    const c = this.counters;
    c.completed++;
    if (req.op === DiskOp.READ) c.bytesRead += req.sectors * SECTOR_BYTES;
    else c.bytesWritten += req.sectors * SECTOR_BYTES;
    if (ev.a3 > c.maxWaitNs) c.maxWaitNs = ev.a3;
    this.completed.push(req);
    const next = this.waiting.shift();
    if (next !== undefined) this.start(next, job.server);
    this.pump();
    if (this.actor.snapshot().value === 'armed')
      this.host.deliver(this.actor, { type: 'disk.done' }, this.endpoint);
  }

  /** Adds the time since the last change to `busyNs` if the device was serving. */
  private accountBusy(now: number): void {
    if (this.inService > 0) this.counters.busyNs += now - this.busySinceNs;
    this.busySinceNs = now;
  }

  private validate(req: DiskRequest): void {
    const bad = (field: string, problem: string, fix: string): never => {
      throw new IsosimError(`Disk ${this.options.name}: submit`, field, problem, fix);
    };
    if (req.op !== DiskOp.READ && req.op !== DiskOp.WRITE)
      bad('op', `${req.op} is not an operation`, 'give 0 or 1');
    if (!Number.isSafeInteger(req.sector) || req.sector < 0)
      bad('sector', `${req.sector} is not a sector`, 'give an integer >= 0');
    if (!Number.isSafeInteger(req.sectors) || req.sectors < 1)
      bad('sectors', `${req.sectors} is not a length`, 'give an integer >= 1');
    if (req.sector + req.sectors > this.options.model.sectors)
      bad(
        'sector',
        `${req.sector} + ${req.sectors} sectors runs past the disk's ${this.options.model.sectors}`,
        'stay inside the disk',
      );
  }
}

function validateOptions(o: DiskOptions): void {
  const bad = (field: string, value: unknown, fix: string): never => {
    throw new IsosimError('Disk', field, `${String(value)} is not accepted`, fix);
  };
  if (!ELEVATOR_KINDS.includes(o.elevator))
    bad('elevator', o.elevator, `give one of ${ELEVATOR_KINDS.join(', ')}`);
  if (!Number.isSafeInteger(o.queueDepth) || o.queueDepth < 1)
    bad('queueDepth', o.queueDepth, 'give an integer >= 1');
  const m = o.model;
  const positive = (field: string, v: number, integer: boolean): void => {
    if (!(v > 0) || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v)))
      bad(`model.${field}`, v, integer ? 'give an integer >= 1' : 'give a number > 0');
  };
  const ns = (field: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v < 0) bad(`model.${field}`, v, 'give whole nanoseconds >= 0');
  };
  positive('sectors', m.sectors, true);
  if (m.kind === 'hdd') {
    positive('rpm', m.rpm, true);
    positive('sectorsPerTrack', m.sectorsPerTrack, true);
    positive('heads', m.heads, true);
    positive('mediaBytesPerSec', m.mediaBytesPerSec, false);
    ns('trackToTrackSeekNs', m.trackToTrackSeekNs);
    ns('fullStrokeSeekNs', m.fullStrokeSeekNs);
    ns('controllerNs', m.controllerNs);
    if (m.fullStrokeSeekNs < m.trackToTrackSeekNs)
      bad('model.fullStrokeSeekNs', m.fullStrokeSeekNs, 'give at least trackToTrackSeekNs');
    if (
      m.readAheadSectors !== undefined &&
      (!Number.isSafeInteger(m.readAheadSectors) || m.readAheadSectors < 0)
    )
      bad('model.readAheadSectors', m.readAheadSectors, 'give an integer >= 0');
    // The rotational arithmetic stays exact below 2^53 (HddMechanics.rotationalWaitNs).
    if (NS_PER_MIN * m.sectorsPerTrack * 2 > Number.MAX_SAFE_INTEGER || m.rpm > 100_000)
      bad(
        'model.sectorsPerTrack',
        m.sectorsPerTrack,
        'give fewer than 75,000 sectors per track and rpm <= 100,000',
      );
  } else if (m.kind === 'ssd') {
    positive('channels', m.channels, true);
    positive('channelBytesPerSec', m.channelBytesPerSec, false);
    ns('readLatencyNs', m.readLatencyNs);
    ns('writeLatencyNs', m.writeLatencyNs);
  } else bad('model.kind', (m as { kind: unknown }).kind, "give 'hdd' or 'ssd'");
}
