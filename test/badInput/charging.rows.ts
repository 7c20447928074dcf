/**
 * `isosim charging` with bad input: refused in one line before any run starts or
 * anything is written.
 */
import { type BadInputRow, commandRows } from './row.ts';

const row = commandRows('charging');

export const rows: readonly BadInputRow[] = [
  row(
    'a scenario that is not a built-in or a file',
    ['table1-sedfdc', 'no-such-scenario'],
    [
      'no-such-scenario: scenario: cannot read it (ENOENT); give a file path or one of:',
      'charging-block-sizes',
    ],
  ),
  row(
    'a duration that is not a number',
    ['table1-sedfdc', '--duration', 'lots'],
    ["isosim charging: --duration: 'lots' is not allowed; give seconds, at least 0.001 and at most 3600"],
  ),
  row(
    'a duration past an hour',
    ['table1-sedfdc', '--duration', '100000'],
    ["isosim charging: --duration: '100000' is not allowed"],
  ),
];
