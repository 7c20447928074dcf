/**
 * A log written on a worker thread (Node only). The simulation thread checks each
 * record as `LogWriter` does (`RecordCheck`: a bad record still throws at the call that
 * made it) and copies its eight numbers into a shared ring; a worker thread
 * (logWorker.ts) encodes, hashes and writes them with an ordinary `LogWriter`. The
 * bytes, and so the digest, are exactly those of a `LogWriter` on the main thread: only
 * where the work runs changes. On a Table 2 host the log is ~320 k records per
 * simulated second and its encoding, hashing and writing took ~12% of the run
 * (docs/performance.md).
 *
 * Flow control: the writer publishes its position every `PUBLISH_SLOTS` records (and
 * at each definition and at close); when the ring is full it waits for the worker.
 * Definitions (strings) go by message on a port, in order, each marked by a slot in
 * the ring. `close()` waits for the worker to write the end block and returns the same
 * summary `LogWriter.close()` would; the `FileSink`'s `.partial` file becomes the log
 * then, as with `LogWriter`.
 *
 * Failure: if writing fails on the worker (a full disk), the next publish or `close()`
 * throws an `IsosimError` naming the log; the `.partial` file is left as it is. If the
 * simulation thread dies first, the worker (unref'd) ends with the process and the
 * `.partial` file holds what was written: as with `LogWriter`, never the log at `PATH`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { IsosimError } from '../errors.ts';
import type { FileSink } from './fileSink.ts';
import type { LogHeader } from './format.ts';
import { type EventLog, type LogSummary, type LogWriterOptions, RecordCheck } from './logWriter.ts';
import {
  CTRL_READ,
  CTRL_STATE,
  CTRL_WORDS,
  CTRL_WORKER_ASLEEP,
  CTRL_WRITE,
  CTRL_WRITER_WAITING,
  type Definition,
  SLOT_CLOSE,
  SLOT_DEFINE,
  SLOT_WORDS,
  STATE_FAILED,
  STATE_RUNNING,
  STATE_STARTING,
  type WorkerData,
  type WorkerReport,
} from './threadShared.ts';

/** Records between two publications of the write position. */
const PUBLISH_SLOTS = 2048;
/** Each wait on the worker is at most this long, ms; then the writer checks it failed. */
const WAIT_MS = 200;

export interface ThreadedLogOptions extends LogWriterOptions {
  /** Slots in the ring, a power of two (default 2^16: 4 MiB, ~0.2 simulated s of Table 2). */
  readonly ringSlots?: number;
  /** How long to wait for the worker to start before giving up, ms (default 60 s). */
  readonly startTimeoutMs?: number;
}

/**
 * How the worker starts. Built (dist/), the worker is logWorker.js beside this file. In
 * the workspace's sources (the `isosim-source` condition: tests, `pnpm isosim`) it is
 * logWorker.ts, which a worker can import only through tsx's loader, registered in the
 * worker first (a worker does not inherit the main thread's loader hooks on Node 20).
 * Either way a worker that fails to load reports it, so the writer never waits forever.
 */
function bootstrap(): string {
  const source = import.meta.url.endsWith('.ts');
  const worker = new URL(source ? './logWorker.ts' : './logWorker.js', import.meta.url).href;
  const register = source ? `(await import(${JSON.stringify(tsxEsmApi())})).register();` : '';
  return `
const { workerData } = require('node:worker_threads');
(async () => {
  try {
    ${register}
    await import(${JSON.stringify(worker)});
  } catch (error) {
    const ctrl = new Int32Array(workerData.ctrl);
    workerData.port.postMessage({ ok: false, message: 'the log thread did not start: ' + (error && error.message || error) });
    Atomics.store(ctrl, ${CTRL_STATE}, ${STATE_FAILED});
    Atomics.notify(ctrl, ${CTRL_STATE});
  }
})();`;
}

/** The URL of tsx's ESM registration API, from the workspace's tsx. */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}

export class ThreadedLogWriter implements EventLog {
  records = 0;
  private readonly check = new RecordCheck();
  private readonly ring: Float64Array;
  private readonly ctrl: Int32Array;
  private readonly slots: number;
  private readonly mask: number;
  private readonly port: MessagePort;
  private readonly worker: Worker;
  /** Next slot to fill, and the last position published (wrapping 32-bit counts). */
  private write = 0;
  private published = 0;
  /** Slots known to be free: refreshed from the worker's read position when it runs out. */
  private free: number;
  /** Slots waiting before a sleeping worker is woken: half the ring, at most 32 Ki. */
  private readonly wake: number;
  private summary: LogSummary | undefined;
  private readonly startTimeoutMs: number;

  constructor(
    readonly sink: FileSink,
    header: LogHeader,
    options: ThreadedLogOptions = {},
  ) {
    const slots = options.ringSlots ?? 2 ** 16;
    if (!(slots >= 2 * PUBLISH_SLOTS && slots <= 2 ** 24 && (slots & (slots - 1)) === 0)) {
      throw new IsosimError(
        'ThreadedLogWriter',
        'ringSlots',
        `${slots} is not a power of two from ${2 * PUBLISH_SLOTS} to 2^24`,
        'give a power of two in that range',
      );
    }
    this.slots = slots;
    this.mask = slots - 1;
    this.free = slots;
    this.wake = Math.min(slots / 2, 2 ** 15);
    this.ring = new Float64Array(new SharedArrayBuffer(slots * SLOT_WORDS * 8));
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    const channel = new MessageChannel();
    this.port = channel.port1;
    const data: WorkerData & { port: MessagePort } = {
      ring: this.ring.buffer as SharedArrayBuffer,
      ctrl: this.ctrl.buffer as SharedArrayBuffer,
      fd: sink.fd,
      header,
      blockBytes: options.blockBytes,
      port: channel.port2,
    };
    this.worker = new Worker(bootstrap(), { eval: true, workerData: data, transferList: [channel.port2] });
    // Never what keeps the process alive: `close()` waits for it explicitly.
    this.worker.unref();
    // Not waited for here: the ring holds what comes meanwhile, and a worker that fails
    // to start says so (bootstrap) before anything waits on it.
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
  }

