import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DIR, parseScenario } from './load.ts';
import { SCENARIO_NAME } from './schema.ts';
import { isOwnValue, makeVariant, matchPath, ownValues, variantName } from './variants.ts';

// biome-ignore lint/suspicious/noExplicitAny: scenario JSON, read freely
const builtin = (name: string): any => JSON.parse(readFileSync(join(BUILTIN_DIR, `${name}.json`), 'utf8'));

/** Table 2's host: Dom-1 and Dom-2 serve web, Dom-3 runs a CPU job and a bulk transfer (no window set). */
const table2 = () => builtin('table2-without-shareguard');

describe('unstated parameter paths', () => {
  it('matches every element of an array and every key of an object with *', () => {
    const s = table2();
    expect(matchPath(s, 'domains.*.workloads.*.timeoutS').map((l) => l.keys)).toEqual([
      ['domains', 1, 'workloads', 0, 'timeoutS'],
      ['domains', 2, 'workloads', 0, 'timeoutS'],
    ]);
    expect(matchPath(s, 'domains.*.name').map((l) => l.value)).toEqual(['Dom-0', 'Dom-1', 'Dom-2', 'Dom-3']);
    expect(matchPath(s, 'paper.domains.*.iddPct').map((l) => l.keys[2])).toEqual(['Dom-1', 'Dom-2', 'Dom-3']);
  });

  it('takes indices, and refuses ones out of range or not plain', () => {
    const s = table2();
    expect(matchPath(s, 'domains.2.workloads.0.rate')).toEqual([
      { keys: ['domains', 2, 'workloads', 0, 'rate'], value: s.domains[2].workloads[0].rate },
    ]);
    expect(matchPath(s, 'domains.9.workloads.0.rate')).toEqual([]);
    expect(matchPath(s, 'domains.01.workloads.0.rate')).toEqual([]);
    expect(matchPath(s, 'domains.-1.workloads.0.rate')).toEqual([]);
  });

  it('names an unset field at the end of a path without *, but not with one', () => {
    const s = table2();
    expect(matchPath(s, 'domains.3.workloads.1.windowSegments')).toEqual([
      { keys: ['domains', 3, 'workloads', 1, 'windowSegments'], value: undefined },
    ]);
    expect(matchPath(s, 'domains.*.workloads.*.windowSegments')).toEqual([]);
    expect(matchPath(s, 'domains.3.nothing.here')).toEqual([]);
  });
});

