/**
 * Sums the coverage reports of a sharded `pnpm verify:deep` (docs/verification.md,
 * "Sharding the deep run"):
 *
 *   pnpm verify:merge DIR [--json FILE]
 *   pnpm verify:merge DIR/verify-shard-0-of-4.json DIR/verify-shard-1-of-4.json …
 *
 * DIR is the shards' ISOSIM_VERIFY_REPORT_DIR: every verify-shard-i-of-n.json in it is
 * merged. Prints a line per property (runs of the unsharded total, counts summed, how
 * close its bound came), the shards still missing, and any problem (a failure, with its
 * shard and the command that re-runs it; runs that do not add up; a corner no shard
 * reached). Writes the merged counts as JSON to FILE (default DIR/verify-merged.json
 * when one directory is given). Exit status 0 when nothing is wrong (shards may still be
 * missing), 1 on a problem, 2 when the input is refused (shards of different runs, a file
 * that is not a shard report): one line naming the file and the fix.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatMerged,
  MergeError,
  mergeShardReports,
  readShardReport,
  reportFiles,
} from '../test/verify/shardReport.ts';

const USAGE = 'usage: pnpm verify:merge DIR [--json FILE]  (or the shards’ verify-shard-i-of-n.json files)';

function main(argv: string[]): number {
  const paths: string[] = [];
  let json: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--json') {
      json = argv[++k];
      if (json === undefined) throw new MergeError(`--json needs a file; ${USAGE}`);
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-')) throw new MergeError(`unknown option ${a}; ${USAGE}`);
    else paths.push(a);
  }
  if (paths.length === 0) throw new MergeError(`no reports given; ${USAGE}`);
  const files = reportFiles(paths);
  const merged = mergeShardReports(files.map((file) => ({ file, report: readShardReport(file) })));
  process.stdout.write(`${formatMerged(merged)}\n`);
  const out =
    json ??
    (paths.length === 1 && files.length > 0 && files[0].startsWith(join(paths[0], 'verify-shard-'))
      ? join(paths[0], 'verify-merged.json')
      : undefined);
  if (out !== undefined) {
    writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  }
  return merged.problems.length > 0 ? 1 : 0;
}

// Output piped into `head`: stop quietly when the reader has gone.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  // A refused input (MergeError) or a file that cannot be written: one line, no stack.
  process.stderr.write(`verify:merge: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
}
