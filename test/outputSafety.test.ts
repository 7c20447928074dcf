/**
 * Nothing already written is lost, corrupted or half-written (issue 12, data loss items
 * 7 and 8; docs/reliability.md): two runs into one directory, Ctrl-C during a run, a
 * lock left by a dead process, a re-run over an earlier one, a log in a read-only
 * directory, exports that stop early, and records streamed rather than held. The
 * one-line refusals are rows in test/badInput/output.rows.ts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { BIN } from './isosim.ts';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

interface Options {
  cwd?: string;
  /** Run as this user (root only): root ignores directory permissions. */
  uid?: number;
  env?: Record<string, string>;
  stdin?: string;
}

/** Starts `isosim ARGS`; `done` resolves when it exits. stdout is counted in `lines` if `count`. */
function start(args: readonly string[], o: Options = {}, count = false) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: o.cwd,
    env: { ...process.env, CI: '1', ...o.env },
    ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.uid }),
  });
  const r: Result & { lines: number } = { code: null, signal: null, out: '', err: '', lines: 0 };
  child.stdout?.on('data', (d: Buffer) => {
    if (count) {
      for (const b of d) if (b === 10) r.lines++;
    } else r.out += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    r.err += d;
  });
  child.stdin?.end(o.stdin ?? '');
  const done = new Promise<typeof r>((resolve) => {
    child.on('close', (code, signal) => {
      r.code = code;
      r.signal = signal;
      resolve(r);
    });
  });
  return { child, done };
}

function isosim(args: readonly string[], o: Options = {}): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: o.cwd,
    encoding: 'utf8',
    input: o.stdin,
    env: { ...process.env, CI: '1', ...o.env },
    ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.uid }),
  });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every file under `dir` (hidden ones too) with its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = join(dir, f);
    out[f] = statSync(p).isDirectory() ? '<dir>' : readFileSync(p).toString('base64');
  }
  return out;
}

