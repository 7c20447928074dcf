import { describe, expect, it } from 'vitest';
import { driverNames, plotsFor } from './plots.ts';
import type { Metrics, SecondSample } from './runScenario.ts';

type Row = SecondSample['domains'][string];

/** A run of `seconds` whole seconds, every second's domains from `row(second)`. */
function run(seconds: number, row: (second: number) => Record<string, Row>): Metrics {
  const series = Array.from({ length: seconds }, (_, second) => ({ second, domains: row(second) }));
  return {
    scenario: 'synthetic',
    seed: 1,
    durationS: seconds,
    windowS: [1, seconds],
    events: 0,
    logHash: '',
    logRecords: 0,
    domains: Object.fromEntries(
      Object.keys(series[0].domains).map((n) => [
        n,
        {
          cpuPct: 0,
          iddPctTrue: 0,
          iddPctEstimated: 0,
          combinedPct: 0,
          ...(series[0].domains[n].iddByDriver === undefined
            ? {}
            : {
                iddByDriver: Object.fromEntries(
                  Object.keys(series[0].domains[n].iddByDriver ?? {}).map((d) => [
                    d,
                    { truePct: 0, estimatedPct: 0 },
                  ]),
                ),
              }),
        },
      ]),
    ),
    series,
  };
}

const cpu = (cpuPct: number, iddPctTrue = 0): Row => ({ cpuPct, iddPctTrue, iddPctEstimated: iddPctTrue });
/** The legend of a plot, in order. */
const legend = (svg: string) => [...svg.matchAll(/<text x="638" y="\d+">([^<]*)<\/text>/g)].map((m) => m[1]);
const lines = (svg: string) => (svg.match(/<polyline /g) ?? []).length;
const title = (svg: string) => /<title>([^<]*)<\/title>/.exec(svg)?.[1];

describe('plots of a host with one driver domain and no disks (the paper’s)', () => {
  const m = run(4, (s) => ({ 'Dom-0': cpu(20), 'Dom-1': { ...cpu(30, 10), webReqPerSec: 100 + s } }));

  it('draws what it always drew: CPU, the driver domain by guest, combined and web', () => {
    const plots = plotsFor(m, 'Dom-0');
    expect(Object.keys(plots)).toEqual(['cpu.svg', 'idd.svg', 'combined.svg', 'web.svg']);
    expect(driverNames(m, 'Dom-0')).toEqual(['Dom-0']);
    expect(title(plots['idd.svg'])).toBe('synthetic: Dom-0 CPU by the guest it served');
    expect(title(plots['combined.svg'])).toBe('synthetic: combined CPU (own + Dom-0 on its behalf)');
    expect(legend(plots['idd.svg'])).toEqual(['for Dom-1', 'for Dom-1 (XenMon)']);
  });
});

describe('plots of a host with disks and several driver domains', () => {
  /** Dom-1 reads (1000 + 100 s I/Os a second) through Dom-blk and serves web through Dom-0; Dom-2 computes. */
  const m = run(4, (s) => ({
    'Dom-0': cpu(5),
    'Dom-blk': cpu(8),
    'Dom-1': {
      ...cpu(20, 7),
      webReqPerSec: 50,
      diskIops: 1000 + 100 * s,
      iddByDriver: { 'Dom-0': 4, 'Dom-blk': 3 },
    },
    'Dom-2': { ...cpu(60), iddByDriver: { 'Dom-0': 0, 'Dom-blk': 0 } },
  }));
  const plots = plotsFor(m, 'Dom-0');

  it('knows the driver domains from the metrics, not from the name it is given', () => {
    expect(driverNames(m, 'Dom-0')).toEqual(['Dom-0', 'Dom-blk']);
    expect(driverNames(m, 'anything')).toEqual(['Dom-0', 'Dom-blk']);
    expect(Object.keys(plots)).toEqual([
      'cpu.svg',
      'idd.svg',
      'combined.svg',
      'web.svg',
      'disk.svg',
      'idd-by-driver.svg',
    ]);
  });

  it('plots disk I/Os per second for the guests with disk jobs only', () => {
    const svg = plots['disk.svg'];
    expect(title(svg)).toBe('synthetic: disk I/O');
    expect(legend(svg)).toEqual(['Dom-1']);
    expect(lines(svg)).toBe(1);
    // 1000 to 1300 I/Os a second: the axis ends at 2000, each point at its second's middle.
    expect(svg).toContain('>2000</text>');
    const points = /<polyline points="([^"]+)"/.exec(svg)?.[1].split(' ') ?? [];
    expect(points).toHaveLength(4);
    const ys = points.map((p) => Number(p.split(',')[1]));
    expect(ys[0]).toBeGreaterThan(ys[3]);
  });

  it("plots each driver domain's CPU by the guest it served, leaving out pairs that are zero throughout", () => {
    const svg = plots['idd-by-driver.svg'];
    expect(title(svg)).toBe('synthetic: each driver domain&apos;s CPU by the guest it served');
    expect(legend(svg)).toEqual(['Dom-1 in Dom-0', 'Dom-1 in Dom-blk']);
    expect(lines(svg)).toBe(2);
  });

  it('counts no driver domain as a guest in the IDD and combined plots', () => {
    expect(title(plots['idd.svg'])).toBe(
      'synthetic: driver domains&apos; CPU (together) by the guest they served',
    );
    expect(legend(plots['idd.svg'])).toEqual([
      'for Dom-1',
      'for Dom-1 (XenMon)',
      'for Dom-2',
      'for Dom-2 (XenMon)',
    ]);
    expect(legend(plots['combined.svg'])).toEqual(['Dom-1', 'Dom-2']);
    expect(title(plots['combined.svg'])).toBe('synthetic: combined CPU (own + driver domains on its behalf)');
  });

  it('escapes names in the new plots too', () => {
    const odd = run(2, () => ({
      'Dom-0': cpu(5),
      'blk<&>': cpu(5),
      'x"y': { ...cpu(10, 2), diskIops: 10, iddByDriver: { 'Dom-0': 1, 'blk<&>': 1 } },
    }));
    const p = plotsFor(odd, 'Dom-0');
    expect(legend(p['disk.svg'])).toEqual(['x&quot;y']);
    expect(legend(p['idd-by-driver.svg'])).toEqual(['x&quot;y in Dom-0', 'x&quot;y in blk&lt;&amp;&gt;']);
    for (const svg of Object.values(p)) expect(svg).not.toMatch(/blk<|x"y/);
  });
});

