/**
 * What `ThreadedLogWriter` (threadedLog.ts) and its worker (logWorker.ts) agree on: the
 * layout of the shared ring and of its control words.
 *
 * The ring is a `Float64Array` over a SharedArrayBuffer, `SLOT_WORDS` numbers a slot:
 * `[type, timeNs, source, target, a0, a1, a2, a3]`. A slot whose type is `SLOT_DEFINE`
 * marks where a definition goes: the definition itself is the next message on the
 * shared MessagePort (strings do not fit in a Float64Array). `SLOT_CLOSE` ends the log.
 *
 * Positions are slot counts since the start, kept as wrapping 32-bit integers: a
 * position's slot is `pos & mask` and the slots in use are `(write - read) | 0`, both
 * right across the wrap as long as the ring holds fewer than 2^31 slots.
 */

export const SLOT_WORDS = 8;
/** A definition: the next message on the port holds it. */
export const SLOT_DEFINE = 0;
/** The end of the log: the worker flushes, writes the end block and reports. */
export const SLOT_CLOSE = -1;

/**
 * Control words (an Int32Array over its own SharedArrayBuffer). A wake-up costs a
 * futex call, tens of microseconds on a busy machine (14% of a Table 2 run when the
 * writer woke the worker at every publication), so each side says when it sleeps and
 * the other wakes it only then: the worker when it has `wake` slots to take (or at
 * close, or when the ring is full), the writer when room is made.
 */
export const CTRL_WRITE = 0;
export const CTRL_READ = 1;
export const CTRL_STATE = 2;
/** 1 while the worker waits for records (on CTRL_WRITE). */
export const CTRL_WORKER_ASLEEP = 3;
/** 1 while the writer waits for room (on CTRL_READ). */
export const CTRL_WRITER_WAITING = 4;
export const CTRL_WORDS = 8;

export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_DONE = 2;
export const STATE_FAILED = 3;

export type Definition =
  | { readonly kind: 'type'; readonly id: number; readonly name: string; readonly fields: readonly string[] }
  | { readonly kind: 'name'; readonly id: number; readonly name: string };

/** What the worker posts once, when it stops. */
export type WorkerReport =
  | { readonly ok: true; readonly records: number; readonly digest: string; readonly bytes: number }
  | { readonly ok: false; readonly message: string };

export interface WorkerData {
  readonly ring: SharedArrayBuffer;
  readonly ctrl: SharedArrayBuffer;
  /** Open for writing by the main thread's FileSink; the worker only writes to it. */
  readonly fd: number;
  /** The log header, as given to `LogWriter`. */
  readonly header: unknown;
  readonly blockBytes: number | undefined;
}
