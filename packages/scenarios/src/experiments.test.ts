import { describe, expect, it } from 'vitest';
import {
  bandedRows,
  bandOf,
  claimLines,
  claims,
  experimentsMarkdown,
  inBand,
  type ParamInfo,
  type ScenarioRun,
  scenarioSection,
  summaryLines,
  tableRow,
} from './experiments.ts';
import { parseScenario } from './load.ts';
import type { Metrics } from './runScenario.ts';

/** A predicted scenario with one web guest; the paper says 100 req/s and 20% CPU. */
const scenario = parseScenario(
  {
    name: 'tiny',
    description: 'a web guest',
    host: { profile: 'p4-2.8', scheduler: 'sedf' },
    domains: [
      { name: 'Dom-0', role: 'idd', vcpus: [{ sedf: { sliceMs: 4, periodMs: 10 } }] },
      {
        name: 'Dom|1',
        vcpus: [{ sedf: { sliceMs: 6, periodMs: 10 } }],
        workloads: [{ kind: 'web', rate: 100, fileBytes: 10240, timeoutS: 2 }],
      },
    ],
    durationS: 1,
    paper: { source: 'a table', fitted: false, domains: { 'Dom|1': { webReqPerSec: 100, cpuPct: 20 } } },
  },
  'tiny.json',
);

/** Metrics with Dom|1 at `reqPerSec` and `cpuPct`. */
function metrics(reqPerSec: number, cpuPct: number): Metrics {
  return {
    scenario: 'tiny',
    seed: 1,
    durationS: 1,
    windowS: [0, 1],
    events: 0,
    logHash: '0123456789abcdef',
    logRecords: 0,
    domains: {
      'Dom|1': {
        cpuPct,
        iddPctTrue: 0,
        iddPctEstimated: 0,
        combinedPct: cpuPct,
        webReqPerSec: reqPerSec,
      },
    },
    series: [],
  };
}

const params: ParamInfo[] = [
  {
    name: 'timeoutS',
    path: 'domains.*.workloads.*.timeoutS',
    values: [1, 2, 5],
    source: 'httperf',
    own: [2],
  },
  { name: 'rate', path: 'domains.1.workloads.0.rate', values: [120], source: 'a | guess', own: [100] },
];

/** The run at 90 req/s and 18% CPU; timeoutS 1 and 5 give 80 and 95 req/s, rate 120 gives 25% CPU. */
const run: ScenarioRun = {
  s: scenario,
  m: metrics(90, 18),
  wallS: 1,
  bands: {
    params,
    variants: [
      { param: 'timeoutS', value: 1, metrics: metrics(80, 18) },
      { param: 'timeoutS', value: 5, metrics: metrics(95, 19) },
      { param: 'rate', value: 120, metrics: metrics(110, 25) },
    ],
  },
};

describe('bands', () => {
  it('is the range over the run and all its variants, and per parameter over its own', () => {
    const [req, cpu] = bandedRows(run);
    expect(req).toMatchObject({ metric: 'web throughput (req/s)', sim: 90, band: { lo: 80, hi: 110 } });
    expect(req.byParam).toEqual({ timeoutS: { lo: 80, hi: 95 }, rate: { lo: 90, hi: 110 } });
    expect(cpu).toMatchObject({ metric: 'CPU %', sim: 18, band: { lo: 18, hi: 25 } });
    expect(cpu.byParam.timeoutS).toEqual({ lo: 18, hi: 19 });
  });

  it('is the number alone when no variant ran', () => {
    const [req] = bandedRows({ ...run, bands: undefined });
    expect(req.band).toEqual({ lo: 90, hi: 90 });
    expect(req.byParam).toEqual({});
  });

  it('holds its ends', () => {
    const b = bandOf([3, 1, 2]);
    expect(b).toEqual({ lo: 1, hi: 3 });
    expect([0.99, 1, 3, 3.01].map((x) => inBand(x, b))).toEqual([false, true, true, false]);
  });
});