describe('plots of a host with disks and one driver domain', () => {
  it('plots disk I/O but no per-driver plot, and names the driver domain', () => {
    const m = run(2, () => ({
      'Dom-0': cpu(10),
      'Dom-1': { ...cpu(10, 5), diskIops: 300, iddByDriver: { 'Dom-0': 5 } },
    }));
    const plots = plotsFor(m, 'Dom-0');
    expect(Object.keys(plots)).toEqual(['cpu.svg', 'idd.svg', 'combined.svg', 'disk.svg']);
    expect(title(plots['idd.svg'])).toBe('synthetic: Dom-0 CPU by the guest it served');
  });
});

describe('the memory plots', () => {
  it('draws free memory and claims, and each domain with the launches past 12 lines summed', () => {
    const m = run(2, () => ({ 'Dom-0': { cpuPct: 0, iddPctTrue: 0, iddPctEstimated: 0 } }));
    expect(Object.keys(plotsFor(m, 'Dom-0'))).not.toContain('memory.svg');
    const guests = ['worst-case', 'cache'];
    const launches = Array.from({ length: 14 }, (_, k) => `vm-${k + 1}`);
    const tMs = [0, 1000, 2000];
    const withMemory = {
      ...m,
      memory: {
        policy: 'claim' as const,
        totalMiB: 1024,
        launches: { requested: 14, succeeded: 14, failed: 0, failedLate: 0, refused: 0, pending: 0 },
        wastedMiB: 0,
        builds: {},
        guests: Object.fromEntries(
          guests.map((g) => [
            g,
            {
              kind: 'sine' as const,
              steps: 0,
              failures: 0,
              failuresByReason: {},
              failedMiB: 0,
              blockedMs: 0,
            },
          ]),
        ),
        guestFailures: 0,
        guestBlockedMs: 0,
        utilisationPct: 0,
        ownedPeakMiB: 0,
        tmemPeakMiB: 0,
        tmemEvictedMiB: 0,
        sharedPeakMiB: 0,
        sampleMs: 1000,
        series: {
          tMs,
          freeMiB: [1000, 500, 100],
          claimsMiB: [0, 200, 0],
          tmemMiB: [0, 0, 0],
          sharedMiB: [0, 0, 0],
          // vm-k peaks at k MiB: with the two guests and the sum, the 9 highest are drawn.
          totMiB: Object.fromEntries([
            ...guests.map((g) => [g, [1, 1, 1]]),
            ...launches.map((l, k) => [l, [0, k + 1, 0]]),
          ]),
        },
      },
    };
    const plots = plotsFor(withMemory, 'Dom-0');
    expect(plots['memory.svg']).toContain('>claimed (outstanding)</text>');
    const svg = plots['memory-domains.svg'];
    const labels = [...svg.matchAll(/<text x="638" y="\d+">([^<]*)<\/text>/g)].map((x) => x[1]);
    expect(labels).toEqual([...guests, ...launches.slice(5), '5 other launches (sum)']);
    expect([...svg.matchAll(/<polyline /g)]).toHaveLength(12);
  });
});
