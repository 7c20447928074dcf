/**
 * Where the CLI writes, done so that nothing already written is lost, corrupted or
 * half-written (docs/reliability.md):
 *
 * - An output directory (`--out DIR`) is locked while a command writes to it: the lock
 *   is DIR/.isosim.lock, created exclusively and holding the writer's pid. A second
 *   command into the same directory is refused, naming the other pid; a lock whose
 *   process is gone is taken over, with a note.
 * - Everything a command writes goes into a staging directory inside DIR and is moved
 *   into place only when the command has finished; then the files of an earlier run
 *   that this one did not write (a plot, a replay index of the old log) are removed. A
 *   command that fails or is interrupted leaves DIR as it was.
 * - An output file (`export --perfetto OUT`, `log export --jsonl OUT`) is written under
 *   a temporary name beside OUT and renamed into place on success, and may not be the
 *   log being read (by any name: hard and symbolic links too).
 * - Ctrl-C (SIGINT) or SIGTERM during a long run stops it between simulated seconds;
 *   the command then says what it kept and exits 130 (143 for SIGTERM).
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { IsosimError } from '@isosim/core';

export const LOCK_NAME = '.isosim.lock';
const STAGE_PREFIX = '.isosim-staging-';

/** What a system error code means to a user, and what to do about it. */
const CODES: Readonly<Record<string, readonly [what: string, fix: string]>> = {
  ENOENT: ['does not exist', 'check the path'],
  EACCES: ['permission denied', 'choose a path you may use, or change its permissions'],
  EPERM: ['operation not permitted', 'choose another path'],
  EISDIR: ['is a directory', 'give a file path'],
  ENOTDIR: ['a part of the path is not a directory', 'check the path'],
  EROFS: ['is on a read-only file system', 'choose a writable place'],
  ENOSPC: ['no space left on the device', 'free some space, or write somewhere else'],
  EDQUOT: ['disk quota exceeded', 'free some space, or write somewhere else'],
  EEXIST: ['already exists', 'remove it, or choose another path'],
  ELOOP: ['has too many symbolic links (a loop?)', 'check the links in the path'],
  ENAMETOOLONG: ['the name is too long', 'give a shorter path'],
  EMFILE: ['too many open files', 'raise the limit (ulimit -n) or close other programs'],
};

/**
 * A Node system error (ENOENT, EACCES, …) as an `IsosimError` naming `where` and the
 * path; undefined for anything else. main.ts uses it as a last resort: specific checks
 * up front give better advice.
 */
export function systemError(where: string, err: unknown): IsosimError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code;
  if (code === undefined || CODES[code] === undefined) return undefined;
  const [what, fix] = CODES[code];
  const path = (e as { dest?: string }).dest ?? e?.path;
  return new IsosimError(where, path ?? 'file system', `${what} (${code})`, fix);
}

/** An error from the file system at `path` as one clear line. */
function fsError(where: string, field: string, doing: string, err: unknown, fix?: string): IsosimError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const [what, codeFix] = CODES[code] ?? [(err as Error).message, 'check the path'];
  return new IsosimError(where, field, `cannot ${doing}: ${what} (${code})`, fix ?? codeFix);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The `--out` directory of `command`: `fallback` when not given; refuses an empty one
 * (it would write into the current directory).
 */
export function outDirOption(command: string, raw: string | boolean | undefined, fallback: string): string {
  if (raw === undefined) return fallback;
  const dir = String(raw);
  if (dir.trim() === '') {
    throw new IsosimError(`isosim ${command}`, '--out', 'is empty', 'give a directory, e.g. --out out/mine');
  }
  return dir;
}

/**
 * Creates `dir` and its missing parents, one at a time (Node's recursive mkdir loops
 * forever under /proc), recording the ones it created in `created`.
 */
