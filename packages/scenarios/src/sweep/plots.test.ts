import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDuckStore } from './duckStore.ts';
import { MAX_GROUPS, sweepPlots } from './plots.ts';
import { type SummaryRow, summary } from './query.ts';
import type { SweepMeta } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'isosim-sweep-plots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const META: SweepMeta = {
  sweepId: 'sweep-plots',
  name: 'plots',
  params: ['domains[name=Dom-1].vcpus[0].sedf.sliceMs', 'sched'],
  metrics: ['domains.Dom-1.combinedPct'],
  checks: [],
  totalRuns: 12,
};

describe('sweepPlots', () => {
  it('a plot per numeric parameter and metric: mean with its 95% CI, a line per other point', async () => {
    const path = join(dir, 'plots.duckdb');
    const store = await openDuckStore(path, META);
    let i = 0;
    for (const sched of ['sedf', 'credit'])
      for (const slice of [1, 2, 3])
        for (const seed of [1, 2])
          await store.put({
            id: `${sched}-${slice}-s${seed}`,
            index: i++,
            params: { [META.params[0]]: slice, sched },
            seed,
            metrics: { [META.metrics[0]]: slice * 10 + seed },
            checks: {},
            wallS: 1,
            logHash: 'h',
          });
    await store.close();
    const rows = await summary(path);
    const plots = sweepPlots(rows, META.params);
    // The slice is numeric, the scheduler is not: one plot.
    expect(Object.keys(plots)).toEqual([
      'domains-name-Dom-1-.vcpus-0-.sedf.sliceMs--domains.Dom-1.combinedPct.svg',
    ]);
    const svg = Object.values(plots)[0];
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('sched=&quot;sedf&quot;');
    expect(svg).toContain('sched=&quot;credit&quot;');
    expect(svg).toContain('95% CI');
    // Two lines of means (3 points each, marked) and two dashed interval ends each.
    expect(svg.match(/<polyline /g)).toHaveLength(6);
    expect(svg.match(/stroke-dasharray/g)?.length).toBeGreaterThanOrEqual(4);
    expect(svg.match(/<circle /g)).toHaveLength(6);
  });

  it('keeps at most MAX_GROUPS lines and says how many it left out', () => {
    const rows: SummaryRow[] = [];
    for (let g = 0; g < MAX_GROUPS + 2; g++)
      for (const x of [1, 2])
        rows.push({
          point: { x, g },
          metric: 'm',
          runs: 1,
          failed: 0,
          n: 1,
          mean: x + g,
          sd: null,
          halfWidth: null,
          low: null,
          high: null,
        });
    const plots = sweepPlots(rows, ['x', 'g']);
    expect(Object.keys(plots)).toEqual(['x--m.svg', 'g--m.svg']);
    expect(plots['x--m.svg']).toContain(`(${MAX_GROUPS} of ${MAX_GROUPS + 2} lines)`);
  });
});
