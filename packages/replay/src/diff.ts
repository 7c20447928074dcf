/**
 * Where do two runs part? `diffLogs` finds the first record at which two logs differ
 * (type, time, source, target or payload, compared by name, so that the two logs'
 * dictionaries need not number things alike) and returns both sides around it.
 *
 * Memory stays bounded whatever the logs' length: the first pass keeps a 32-bit
 * fingerprint per record of A; the second scans B against them; the context is then
 * read back from both files.
 *
 * Only verified records are compared. A damaged log is never "the same" as another:
 * past its damage nothing is known, so `damageA`/`damageB` say where, and a log that
 * merely stops at its damage is not a difference.
 */
import type { LogDamage, LogDictionary, LogHeader, LogRecord } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import { type DecodedRecord, decodeRecord } from './replay.ts';

export interface LogDiff {
  readonly headerA: LogHeader;
  readonly headerB: LogHeader;
  readonly recordsA: number;
  /** Records of B read (all of them when the logs agree; up to the first difference otherwise). */
  readonly recordsB: number;
  /** First record number at which they differ; undefined if the logs are the same. */
  readonly at: number | undefined;
  /** Records [at - context, at + context] of each (fewer at the ends). */
  readonly contextA: DecodedRecord[];
  readonly contextB: DecodedRecord[];
  /** Where A is damaged: no record from there on was compared. */
  readonly damageA?: LogDamage;
  /** Where B is damaged, if B was read that far. */
  readonly damageB?: LogDamage;
}

function fingerprint(r: LogRecord, d: LogDictionary): number {
  let h = 0x811c9dc5;
  const mix = (x: number): void => {
    h = Math.imul(h ^ (x | 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(x / 4294967296), 0x01000193);
  };
  const str = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  };
  mix(r.timeNs);
  str(d.typeName(r.type));
  str(d.name(r.source));
  str(d.name(r.target));
  const fields = d.types[r.type]?.fields ?? [];
  for (let i = 0; i < r.fieldCount; i++) {
    // Interned-string fields compare by the string, not by its id in this log.
    if (fields[i]?.endsWith('Name')) str(d.name(r.values[i]));
    else mix(r.values[i]);
  }
  return h >>> 0;
}

function same(a: DecodedRecord, b: DecodedRecord): boolean {
  return (
    a.timeNs === b.timeNs &&
    a.type === b.type &&
    a.source === b.source &&
    a.target === b.target &&
    JSON.stringify(a.fields) === JSON.stringify(b.fields)
  );
}

/** Record `i` of the log, or whether the log ends soundly before it or is damaged there. */
function recordAt(path: string, i: number): DecodedRecord | 'end' | 'damaged' {
  const recs: DecodedRecord[] = [];
  const scan = scanLog(path, {
    onRecord: (r, d) => {
      if (r.seq < i) return undefined;
      recs.push(decodeRecord(r, d));
      return false;
    },
  });
  return recs[0] ?? (scan.complete ? 'end' : 'damaged');
}

function readRange(path: string, from: number, to: number): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  scanLog(path, {
    onRecord: (r, d) => {
      if (r.seq >= to) return false;
      if (r.seq >= from) out.push(decodeRecord(r, d));
      return undefined;
    },
  });
  return out;
}

export function diffLogs(pathA: string, pathB: string, context = 5): LogDiff {
  let prints = new Uint32Array(1 << 16);
  let n = 0;
  const a = scanLog(pathA, {
    onRecord: (r, d) => {
      if (n === prints.length) {
        const bigger = new Uint32Array(prints.length * 2);
        bigger.set(prints);
        prints = bigger;
      }
      prints[n++] = fingerprint(r, d);
      return undefined;
    },
  });
  let at: number | undefined;
  const b = scanLog(pathB, {
    onRecord: (r, d) => {
      // Past A's verified records: a difference only if A really ends there.
      if (r.seq >= n) {
        if (a.complete) at = r.seq;
        return false;
      }
      if (prints[r.seq] !== fingerprint(r, d)) {
        at = r.seq;
        return false;
      }
      return undefined;
    },
  });
  const recordsB = b.records;
  // B ends before A: a difference only if B really ends there.
  if (at === undefined && b.complete && b.records < a.records) at = b.records;
  const damage = {
    ...(a.damage ? { damageA: a.damage } : {}),
    ...(b.damage ? { damageB: b.damage } : {}),
  };
  if (at !== undefined) {
    // Confirm (a fingerprint can collide) by comparing the decoded records from `at` on.
    for (;;) {
      const ra = recordAt(pathA, at);
      const rb = recordAt(pathB, at);
      if (typeof ra === 'object' && typeof rb === 'object') {
        if (!same(ra, rb)) break;
        at++;
        continue;
      }
      // One log has no record `at`: a difference if it ends there, unknown if it is damaged there.
      if (ra === 'damaged' || rb === 'damaged' || ra === rb) at = undefined;
      break;
    }
  }
  if (at !== undefined) {
    const from = Math.max(0, at - context);
    return {
      headerA: a.header,
      headerB: b.header,
      recordsA: a.records,
      recordsB,
      at,
      contextA: readRange(pathA, from, at + context + 1),
      contextB: readRange(pathB, from, at + context + 1),
      ...damage,
    };
  }
  return {
    headerA: a.header,
    headerB: b.header,
    recordsA: a.records,
    recordsB,
    at: undefined,
    contextA: [],
    contextB: [],
    ...damage,
  };
}
