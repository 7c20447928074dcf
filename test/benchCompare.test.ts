/**
 * The regression guard of `pnpm bench --compare` (bench/compare.ts) and the bench's
 * command line (bench/options.ts): parsing saved outputs, which way each unit should
 * move, ratios and verdicts at the threshold. Pure functions; nothing here is timed.
 */
import { describe, expect, it } from 'vitest';
import {
  compareFigure,
  direction,
  type Figure,
  figureLine,
  parseFigures,
  regressions,
  summaryTable,
} from '../bench/compare.ts';
import { DEFAULT_GROUPS, GROUPS, parseOptions } from '../bench/options.ts';

const fig = (name: string, value: number, unit: string): Figure => ({ name, value, unit });

describe('parseFigures', () => {
  it('reads JSON lines and skips what is not a figure', () => {
    const text = [
      '> isosim@0.1.0 bench /work/main',
      '{"name":"kernel.eventsPerSec","value":8100000,"unit":"events/s"}',
      '',
      '{"name":"cli.startMs","value":120,"unit":"ms","baseline":130,"ratio":0.923,"verdict":"ok"}',
      '{"name":"broken", "value": ',
      '{"name":"noValue","unit":"ms"}',
      '{"name":"text","value":"12","unit":"ms"}',
      '[1, 2]',
      'figure   unit   baseline   now',
    ].join('\n');
    const figures = parseFigures(text);
    expect([...figures.keys()]).toEqual(['kernel.eventsPerSec', 'cli.startMs']);
    expect(figures.get('cli.startMs')).toEqual(fig('cli.startMs', 120, 'ms'));
  });

  it('keeps the later of a figure given twice', () => {
    const text = '{"name":"a","value":1,"unit":"s"}\n{"name":"a","value":2,"unit":"s"}\n';
    expect(parseFigures(text).get('a')?.value).toBe(2);
  });

  it('reads CRLF files and an empty file', () => {
    expect(parseFigures('{"name":"a","value":1,"unit":"s"}\r\n').get('a')?.value).toBe(1);
    expect(parseFigures('').size).toBe(0);
  });
});

describe('direction', () => {
  it('wants rates, speedups and ratios higher', () => {
    for (const u of ['events/s', 'records/s', 'simulated s / wall s', 'ratio']) {
      expect(direction(u), u).toBe('higher');
    }
  });

  it('wants times and sizes lower', () => {
    for (const u of ['ms', 's', 'us', 'MB', 'KB', 'bytes']) expect(direction(u), u).toBe('lower');
  });

  it('has no preference for counts', () => {
    for (const u of ['records', 'worlds', 'packets/batch']) expect(direction(u), u).toBe('none');
  });
});

describe('compareFigure', () => {
  it('gives the ratio of the value to the baseline', () => {
    const c = compareFigure(fig('x', 15, 'events/s'), fig('x', 10, 'events/s'), 10);
    expect(c.ratio).toBeCloseTo(1.5, 12);
    expect(c.baseline).toBe(10);
  });

  it('flags a rate that fell by more than the threshold, not one that fell by less', () => {
    const base = fig('r', 100, 'events/s');
    expect(compareFigure(fig('r', 89, 'events/s'), base, 10).verdict).toBe('worse');
    expect(compareFigure(fig('r', 90, 'events/s'), base, 10).verdict).toBe('ok');
    expect(compareFigure(fig('r', 95, 'events/s'), base, 10).verdict).toBe('ok');
    expect(compareFigure(fig('r', 110, 'events/s'), base, 10).verdict).toBe('ok');
    expect(compareFigure(fig('r', 111, 'events/s'), base, 10).verdict).toBe('better');
  });

  it('flags a time that grew by more than the threshold', () => {
    const base = fig('t', 100, 'ms');
    expect(compareFigure(fig('t', 111, 'ms'), base, 10).verdict).toBe('worse');
    expect(compareFigure(fig('t', 110, 'ms'), base, 10).verdict).toBe('ok');
    expect(compareFigure(fig('t', 89, 'ms'), base, 10).verdict).toBe('better');
  });

  it('holds the threshold given', () => {
    const base = fig('m', 200, 'MB');
    expect(compareFigure(fig('m', 220, 'MB'), base, 5).verdict).toBe('worse');
    expect(compareFigure(fig('m', 220, 'MB'), base, 25).verdict).toBe('ok');
  });

  it('never flags a count', () => {
    const c = compareFigure(fig('n', 1, 'records'), fig('n', 100, 'records'), 10);
    expect(c.verdict).toBe('info');
    expect(c.ratio).toBeCloseTo(0.01, 12);
  });

  it('says new, unit changed, or info when there is nothing to divide by', () => {
    const cases: [Figure | undefined, string][] = [
      [undefined, 'new'],
      [fig('a', 1, 'ms'), 'unit changed'],
      [fig('a', 0, 's'), 'info'],
    ];
    for (const [base, verdict] of cases) {
      const c = compareFigure(fig('a', 1, 's'), base, 10);
      expect(c.verdict).toBe(verdict);
      expect(c.ratio).toBeUndefined();
    }
  });
});