describe('variants', () => {
  it('sets every matched field, renames the scenario validly and drops unstated', () => {
    const s = builtin('fig6-sedf');
    const v = makeVariant(s, { name: 'fileBytes', path: 'domains.*.workloads.*.fileBytes' }, 51200);
    // biome-ignore lint/suspicious/noExplicitAny: scenario JSON
    const web = (v as any).domains[1].workloads;
    expect(web).toHaveLength(8);
    for (const w of web) expect(w.fileBytes).toBe(51200);
    expect(v.name).toBe('fig6-sedf--filebytes-51200');
    expect(v.unstated).toBeUndefined();
    expect(v.description).toContain('fileBytes = 51200');
    expect(parseScenario(v, 'variant').domains[1].workloads[7]).toMatchObject({ fileBytes: 51200 });
  });

  it('scales the fields named in scale with the matched one: a period change keeps each share', () => {
    const s = builtin('table2-without-shareguard');
    const param = { name: 'sedfPeriodMs', path: 'domains.*.vcpus.*.sedf.periodMs', scale: ['sliceMs'] };
    const v = makeVariant(s, param, 100);
    // biome-ignore lint/suspicious/noExplicitAny: scenario JSON
    const sedfs = (v as any).domains.map((d: any) => d.vcpus[0].sedf);
    expect(sedfs.map((x: { periodMs: number }) => x.periodMs)).toEqual([100, 100, 100, 100]);
    expect(sedfs.map((x: { sliceMs: number }) => x.sliceMs)).toEqual([60, 33, 33, 33]);
    expect(parseScenario(v, 'variant').domains[0].vcpus[0].sedf?.sliceMs).toBe(60);
  });

  it('leaves the original as it was', () => {
    const s = table2();
    const before = JSON.stringify(s);
    const v = makeVariant(s, { name: 'windowSegments', path: 'domains.3.workloads.1.windowSegments' }, 120);
    // biome-ignore lint/suspicious/noExplicitAny: scenario JSON
    expect((v as any).domains[3].workloads[1].windowSegments).toBe(120);
    expect(JSON.stringify(s)).toBe(before);
    // biome-ignore lint/suspicious/noExplicitAny: scenario JSON
    (v as any).domains[1].workloads[0].rate = 1;
    expect(JSON.stringify(s)).toBe(before);
    // Nothing shared, nothing frozen: the original stays the caller's to change.
    expect(Object.isFrozen(s.domains[1])).toBe(false);
  });

  it('keeps a key named __proto__ an own key', () => {
    const raw = JSON.parse('{"name":"x","a":{"__proto__":1}}');
    const v = makeVariant(raw, { name: 'p', path: 'a.__proto__' }, 7) as { a: object };
    expect(Object.getOwnPropertyDescriptor(v.a, '__proto__')?.value).toBe(7);
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
  });

  it('refuses a path that matches nothing', () => {
    expect(() => makeVariant(table2(), { name: 'x', path: 'domains.*.workload.*.rate' }, 1)).toThrow(
      IsosimError,
    );
    expect(() => makeVariant(table2(), { name: 'x', path: 'domains.*.workload.*.rate' }, 1)).toThrow(
      /matches nothing/,
    );
  });

  it('gives valid, distinct names, cutting a long scenario name', () => {
    const names = [1, 2, 2.5, -2.5, 1e-7, 1e21].map((v) => variantName('table1-sedfdc', 'timeoutS', v));
    expect(names[2]).toBe('table1-sedfdc--timeouts-2p5');
    expect(new Set(names).size).toBe(names.length);
    const long = variantName('a'.repeat(64), 'abcdefghijklmnopqrstuvwx', -1.234567890123e-300);
    expect(long).toHaveLength(64);
    for (const n of [...names, long]) expect(n).toMatch(SCENARIO_NAME);
  });

  it("knows the scenario's own value, defaults included", () => {
    const raw = table2();
    raw.domains[1].workloads[0].timeoutS = 3;
    raw.domains[1].workloads[0].fileBytes = 10240;
    raw.domains[2].workloads[0].fileBytes = 102400;
    delete raw.domains[2].workloads[0].timeoutS; // the schema's default, 2
    const parsed = parseScenario(raw, 't2');
    expect(ownValues(raw, parsed, 'domains.1.workloads.0.timeoutS')).toEqual([3]);
    expect(isOwnValue(raw, parsed, 'domains.1.workloads.0.timeoutS', 3)).toBe(true);
    expect(isOwnValue(raw, parsed, 'domains.1.workloads.0.timeoutS', 5)).toBe(false);
    expect(ownValues(raw, parsed, 'domains.2.workloads.0.timeoutS')).toEqual([2]);
    expect(isOwnValue(raw, parsed, 'domains.2.workloads.0.timeoutS', 2)).toBe(true);
    // Unset in the file; the model's default is 64 KiB, 45 segments.
    expect(isOwnValue(raw, parsed, 'domains.3.workloads.1.windowSegments', 45)).toBe(true);
    expect(isOwnValue(raw, parsed, 'domains.3.workloads.1.windowSegments', 120)).toBe(false);
    // Not the same at every field: no value is the scenario's own.
    raw.domains[2].workloads[0].timeoutS = 7;
    expect(ownValues(raw, parsed, 'domains.*.workloads.*.fileBytes')).toEqual([10240, 102400]);
    expect(isOwnValue(raw, parsed, 'domains.*.workloads.*.fileBytes', 10240)).toBe(false);
    expect(ownValues(raw, parseScenario(raw, 't2'), 'domains.*.workloads.*.timeoutS')).toEqual([3, 7]);
  });
});

describe('switches', () => {
  it('sets a boolean field to true or false, named by the value', () => {
    const s = builtin('table1-sedfdc');
    const v = makeVariant(s, { name: 'spreadDebt', path: 'mechanisms.debt.spread' }, false);
    // biome-ignore lint/suspicious/noExplicitAny: scenario JSON
    expect((v as any).mechanisms.debt.spread).toBe(false);
    expect(v.name).toBe('table1-sedfdc--spreaddebt-false');
    expect(isOwnValue(s, parseScenario(s, 't'), 'mechanisms.debt.spread', true)).toBe(true);
  });
});
