import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/**
 * One row of the bad-input table (test/badInput.test.ts): a CLI call a user might make
 * with input isosim must refuse. Each row runs `isosim` as a child process in a fresh
 * directory of its own and expects one clear line on stderr, a non-zero exit, no stack
 * trace, and (with `after`) nothing already written lost or half-written.
 */
export interface BadInputRow {
  /** What the user did, as the test's name. */
  readonly name: string;
  /**
   * Prepares the row's directory (scenario files, an existing log, a read-only dir);
   * returns the arguments to `isosim`. `dir` is an absolute, empty, private directory.
   */
  readonly setup: (dir: string) => readonly string[];
  /** Expected exit status (default: any non-zero). */
  readonly code?: number;
  /** Every one of these must appear in stderr's error line. */
  readonly says: readonly (string | RegExp)[];
  /** Feeds stdin (interactive commands). */
  readonly stdin?: string;
  /** Checks what is on disk afterwards (nothing lost, nothing half-written). */
  readonly after?: (dir: string) => void;
  /** Milliseconds the call may take before the row fails as a hang (default 60 s). */
  readonly timeoutMs?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: scenario JSON, edited freely; isosim is what checks it
export type Json = Record<string, any>;

/**
 * Rows that run `isosim run` on a built-in's file edited by each row: `base` is its
 * file name under scenarios/, shortened to 10 ms and without its window; `label` starts
 * each row's name. A row edits the scenario in place, or returns what to write instead
 * (an object, or text as it is), as s.json, and expects exit 2, `s.json: ` and `says` on stderr, and no output directory.
 */
export function scenarioRows(
  label: string,
  base: string,
): (name: string, edit: (s: Json) => unknown, says: (string | RegExp)[]) => BadInputRow {
  const file = join(import.meta.dirname, '..', '..', 'scenarios', base);
  return (name, edit, says) => ({
    name: `${label}: ${name}`,
    setup(dir) {
      const s: Json = JSON.parse(readFileSync(file, 'utf8'));
      s.durationS = 0.01;
      delete s.window;
      const edited = (edit(s) ?? s) as Json | string;
      writeFileSync(join(dir, 's.json'), typeof edited === 'string' ? edited : JSON.stringify(edited));
      return ['run', join(dir, 's.json'), '--out', join(dir, 'out')];
    },
    code: 2,
    says: [/s\.json: /, ...says],
    after(dir) {
      expect(existsSync(join(dir, 'out'))).toBe(false);
    },
  });
}

/**
 * Rows that run `isosim COMMAND ARGS --out DIR` and expect exit 2, `says` on stderr,
 * and no DIR: bad options refused before any run starts or anything is written.
 */
export function commandRows(
  command: string,
): (name: string, args: readonly string[], says: readonly string[]) => BadInputRow {
  return (name, args, says) => ({
    name: `${command}: ${name}`,
    setup: (dir) => [command, ...args, '--out', join(dir, 'out')],
    code: 2,
    says,
    after(dir) {
      expect(existsSync(join(dir, 'out'))).toBe(false);
    },
  });
}