function ensureDir(where: string, field: string, dir: string, created: string[]): void {
  const abs = resolve(dir);
  if (/^\/(proc|sys)(\/|$)/.test(abs)) {
    throw new IsosimError(
      where,
      field,
      `${dir} is on ${abs.split('/')[1] === 'proc' ? '/proc' : '/sys'}, which is not a place for files`,
      'give a directory on a disk',
    );
  }
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    const st = statOrUndefined(p);
    if (st !== undefined) {
      if (!st.isDirectory()) {
        const what = p === abs ? `${dir} is a file, not a directory` : `${p} is a file, not a directory`;
        throw new IsosimError(where, field, what, 'give a directory (or move the file away)');
      }
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
      created.push(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statOrUndefined(m)?.isDirectory()) continue;
      throw fsError(where, field, `create the directory ${m}`, err, 'give a directory you can write to');
    }
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Holder {
  readonly text: string;
  readonly pid?: number;
  readonly host?: string;
}

function readHolder(lock: string): Holder | undefined {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch {
    return undefined;
  }
  const [pid, host] = text.split(/\s+/);
  const n = /^\d+$/.test(pid ?? '') ? Number(pid) : undefined;
  return { text, pid: n, host: host === '' ? undefined : host };
}

/**
 * Takes DIR/.isosim.lock: created exclusively, holding our pid and host. A lock held by
 * a live process is refused; one left by a process that is gone is taken over. Returns a
 * note for the user when it took one over.
 */
function acquireLock(where: string, field: string, dir: string): string | undefined {
  const lock = join(dir, LOCK_NAME);
  const body = `${process.pid} ${hostname()} isosim ${process.argv.slice(2).join(' ')}\n`;
  let note: string | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      try {
        writeSync(fd, body);
      } finally {
        closeSync(fd);
      }
      return note;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw fsError(where, field, `write in ${dir}`, err, 'give a directory you can write to');
      }
    }
    const holder = readHolder(lock);
    if (holder === undefined) continue; // released meanwhile
    if (holder.text === '' && attempt < 3) {
      sleepMs(50); // another process between creating the lock and writing its pid
      continue;
    }
    const here = holder.host === undefined || holder.host === hostname();
    if (holder.pid !== undefined && holder.pid !== process.pid && (!here || alive(holder.pid))) {
      throw new IsosimError(
        where,
        `${field} ${dir}`,
        `another isosim (pid ${holder.pid}${here ? '' : ` on ${holder.host}`}) is writing to this directory`,
        `wait for it to finish, or give another ${field} (if no isosim is running there, remove ${lock})`,
      );
    }
    // Stale: move it aside, and check that what we moved is what we judged stale (not
    // a fresh lock another process took meanwhile).
    const aside = `${lock}.${process.pid}.stale`;
    try {
      renameSync(lock, aside);
    } catch {
      continue;
    }
    if (readHolder(aside)?.text !== holder.text) {
      try {
        renameSync(aside, lock);
      } catch {
        // Someone holds a newer lock: the next attempt finds it.
      }
      continue;
    }
    rmSync(aside, { force: true });
    note =
      holder.pid === undefined
        ? `note: ${lock} held no pid; taking it over`
        : `note: ${lock} was left by pid ${holder.pid}, which is no longer running; taking it over`;
  }
  throw new IsosimError(
    where,
    `${field} ${dir}`,
    'cannot take the lock: other processes keep taking it',
    `remove ${lock} if no isosim is writing there`,
  );
}

function releaseLock(dir: string): void {
  const lock = join(dir, LOCK_NAME);
  if (readHolder(lock)?.pid === process.pid) rmSync(lock, { force: true });
}

