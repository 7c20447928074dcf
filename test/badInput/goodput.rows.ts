/**
 * `isosim goodput` with bad options: refused in one line before any run starts or
 * anything is written.
 */
import { type BadInputRow, commandRows } from './row.ts';

const row = commandRows('goodput');

export const rows: readonly BadInputRow[] = [
  row(
    'rates that run backwards',
    ['--rates', '1500:150:150'],
    ["isosim goodput: --rates: '1500:150:150' ends below where it starts; give FROM:TO:STEP"],
  ),
  row('a rate that is not a number', ['--rates', '300,lots'], ["--rates: 'lots' is not a rate"]),
  row(
    'a rate the NIC cannot carry',
    ['--rates', '100000'],
    [
      'isosim goodput: fig6-sedf at 100000 req/s: domains[1].workloads[0].rate: 100000 connections/s',
      'give at most',
    ],
  ),
  row(
    'an --svg in a directory that does not exist',
    ['--svg', 'no/such/dir/goodput.svg'],
    ['isosim goodput: --svg no/such/dir/goodput.svg: the directory no/such/dir does not exist'],
  ),
];
