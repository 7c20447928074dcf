import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import {
  curveOf,
  fixedRateScenario,
  type GoodputPoint,
  goodputMarkdown,
  goodputSvg,
  goodputText,
  parseRates,
  peakOf,
} from './goodput.ts';
import { loadScenario, parseScenario } from './load.ts';
import { xyChart } from './plots.ts';

/** Whether every tag of `svg` is closed in order, and no text holds a bare `<` or `&`. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w-]*)[^<>]*?(\/?)>/g)) {
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return false;
    } else if (m[3] !== '/') stack.push(m[2]);
  }
  const text = svg.replace(/<[^<>]*>/g, '');
  return stack.length === 0 && !/[<>]/.test(text) && !/&(?!(amp|lt|gt|quot|apos);)/.test(text);
}

describe('--rates', () => {
  it('takes FROM:TO:STEP with TO included, and a comma list', () => {
    expect(parseRates('150:1500:150')).toEqual([150, 300, 450, 600, 750, 900, 1050, 1200, 1350, 1500]);
    expect(parseRates('100:350:100')).toEqual([100, 200, 300]);
    expect(parseRates('0.1:0.3:0.1')).toEqual([0.1, 0.2, 0.3]);
    expect(parseRates('900, 300,600.5')).toEqual([300, 600.5, 900]);
    expect(parseRates('42')).toEqual([42]);
  });

  it('refuses what is not a rate, a range backwards, repeats and too many', () => {
    for (const bad of [
      '',
      'abc',
      '0',
      '-5',
      '1e3',
      '150:1500',
      '150:1500:0',
      '1500:150:150',
      '1,2,1',
      '1:1000:1',
    ]) {
      expect(() => parseRates(bad), bad).toThrow(IsosimError);
    }
    expect(() => parseRates('1500:150:150')).toThrow(/--rates: '1500:150:150' ends below where it starts/);
  });
});

describe('the goodput sweep', () => {
  it('turns the Fig. 6 host into one web workload at a fixed rate, a valid scenario', () => {
    const base = loadScenario('fig6-sedfdc');
    const s = parseScenario(fixedRateScenario(base, 1050, 4), 'sweep');
    expect(s.name).toBe('fig6-sedfdc-at-1050');
    const web = base.domains[1].workloads[0];
    expect(s.domains[1].workloads).toEqual([
      expect.objectContaining({
        kind: 'web',
        rate: 1050,
        startS: 0,
        fileBytes: (web as { fileBytes: number }).fileBytes,
      }),
    ]);
    expect(s.mechanisms).toEqual(base.mechanisms);
    expect(s.window).toEqual({ startS: 2, endS: 4 });
    expect(s.paper).toBeUndefined();
    expect(s.unstated).toBeUndefined();
  });

  it('finds the peak and the least goodput beyond it', () => {
    const pts = (g: number[]): GoodputPoint[] =>
      g.map((goodput, i) => ({ rate: 100 * (i + 1), goodput, failedPerSec: 0, combinedPct: 0 }));
    expect(peakOf(pts([100, 200, 250, 240, 230]))).toEqual({
      rate: 300,
      goodput: 250,
      beyond: { rate: 500, goodput: 230, fraction: 0.92 },
    });
    expect(peakOf(pts([100, 200, 300]))).toEqual({ rate: 300, goodput: 300 });
    // A tie: the lowest rate that reaches it is the peak.
    expect(peakOf(pts([100, 200, 200, 50])).beyond).toEqual({ rate: 400, goodput: 50, fraction: 0.25 });
  });
});

describe('the goodput report', () => {
  it('tables each rate per scheduler and judges each curve against 90% of its peak', () => {
    const base = loadScenario('fig6-sedf');
    const m = (goodput: number, failed: number) =>
      ({
        domains: { 'Dom-1': { webReqPerSec: goodput, webFailedPerSec: failed, combinedPct: 60 } },
      }) as never;
    const result = {
      durationS: 20,
      windowS: [10, 20] as const,
      curves: [
        curveOf('SEDF', base, [300, 600, 900], [m(300, 0), m(580, 20), m(560, 340)]),
        curveOf('SEDF-DC', base, [300, 600, 900], [m(300, 0), m(500, 100), m(100, 800)]),
      ],
    };
    const text = goodputText(result);
    expect(text).toMatch(/^\s+900\s+560\.0\s+340\.0\s+60\.0\s+100\.0\s+800\.0\s+60\.0$/m);
    expect(text).toContain(
      'SEDF: peak 580.0 req/s at 600 req/s offered; beyond it at least 560.0 req/s (at 900), 96.6% of the peak: no collapse',
    );
    expect(text).toContain(
      'SEDF-DC: peak 500.0 req/s at 600 req/s offered; beyond it at least 100.0 req/s (at 900), 20.0% of the peak: COLLAPSE',
    );
    const md = goodputMarkdown(result, 'goodput/goodput.svg').join('\n');
    expect(md).toContain('## No goodput collapse');
    expect(md).toContain('| 900 | 560.0 | 340.0 | 60.0 | 100.0 | 800.0 | 60.0 |');
    expect(md).toContain('`goodput/goodput.svg` beside this file');
    expect(md).toContain('[docs/img/goodput.svg](docs/img/goodput.svg)');
  });
});

describe('the XY chart', () => {
  it('is well-formed SVG with its labels escaped and the reference line clipped', () => {
    const svg = xyChart('a <b> & "c"', 'x & y', 'replies/s', [
      {
        label: 'S<E>DF & co',
        points: [
          [150, 150],
          [300, 280],
          [450, 270],
        ],
        marks: true,
      },
      {
        label: 'offered',
        points: [
          [0, 0],
          [450, 450],
        ],
        dashed: true,
        reference: true,
      },
    ]);
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain('S&lt;E&gt;DF &amp; co');
    expect(svg).toContain('<title>a &lt;b&gt; &amp; &quot;c&quot;</title>');
    expect(svg).toContain('clip-path="url(#plot-area)"');
    expect((svg.match(/<circle /g) ?? []).length).toBe(3);
    // The y axis fits the data (90: up to 100), not the reference line (1000).
    const low = xyChart('t', 'x', 'y', [
      { label: 'a', points: [[1000, 90]] },
      {
        label: 'ref',
        points: [
          [0, 0],
          [1000, 1000],
        ],
        reference: true,
      },
    ]);
    expect(low).toContain('text-anchor="end">100</text>');
    expect(low).not.toContain('text-anchor="end">1000</text>');
  });

  it('draws the goodput result', () => {
    const curve = (label: string, goodput: number[]) => ({
      label,
      scenario: 'fig6',
      guest: 'Dom-1',
      points: goodput.map((g, i) => ({ rate: 300 * (i + 1), goodput: g, failedPerSec: 0, combinedPct: 50 })),
      peak: { rate: 600, goodput: 550 },
    });
    const svg = goodputSvg({
      durationS: 20,
      windowS: [10, 20],
      curves: [curve('SEDF', [300, 550, 540]), curve('SEDF-DC', [300, 500, 490])],
    });
    expect(wellFormed(svg)).toBe(true);
    expect((svg.match(/<polyline /g) ?? []).length).toBe(3);
    expect(svg).toContain('offered (y = x)');
  });
});
