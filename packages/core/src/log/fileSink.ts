/**
 * A log on disk (Node only): `FileSink` writes to `PATH.partial` and renames it to
 * `PATH` only on `close`, so a run that dies never overwrites a good log at `PATH` with
 * a broken one; the `.partial` file is still readable up to its last whole block.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { IsosimError } from '../errors.ts';
import type { LogSink } from './sink.ts';

export class FileSink implements LogSink {
  readonly path: string;
  readonly partialPath: string;
  /** The open `.partial` file (a log thread writes through it: log/threadedLog.ts). */
  readonly fd: number;
  bytesWritten = 0;

  constructor(path: string) {
    this.path = path;
    this.partialPath = `${path}.partial`;
    try {
      this.fd = openSync(this.partialPath, 'w');
    } catch (err) {
      throw new IsosimError(
        path,
        'log path',
        `cannot create ${this.partialPath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        'choose a writable directory',
      );
    }
  }

  write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.bytesWritten += bytes.length;
  }

  close(): void {
    closeSync(this.fd);
    renameSync(this.partialPath, this.path);
  }
}
