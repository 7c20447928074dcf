/**
 * JSON Lines view of a binary log: the header first, then one object per event record
 * `{seq, timeNs, source, target, type, payload}` with names resolved and payload
 * fields named as the type defined them (a field whose name ends in `Name` holds an
 * interned string and is shown as that string), then a closing `{end: …}` line with the
 * record count, the digest and whether the log was complete. Streams with flat memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { IsosimError } from '../errors.ts';
import { scanLog } from './fileSource.ts';
import type { ScanResult } from './logReader.ts';
import { recordToJson } from './toJson.ts';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes every byte, however the fd takes them: a pipe to a slow reader (`| tail`) may
 * be non-blocking, so a write can be partial or fail with EAGAIN until the reader
 * catches up; wait a millisecond and go on.
 */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/**
 * Writes `from` (a log path or bytes) as JSON Lines to `outPath` (`-` for stdout). The
 * output is created only once the log's header is verified: a log whose header is
 * damaged throws `LogDamageError` and writes nothing. Later damage ends the output with
 * the sound records and an end line that says where.
 */
export function exportJsonl(from: string | Uint8Array, outPath: string): ScanResult {
  let fd: number | undefined;
  const open = (): number => {
    try {
      return outPath === '-' ? 1 : openSync(outPath, 'w');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new IsosimError(outPath, 'output', `cannot create (${code})`, 'choose a writable path');
    }
  };
  let pending: string[] = [];
  const flush = (): void => {
    fd ??= open();
    if (pending.length > 0) writeAll(fd, Buffer.from(`${pending.join('\n')}\n`));
    pending = [];
  };
  try {
    const result = scanLog(from, {
      onHeader(header) {
        fd = open();
        pending.push(JSON.stringify({ header }));
      },
      onRecord(rec, dict) {
        pending.push(JSON.stringify(recordToJson(rec, dict)));
        if (pending.length >= 4096) flush();
        return undefined;
      },
    });
    const { records, digest, complete, damage } = result;
    pending.push(JSON.stringify({ end: { records, digest, complete, ...(damage ? { damage } : {}) } }));
    flush();
    return result;
  } finally {
    if (fd !== undefined && fd !== 1) closeSync(fd);
  }
}
