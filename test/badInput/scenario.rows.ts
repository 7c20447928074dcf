/**
 * Bad scenario files (issue 12, items 3 and 10 and the scenario rows): each is refused
 * when loaded, in one line naming the file, the field path and the fix, before
 * anything is written. What they would have done before: a 1,350-character name and
 * names with control characters went into tables as they were; 64 guests ran out of
 * event-channel ports with a stack trace; tiny or huge periods, timeouts and durations
 * hung, crashed or printed NaN; a web rate of 1e12, a UDP rate of 1e9 or a window of 1e9
 * segments ran out of memory after a minute; a ShareGuard limit above the driver
 * domain's share failed without the file's name; over-full SEDF pCPUs and parameters of
 * the other scheduler were accepted silently; `__proto__` keys vanished.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BadInputRow } from './row.ts';

// biome-ignore lint/suspicious/noExplicitAny: scenario JSON, edited freely; isosim is what checks it
type Json = Record<string, any>;

const BASE = join(import.meta.dirname, '..', '..', 'scenarios', 'table1-sedf.json');

/** Table 1's SEDF host (Dom-0 22%, Dom-1 web 400/s, Dom-2 web 200/s, Dom-3 CPU), 10 ms long. */
function base(): Json {
  const s = JSON.parse(readFileSync(BASE, 'utf8'));
  s.durationS = 0.01;
  return s;
}

/** As `base`, under Credit: every vCPU capped at 20%. */
function credit(): Json {
  const s = base();
  s.host.scheduler = 'credit';
  for (const d of s.domains) for (const v of d.vcpus) v.sedf = undefined;
  for (const d of s.domains) for (const v of d.vcpus) v.credit = { weight: 256, capPct: 20 };
  return JSON.parse(JSON.stringify(s));
}

/** A row that runs `isosim run` on `edit(base())` (written as s.json) and expects `says`. */
function row(name: string, edit: (s: Json) => Json | string, says: (string | RegExp)[]): BadInputRow {
  return {
    name: `scenario: ${name}`,
    setup(dir) {
      const s = edit(base());
      writeFileSync(join(dir, 's.json'), typeof s === 'string' ? s : JSON.stringify(s));
      return ['run', join(dir, 's.json'), '--out', join(dir, 'out')];
    },
    code: 2,
    says: [/s\.json: /, ...says],
    after(dir) {
      expect(existsSync(join(dir, 'out'))).toBe(false);
    },
  };
}

const idd = (s: Json) => s.domains[0];
const dom1 = (s: Json) => s.domains[1];

