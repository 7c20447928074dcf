/**
 * Bad memory blocks (issue 18, "bad memory parameters get clear errors"): each is
 * refused when the file is loaded, in one line naming the file, the field path, what is
 * wrong and the fix, before anything is written. The base is the memory-launch-storm
 * built-in (16 GiB; guests worst-case sine, cache tmem, clone-1 and clone-2 sharing,
 * web balloon; launch big at 0.5 s; a storm of 12 × 1 GiB at 1 s; 9 s long).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type BadInputRow, commandRows, type Json } from './row.ts';

const BASE = join(import.meta.dirname, '..', '..', 'scenarios', 'memory-launch-storm.json');

/** A row that runs `isosim run` on the storm built-in edited by `edit` (written as s.json). */
function row(name: string, edit: (s: Json) => void, says: (string | RegExp)[]): BadInputRow {
  return {
    name: `memory: ${name}`,
    setup(dir) {
      const s: Json = JSON.parse(readFileSync(BASE, 'utf8'));
      edit(s);
      writeFileSync(join(dir, 's.json'), JSON.stringify(s));
      return ['run', join(dir, 's.json'), '--out', join(dir, 'out')];
    },
    code: 2,
    says: [/s\.json: /, ...says],
    after(dir) {
      expect(existsSync(join(dir, 'out'))).toBe(false);
    },
  };
}

const guest = (s: Json, name: string): Json => s.memory.guests.find((g: Json) => g.name === name);