describe('the report', () => {
  const base = new Map([
    ['k', fig('k', 100, 'events/s')],
    ['t', fig('t', 100, 'ms')],
    ['gone', fig('gone', 1, 's')],
  ]);
  const rows = [
    compareFigure(fig('k', 80, 'events/s'), base.get('k'), 10),
    compareFigure(fig('t', 102, 'ms'), base.get('t'), 10),
    compareFigure(fig('n', 3, 'MB'), base.get('n'), 10),
  ];

  it('finds the regressions', () => {
    expect(regressions(rows).map((r) => r.figure.name)).toEqual(['k']);
  });

  it('adds baseline, ratio and verdict to the JSON line, which still parses as the figure', () => {
    const line = figureLine(rows[0].figure, rows[0]);
    expect(JSON.parse(line)).toEqual({
      name: 'k',
      value: 80,
      unit: 'events/s',
      baseline: 100,
      ratio: 0.8,
      verdict: 'worse',
    });
    expect(parseFigures(line).get('k')).toEqual(fig('k', 80, 'events/s'));
    expect(figureLine(rows[0].figure)).toBe('{"name":"k","value":80,"unit":"events/s"}');
  });

  it('prints a row per figure, the regressions and the figures not measured', () => {
    const table = summaryTable(rows, 10, 1).split('\n');
    expect(table[0]).toMatch(/^figure +unit +baseline +now +ratio +verdict$/);
    expect(table[1]).toMatch(/^k +events\/s +100 +80 +0\.800 +WORSE -20\.0%$/);
    expect(table[2]).toMatch(/^t +ms +100 +102 +1\.020 +ok \+2\.0%$/);
    expect(table[3]).toMatch(/^n +MB +- +3 +- +new$/);
    expect(table).toContain('1 of 3 figures worse than the baseline by more than 10%: k');
    expect(table).toContain('1 baseline figures not measured in this run');
  });

  it('says so when nothing regressed', () => {
    expect(summaryTable(rows.slice(1), 10)).toContain('no figure worse than the baseline by more than 10%');
  });
});

describe('parseOptions', () => {
  it('runs every group but paper-full by default', () => {
    const o = parseOptions([]);
    expect(o.groups).toEqual(DEFAULT_GROUPS);
    expect(o.groups).not.toContain('paper-full');
    expect(o).toMatchObject({ threshold: 10, fail: false, help: false, save: undefined, compare: undefined });
  });

  it('runs the groups named, in the bench order, skipping --', () => {
    expect(parseOptions(['--', 'replay', 'kernel', 'replay']).groups).toEqual(['kernel', 'replay']);
    expect(parseOptions(['paper-full']).groups).toEqual(['paper-full']);
    expect(GROUPS.indexOf('kernel')).toBeLessThan(GROUPS.indexOf('replay'));
  });

  it('reads --save, --compare, --threshold and --fail', () => {
    const o = parseOptions([
      'sim',
      '--compare',
      'base.jsonl',
      '--save',
      'new.jsonl',
      '--threshold',
      '15%',
      '--fail',
    ]);
    expect(o).toMatchObject({
      groups: ['sim'],
      compare: 'base.jsonl',
      save: 'new.jsonl',
      threshold: 15,
      fail: true,
    });
  });

  it('rejects unknown groups, missing values and bad thresholds', () => {
    expect(() => parseOptions(['kernal'])).toThrow(/unknown group or option 'kernal'/);
    expect(() => parseOptions(['--compare'])).toThrow(/--compare needs a value/);
    expect(() => parseOptions(['--save', '--fail'])).toThrow(/--save needs a value/);
    expect(() => parseOptions(['--threshold', '0'])).toThrow(/not a percent above 0/);
    expect(() => parseOptions(['--threshold', 'ten'])).toThrow(/not a percent above 0/);
  });
});
