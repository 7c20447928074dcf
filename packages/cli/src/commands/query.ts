import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import {
  exportSweep,
  formatTable,
  querySweep,
  summary,
  summaryTable,
  sweepMetaOf,
  sweepPlots,
} from '@isosim/scenarios';
import type { CommandSpec } from '../args.ts';

const WHERE = 'isosim query';

export const query: CommandSpec = {
  name: 'query',
  brief: "runs SQL on a sweep's results (DuckDB); --summary, --export parquet|csv",
  summary:
    "Reads a sweep's results file (FILE.duckdb, written by isosim sweep) read-only. With SQL,\n" +
    'runs it and prints the result as a table (or --json). The tables: runs, a row per run\n' +
    '(id, run_index, seed, a column per parameter, a DOUBLE per metric, a BOOLEAN per check,\n' +
    'wall_s, log_hash, error_message/error_scenario/error_seed), and sweep_meta (the sweep,\n' +
    'and the column of each path). --summary prints the mean and 95% confidence interval of\n' +
    'every metric per parameter point over seeds (Student t, n - 1 degrees of freedom; failed\n' +
    'runs left out). --export writes the runs table as Parquet or CSV. See docs/scale-out.md.',
  usage:
    'isosim query FILE.duckdb "SQL" [--json] | isosim query FILE.duckdb --summary [--json] [--plot DIR] |\n' +
    '       isosim query FILE.duckdb --export parquet|csv --out PATH',
  options: {
    summary: { type: 'boolean', help: 'mean and 95% CI of every metric per parameter point, over seeds' },
    export: {
      type: 'string',
      help: 'write the runs table as parquet or csv (with --out)',
      placeholder: 'FORMAT',
    },
    out: { type: 'string', help: 'the file --export writes', placeholder: 'PATH' },
    plot: {
      type: 'string',
      help: 'with --summary: also write a plot per numeric parameter and metric (mean, 95% CI) into DIR',
      placeholder: 'DIR',
    },
    json: { type: 'boolean', help: 'print JSON (rows as objects, numbers whole) instead of a table' },
  },
  async run({ values, positionals }) {
    const [file, sql, ...extra] = positionals;
    const exportFormat = values.export === undefined ? undefined : String(values.export);
    const modes = [sql !== undefined, values.summary === true, exportFormat !== undefined].filter(
      Boolean,
    ).length;
    if (file === undefined || modes !== 1 || extra.length > 0) {
      throw new IsosimError(
        WHERE,
        'arguments',
        file === undefined
          ? 'expected a results file'
          : extra.length > 0
            ? `expected one SQL argument, got ${1 + extra.length} (quote the query)`
            : modes === 0
              ? 'expected SQL, --summary or --export'
              : 'give one of SQL, --summary and --export',
        `e.g. isosim query out/sweep.duckdb "SELECT * FROM runs LIMIT 5"; see 'isosim query --help'`,
      );
    }
    if (values.out !== undefined && exportFormat === undefined) {
      throw new IsosimError(WHERE, '--out', 'is only for --export', 'add --export parquet or --export csv');
    }
    if (exportFormat !== undefined) {
      if (exportFormat !== 'parquet' && exportFormat !== 'csv') {
        throw new IsosimError(WHERE, '--export', `'${exportFormat}' is not a format`, 'give parquet or csv');
      }
      if (values.out === undefined) {
        throw new IsosimError(WHERE, '--export', 'needs --out PATH', `add e.g. --out runs.${exportFormat}`);
      }
      if (values.json === true) {
        throw new IsosimError(WHERE, '--json', 'is not for --export', 'leave it out');
      }
      const out = String(values.out);
      const rows = await exportSweep(file, exportFormat, out);
      console.log(`wrote ${rows} run${rows === 1 ? '' : 's'} to ${out} (${exportFormat})`);
      return 0;
    }
    if (values.plot !== undefined && values.summary !== true)
      throw new IsosimError(WHERE, '--plot', 'is only for --summary', 'add --summary');
    if (values.summary === true) {
      const rows = await summary(file);
      if (typeof values.plot === 'string') {
        const plots = sweepPlots(rows, (await sweepMetaOf(file)).params);
        mkdirSync(values.plot, { recursive: true });
        for (const [name, svg] of Object.entries(plots)) writeFileSync(join(values.plot, name), svg);
        console.error(`wrote ${Object.keys(plots).length} plots to ${values.plot}`);
      }
      if (values.json === true) console.log(JSON.stringify(rows, null, 2));
      else console.log(formatTable(summaryTable(await sweepMetaOf(file), rows)));
      return 0;
    }
    const result = await querySweep(file, String(sql));
    if (values.json === true) {
      const objects = result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
      console.log(JSON.stringify(objects, null, 2));
    } else {
      console.log(formatTable(result));
    }
    return 0;
  },
};
