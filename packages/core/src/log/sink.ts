/**
 * Where log bytes go. A sink receives whole blocks and must consume them before
 * `write` returns (the writer reuses its buffer).
 *
 * `FileSink` writes to `PATH.partial` and renames it to `PATH` only on `close`, so a
 * run that dies never overwrites a good log at `PATH` with a broken one; the
 * `.partial` file is still readable up to its last whole block.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { IsosimError } from '../errors.ts';

export interface LogSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

export class FileSink implements LogSink {
  readonly path: string;
  readonly partialPath: string;
  private fd: number;
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

/** Keeps the bytes in memory: for tests and for comparing short runs. */
export class MemorySink implements LogSink {
  private chunks: Uint8Array[] = [];
  length = 0;

  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  close(): void {}

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** Drops the bytes; the writer still hashes them, so the digest is the same as on disk. */
export class NullSink implements LogSink {
  bytesWritten = 0;
  write(bytes: Uint8Array): void {
    this.bytesWritten += bytes.length;
  }
  close(): void {}
}
