/**
 * A study's runs as a sweep (docs/sweeps.md), for the commands whose tables are made of
 * many runs of one host (`isosim paper`'s bands, the goodput curve): the sweep file is
 * written beside its results, so that `isosim sweep FILE` reproduces (or resumes) it and
 * `isosim query` reads it; the runs go to the worker pool, one per core, into a DuckDB
 * file; the records are read back from that file to make the tables.
 */
import { writeFileSync } from 'node:fs';
import {
  abortOnSignals,
  expandSweep,
  Interrupted,
  openResultStore,
  Progress,
  parseSweep,
  type RunRecord,
  readRuns,
  runSweep,
  SweepStopped,
  signalExit,
  sweepMeta,
} from '@isosim/scenarios';

export interface StudySweep {
  /** The sweep, as its file holds it (docs/sweep.schema.json). */
  readonly def: Record<string, unknown> & { readonly name: string };
  /** Where the sweep file is written. */
  readonly file: string;
  /** Where its results go (a DuckDB file). */
  readonly results: string;
}

/** What ran: the records in the sweep's order, and how many ran now (the rest were recorded before). */
export interface StudyResult {
  readonly records: RunRecord[];
  readonly ran: number;
  readonly wallS: number;
}

/**
 * Writes the sweep file, runs the sweep on `jobs` workers into its results file (a run
 * already recorded there is not run again) with a progress bar labelled `label`, and
 * reads every record back. A failed run is an error naming its reproducer. A signal
 * stops the runs in flight and throws `Interrupted` (`where`: the command, `notWritten`:
 * what it will not write); the records stored so far stay in the results file.
 */
export async function runStudySweep(
  study: StudySweep,
  jobs: number,
  where: string,
  notWritten: string,
  label = `${where}: ${study.def.name}`,
): Promise<StudyResult> {
  writeFileSync(study.file, `${JSON.stringify(study.def, null, 2)}\n`);
  const loaded = parseSweep(study.def, study.file);
  const expansion = expandSweep(loaded);
  const store = await openResultStore(study.results, sweepMeta(loaded, expansion));
  const progress = new Progress(label);
  const signals = abortOnSignals();
  let summary: Awaited<ReturnType<typeof runSweep>>;
  try {
    summary = await runSweep(loaded, expansion, store, {
      jobs,
      signal: signals.abort,
      onProgress: (p) => progress.update(p.done / p.total, `${p.done}/${p.total} runs`),
    });
  } catch (err) {
    if (err instanceof SweepStopped) {
      const { word, code } = signalExit(signals.signal ?? 'SIGINT');
      throw new Interrupted(
        `${where}: ${word} after ${err.done} of ${err.total} runs of ${study.def.name}; ${notWritten} not written`,
        code,
      );
    }
    throw err;
  } finally {
    progress.done();
    signals.dispose();
    await store.close();
  }
  const records = await readRuns(study.results);
  const failed = records.find((r) => r.error !== undefined);
  if (failed?.error !== undefined)
    throw new Error(
      `${where}: run ${failed.id} of ${study.file} failed (seed ${failed.seed}): ${failed.error.message}; ` +
        `its scenario is in ${study.results} (isosim query ${study.results} "SELECT error_scenario FROM runs WHERE id = '${failed.id}'")`,
    );
  return { records, ran: summary.ran, wallS: summary.wallS };
}