export const rows: readonly BadInputRow[] = [
  row(
    'a size that is not whole 4 KiB pages',
    (s) => {
      s.memory.launches[0].sizeMiB = 0.1;
    },
    ['memory.launches[0].sizeMiB: 0.1 MiB is 25.6 pages; give a multiple of 1/256 MiB (4 KiB)'],
  ),
  row(
    'a host size that is not whole pages',
    (s) => {
      s.memory.totalMiB = 16384.001;
    },
    ['memory.totalMiB: 16384.001 MiB is 4194304.256 pages; give a multiple of 1/256 MiB (4 KiB)'],
  ),
  row(
    'a negative size',
    (s) => {
      guest(s, 'worst-case').minMiB = -512;
    },
    ['memory.guests[0].minMiB: -512 is below the least allowed, 0; give 0 to 16777216 MiB (16 TiB)'],
  ),
  row(
    'a negative rate',
    (s) => {
      guest(s, 'cache').putMiBps = -5;
    },
    ['memory.guests[1].putMiBps: -5 is below the least allowed, 0; give 0 to 35156 MiB/s'],
  ),
  row(
    'a positive rate that rounds to no page a second',
    (s) => {
      guest(s, 'clone-1').mergeMiBps = 0.001;
    },
    [
      'memory.guests[2].mergeMiBps: 0.001 MiB/s is 0.256 pages/s, which rounds to 0; give 0, or at least 1/512 MiB/s',
    ],
  ),
  row(
    'a balloon that never moves',
    (s) => {
      guest(s, 'web').rateMiBps = 0;
    },
    ['memory.guests[4].rateMiBps: is 0: the balloon would never move; give a rate of at least 1/512 MiB/s'],
  ),
  row(
    'a launch larger than the host',
    (s) => {
      s.memory.launches[0].sizeMiB = 32768;
    },
    [
      "memory.launches[0].sizeMiB: 32768 MiB is more than the host's 16384 MiB (memory.totalMiB): a claim over the host's size can never be granted; give at most 16384 MiB, or a larger memory.totalMiB",
    ],
  ),
  row(
    'a storm of domains larger than the host',
    (s) => {
      s.memory.storm.sizeMiB = 20000;
    },
    ["memory.storm.sizeMiB: 20000 MiB is more than the host's 16384 MiB", "a claim over the host's size"],
  ),
  row(
    'a balloon target above its maxMiB',
    (s) => {
      guest(s, 'web').targets[1].targetMiB = 4096;
    },
    [
      "memory.guests[4].targets[1].targetMiB: 4096 MiB is above the guest's maxMiB 3072; give a balloon target of at most maxMiB",
    ],
  ),
  row(
    'a balloon starting above its maxMiB',
    (s) => {
      guest(s, 'web').initialMiB = 4000;
    },
    [
      "memory.guests[4].initialMiB: 4000 MiB is above maxMiB 3072; give at most maxMiB: the guest's max_pages",
    ],
  ),
  row(
    'a sine wave whose minimum is above its peak',
    (s) => {
      guest(s, 'worst-case').minMiB = 3584;
    },
    ['memory.guests[0].minMiB: 3584 MiB is above peakMiB 3072; give a minimum of at most the peak'],
  ),
  row(
    'a tmem floor above its base',
    (s) => {
      guest(s, 'cache').minMiB = 2048;
    },
    [
      'memory.guests[1].minMiB: 2048 MiB is above baseMiB 1024; give a self-ballooning floor of at most baseMiB',
    ],
  ),
  row(
    'self-ballooning without a rate',
    (s) => {
      delete guest(s, 'cache').selfBalloonMiBps;
    },
    [
      'memory.guests[1].selfBalloonMiBps: is missing, but minMiB 512 is below baseMiB 1024: the guest could never shrink to it',
    ],
  ),
  row(
    'guests that start with more memory than the host has',
    (s) => {
      s.memory.totalMiB = 4096;
    },
    [
      "memory.guests: the guests start owning 5120 MiB (1536 MiB of it shared, held once), more than the host's 4096 MiB",
      'or a larger memory.totalMiB',
    ],
  ),
  row(
    'a launch after the run',
    (s) => {
      s.memory.launches[0].atS = 10;
    },
    [
      "memory.launches[0].atS: 10 s is after the run's end (durationS 9); give at most 9 s, or a longer durationS",
    ],
  ),
  row(
    'a balloon target after the run',
    (s) => {
      guest(s, 'web').targets[2].atS = 12;
    },
    ["memory.guests[4].targets[2].atS: 12 s is after the run's end (durationS 9)"],
  ),
  row(
    'a storm that ends after the run',
    (s) => {
      s.memory.storm.spreadMs = 1000;
    },
    ["memory.storm.spreadMs: the storm's last launch would be at 12 s, after the run's end (durationS 9)"],
  ),
  row(
    'bursts longer than their cycle',
    (s) => {
      guest(s, 'clone-2').bursts.lengthMs = 1200;
    },
    [
      'memory.guests[3].bursts.lengthMs: 1200 ms is longer than everyMs 1000; give a burst at most as long as its cycle (everyMs)',
    ],
  ),
  row(
    'two memory domains with one name',
    (s) => {
      s.memory.launches[0].name = 'web';
    },
    ['memory.launches[0].name: "web" is also the name of memory.guests[4]; give each domain its own name'],
  ),
  row(
    'a memory guest named as a domain of the host',
    (s) => {
      guest(s, 'cache').name = 'Dom-0';
    },
    ['memory.guests[1].name: "Dom-0" is also the name of domains[0]'],
  ),
  row(
    "a launch named as one of the storm's",
    (s) => {
      s.memory.launches[0].name = 'vm-3';
    },
    ['memory.storm.prefix: "vm-3", a name of the storm, is also the name of memory.launches[0]'],
  ),
  row(
    'more memory domains than Xen has domain ids',
    (s) => {
      s.memory.storm.count = 32751;
      s.memory.storm.spreadMs = 0;
    },
    [
      "memory.storm: 32757 memory domains would take domain ids 1 to 32757, past Xen's last, 32751 (0x7FEF); give at most 32751 memory guests and launches in all",
    ],
  ),
  row(
    'a guest of an unknown kind',
    (s) => {
      guest(s, 'cache').kind = 'swap';
    },
    [
      `memory.guests[1].kind: kind "swap" is not a kind of memory guest; give 'kind': sine, balloon, tmem or sharing`,
    ],
  ),
  row(
    'an unknown policy',
    (s) => {
      s.memory.policy = 'reserve';
    },
    ['memory.policy: "reserve" is not allowed; use one of "none", "claim", "freeze", "lock"'],
  ),
  row(
    'a misspelt field',
    (s) => {
      s.memory.launches[0].sizeMb = 1024;
    },
    ['memory.launches[0]: unknown field sizeMb; remove it or check its spelling'],
  ),
  row(
    'a persistent share in hundredths',
    (s) => {
      guest(s, 'cache').persistentPct = 12.55;
    },
    [
      'memory.guests[1].persistentPct: 12.55 has more than one decimal; give a percent from 0 to 100, in tenths',
    ],
  ),
  row(
    'a step of 10 µs',
    (s) => {
      guest(s, 'worst-case').stepMs = 0.01;
    },
    [
      'memory.guests[0].stepMs: 0.01 is below the least allowed, 0.1; give 0.1 to 10000 ms: each step is an event',
    ],
  ),
  row(
    'a sample every ms of a 20 s run',
    (s) => {
      s.durationS = 20;
      s.memory.sampleMs = 1;
    },
    ['memory.sampleMs: 1 ms gives 20000 samples over 20 s; give at least 2 ms: at most 10000 samples a run'],
  ),
  row(
    'a control character in a guest name',
    (s) => {
      guest(s, 'web').name = 'web\u0007';
    },
    ['memory.guests[4].name: "web\\u0007" contains the control, invisible or whitespace character U+0007'],
  ),
  commandRows('run')(
    'a --duration that samples memory more than 10,000 times',
    ['memory-launch-storm', '--duration', '3600'],
    [
      'memory-launch-storm: memory.sampleMs: 50 ms gives 72000 samples over 3600 s; give a shorter --duration, or memory.sampleMs of at least 360 ms',
    ],
  ),
];
