/**
 * The worker thread of `ThreadedLogWriter` (threadedLog.ts): takes records from the
 * shared ring and writes them with an ordinary `LogWriter`, so the bytes are exactly
 * those a `LogWriter` on the main thread would write. Runs on import; reports once,
 * when the log is closed or writing fails, on the port it was given.
 */
import { writeSync } from 'node:fs';
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { LogHeader } from './format.ts';
import { LogWriter } from './logWriter.ts';
import {
  CTRL_READ,
  CTRL_STATE,
  CTRL_WORKER_ASLEEP,
  CTRL_WRITE,
  CTRL_WRITER_WAITING,
  type Definition,
  SLOT_DEFINE,
  SLOT_WORDS,
  STATE_DONE,
  STATE_FAILED,
  STATE_RUNNING,
  type WorkerData,
  type WorkerReport,
} from './threadShared.ts';

/** Slots taken before the read position is published, so a waiting writer goes on soon. */
const RELEASE_SLOTS = 4096;

const data = workerData as WorkerData & { readonly port: MessagePort };
const ctrl = new Int32Array(data.ctrl);
const ring = new Float64Array(data.ring);
const mask = ring.length / SLOT_WORDS - 1;

function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(data.fd, bytes, off, bytes.length - off);
}

function define(writer: LogWriter): void {
  const m = receiveMessageOnPort(data.port);
  if (m === undefined) throw new Error('a definition marked in the ring never arrived');
  const d = m.message as Definition;
  if (d.kind === 'type') writer.defineType(d.id, d.name, d.fields);
  else writer.defineName(d.id, d.name);
}

/** Publishes the read position; wakes the writer only if it waits for room. */
function release(read: number): void {
  Atomics.store(ctrl, CTRL_READ, read);
  if (Atomics.load(ctrl, CTRL_WRITER_WAITING) === 1) Atomics.notify(ctrl, CTRL_READ);
}

/**
 * Sleeps until the writer wakes it (threadShared.ts): says so first, then looks once
 * more, so a publication between the two is never missed.
 */
function sleep(read: number): void {
  release(read);
  Atomics.store(ctrl, CTRL_WORKER_ASLEEP, 1);
  if (Atomics.load(ctrl, CTRL_WRITE) === read) Atomics.wait(ctrl, CTRL_WRITE, read);
  Atomics.store(ctrl, CTRL_WORKER_ASLEEP, 0);
}

/** Writes everything up to the close mark; returns the summary. */
function drain(): WorkerReport {
  // The main thread closes the file (and renames it) once this reports.
  const writer = new LogWriter({ write: writeAll, close: () => undefined }, data.header as LogHeader, {
    blockBytes: data.blockBytes,
  });
  Atomics.store(ctrl, CTRL_STATE, STATE_RUNNING);
  Atomics.notify(ctrl, CTRL_STATE);
  let read = 0;
  for (;;) {
    const write = Atomics.load(ctrl, CTRL_WRITE);
    if (write === read) {
      sleep(read);
      continue;
    }
    let taken = 0;
    for (; read !== write; read = (read + 1) | 0) {
      const o = (read & mask) * SLOT_WORDS;
      const type = ring[o];
      if (type > 0) {
        writer.append(
          type,
          ring[o + 1],
          ring[o + 2],
          ring[o + 3],
          ring[o + 4],
          ring[o + 5],
          ring[o + 6],
          ring[o + 7],
        );
      } else if (type === SLOT_DEFINE) {
        define(writer);
      } else {
        const s = writer.close();
        return { ok: true, records: s.records, digest: s.digest, bytes: s.bytes };
      }
      if (++taken === RELEASE_SLOTS) {
        release((read + 1) | 0);
        taken = 0;
      }
    }
    release(read);
  }
}

let report: WorkerReport;
try {
  report = drain();
} catch (error) {
  report = { ok: false, message: error instanceof Error ? error.message : String(error) };
}
data.port.postMessage(report);
Atomics.store(ctrl, CTRL_STATE, report.ok ? STATE_DONE : STATE_FAILED);
Atomics.notify(ctrl, CTRL_STATE);
data.port.close();