const made: string[] = [];
const tmp = (name: string): string => {
  const d = mkdtempSync(join(tmpdir(), `isosim-safety-${name}-`));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const root = process.getuid?.() === 0;
/** As root, permission cases run as `nobody`; else as ourselves. */
const asUser = root ? { uid: 65534 } : {};

/** `verify` says the log is whole, and its digest is the one metrics.json records. */
function consistent(dir: string): void {
  const v = isosim(['verify', join(dir, 'events.isolog')]);
  expect(v.code, v.err).toBe(0);
  const digest = /digest\s+(\S+)/.exec(v.out)?.[1];
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  expect(metrics.logHash).toBe(digest);
}

let base: string;
/** A 1.5 s run of fig6-sedf: base/run/{events.isolog, metrics.json, plots}. */
let runDir: string;

beforeAll(() => {
  base = tmp('base');
  runDir = join(base, 'run');
  const r = isosim(['run', 'fig6-sedf', '--duration', '1.5', '--out', runDir]);
  expect(r.code, r.err).toBe(0);
}, 120_000);

describe('one output directory, one writer', () => {
  test('a second run into the same --out is refused, naming the first; Ctrl-C stops the first, which keeps nothing and leaves the earlier run as it was', async () => {
    const dir = join(tmp('twice'), 'out');
    expect(isosim(['run', 'fig6-sedf', '--duration', '1.5', '--out', dir]).code).toBe(0);
    const before = snapshot(dir);
    const a = start(['run', 'fig6-sedf', '--duration', '600', '--out', dir]);
    onTestFinished(() => {
      a.child.kill('SIGKILL');
    });
    const staged = `.isosim-staging-${a.child.pid}`;
    await until('the first run to start writing', () =>
      existsSync(join(dir, staged, 'events.isolog.partial')),
    );
    expect(readFileSync(join(dir, '.isosim.lock'), 'utf8')).toMatch(new RegExp(`^${a.child.pid} `));

    const b = isosim(['run', 'fig6-sedf', '--duration', '0.2', '--out', dir]);
    expect(b.code, b.err).toBe(2);
    expect(b.err).not.toMatch(/\n\s+at /);
    expect(b.err).toMatch(new RegExp(`^error: isosim run: --out ${dir}: .*pid ${a.child.pid}`));

    a.child.kill('SIGINT');
    const ra = await a.done;
    expect(ra.code, ra.err).toBe(130);
    expect(ra.err).not.toMatch(/\n\s+at /);
    expect(ra.err).toMatch(
      new RegExp(
        `isosim run: interrupted at [\\d.]+ s of 600 s simulated; kept nothing; ${dir} is unchanged`,
      ),
    );
    // Not a byte of the earlier run changed, and nothing was left beside it.
    expect(snapshot(dir)).toEqual(before);
    consistent(dir);
  }, 180_000);

  test('Ctrl-C during a run into a new directory leaves nothing behind, not even the directory', async () => {
    const parent = tmp('new');
    const dir = join(parent, 'a', 'b');
    const a = start(['run', 'fig6-sedf', '--duration', '600', '--out', dir]);
    onTestFinished(() => {
      a.child.kill('SIGKILL');
    });
    await until('the run to start writing', () =>
      existsSync(join(dir, `.isosim-staging-${a.child.pid}`, 'events.isolog.partial')),
    );
    a.child.kill('SIGINT');
    const r = await a.done;
    expect(r.code, r.err).toBe(130);
    expect(r.err).toMatch(/interrupted at [\d.]+ s of 600 s simulated; kept nothing; .* was not created/);
    expect(readdirSync(parent)).toEqual([]);
  }, 120_000);

  test('a lock left by a process that is gone is taken over, with a note; its unfinished files go', () => {
    const dir = tmp('stale');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(dir, '.isosim.lock'), `${gone} ${hostname()} isosim demo\n`);
    mkdirSync(join(dir, `.isosim-staging-${gone}`));
    writeFileSync(join(dir, `.isosim-staging-${gone}`, 'events.isolog.partial'), 'half');
    const r = isosim(['demo', '--duration', '0.01', '--out', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`was left by pid ${gone}, which is no longer running; taking it over`);
    expect(readdirSync(dir).sort()).toEqual(['events.isolog', 'result.json']);
  }, 60_000);

  test('a lock held by a live process is not taken over', () => {
    const dir = tmp('live');
    writeFileSync(join(dir, '.isosim.lock'), `${process.pid} ${hostname()} isosim run\n`);
    const r = isosim(['demo', '--duration', '0.01', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`^error: isosim demo: --out ${dir}: another isosim \\(pid ${process.pid}\\)`),
    );
    expect(readdirSync(dir)).toEqual(['.isosim.lock']);
  }, 60_000);
});

describe('a re-run replaces the earlier run whole', () => {
  test('no stale plot, replay index or unfinished log of the earlier run is left; the log verifies and is the one metrics.json describes', () => {
    const dir = join(tmp('rerun'), 'out');
    expect(isosim(['run', 'fig6-sedf', '--duration', '1.5', '--out', dir]).code).toBe(0);
    expect(readdirSync(join(dir, 'plots'))).toContain('web.svg');
    expect(isosim(['replay', join(dir, 'events.isolog'), '--at', '1']).code).toBe(0);
    expect(existsSync(join(dir, 'events.isolog.idx'))).toBe(true);
    writeFileSync(join(dir, 'events.isolog.partial'), 'an older run died here');
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');

    // The same host without a web server: no web throughput plot.
    const s = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'scenarios', 'fig6-sedf.json'), 'utf8'),
    );
    s.name = 'fig6-no-web';
    delete s.paper;
    delete s.unstated;
    for (const d of s.domains) if (d.workloads) d.workloads = [{ kind: 'cpu', startS: 0 }];
    const file = join(dir, '..', 'no-web.json');
    writeFileSync(file, JSON.stringify(s));
    const r = isosim(['run', file, '--duration', '1.5', '--out', dir]);
    expect(r.code, r.err).toBe(0);

    expect(readdirSync(dir).sort()).toEqual(['events.isolog', 'metrics.json', 'notes.txt', 'plots']);
    expect(readdirSync(join(dir, 'plots')).sort()).toEqual(['combined.svg', 'cpu.svg', 'idd.svg']);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).scenario).toBe('fig6-no-web');
    consistent(dir);
  }, 120_000);
});

describe('permissions', () => {
  test(`replay of a log in a read-only directory succeeds, the index kept in memory${root ? ' (as nobody: root ignores permissions)' : ''}`, () => {
    const dir = tmp('ro');
    copyFileSync(join(runDir, 'events.isolog'), join(dir, 'events.isolog'));
    chmodSync(join(dir, 'events.isolog'), 0o644);
    chmodSync(dir, 0o555);
    const r = isosim(['replay', join(dir, 'events.isolog'), '--at', '100'], asUser);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('state after 100 of');
    expect(readdirSync(dir)).toEqual(['events.isolog']);
  }, 60_000);

  test(`run --out an unwritable directory: one clear line, nothing written${root ? ' (as nobody)' : ''}`, () => {
    const parent = tmp('unwritable');
    chmodSync(parent, 0o755);
    const dir = join(parent, 'ro');
    mkdirSync(dir, { mode: 0o555 });
    chmodSync(dir, 0o555);
    for (const out of [dir, join(dir, 'sub')]) {
      const r = isosim(['run', 'fig6-sedf', '--duration', '0.2', '--out', out], { ...asUser, cwd: parent });
      expect(r.code, r.err).toBe(2);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.err).toMatch(new RegExp(`^error: isosim run: --out.*${dir}.*EACCES`));
      expect(readdirSync(dir)).toEqual([]);
    }
  }, 60_000);
});

