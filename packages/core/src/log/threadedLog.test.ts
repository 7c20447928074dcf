import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IsosimError } from '../errors.ts';
import { Prng } from '../prng.ts';
import { FileSink } from './fileSink.ts';
import { logHeader } from './format.ts';
import { type EventLog, LogWriter } from './logWriter.ts';
import { ThreadedLogWriter } from './threadedLog.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-threaded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A log's worth of writes: types and names defined along the way (as the registry does
 * when a new actor appears mid-run), records of every field count with payloads of
 * both signs and large magnitudes, times that repeat and jump.
 */
function write(log: EventLog, records: number, seed: number): void {
  const rng = Prng.fromSeed(seed).fork('threaded');
  log.defineType(1, 'a.zero', []);
  log.defineType(2, 'b.four', ['w', 'x', 'y', 'z']);
  log.defineName(1, 'kernel');
  let t = 0;
  let types = 2;
  for (let i = 0; i < records; i++) {
    if (i % 5_000 === 4_999) {
      types++;
      log.defineType(types, `t.${types}`, ['n']);
      log.defineName(types, `actor-${types}`);
    }
    t += rng.int(0, 3) === 0 ? 0 : rng.int(1, 2 ** 20);
    const type = rng.int(1, types);
    const big = rng.int(0, 2 ** 30) * 2 ** 20;
    log.append(type, t, 1, rng.int(1, types), -big, rng.int(-5, 5), big, i);
  }
}

function both(records: number, ringSlots: number): { a: Buffer; b: Buffer; sa: unknown; sb: unknown } {
  const header = logHeader('threaded', 7);
  const pa = join(dir, `plain-${records}-${ringSlots}.isolog`);
  const pb = join(dir, `threaded-${records}-${ringSlots}.isolog`);
  const plain = new LogWriter(new FileSink(pa), header);
  write(plain, records, 7);
  const threaded = new ThreadedLogWriter(new FileSink(pb), header, { ringSlots });
  write(threaded, records, 7);
  expect(threaded.records).toBe(plain.records);
  return { sa: plain.close(), sb: threaded.close(), a: readFileSync(pa), b: readFileSync(pb) };
}

describe('ThreadedLogWriter', () => {
  it('writes the same bytes and summary as LogWriter, the ring wrapping many times', () => {
    // 4,096 slots for 60,000 records: the writer waits for the worker again and again.
    const r = both(60_000, 4096);
    expect(r.b.equals(r.a)).toBe(true);
    expect(r.sb).toEqual(r.sa);
  });

  it('writes an empty log like LogWriter', () => {
    const r = both(0, 4096);
    expect(r.b.equals(r.a)).toBe(true);
    expect(r.sb).toEqual(r.sa);
  });

  it('throws a bad record at the call that made it, as LogWriter does', () => {
    const header = logHeader('bad', 1);
    const logs: EventLog[] = [
      new LogWriter(new FileSink(join(dir, 'bad-plain.isolog')), header),
      new ThreadedLogWriter(new FileSink(join(dir, 'bad-threaded.isolog')), header),
    ];
    const messages = logs.map((log) => {
      log.defineType(1, 'x', ['n']);
      log.append(1, 10, 0, 0, 1, 0, 0, 0);
      const m = [
        () => log.append(1, 5, 0, 0, 1, 0, 0, 0),
        () => log.append(9, 20, 0, 0, 0, 0, 0, 0),
        () => log.append(1, 20, 0, 0, 0.5, 0, 0, 0),
      ].map((f) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      });
      log.close();
      return m;
    });
    expect(messages[1]).toEqual(messages[0]);
    expect(messages[0]).not.toContain('no error');
  });

  it('reports a failed write as an IsosimError naming the log, keeping the partial file', () => {
    const path = join(dir, 'fails.isolog');
    const sink = new FileSink(path);
    // The worker's first write fails: its file descriptor is open for reading only.
    // (Closing the fd instead would let the test process reuse its number, e.g. for
    // vitest's own channel, and the log thread would write into that.)
    const writable = sink.fd;
    const readOnly = openSync(sink.partialPath, 'r');
    (sink as { fd: number }).fd = readOnly;
    closeSync(writable);
    const log = new ThreadedLogWriter(sink, logHeader('fails', 1), { ringSlots: 4096 });
    let error: unknown;
    try {
      write(log, 50_000, 3);
      log.close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IsosimError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('writing the log failed');
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(true);
  });

  it('refuses a ring that is not a power of two', () => {
    const sink = new FileSink(join(dir, 'ring.isolog'));
    expect(() => new ThreadedLogWriter(sink, logHeader('ring', 1), { ringSlots: 3000 })).toThrow(
      /power of two/,
    );
    closeSync(sink.fd);
  });
});
