import { describe, expect, it } from 'vitest';
import {
  BEYOND_PAIRS,
  bandedRows,
  bandOf,
  beyondLines,
  claimLines,
  claims,
  containersComparison,
  diskComparison,
  experimentsMarkdown,
  iddsComparison,
  inBand,
  type ParamInfo,
  paperMetrics,
  paperNumbersOf,
  rows,
  type ScenarioRun,
  scenarioSection,
  summaryLines,
  tableRow,
} from './experiments.ts';
import { loadScenario, parseScenario } from './load.ts';
import type { DiskMetrics, DomainMetrics, Metrics } from './runScenario.ts';
import type { Scenario } from './schema.ts';
import { getPath } from './sweep/paths.ts';

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

describe('beyond the paper: disks and several driver domains', () => {
  const dom = (x: Partial<DomainMetrics>): DomainMetrics => ({
    cpuPct: 0,
    iddPctTrue: 0,
    iddPctEstimated: 0,
    combinedPct: 0,
    ...x,
  });
  const disk = (x: Partial<DiskMetrics>): DiskMetrics => ({
    readIops: 0,
    writeIops: 0,
    readMBps: 0,
    writeMBps: 0,
    meanLatencyMs: 0,
    maxLatencyMs: 0,
    requestsIssued: 0,
    requestsCompleted: 0,
    ...x,
  });
  /** In driver domain `n`: `t`% true and `e`% estimated; Dom-0 does nothing. */
  const inIdd = (n: string, t: number, e: number) => ({
    'Dom-0': { truePct: 0, estimatedPct: 0 },
    [n]: { truePct: t, estimatedPct: e },
  });
  /** The built-in `name` (the real file) with made-up metrics. */
  const built = (name: string, domains: Metrics['domains']): ScenarioRun => ({
    s: loadScenario(name),
    m: { ...metrics(0, 0), scenario: name, windowS: [10, 25], logHash: `hash-${name}`, domains },
    wallS: 2,
  });
  const disks = [
    built('disk-interference', {
      'Dom-1': dom({
        iddByDriver: inIdd('Dom-blk', 5, 5.1),
        disk: disk({ readIops: 1000, readMBps: 4.096, meanLatencyMs: 0.8, maxLatencyMs: 6 }),
      }),
      'Dom-2': dom({
        iddByDriver: inIdd('Dom-blk', 24, 24.5),
        disk: disk({ writeIops: 12000, writeMBps: 49.152, meanLatencyMs: 2.5, maxLatencyMs: 7 }),
      }),
    }),
    built('disk-interference-shareguard', {
      'Dom-1': dom({
        iddByDriver: inIdd('Dom-blk', 15, 16),
        disk: disk({ readIops: 3000, readMBps: 12.288, meanLatencyMs: 0.4, maxLatencyMs: 6.5 }),
      }),
      'Dom-2': dom({
        iddByDriver: inIdd('Dom-blk', 11, 10.5),
        disk: disk({ writeIops: 6000, writeMBps: 24.576, meanLatencyMs: 4.5, maxLatencyMs: 500 }),
      }),
    }),
  ];
  const idds = [
    built('two-idds', {
      'Dom-1': dom({
        cpuPct: 15.75,
        combinedPct: 21.79,
        iddByDriver: {
          'Dom-0': { truePct: 3.75, estimatedPct: 3.9 },
          'Dom-blk': { truePct: 2.29, estimatedPct: 2.35 },
        },
      }),
      'Dom-2': dom({ cpuPct: 78, combinedPct: 78, iddByDriver: inIdd('Dom-blk', 0, 0) }),
    }),
    built('two-idds-net-only', {
      'Dom-1': dom({
        cpuPct: 18.09,
        combinedPct: 24.86,
        iddByDriver: {
          'Dom-0': { truePct: 3.75, estimatedPct: 3.91 },
          'Dom-blk': { truePct: 3.02, estimatedPct: 3.15 },
        },
      }),
    }),
  ];

  it('has no paper numbers on the built-ins it compares', () => {
    for (const name of [...BEYOND_PAIRS.disk, ...BEYOND_PAIRS.idds])
      expect(loadScenario(name).paper).toBeUndefined();
  });

  it("sets each guest's I/O and its CPU in the block driver domain without and with ShareGuard side by side", () => {
    const md = diskComparison(disks[0], disks[1]).join('\n');
    expect(md).toContain('limiting Dom-2 to 1% of a CPU in Dom-blk');
    expect(md).toContain('| Dom-1 | reads | without | 1000 | 4.10 | 0.80 | 6.00 | Dom-blk | 5.00 | 5.10 |');
    expect(md).toContain('| Dom-1 | reads | with | 3000 | 12.29 | 0.40 | 6.50 | Dom-blk | 15.00 | 16.00 |');
    expect(md).toContain(
      '| Dom-2 | writes | with | 6000 | 24.58 | 4.50 | 500.00 | Dom-blk | 11.00 | 10.50 |',
    );
    // The sentence is computed from the numbers: directions, ratios and the limit.
    expect(md).toContain('Dom-1 (reads) sees its IOPS rise from 1000 to 3000 (×3.00)');
    expect(md).toContain('its mean latency fall from 0.80 to 0.40 ms (max 6.00 → 6.50 ms)');
    expect(md).toContain('Dom-2 (writes) sees its IOPS fall from 12000 to 6000 (×0.50)');
    expect(md).toContain(
      'its CPU in Dom-blk fall from 24.00% to 11.00% (XenMon: 24.50% → 10.50%, against its limit of 1%)',
    );
    expect(md).not.toMatch(/paper|error/);
    // The same largest latency in both runs is said once.
    const same = structuredClone(disks[1]);
    const d1 = same.m.domains['Dom-1'].disk as DiskMetrics;
    d1.maxLatencyMs = 6;
    expect(diskComparison(disks[0], same).join('\n')).toContain('(max 6.00 ms in both)');
  });

  it("gives the guest's own CPU, each driver domain's for it and combined against its share", () => {
    const md = iddsComparison(idds[0], idds[1]).join('\n');
    expect(md).toContain(
      '| guest | SEDF-DC charges it for | own CPU % | Dom-0 for it % | XenMon % | Dom-blk for it % | XenMon % | combined % | share % | combined − share |',
    );
    expect(md).toContain(
      '| Dom-1 | Dom-0 and Dom-blk (`two-idds`) | 15.75 | 3.75 | 3.90 | 2.29 | 2.35 | 21.79 | 22.00 | −0.21 |',
    );
    expect(md).toContain(
      '| Dom-1 | Dom-0 only (`two-idds-net-only`) | 18.09 | 3.75 | 3.91 | 3.02 | 3.15 | 24.86 | 22.00 | +2.86 |',
    );
    // Dom-2 is served by no driver domain: no row.
    expect(md).not.toContain('| Dom-2 |');
    expect(md).toContain('its combined CPU is 21.79%, 0.21 points below its 22% share;');
    expect(md).toContain(
      'its combined CPU is 24.86%, 2.86 points above its 22% share: the 3.02% Dom-blk spends for it goes uncharged.',
    );
  });

  it('sets each client class of the container guest side by side over the three kernels', () => {
    const cls = (premium: number, best: number, cpu?: [number, number], drops?: [number, number]) => ({
      'Dom-1': dom({
        webByClass: {
          premium: {
            webReqPerSec: premium,
            webFailedPerSec: 0,
            ...(cpu === undefined ? {} : { cpuPctRun: cpu[0], lrpDrops: drops?.[0] ?? 0 }),
          },
          besteffort: {
            webReqPerSec: best,
            webFailedPerSec: 1,
            ...(cpu === undefined ? {} : { cpuPctRun: cpu[1], lrpDrops: drops?.[1] ?? 0 }),
          },
        },
      }),
    });
    const runs = [
      built('containers-flood-off', cls(0, 195.1)),
      built('containers-flood-eager', cls(156.9, 0, [10, 17.5])),
      built('containers-flood', cls(300, 3.5, [20, 2], [0, 269869])),
    ];
    const md = containersComparison(runs).join('\n');
    expect(md).toContain('| Dom-1 | premium | 80 | stock | 0.00 | 0.00 | - | - |');
    expect(md).toContain('| Dom-1 | besteffort | 20 | containers + LRP | 3.50 | 1.00 | 2.00 | 269869 |');
    expect(md).toContain(
      "Dom-1's premium clients get 0.00 replies/s with a stock kernel, 156.90 replies/s with containers and 300.00 replies/s with containers and LRP.",
    );
    expect(md).not.toMatch(/paper|error/);
  });

  it('comes after the summary and leaves the paper sections as they were', () => {
    const paperOnly = experimentsMarkdown([run], 3, 2, true);
    const md = experimentsMarkdown([...disks, run, ...idds], 3, 2, true);
    const [head, beyond] = md.split('## Beyond the paper\n');
    expect(head.replace('(1 scenarios and 4 beyond the paper,', '(1 scenarios,')).toBe(paperOnly);
    expect(md).toContain('(1 scenarios and 4 beyond the paper, 3 s');
    expect(beyond).toContain(
      '- `disk-interference`: seed 1, 1 s, window [10, 25] s, log hash `hash-disk-interference`, 2.0 s wall.',
    );
    expect(beyond.indexOf('### disk-interference vs')).toBeLessThan(beyond.indexOf('### two-idds vs'));
    expect(experimentsMarkdown([run], 3, 2, true)).not.toContain('Beyond the paper');
  });

  it('says which run is missing instead of comparing', () => {
    const md = beyondLines([idds[0]]).join('\n');
    expect(md).toContain('Not compared: `two-idds-net-only` did not run.');
    expect(md).not.toContain('### ');
  });
});