describe('exports and reads', () => {
  test('export --perfetto --to stops reading a second past it and exits 0 (was status 1 with no word)', () => {
    const dir = tmp('to');
    const out = join(dir, 'run.json');
    const r = isosim(['export', join(runDir, 'events.isolog'), '--perfetto', out, '--to', '0.2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote .*run\.json: \d+ trace events/);
    expect(JSON.parse(readFileSync(out, 'utf8')).traceEvents.length).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(['run.json']);
  }, 60_000);

  test('a failed export leaves an existing output as it was and no temporary file', () => {
    const dir = tmp('keep');
    writeFileSync(join(dir, 'run.json'), 'the trace of yesterday\n');
    writeFileSync(join(dir, 'bad.isolog'), 'not a log at all');
    const r = isosim(['export', 'bad.isolog', '--perfetto', 'run.json'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^error: /);
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe('the trace of yesterday\n');
    expect(readdirSync(dir).sort()).toEqual(['bad.isolog', 'run.json']);
  }, 60_000);

  test('log export --jsonl into a named pipe writes through it; the pipe stays a pipe', async () => {
    const dir = tmp('fifo');
    const pipe = join(dir, 'pipe');
    expect(spawnSync('mkfifo', [pipe]).status).toBe(0);
    // The reader writes to a file, and isosim runs asynchronously: nothing waits on this process.
    const got = join(tmp('fifo-out'), 'got.jsonl');
    const fd = openSync(got, 'w');
    const reader = spawn('cat', [pipe], { stdio: ['ignore', fd, 'ignore'] });
    closeSync(fd);
    onTestFinished(() => {
      reader.kill();
    });
    const readerDone = new Promise((r) => reader.on('close', r));
    const r = await start(['log', 'export', join(runDir, 'events.isolog'), '--jsonl', pipe]).done;
    await readerDone;
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(got, 'utf8').split('\n')[0]).toMatch(/^\{"header":/);
    expect(lstatSync(pipe).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['pipe']);
  }, 60_000);

  test('a file-system error no specific check catches is one line with the path, not a stack trace', () => {
    // resim runs the scenario again in a temporary directory; here TMPDIR is a regular
    // file (tsx's cache, also under TMPDIR, is turned off so that it starts).
    const dir = tmp('tmpdir');
    writeFileSync(join(dir, 'file'), 'not a directory\n');
    const r = isosim(['resim', join(runDir, 'events.isolog')], {
      env: { TMPDIR: join(dir, 'file'), TSX_DISABLE_CACHE: '1' },
    });
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).toBe(
      `error: isosim resim: ${join(dir, 'file')}/isosim-resim-XXXXXX: a part of the path is not a directory (ENOTDIR); check the path\n`,
    );
  }, 60_000);

  test('interactive replay: t abc says it is not a time and stays where it was', () => {
    const r = isosim(['replay', join(runDir, 'events.isolog'), '--interactive', '--at', '7'], {
      stdin: 't abc\ns\nq\n',
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain("error: isosim replay: t: 'abc' is not a time");
    const states = r.out.match(/state after \d+ of/g);
    expect(states).toEqual(['state after 7 of', 'state after 7 of']);
  }, 60_000);

  test('replay --next K streams: every record of a 300k-record log printed under a 48 MB heap', async () => {
    const dir = tmp('next');
    expect(isosim(['run', 'fig6-sedf', '--duration', '5', '--out', dir]).code).toBe(0);
    const records = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).logRecords;
    expect(records).toBeGreaterThan(300_000);
    const r = await start(
      ['replay', join(dir, 'events.isolog'), '--at', '0', '--next', '10000000'],
      // Added to the NODE_OPTIONS vitest.config.ts gives (the sources, through tsx).
      { env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=48` } },
      true,
    ).done;
    expect(r.code, r.err.slice(-2000)).toBe(0);
    expect(r.lines).toBeGreaterThan(records);
  }, 180_000);
});