describe('EXPERIMENTS.md rows', () => {
  it('shows the band and whether the paper lies in it', () => {
    const [req, cpu] = bandedRows(run);
    expect(tableRow(req, true)).toBe(
      '| Dom\\|1 | web throughput (req/s) | 100 | 90.00 | -10.0% | [80.00, 110.00] | yes |',
    );
    expect(tableRow(cpu, true)).toBe('| Dom\\|1 | CPU % | 20 | 18.00 | -10.0% | [18.00, 25.00] | yes |');
    expect(tableRow({ ...cpu, paper: 30 }, true)).toMatch(/-40\.0% ⚠ \| \[18\.00, 25\.00\] \| no \|$/);
    expect(tableRow(req, false)).toBe('| Dom\\|1 | web throughput (req/s) | 100 | 90.00 | -10.0% |');
  });

  it("lists the parameters, the scenario's own value in bold, and each one's range", () => {
    const md = scenarioSection(run, bandedRows(run)).join('\n');
    expect(md).toContain('| domain | metric | paper | simulated | error | band | paper in band |');
    expect(md).toContain('- `timeoutS` = 1, **2**, 5 (`domains.*.workloads.*.timeoutS`): httperf');
    expect(md).toContain(
      "- `rate` = 120 (the scenario's own: 100) (`domains.1.workloads.0.rate`): a \\| guess",
    );
    expect(md).toContain('| Dom\\|1 | web throughput (req/s) | 80.00–95.00 | 90.00–110.00 |');
    expect(md).toContain('| Dom\\|1 | CPU % | 18.00–19.00 | 18.00–25.00 |');
    expect(md).toContain('3 variant run(s) in `tiny/bands/`');
  });

  it('counts the predicted numbers within ±20%, and of the rest those inside their band', () => {
    const [req, cpu] = bandedRows(run);
    const far = { ...cpu, paper: 24 }; // 18 is 25% below, 24 inside [18, 25]
    const farOut = { ...req, paper: 200 }; // outside [80, 110]
    const fitted = { ...req, fitted: true, paper: 1 };
    expect(summaryLines([req, far, farOut, fitted], true)).toEqual([
      "1 of 3 predicted numbers are within ±20% of the paper's.",
      "Of the other 2, 1 lie inside their band (the range over the unstated parameters' plausible values).",
    ]);
    expect(summaryLines([req, far], false)).toHaveLength(1);
  });

  it('writes no band column when the bands did not run', () => {
    const md = experimentsMarkdown([{ ...run, bands: undefined }], 3, 2, false, ['## Extra', '']);
    expect(md).toContain('| domain | metric | paper | simulated | error |\n');
    expect(md).not.toContain('band');
    expect(md.indexOf('## Extra')).toBeLessThan(md.indexOf('## Summary'));
  });
});

describe("the paper's qualitative claims", () => {
  /** A run named `name` whose domains have the given figures. */
  const named = (name: string, domains: Metrics['domains']): ScenarioRun => ({
    s: { ...scenario, name },
    m: { ...metrics(0, 0), scenario: name, domains },
    wallS: 0,
  });
  const dom = (x: Partial<Metrics['domains'][string]>) => ({
    cpuPct: 0,
    iddPctTrue: 0,
    iddPctEstimated: 0,
    combinedPct: 0,
    ...x,
  });

  it('checks Table 2 against the simulated baseline, Table 1 and Fig. 6 against their targets', () => {
    const runs = [
      named('table2-baseline', { 'Dom-1': dom({ webReqPerSec: 300 }), 'Dom-2': dom({ webReqPerSec: 200 }) }),
      named('table2-without-shareguard', {
        'Dom-1': dom({ webReqPerSec: 210 }),
        'Dom-2': dom({ webReqPerSec: 150 }),
        'Dom-3': dom({ iddPctEstimated: 20 }),
      }),
      named('table2-with-shareguard', {
        'Dom-1': dom({ webReqPerSec: 290 }),
        'Dom-2': dom({ webReqPerSec: 170 }),
        'Dom-3': dom({ iddPctEstimated: 5 }),
      }),
      named('table1-sedfdc', { 'Dom-1': dom({ combinedPct: 22.5 }), 'Dom-2': dom({ combinedPct: 21.2 }) }),
      named('fig6-sedf', { 'Dom-1': dom({ combinedPct: 94 }) }),
    ];
    const cs = claims(runs);
    // 210/300 = 70% and 150/200 = 75%, Dom-3 20%: holds. With ShareGuard Dom-2 is at 85%: does not.
    expect(cs.map((c) => c.holds)).toEqual([true, false, true, undefined]);
    expect(cs[1].measured).toBe('Dom-1 96.7%, Dom-2 85.0% of baseline; Dom-3 5.0% of Dom-0');
    const md = claimLines(cs).join('\n');
    expect(md).toContain('**does not hold**');
    expect(md).toContain('not run');
  });
});
