/**
 * The shapes shared by the sweep runner and the results stores: what a sweep is
 * (`SweepMeta`), what one run leaves behind (`RunRecord`), and where the records go
 * (`ResultStore`). A store is opened per sweep (or per shard of one) and holds a record
 * per run id; the runner asks it which ids are done and skips them, so a sweep resumes.
 *
 * @module
 */

/** The value of one swept parameter at one point: what a sweep file's lists, ranges and draws give. */
export type ParamValue = number | string | boolean;

/** What identifies a sweep and the columns of its results. */
export interface SweepMeta {
  /** A hash of the expanded sweep (name, base scenario content, params, seeds, record): results of another sweep have another id. */
  readonly sweepId: string;
  /** The sweep's name, from its file. */
  readonly name: string;
  /** The swept parameter paths, in the file's order. */
  readonly params: readonly string[];
  /** The recorded metric paths into `metrics.json`, in the file's order. */
  readonly metrics: readonly string[];
  /** The recorded invariant checks by name, in the file's order. */
  readonly checks: readonly string[];
  /** How many runs the whole sweep (every shard) has. */
  readonly totalRuns: number;
  /** Which of `count` shards this store holds (0-based `index`); absent for the whole sweep. */
  readonly shard?: { readonly index: number; readonly count: number };
}

/** One run of a sweep, done or failed. */
export interface RunRecord {
  /** The run's stable id, e.g. `p0003-s2`. */
  readonly id: string;
  /** The run's 0-based place in the sweep's expansion order. */
  readonly index: number;
  /** The value of every swept path at this run. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** The scenario seed the run used. */
  readonly seed: number;
  /** Every recorded metric path, `null` where the run has no such value (or failed). */
  readonly metrics: Readonly<Record<string, number | null>>;
  /** Every recorded check: `true` when it held. */
  readonly checks: Readonly<Record<string, boolean>>;
  /** The run's wall time in seconds (not deterministic: never compared). */
  readonly wallS: number;
  /** The SHA-256 of the run's event log, in hex (empty for a failed run). */
  readonly logHash: string;
  /** Present when the run threw: the reproducer. */
  readonly error?: {
    /** The error's message. */
    readonly message: string;
    /** The scenario as run, as JSON. */
    readonly scenario: string;
    /** The seed it ran with. */
    readonly seed: number;
  };
}

/** Where a sweep's records go. */
export interface ResultStore {
  /** The sweep (or shard) this store holds. */
  readonly meta: SweepMeta;
  /** The ids of the runs already recorded, which a resumed sweep skips (a store may leave out failed runs, so that a resume retries them: the DuckDB store does). */
  completedIds(): Promise<Set<string>>;
  /** Records one run in one transaction; the record is durable when this resolves. */
  put(r: RunRecord): Promise<void>;
  /** Closes the store. */
  close(): Promise<void>;
}