  append(
    type: number,
    timeNs: number,
    source: number,
    target: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
  ): void {
    this.check.record(type, timeNs, a0, a1, a2, a3);
    const o = this.slot();
    const r = this.ring;
    r[o] = type;
    r[o + 1] = timeNs;
    r[o + 2] = source;
    r[o + 3] = target;
    r[o + 4] = a0;
    r[o + 5] = a1;
    r[o + 6] = a2;
    r[o + 7] = a3;
    this.records++;
    if (((this.write - this.published) | 0) >= PUBLISH_SLOTS) this.publish();
  }

  defineType(id: number, name: string, fields: readonly string[]): void {
    this.check.defined(id, fields.length);
    this.define({ kind: 'type', id, name, fields: [...fields] });
  }

  defineName(id: number, name: string): void {
    this.define({ kind: 'name', id, name });
  }

  close(): LogSummary {
    if (this.summary !== undefined) return this.summary;
    this.ring[this.slot()] = SLOT_CLOSE;
    this.publish(true);
    const report = this.awaitReport();
    if (!report.ok) this.fail(report.message);
    this.sink.close();
    this.sink.bytesWritten = report.bytes;
    this.summary = { records: report.records, digest: report.digest, bytes: report.bytes };
    return this.summary;
  }

  private define(d: Definition): void {
    // The message first: the worker reads it when it reaches the slot.
    this.port.postMessage(d);
    this.ring[this.slot()] = SLOT_DEFINE;
    this.publish();
  }

  /** Claims the next slot (waiting for room if the ring is full); returns its offset. */
  private slot(): number {
    if (this.free === 0) this.makeRoom();
    const o = (this.write & this.mask) * SLOT_WORDS;
    this.write = (this.write + 1) | 0;
    this.free--;
    return o;
  }

  /**
   * Publishes the write position. Wakes a sleeping worker once it has `wake` slots to
   * take, or at once when `force`d (close, a full ring): a wake-up is a system call.
   */
  private publish(force = false): void {
    const c = this.ctrl;
    Atomics.store(c, CTRL_WRITE, this.write);
    this.published = this.write;
    if (
      Atomics.load(c, CTRL_WORKER_ASLEEP) === 1 &&
      (force || ((this.write - Atomics.load(c, CTRL_READ)) | 0) >= this.wake)
    )
      Atomics.notify(c, CTRL_WRITE);
    if (Atomics.load(c, CTRL_STATE) === STATE_FAILED) this.failed();
  }

  private makeRoom(): void {
    this.publish(true);
    const c = this.ctrl;
    for (;;) {
      const read = Atomics.load(c, CTRL_READ);
      this.free = this.slots - ((this.write - read) | 0);
      if (this.free > 0) return;
      if (Atomics.load(c, CTRL_STATE) === STATE_FAILED) this.failed();
      this.awaitStart();
      // Said before looking again, so the worker's release in between is never missed.
      Atomics.store(c, CTRL_WRITER_WAITING, 1);
      if (Atomics.load(c, CTRL_READ) === read) Atomics.wait(c, CTRL_READ, read, WAIT_MS);
      Atomics.store(c, CTRL_WRITER_WAITING, 0);
    }
  }

  /** Waits, if need be, for the worker to start (it is waited on only when needed). */
  private awaitStart(): void {
    const timeoutMs = this.startTimeoutMs;
    for (let waited = 0; Atomics.load(this.ctrl, CTRL_STATE) === STATE_STARTING; waited += WAIT_MS) {
      if (waited >= timeoutMs) {
        void this.worker.terminate();
        this.fail(`the log thread did not start within ${timeoutMs} ms`);
      }
      Atomics.wait(this.ctrl, CTRL_STATE, STATE_STARTING, WAIT_MS);
    }
    if (Atomics.load(this.ctrl, CTRL_STATE) === STATE_FAILED) this.failed();
  }

  /** The worker's one report, once it has stopped (done or failed). */
  private awaitReport(): WorkerReport {
    if (Atomics.load(this.ctrl, CTRL_STATE) === STATE_STARTING) this.awaitStart();
    while (Atomics.load(this.ctrl, CTRL_STATE) === STATE_RUNNING)
      Atomics.wait(this.ctrl, CTRL_STATE, STATE_RUNNING, WAIT_MS);
    const m = receiveMessageOnPort(this.port);
    if (m === undefined) return { ok: false, message: 'the log thread stopped without a report' };
    return m.message as WorkerReport;
  }

  /** Throws the worker's failure (it has stopped, or is stopping). */
  private failed(): never {
    const report = this.awaitReport();
    this.fail(report.ok ? 'the log thread stopped early' : report.message);
  }

  private fail(message: string): never {
    this.summary = { records: this.records, digest: '', bytes: 0 };
    throw new IsosimError(
      this.sink.path,
      'log',
      `writing the log failed: ${message}`,
      `check that the disk has room and the directory is writable (what was written is in ${this.sink.partialPath}); or write the log on the simulation thread (--no-log-thread)`,
    );
  }
}