export const rows: readonly BadInputRow[] = [
  row(
    'a domain name of 1,350 characters',
    (s) => {
      dom1(s).name = 'Dom-1-'.repeat(225);
      return s;
    },
    ['domains[1].name: "Dom-1-Dom-1-Dom-1-Dom-1-"… is 1350 characters long; use 1–64 characters'],
  ),
  row(
    'a control character in a domain name',
    (s) => {
      dom1(s).name = 'Dom\u0007-1';
      return s;
    },
    ['domains[1].name: "Dom\\u0007-1" contains', 'U+0007', 'no control or invisible characters'],
  ),
  row(
    'a line break in a ShareGuard key',
    (s) => {
      s.mechanisms = { shareGuard: { limitsPct: { 'Dom\n1': 5 } } };
      return s;
    },
    ['mechanisms.shareGuard.limitsPct["Dom\\n1"]: the key', 'U+000A'],
  ),
  row(
    'a ShareGuard limit for __proto__, which names no domain',
    (s) =>
      JSON.stringify(s).replace(
        '"mechanisms":{}',
        '"mechanisms":{"shareGuard":{"limitsPct":{"__proto__":5}}}',
      ),
    ['mechanisms.shareGuard.limitsPct.__proto__: names no domain; use a guest: "Dom-1", "Dom-2", "Dom-3"'],
  ),
  row(
    '4,100 domains: more than the event-channel ports',
    (s) => {
      for (let i = 4; i < 4100; i++)
        s.domains.push({ name: `G${i}`, vcpus: [{ sedf: { sliceMs: 0, periodMs: 10, extratime: true } }] });
      return s;
    },
    ['domains: has 4100 entries; give 1 to 4096 domains', "Xen's 2-level event-channel ABI has 4096 ports"],
  ),
  row(
    'an SEDF period of 1e-9 ms',
    (s) => {
      dom1(s).vcpus[0].sedf.periodMs = 1e-9;
      return s;
    },
    ['domains[1].vcpus[0].sedf.periodMs: 1e-9 is below the least allowed, 0.01', 'PERIOD_MIN (10 µs)'],
  ),
  row(
    'an SEDF period of 1e12 ms',
    (s) => {
      dom1(s).vcpus[0].sedf.periodMs = 1e12;
      return s;
    },
    ['sedf.periodMs: 1000000000000 is above the most allowed, 10000', 'PERIOD_MAX (10 s)'],
  ),
  row(
    'a debt feedback interval of 1e-9 ms',
    (s) => {
      s.mechanisms = { debt: { mode: 'immediate', feedbackMs: 1e-9 } };
      return s;
    },
    ['mechanisms.debt.feedbackMs: 1e-9 is below the least allowed, 1; give 1 to 10000 ms'],
  ),
  row(
    'a ShareGuard period of 1e-9 ms',
    (s) => {
      s.mechanisms = { shareGuard: { periodMs: 1e-9, limitsPct: { 'Dom-1': 5 } } };
      return s;
    },
    ['mechanisms.shareGuard.periodMs: 1e-9 is below the least allowed, 1'],
  ),
  row(
    'an httperf timeout of 1e300 s',
    (s) => {
      dom1(s).workloads[0].timeoutS = 1e300;
      return s;
    },
    ['domains[1].workloads[0].timeoutS: 1e+300 is above the most allowed, 3600'],
  ),
  row(
    'a run of 1e-12 s',
    (s) => {
      s.durationS = 1e-12;
      return s;
    },
    ['durationS: 1e-12 is below the least allowed, 0.001; give 0.001 to 3600 s'],
  ),
  row(
    "a ShareGuard limit above the driver domain's share",
    (s) => {
      s.mechanisms = { shareGuard: { limitsPct: { 'Dom-1': 30 } } };
      return s;
    },
    ["mechanisms.shareGuard.limitsPct.Dom-1: 30% is not below the driver domain's share, 22%"],
  ),
  row(
    'SEDF reservations over 100% of a pCPU',
    (s) => {
      dom1(s).vcpus[0].sedf.sliceMs = 5;
      return s;
    },
    ["domains[3].vcpus[0].sedf: pCPU 0's SEDF reservations add up to 128%", 'fit in 100% of a pCPU'],
  ),
  row(
    'Credit parameters on an SEDF host',
    (s) => {
      dom1(s).vcpus[0].credit = { weight: 512 };
      return s;
    },
    ["domains[1].vcpus[0].credit: is a Credit parameter, but the host's scheduler is 'sedf'"],
  ),
  row('SEDF parameters on a Credit host', () => {
    const s = credit();
    idd(s).vcpus[0].sedf = { sliceMs: 2, periodMs: 10 };
    return s;
  }, ["domains[0].vcpus[0].sedf: is an SEDF parameter, but the host's scheduler is 'credit'"]),
  row('a Credit cap with three decimals', () => {
    const s = credit();
    dom1(s).vcpus[0].credit.capPct = 10.255;
    return s;
  }, ['domains[1].vcpus[0].credit.capPct: 10.255 has more than two decimals', 'such as 10.25']),
  row(
    'a web rate of 1e12 connections/s',
    (s) => {
      dom1(s).workloads[0].rate = 1e12;
      return s;
    },
    [
      'domains[1].workloads[0].rate: 1000000000000 connections/s of 10240-byte files',
      'give at most 11537',
      '1 Gbit/s NIC',
    ],
  ),
  row(
    'a UDP rate of 1e9 packets/s',
    (s) => {
      dom1(s).workloads = [{ kind: 'udp', direction: 'receive', rate: 1e9, bytes: 400 }];
      return s;
    },
    ['domains[1].workloads[0].rate: 1000000000 packets/s of 400 bytes need 3200 Gbit/s; give at most 312500'],
  ),
  row(
    'a TCP window of 1e9 segments',
    (s) => {
      dom1(s).workloads = [{ kind: 'bulk', direction: 'send', windowSegments: 1e9 }];
      return s;
    },
    ['domains[1].workloads[0].windowSegments: 1000000000 is above the most allowed, 2896', 'tcp_wmem'],
  ),
  row(
    'web connections open at once beyond the client ports',
    (s) => {
      dom1(s).workloads[0].timeoutS = 3600;
      return s;
    },
    ['domains[1].workloads[0].timeoutS: 3600 s at 400 connections/s', 'at most 65536'],
  ),
  row(
    'clients sending the host more than its line rate',
    (s) => {
      dom1(s).workloads = [{ kind: 'udp', direction: 'receive', rate: 200_000, bytes: 400 }];
      s.domains[2].workloads = [{ kind: 'udp', direction: 'receive', rate: 200_000, bytes: 400 }];
      return s;
    },
    [
      'domains[2].workloads[0].rate: with this workload the clients send the host 1.28 Gbit/s',
      'receives at most 1 Gbit/s',
    ],
  ),
  row(
    'an unstated parameter whose path matches nothing',
    (s) => {
      s.unstated = [
        { name: 'timeoutS', path: 'domains.*.workload.*.timeoutS', values: [1], source: 'httperf' },
      ];
      return s;
    },
    [
      'unstated[0].path: "domains.*.workload.*.timeoutS" matches nothing in this scenario',
      'e.g. domains.*.workloads.*.timeoutS',
    ],
  ),
  row(
    'an unstated parameter mixing numbers and switches',
    (s) => {
      s.unstated = [
        { name: 'mixed', path: 'domains.*.workloads.*.timeoutS', values: [1, true], source: 'x' },
      ];
      return s;
    },
    ['unstated[0].values[1]: true is a boolean, values[0] a number', 'give values of one kind'],
  ),
  row(
    'an unstated parameter whose path ends at a name, not a number',
    (s) => {
      s.unstated = [{ name: 'who', path: 'domains.*.name', values: [1], source: 'x' }];
      return s;
    },
    ['unstated[0].path: "domains.*.name" matches domains[0].name, which is "Dom-0", not a number'],
  ),
  row(
    'an unstated value that makes the scenario invalid (a file size the NIC cannot carry)',
    (s) => {
      s.unstated = [
        { name: 'fileBytes', path: 'domains.*.workloads.*.fileBytes', values: [10240, 5e7], source: 'x' },
      ];
      return s;
    },
    [
      /unstated\[0\]\.values\[1\]: 50000000 makes the scenario invalid \(domains\[1\]\.workloads\[0\]\.rate: [\d.]+ connections\/s of 50000000-byte files/,
      'drop the value, or: give at most',
    ],
  ),
  row(
    'nine unstated parameters',
    (s) => {
      s.unstated = Array.from({ length: 9 }, (_, i) => ({
        name: `p${i}`,
        path: 'domains.1.workloads.0.timeoutS',
        values: [1],
        source: 'x',
      }));
      return s;
    },
    ['unstated: has 9 entries; give at most 8 unstated parameters'],
  ),
  row(
    'an unstated parameter with no values',
    (s) => {
      s.unstated = [{ name: 'timeoutS', path: 'domains.1.workloads.0.timeoutS', values: [], source: 'x' }];
      return s;
    },
    ['unstated[0].values: is empty; give 1 to 8 numbers'],
  ),
  row(
    'an unstated value given as a string',
    (s) => {
      s.unstated = [{ name: 'timeoutS', path: 'domains.1.workloads.0.timeoutS', values: ['5'], source: 'x' }];
      return s;
    },
    [
      'unstated[0].values[0]: "5" is neither a number nor true or false; give a number, or true or false for a switch',
    ],
  ),
  row(
    'an unstated parameter named with a tilde',
    (s) => {
      s.unstated = [{ name: 'timeout~S', path: 'domains.1.workloads.0.timeoutS', values: [5], source: 'x' }];
      return s;
    },
    ['unstated[0].name: "timeout~S" is not allowed; give 1–24 letters and digits'],
  ),
  row(
    'two unstated parameters whose names differ only in case',
    (s) => {
      s.unstated = [
        { name: 'timeoutS', path: 'domains.1.workloads.0.timeoutS', values: [5], source: 'x' },
        { name: 'timeouts', path: 'domains.2.workloads.0.timeoutS', values: [5], source: 'x' },
      ];
      return s;
    },
    ['unstated[1].name: "timeouts" is also the name of unstated[0] (ignoring case)'],
  ),
  {
    name: 'weight: a profile named __proto__',
    setup: () => ['weight', '--profile', '__proto__'],
    code: 2,
    says: ['isosim weight: --profile: "__proto__" is not a profile; use one of p4-2.8, system-1, system-2'],
  },
];