/** Every regular file under `dir`, as paths relative to it. */
function filesUnder(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** Files of an earlier run in a directory the command owns: removed if this run did not write them. */
export interface Owned {
  /** A subdirectory of DIR ('' for DIR itself). */
  readonly dir: string;
  /** Only files with this ending. */
  readonly ext: string;
}

/**
 * An output directory being written by this process: locked, with a staging directory
 * inside it. Write under `path(rel)`, then `commit()` moves everything into place;
 * `abandon()` (also run at exit if neither was) drops it and leaves DIR as it was.
 */
export class OutputDir {
  /** Where the files are written until `commit()`. */
  readonly stage: string;
  /** Whether DIR was there before. */
  readonly existed: boolean;
  private done = false;
  private readonly onExit = (): void => {
    this.abandon();
  };

  private constructor(
    readonly dir: string,
    private readonly where: string,
    private readonly created: string[],
  ) {
    this.existed = created.length === 0;
    this.stage = join(dir, `${STAGE_PREFIX}${process.pid}`);
  }

  /**
   * Creates (if need be) and locks `dir` for `where` (e.g. 'isosim run'); `field` is
   * the option that named it.
   */
  static open(where: string, dir: string, field = '--out'): OutputDir {
    const created: string[] = [];
    ensureDir(where, field, dir, created);
    const out = new OutputDir(dir, where, created);
    let note: string | undefined;
    try {
      note = acquireLock(where, field, dir);
    } catch (err) {
      out.removeCreated();
      throw err;
    }
    process.on('exit', out.onExit);
    // With the lock held, any staging directory is a leftover of a run that died.
    const leftovers = readdirSync(dir).filter((f) => f.startsWith(STAGE_PREFIX));
    for (const f of leftovers) rmSync(join(dir, f), { recursive: true, force: true });
    if (note !== undefined) {
      console.error(
        leftovers.length > 0 ? `${note}, and removing its unfinished files (${leftovers.join(', ')})` : note,
      );
    }
    try {
      mkdirSync(out.stage);
    } catch (err) {
      out.abandon();
      throw fsError(where, `${field} ${dir}`, `create ${out.stage}`, err);
    }
    return out;
  }

  /** Where to write `rel` (a path inside DIR) until the commit; its directory is made. */
  path(rel: string): string {
    const p = join(this.stage, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  /** Where `rel` will be once committed. */
  final(rel: string): string {
    return join(this.dir, rel);
  }

  write(rel: string, data: string | Uint8Array): void {
    writeFileSync(this.path(rel), data);
  }

  /**
   * Moves every staged file into place (replacing an earlier run's), removes the replay
   * index and unfinished copy of every log it replaces, and the files in `owned` this
   * run did not write; then releases the lock.
   */
  commit(owned: readonly Owned[] = []): void {
    const files = filesUnder(this.stage).filter((f) => !f.endsWith('.partial'));
    // Checked before anything moves, so that a refusal leaves DIR as it was.
    for (const rel of files) {
      const parts = rel.split(sep);
      for (let i = 1; i <= parts.length; i++) {
        const p = this.final(parts.slice(0, i).join(sep));
        const st = statOrUndefined(p);
        if (st === undefined) break;
        const last = i === parts.length;
        if (last ? st.isDirectory() : !st.isDirectory()) {
          throw new IsosimError(
            this.where,
            `--out ${this.dir}`,
            `${p} is ${last ? 'a directory' : 'a file'}, where this run writes ${last ? 'a file' : 'a directory'}`,
            'move it away and run again',
          );
        }
      }
    }
    const created: string[] = [];
    for (const rel of files) {
      const to = this.final(rel);
      if (dirname(rel) !== '.') ensureDir(this.where, '--out', dirname(to), created);
      if (rel.endsWith('.isolog')) {
        rmSync(`${to}.idx`, { force: true });
        rmSync(`${to}.partial`, { force: true });
      }
      renameSync(join(this.stage, rel), to);
    }
    const written = new Set(files.map((f) => f.split(sep).join('/')));
    for (const o of owned) {
      const d = this.final(o.dir);
      let names: string[];
      try {
        names = readdirSync(d);
      } catch {
        continue;
      }
      for (const n of names) {
        const rel = o.dir === '' ? n : `${o.dir}/${n}`;
        if (n.endsWith(o.ext) && !written.has(rel) && statOrUndefined(join(d, n))?.isFile()) {
          rmSync(join(d, n), { force: true });
        }
      }
    }
    rmSync(this.stage, { recursive: true, force: true });
    this.finish();
  }

  /**
   * Drops what was staged, releases the lock and removes the directories this command
   * created (if empty). Returns what DIR is now, for the user: "X is unchanged" or "X
   * was not created". Does nothing after `commit()`.
   */
  abandon(): string {
    if (!this.done) {
      rmSync(this.stage, { recursive: true, force: true });
      this.finish();
      this.removeCreated();
    }
    return this.existed ? `${this.dir} is unchanged` : `${this.dir} was not created`;
  }

  private finish(): void {
    this.done = true;
    releaseLock(this.dir);
    process.off('exit', this.onExit);
  }

  private removeCreated(): void {
    for (const d of [...this.created].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty: someone else's now
      }
    }
  }
}

/** Whether `a` and `b` name the same file: by device and inode, or by real path. */
export function sameFile(a: string, b: string): boolean {
  const sa = statOrUndefined(a);
  const sb = statOrUndefined(b);
  if (sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * A log path given to a reading command: not empty, and not a directory (then the fix
 * names the log inside it, if there is one). A path that is not there, or cannot be
 * read, is left to the reader, which says so.
 */
export function logInput(command: string, path: string, field = 'LOG'): string {
  const where = `isosim ${command}`;
  if (path === '') throw new IsosimError(where, field, 'is empty', 'give the path of a log (events.isolog)');
  if (statOrUndefined(path)?.isDirectory()) {
    let inside: string[] = [];
    try {
      inside = readdirSync(path).filter((f) => f.endsWith('.isolog'));
    } catch {
      // An unreadable directory: no suggestion.
    }
    throw new IsosimError(
      where,
      `${field} ${path}`,
      'is a directory, not a log',
      inside.length > 0
        ? `give the log inside it: ${inside.map((f) => join(path, f)).join(' or ')}`
        : 'give the path of a log written by isosim (events.isolog)',
    );
  }
  return path;
}

/**
 * Writes the output file `out` through `write(tmp)`: under a temporary name beside it,
 * renamed into place when `write` returns, removed if it throws; so a failed export
 * leaves no half file and an existing `out` as it was. Refuses an `out` that is one of
 * `inputs` (by any name), a directory, or in a directory that does not exist (it is
 * not created: a mistyped directory should not appear silently). A symbolic link at
 * `out` is written through.
 */
export function writeOutputFile<R>(
  where: string,
  field: string,
  out: string,
  inputs: readonly string[],
  write: (tmp: string) => R,
  /**
   * What to do with an `out` that is a device, pipe or socket (`/dev/stdout`, a FIFO):
   * write to it directly (`write(out)`), or refuse it (an exporter that renames its own
   * temporary file into place would replace the device node).
   */
  special: 'direct' | 'refuse' = 'refuse',
): R {
  if (out === '') throw new IsosimError(where, field, 'is empty', 'give a file path');
  for (const input of inputs) {
    if (sameFile(input, out)) {
      throw new IsosimError(
        where,
        `${field} ${out}`,
        `is the log being read (${input}); writing it would destroy the log`,
        'give another output path',
      );
    }
  }
  // What is at `out`, through any symbolic link: a device or pipe is never renamed over.
  const existing = statOrUndefined(out);
  if (existing?.isDirectory()) {
    throw new IsosimError(
      where,
      `${field} ${out}`,
      'is a directory',
      `give a file path, e.g. ${join(out, 'out')}`,
    );
  }
  if (existing !== undefined && !existing.isFile()) {
    if (special === 'direct') return write(out);
    throw new IsosimError(
      where,
      `${field} ${out}`,
      'is not a regular file (a device, pipe or socket)',
      'give the path of a file',
    );
  }
  // A symbolic link to a file is written through: its target is replaced, the link stays.
  let target = out;
  if (existing !== undefined && lstatSync(out).isSymbolicLink()) target = realpathSync(out);
  const dir = dirname(target);
  const d = statOrUndefined(dir);
  if (d === undefined) {
    throw new IsosimError(
      where,
      `${field} ${out}`,
      `the directory ${dir} does not exist`,
      `create it first (mkdir -p ${dir}) or give another path`,
    );
  }
  if (!d.isDirectory()) {
    throw new IsosimError(where, `${field} ${out}`, `${dir} is not a directory`, 'give another path');
  }
  const tmp = join(dir, `.${basename(target)}.isosim-${process.pid}.tmp`);
  const cleanup = (): void => {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.partial`, { force: true });
  };
  try {
    closeSync(openSync(tmp, 'wx'));
  } catch (err) {
    throw fsError(
      where,
      `${field} ${out}`,
      `write in ${dir}`,
      err,
      'give a path in a directory you can write to',
    );
  }
  process.on('exit', cleanup);
  try {
    const r = write(tmp);
    renameSync(tmp, target);
    return r;
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    process.off('exit', cleanup);
  }
}

/** A command stopped by a signal: `message` says what was kept; exit with `exitCode`. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * Catches SIGINT and SIGTERM for a command that polls `signal` between steps (and
 * yields to the event loop, or the handler never runs). `dispose()` restores the
 * default (die at once).
 */
export function catchSignals(): { readonly signal: NodeJS.Signals | undefined; dispose(): void } {
  let got: NodeJS.Signals | undefined;
  const on = (s: NodeJS.Signals): void => {
    got ??= s;
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    get signal() {
      return got;
    },
    dispose() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/**
 * Catches SIGINT and SIGTERM for a command that hands an `AbortSignal` to what it runs
 * (a sweep's pool): the first signal aborts `abort`, and `signal` says which it was.
 * `dispose()` restores the default (die at once).
 */
export function abortOnSignals(): {
  readonly abort: AbortSignal;
  readonly signal: NodeJS.Signals | undefined;
  dispose(): void;
} {
  const controller = new AbortController();
  let got: NodeJS.Signals | undefined;
  const on = (s: NodeJS.Signals): void => {
    got ??= s;
    controller.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    abort: controller.signal,
    get signal() {
      return got;
    },
    dispose() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/** The exit status for a command stopped by `signal`: 128 + its number. */
export function signalExit(signal: NodeJS.Signals): { word: string; code: number } {
  return signal === 'SIGTERM' ? { word: 'terminated', code: 143 } : { word: 'interrupted', code: 130 };
}

/** Lets the event loop run once (signal handlers, pipes) inside a long computation. */
export function breathe(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Runs `body` writing into `out` for `where` (e.g. 'isosim demo'): locked and staged
 * (`OutputDir`), committed with `owned` when `body` returns, left as it was when it
 * throws. `body` calls `checkpoint(at)` between steps of its work: that lets the event
 * loop run, and if Ctrl-C (SIGINT) or SIGTERM came meanwhile, drops everything and
 * throws `Interrupted` ("interrupted at AT; kept nothing; DIR is unchanged").
 */
export async function writeDir<T>(
  where: string,
  out: string,
  owned: readonly Owned[],
  body: (dir: OutputDir, checkpoint: (at: () => string) => Promise<void>) => Promise<T>,
): Promise<T> {
  const signals = catchSignals();
  try {
    const dir = OutputDir.open(where, out);
    try {
      const checkpoint = async (at: () => string): Promise<void> => {
        await breathe();
        const signal = signals.signal;
        if (signal === undefined) return;
        const { word, code } = signalExit(signal);
        throw new Interrupted(`${where}: ${word} at ${at()}; kept nothing; ${dir.abandon()}`, code);
      };
      const result = await body(dir, checkpoint);
      dir.commit(owned);
      return result;
    } finally {
      dir.abandon();
    }
  } finally {
    signals.dispose();
  }
}
