import { IsosimError } from '@isosim/core';
import { exportJsonl, scanLog } from '@isosim/core/node';
import { logInput, writeOutputFile } from '@isosim/scenarios';
import type { CommandSpec } from '../args.ts';

export const logInfo: CommandSpec = {
  name: 'log info',
  brief: "checks a log's hash chain; prints header, records, digest",
  summary:
    'Reads a log through, checking its hash chain, and prints its header, record count and\n' +
    'digest. A damaged log is reported with the byte offset and the first record not vouched\n' +
    'for; exit status 1 then.',
  usage: 'isosim log info LOG',
  options: {},
  run({ positionals }) {
    const path = onePath('log info', positionals);
    const r = scanLog(path);
    console.log(JSON.stringify(r.header, null, 2));
    console.log(`records   ${r.records}`);
    console.log(`digest    ${r.digest}`);
    console.log(`complete  ${r.complete}`);
    if (r.damage)
      console.log(`damage    at byte ${r.damage.offset}, record ${r.damage.seq}: ${r.damage.message}`);
    return r.complete ? 0 : 1;
  },
};

export const logExport: CommandSpec = {
  name: 'log export',
  brief: 'writes a log as JSON Lines',
  summary:
    'Writes a log as JSON Lines: a header line, one line per record, and an end line with the\n' +
    'record count, digest and completeness (see docs/log-format.md).',
  usage: 'isosim log export LOG [--jsonl OUT]',
  options: {
    jsonl: { type: 'string', help: "output file (default '-': standard output)", placeholder: 'OUT' },
  },
  run({ values, positionals }) {
    const path = onePath('log export', positionals);
    const out = String(values.jsonl ?? '-');
    // A file is written beside OUT under a temporary name and renamed when whole; never the log itself.
    const r =
      out === '-'
        ? exportJsonl(path, out)
        : writeOutputFile(
            'isosim log export',
            '--jsonl',
            out,
            [path],
            (tmp) => exportJsonl(path, tmp),
            'direct',
          );
    return r.complete ? 0 : 1;
  },
};

function onePath(command: string, positionals: readonly string[]): string {
  if (positionals.length !== 1) {
    throw new IsosimError(
      `isosim ${command}`,
      'LOG',
      `expected one log path, got ${positionals.length}`,
      `run 'isosim ${command} path/to/events.isolog'`,
    );
  }
  return logInput(command, positionals[0]);
}
