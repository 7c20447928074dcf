/**
 * Where log bytes go. A sink receives whole blocks and must consume them before
 * `write` returns (the writer reuses its buffer).
 *
 * `FileSink` (`log/fileSink.ts`, from `@isosim/core/node`) writes to `PATH.partial` and renames it to `PATH` only on `close`, so a
 * run that dies never overwrites a good log at `PATH` with a broken one; the
 * `.partial` file is still readable up to its last whole block.
 */

export interface LogSink {
  write(bytes: Uint8Array): void;
  close(): void;
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