describe("the numbers a band sweep records (isosim paper's bands as sweeps)", () => {
  it("are the paper's numbers per domain, as metric paths a sweep file takes (a name with a | quoted)", () => {
    expect(paperMetrics(scenario)).toEqual([
      { domain: 'Dom|1', field: 'webReqPerSec', path: 'domains["Dom|1"].webReqPerSec' },
      { domain: 'Dom|1', field: 'cpuPct', path: 'domains["Dom|1"].cpuPct' },
    ]);
    const t2 = loadScenario('table2-with-shareguard');
    const paths = paperMetrics(t2).map((m) => m.path);
    expect(paths).toEqual([
      'domains.Dom-1.webReqPerSec',
      'domains.Dom-1.iddPctEstimated',
      'domains.Dom-2.webReqPerSec',
      'domains.Dom-2.iddPctEstimated',
      'domains.Dom-3.iddPctEstimated',
    ]);
    for (const p of paths) expect(getPath(metricsOfAll(t2), p)).toHaveLength(1);
  });

  it("give the same rows, read back from a sweep's record, as the run's whole metrics", () => {
    const m = metrics(87.5, 21.25);
    const record = Object.fromEntries(
      paperMetrics(scenario).map((x) => [x.path, getPath(m, x.path)[0] as number]),
    );
    expect(rows(scenario, paperNumbersOf(scenario, record))).toEqual(rows(scenario, m));
    // A metric the run has no value for (null) is left out, as an absent web rate is.
    const none = paperNumbersOf(scenario, { ...record, 'domains["Dom|1"].webReqPerSec': null });
    expect(rows(scenario, none).find((r) => r.metric.startsWith('web'))?.sim).toBe(0);
  });
});

/** Metrics with every domain of `s` at made-up numbers (for the paths' shape only). */
function metricsOfAll(s: Scenario): Metrics {
  const d = { cpuPct: 1, iddPctTrue: 2, iddPctEstimated: 3, combinedPct: 4, webReqPerSec: 5 };
  return { ...metrics(0, 0), domains: Object.fromEntries(s.domains.map((x) => [x.name, d])) };
}
