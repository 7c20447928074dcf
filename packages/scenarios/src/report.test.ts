import { describe, expect, it } from 'vitest';
import { loadScenario } from './load.ts';
import { formatReport } from './report.ts';
import type { DomainMetrics, Metrics } from './runScenario.ts';

const dom = (x: Partial<DomainMetrics>): DomainMetrics => ({
  cpuPct: 0,
  iddPctTrue: 0,
  iddPctEstimated: 0,
  combinedPct: 0,
  ...x,
});

/** A run of the built-in `name` (the real file) with made-up figures. */
function report(name: string, domains: Metrics['domains']): string {
  const m: Metrics = {
    scenario: name,
    seed: 1,
    durationS: 30,
    windowS: [10, 25],
    events: 0,
    logHash: '0123456789abcdef',
    logRecords: 0,
    domains,
    series: [],
  };
  return formatReport(loadScenario(name), m);
}

describe('the table isosim run prints, beyond the paper', () => {
  it("adds each guest's disk I/O and its IDD time in each driver domain", () => {
    const idd = (blk: number) => ({
      'Dom-0': { truePct: 0, estimatedPct: 0 },
      'Dom-blk': { truePct: blk, estimatedPct: blk + 0.5 },
    });
    const disk = { meanLatencyMs: 0.65, maxLatencyMs: 6.1142, requestsIssued: 9, requestsCompleted: 9 };
    const text = report('disk-interference', {
      'Dom-0': dom({}),
      'Dom-blk': dom({ cpuPct: 30 }),
      'Dom-1': dom({
        iddByDriver: idd(5),
        disk: { readIops: 2800, writeIops: 0, readMBps: 11.469, writeMBps: 0, ...disk },
      }),
      'Dom-2': dom({ cpuPct: 17.9, iddByDriver: idd(24.5) }),
    });
    const lines = text.split('\n');
    const at = lines.indexOf('disk   reads/s  writes/s  read MB/s  write MB/s  mean ms  max ms');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('Dom-1   2800.0       0.0      11.47        0.00    0.650   6.114');
    // Dom-2 has no disk figures: no row.
    expect(lines[at + 2]).toBe('');
    expect(lines.slice(at + 3)).toEqual([
      "IDD % by driver domain: XenMon's estimate (true)",
      'domain      Dom-0      Dom-blk',
      'Dom-1   0.0 (0.0)    5.5 (5.0)',
      'Dom-2   0.0 (0.0)  25.0 (24.5)',
    ]);
  });

  it('adds nothing to a host with one driver domain and no disks', () => {
    const text = report('table1-sedf', { 'Dom-0': dom({ cpuPct: 20 }), 'Dom-1': dom({ cpuPct: 19.6 }) });
    expect(text).not.toContain('reads/s');
    expect(text).not.toContain('by driver domain');
    expect(text.split('\n').at(-1)).toMatch(/^Dom-1 /);
  });
});
