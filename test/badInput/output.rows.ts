/**
 * Bad input about where isosim writes and what it reads (issue 12, data loss items 7
 * and 8): output directories that cannot be one, exports that would overwrite the log
 * they read, log paths that are directories, times that are not times. Interrupts,
 * concurrent runs and the read-only fallback are in test/outputSafety.test.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BIN } from '../isosim.ts';
import type { BadInputRow } from './row.ts';

let shared: { path: string; bytes: Buffer } | undefined;

/** A small log (isosim demo, 0.01 s), made once and copied into each row's directory. */
function log(dir: string, name = 'events.isolog'): string {
  if (shared === undefined) {
    const d = mkdtempSync(join(tmpdir(), 'isosim-rows-'));
    const r = spawnSync(process.execPath, [BIN, 'demo', '--duration', '0.01', '--out', d], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    if (r.status !== 0) throw new Error(`isosim demo failed: ${r.stderr}`);
    const path = join(d, 'events.isolog');
    shared = { path, bytes: readFileSync(path) };
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  const to = join(dir, name);
  copyFileSync(shared.path, to);
  return to;
}

/** The log in `dir` is still the one copied there, and nothing half-written lies beside it. */
function logIntact(dir: string, name = 'events.isolog'): void {
  expect(readFileSync(join(dir, name)).equals(shared?.bytes ?? Buffer.alloc(0))).toBe(true);
  nothingHalfWritten(dir);
}

function nothingHalfWritten(dir: string): void {
  const stray = readdirSync(dir, { recursive: true }).filter((f) =>
    /\.partial$|\.tmp$|\.isosim-staging-|\.isosim\.lock/.test(String(f)),
  );
  expect(stray).toEqual([]);
}

/** The directory holds exactly `names` (nothing was written into it). */
function holds(dir: string, names: string[]): void {
  expect(readdirSync(dir).sort()).toEqual([...names].sort());
}

const root = process.getuid?.() === 0;

export const rows: readonly BadInputRow[] = [
  // --out that cannot be an output directory
  {
    name: 'run --out an existing regular file',
    setup: (dir) => {
      writeFileSync(join(dir, 'notes.txt'), 'keep me\n');
      return ['run', 'fig6-sedf', '--duration', '0.2', '--out', 'notes.txt'];
    },
    code: 2,
    says: ['--out', 'notes.txt is a file, not a directory'],
    after: (dir) => {
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me\n');
      holds(dir, ['notes.txt']);
    },
  },
  {
    name: 'demo --out a directory under an existing regular file',
    setup: (dir) => {
      writeFileSync(join(dir, 'notes.txt'), 'keep me\n');
      return ['demo', '--duration', '0.01', '--out', 'notes.txt/sub'];
    },
    code: 2,
    says: ['--out', 'is a file, not a directory'],
    after: (dir) => holds(dir, ['notes.txt']),
  },
  // As root every directory is writable: test/outputSafety.test.ts covers this as another user.
  ...(root
    ? []
    : [
        {
          name: 'demo --out an unwritable directory',
          setup: (dir: string) => {
            mkdirSync(join(dir, 'ro'), { mode: 0o555 });
            return ['demo', '--duration', '0.01', '--out', 'ro'];
          },
          code: 2,
          says: ['--out', 'ro', 'EACCES'],
          after: (dir: string) => expect(readdirSync(join(dir, 'ro'))).toEqual([]),
        },
      ]),
  {
    name: 'run --out a directory under /sys (was a stack trace)',
    setup: () => ['run', 'fig6-sedf', '--duration', '0.2', '--out', '/sys/kernel/isosim-out'],
    code: 2,
    says: ['--out', '/sys'],
  },
  {
    name: 'demo --out /proc/self/x (hung)',
    setup: () => ['demo', '--duration', '0.01', '--out', '/proc/self/x'],
    code: 2,
    says: ['--out', '/proc'],
    timeoutMs: 20_000,
  },
  ...(['run', 'demo', 'fig6', 'check'] as const).map(
    (command): BadInputRow => ({
      name: `${command} --out '' (wrote into the current directory)`,
      setup: () =>
        command === 'demo'
          ? ['demo', '--duration', '0.01', '--out', '']
          : command === 'fig6'
            ? ['fig6', '--duration', '10', '--out', '']
            : [command, 'fig6-sedf', '--duration', '0.2', '--out', ''],
      code: 2,
      says: ['--out', 'is empty'],
      after: (dir) => holds(dir, []),
    }),
  ),

  {
    name: 'run --out a directory where the run writes metrics.json as a directory',
    setup: (dir) => {
      mkdirSync(join(dir, 'out', 'metrics.json'), { recursive: true });
      return ['run', 'fig6-sedf', '--duration', '0.2', '--out', 'out'];
    },
    code: 2,
    says: ['--out out', 'metrics.json is a directory', 'move it away'],
    // Refused before anything moved: no log of this run beside the directory.
    after: (dir) => holds(join(dir, 'out'), ['metrics.json']),
  },

  // A directory where a log belongs (EISDIR stack traces)
  ...[
    ['verify', 'logs'],
    ['replay', 'logs', '--interactive'],
    ['resim', 'logs'],
    ['log', 'info', 'logs'],
    ['log', 'export', 'logs'],
    ['export', 'logs', '--perfetto', 'out.json'],
    ['diff', 'logs/events.isolog', 'logs'],
  ].map(
    (args): BadInputRow => ({
      name: `${args.slice(0, args[0] === 'log' ? 2 : 1).join(' ')} given a directory as a log (${args.join(' ')})`,
      setup: (dir) => {
        mkdirSync(join(dir, 'logs'));
        log(join(dir, 'logs'));
        return args;
      },
      code: 2,
      says: ['logs', 'is a directory, not a log', 'logs/events.isolog'],
      after: (dir) => {
        logIntact(join(dir, 'logs'));
        holds(dir, ['logs']);
      },
    }),
  ),

  // An export whose output is the log it reads (truncated it, or replaced it, exit 0)
  ...[
    ['log', 'export', 'L.isolog', '--jsonl', 'L.isolog'],
    ['export', 'L.isolog', '--perfetto', './sub/../L.isolog'],
    ['export', 'L.isolog', '--xentrace', 'hard.isolog'],
    ['log', 'export', 'L.isolog', '--jsonl', 'link.isolog'],
    ['export', 'link.isolog', '--perfetto', 'hard.isolog'],
  ].map(
    (args): BadInputRow => ({
      name: `${args.slice(0, args[0] === 'log' ? 2 : 1).join(' ')} into the log it reads (${args.slice(-3).join(' ')})`,
      setup: (dir) => {
        log(dir, 'L.isolog');
        mkdirSync(join(dir, 'sub'));
        linkSync(join(dir, 'L.isolog'), join(dir, 'hard.isolog'));
        symlinkSync('L.isolog', join(dir, 'link.isolog'));
        return args;
      },
      code: 2,
      says: [args.at(-2) as string, 'is the log being read', 'give another output path'],
      after: (dir) => logIntact(dir, 'L.isolog'),
    }),
  ),

  // Export outputs that cannot be written
  {
    name: 'export --perfetto into a missing directory',
    setup: (dir) => [...['export', log(dir)], '--perfetto', 'missing/run.json'],
    code: 2,
    says: ['--perfetto', 'missing/run.json', 'does not exist', 'mkdir -p missing'],
    after: (dir) => {
      expect(existsSync(join(dir, 'missing'))).toBe(false);
      logIntact(dir);
    },
  },
  {
    name: 'log export --jsonl into a missing directory',
    setup: (dir) => ['log', 'export', log(dir), '--jsonl', 'missing/run.jsonl'],
    code: 2,
    says: ['--jsonl', 'does not exist', 'mkdir -p missing'],
    after: (dir) => expect(existsSync(join(dir, 'missing'))).toBe(false),
  },
  {
    name: 'export --perfetto to a directory',
    setup: (dir) => {
      mkdirSync(join(dir, 'traces'));
      return ['export', log(dir), '--perfetto', 'traces'];
    },
    code: 2,
    says: ['--perfetto traces', 'is a directory'],
    after: (dir) => {
      expect(readdirSync(join(dir, 'traces'))).toEqual([]);
      logIntact(dir);
    },
  },
  {
    name: 'export --perfetto into a named pipe (renamed a file over it)',
    setup: (dir) => {
      const made = spawnSync('mkfifo', [join(dir, 'pipe')]);
      if (made.status !== 0) throw new Error('mkfifo failed');
      return ['export', log(dir), '--perfetto', 'pipe'];
    },
    code: 2,
    says: ['--perfetto pipe', 'not a regular file'],
    after: (dir) => {
      expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
      holds(dir, ['events.isolog', 'pipe']);
    },
  },
  {
    name: 'export --xentrace into /sys',
    setup: (dir) => ['export', log(dir), '--xentrace', '/sys/kernel/isosim.bin'],
    code: 2,
    says: ['--xentrace', '/sys/kernel'],
    after: (dir) => logIntact(dir),
  },

  // --from/--to (export --to 1 exited 1 with no word; these were silently accepted)
  {
    name: 'export --from after --to',
    setup: (dir) => ['export', log(dir), '--perfetto', 'run.json', '--from', '2', '--to', '1'],
    code: 2,
    says: ['--from', 'after --to'],
    after: (dir) => holds(dir, ['events.isolog']),
  },
  {
    name: 'export --xentrace --to 1 (ignored)',
    setup: (dir) => ['export', log(dir), '--xentrace', 'run.bin', '--to', '1'],
    code: 2,
    says: ['--to', '--perfetto only'],
    after: (dir) => holds(dir, ['events.isolog']),
  },
  {
    name: "export --to '0x1' (read as 1)",
    setup: (dir) => ['export', log(dir), '--perfetto', 'run.json', '--to', '0x1'],
    code: 2,
    says: ['--to', "'0x1' is not a time"],
    after: (dir) => holds(dir, ['events.isolog']),
  },
  {
    name: "replay --time '' (read as 0)",
    setup: (dir) => ['replay', log(dir), '--time', ''],
    code: 2,
    says: ['--time', 'is not a time'],
  },

  // Interactive replay
  {
    name: 'interactive replay: t abc (jumped to the end)',
    setup: (dir) => ['replay', log(dir), '--interactive', '--at', '5'],
    stdin: 't abc\nq\n',
    code: 2,
    says: ['t', "'abc' is not a time"],
  },
  {
    name: 'interactive replay: a command that is not one',
    setup: (dir) => ['replay', log(dir), '--interactive'],
    stdin: 'jump 5\nq\n',
    code: 2,
    says: ["'jump' is not a command", 'n K'],
  },

  // Run lengths from the command line: the scenario file's own bounds (1 ms to 1 h)
  {
    name: 'run --duration 1e-12 s (a table of zeros)',
    setup: (dir) => ['run', 'fig6-sedf', '--duration', '0.000000000001', '--out', join(dir, 'o')],
    code: 2,
    says: ['--duration', 'at least 0.001'],
    after: (dir) => expect(existsSync(join(dir, 'o'))).toBe(false),
  },
];
