/** Reading a log file (Node only): a byte source over a file descriptor, and `scanLog`. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { IsosimError } from '../errors.ts';
import { LogCursor } from './logCursor.ts';
import { type ByteSource, type ScanOptions, type ScanResult, scanBytes, scanSource } from './logReader.ts';

function fileSource(path: string): ByteSource {
  let fd: number;
  let position = 0;
  const fail = (what: string, err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new IsosimError(
      path,
      'log',
      `cannot ${what} (${code})`,
      'give the path of a log written by isosim',
    );
  };
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      fail('read', { code: 'not a file' });
    }
  } catch (err) {
    if (err instanceof IsosimError) throw err;
    return fail('open', err);
  }
  return {
    read(into, length) {
      let got = 0;
      while (got < length) {
        let n: number;
        try {
          n = readSync(fd, into, got, length - got, position);
        } catch (err) {
          return fail('read', err);
        }
        if (n === 0) break;
        got += n;
        position += n;
      }
      return got;
    },
    seek(offset) {
      position = offset;
    },
    close: () => closeSync(fd),
  };
}

/** Reads a log from a path or from bytes. Throws only if the file header is unusable. */
export function scanLog(from: string | Uint8Array, options: ScanOptions = {}): ScanResult {
  return typeof from === 'string' ? scanSource(fileSource(from), from, options) : scanBytes(from, options);
}

/**
 * A cursor over the log at `path`, for reading it by pulling (two logs side by side);
 * throws as `scanLog` does if the file is not a log or its header is damaged.
 */
export function openLogCursor(path: string): LogCursor {
  return new LogCursor(fileSource(path), path);
}
