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
