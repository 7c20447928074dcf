/**
 * The memory block of a scenario (docs/memory.md, "Scenario files"): its units become
 * MemoryHost's integers, its domains get ids after the scenario's, each memory built-in
 * runs with `metrics.memory`, the same seed gives the same log, and the launch-storm
 * built-ins differ by policy as their descriptions say.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinNames, loadScenario, parseScenario } from './load.ts';
import { defaultSampleMs, memoryPlan, trimMemory } from './memoryScenario.ts';
import { runScenario } from './runScenario.ts';

const STORMS = [
  'memory-launch-storm',
  'memory-launch-storm-none',
  'memory-launch-storm-freeze',
  'memory-launch-storm-lock',
];

/** A small host: a driver domain and a guest, and a memory block. */
function scenario(memory: object): ReturnType<typeof parseScenario> {
  return parseScenario(
    {
      name: 'm',
      host: { profile: 'p4-2.8', scheduler: 'credit', pcpus: 1 },
      domains: [
        { name: 'Dom-0', role: 'idd', vcpus: [{ pcpu: 0 }] },
        { name: 'Dom-1', vcpus: [{ pcpu: 0 }] },
      ],
      durationS: 2,
      memory,
    },
    'm.json',
  );
}

describe('a scenario memory block as MemoryHost takes it', () => {
  it('turns MiB, MiB/s, ms and s into pages, pages/s and ns, with ids after the domains', () => {
    const s = scenario({
      totalMiB: 1024,
      policy: 'freeze',
      populate: { batchMiB: 4, batchMs: 1.5 },
      swapUsPerPage: 12.5,
      guests: [
        { name: 'w', kind: 'sine', minMiB: 0.5, peakMiB: 256, periodMs: 200, stepMs: 1 },
        {
          name: 'b',
          kind: 'balloon',
          maxMiB: 128,
          initialMiB: 64,
          rateMiBps: 0.003,
          stepMs: 10,
          targets: [{ atS: 1.5, targetMiB: 100 }],
        },
        {
          name: 't',
          kind: 'tmem',
          baseMiB: 64,
          stepMs: 5,
          bursts: { everyMs: 500, lengthMs: 100 },
          putMiBps: 512,
          getMiBps: 256,
          persistentPct: 12.5,
        },
        {
          name: 'c',
          kind: 'sharing',
          privateMiB: 32,
          sharedMiB: 96,
          stepMs: 5,
          bursts: { everyMs: 400, lengthMs: 100, offsetMs: 50 },
          breakMiBps: 200,
          mergeMiBps: 50,
        },
      ],
      launches: [{ name: 'big', sizeMiB: 384, atS: 0.25 }],
      storm: { count: 3, sizeMiB: 16, atS: 1, spreadMs: 2.5, prefix: 'vm' },
    });
    const plan = memoryPlan(s, 2);
    if (plan === undefined) throw new Error('no plan');
    expect(plan.options).toEqual({
      totalPages: 262_144,
      policy: 'freeze',
      batchPages: 1024,
      batchNs: 1_500_000,
      swapNsPerPage: 12_500,
      sampleEveryNs: 4_000_000,
    });
    expect(plan.sampleMs).toBe(4);
    expect(plan.domains.map((d) => [d.id, d.name, d.kind])).toEqual([
      [2, 'w', 'sine'],
      [3, 'b', 'balloon'],
      [4, 't', 'tmem'],
      [5, 'c', 'sharing'],
      [6, 'big', 'launch'],
      [7, 'vm-1', 'launch'],
      [8, 'vm-2', 'launch'],
      [9, 'vm-3', 'launch'],
    ]);
    expect(plan.guests).toEqual([
      { kind: 'sine', domain: 2, minPages: 128, peakPages: 65_536, periodNs: 200_000_000, stepNs: 1_000_000 },
      {
        kind: 'balloon',
        domain: 3,
        maxPages: 32_768,
        initialPages: 16_384,
        // 0.003 MiB/s is 0.768 pages/s: rounded to 1.
        pagesPerS: 1,
        stepNs: 10_000_000,
        targets: [{ atNs: 1_500_000_000, pages: 25_600 }],
      },
      {
        kind: 'tmem',
        domain: 4,
        basePages: 16_384,
        minPages: 16_384,
        selfBalloonPagesPerS: 0,
        stepNs: 5_000_000,
        bursts: { everyNs: 500_000_000, lengthNs: 100_000_000, offsetNs: 0 },
        putPagesPerS: 131_072,
        getPagesPerS: 65_536,
        persistentPermille: 125,
      },
      {
        kind: 'sharing',
        domain: 5,
        privatePages: 8192,
        sharedPages: 24_576,
        stepNs: 5_000_000,
        bursts: { everyNs: 400_000_000, lengthNs: 100_000_000, offsetNs: 50_000_000 },
        breakPagesPerS: 51_200,
        mergePagesPerS: 12_800,
      },
    ]);
    expect(plan.launches).toEqual([
      { domain: 6, pages: 98_304, atNs: 250_000_000 },
      { domain: 7, pages: 4096, atNs: 1_000_000_000 },
      { domain: 8, pages: 4096, atNs: 1_002_500_000 },
      { domain: 9, pages: 4096, atNs: 1_005_000_000 },
    ]);
  });

  it('samples 500 times a run by default, to the ms, at least every ms', () => {
    expect([defaultSampleMs(9), defaultSampleMs(0.01), defaultSampleMs(0.7), defaultSampleMs(3600)]).toEqual([
      18, 1, 1, 7200,
    ]);
    expect(memoryPlan(scenario({ totalMiB: 1, policy: 'none' }), 1)?.sampleMs).toBe(2);
    expect(memoryPlan(loadScenario('table1-sedf'), 1)).toBeUndefined();
  });

  it('leaves out of a shortened run the memory events after its end, so its header is valid', () => {
    const s = loadScenario('memory-launch-storm');
    expect(trimMemory(s, 9)).toBe(s);
    const short = trimMemory(s, 1.05);
    // The storm's launches at 1.00 … 1.05 s stay (at the end itself too), the rest go.
    expect(short.memory?.storm?.count).toBe(6);
    expect(short.memory?.launches.map((l) => l.name)).toEqual(['big']);
    const web = short.memory?.guests.find((g) => g.name === 'web');
    expect(web?.kind === 'balloon' && web.targets).toEqual([{ atS: 0.5, targetMiB: 2048 }]);
    expect(() => parseScenario({ ...short, durationS: 1.05 }, 'header')).not.toThrow();
    expect(() => parseScenario({ ...s, durationS: 1.05 }, 'header')).toThrow(/after the run's end/);
    // Before the storm: no storm at all; before the first launch: none.
    expect(trimMemory(s, 0.9).memory?.storm).toBeUndefined();
    expect(trimMemory(s, 0.4).memory?.launches).toEqual([]);
  });

  it('has the memory built-ins, each beyond the paper and saying so', () => {
    const names = [...STORMS, 'memory-steady-balloon'];
    expect(builtinNames()).toEqual(expect.arrayContaining(names));
    for (const n of names) {
      const s = loadScenario(n);
      expect(s.paper).toBeUndefined();
      expect(s.description).toMatch(
        /^Beyond the paper \(no paper numbers; nothing here is tuned to a number/,
      );
      expect(s.durationS).toBeLessThanOrEqual(10);
      // The cheapest valid host: one idle driver domain.
      expect(s.domains).toHaveLength(1);
      expect(s.domains[0].workloads).toEqual([]);
    }
    // The four storms are one workload under four policies.
    const [claim, ...others] = STORMS.map(loadScenario);
    expect([claim, ...others].map((s) => s.memory?.policy)).toEqual(['claim', 'none', 'freeze', 'lock']);
    for (const s of others) expect({ ...s.memory, policy: 'claim' }).toEqual(claim.memory);
  });
});

describe('memory built-ins, run', () => {
  it.each(builtinNames().filter((n) => loadScenario(n).memory !== undefined))(
    'runs %s briefly with the memory block in its metrics',
    (name) => {
      const { metrics } = runScenario(loadScenario(name), { durationS: 1.2 });
      const m = metrics.memory;
      if (m === undefined) throw new Error('no metrics.memory');
      expect(Object.keys(m)).toEqual([
        'policy',
        'totalMiB',
        'launches',
        'wastedMiB',
        ...(m.latencyMs === undefined ? [] : ['latencyMs']),
        'builds',
        'guests',
        'guestFailures',
        'guestBlockedMs',
        'utilisationPct',
        'ownedPeakMiB',
        'tmemPeakMiB',
        'tmemEvictedMiB',
        'sharedPeakMiB',
        'sampleMs',
        'series',
      ]);
      // Every sample, every column: one entry per sampleMs from 0 to the end.
      const n = Math.floor(1200 / m.sampleMs) + 1;
      expect(m.series.tMs).toHaveLength(n);
      for (const col of [m.series.freeMiB, m.series.claimsMiB, m.series.tmemMiB, m.series.sharedMiB])
        expect(col).toHaveLength(n);
      for (const col of Object.values(m.series.totMiB)) expect(col).toHaveLength(n);
      // Every page is somewhere, at every sample.
      m.series.tMs.forEach((_, i) => {
        const owned = Object.values(m.series.totMiB).reduce((a, c) => a + c[i], 0);
        expect(owned + m.series.tmemMiB[i] + m.series.sharedMiB[i] + m.series.freeMiB[i]).toBe(m.totalMiB);
        expect(m.series.claimsMiB[i]).toBeLessThanOrEqual(m.series.freeMiB[i]);
      });
      const l = m.launches;
      expect(l.succeeded + l.failedLate + l.refused + l.pending).toBe(l.requested);
      expect(Object.keys(m.guests).length).toBeGreaterThan(0);
    },
  );

  it('gives the same log for the same seed, and another for another policy or seed', () => {
    const s = loadScenario('memory-launch-storm');
    const hash = (x: typeof s, seed?: number) =>
      runScenario(x, { durationS: 2, seed, out: mkdtempSync(join(tmpdir(), 'isosim-memory-')) }).metrics
        .logHash;
    const a = hash(s);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(s)).toBe(a);
    expect(hash(loadScenario('memory-launch-storm-none'))).not.toBe(a);
    expect(hash(s, 2)).not.toBe(a);
  });

  it('differs by policy on the launch storm as the built-ins say', () => {
    const run = (name: string) => {
      const m = runScenario(loadScenario(name)).metrics.memory;
      if (m === undefined) throw new Error('no metrics.memory');
      return m;
    };
    const [claim, none, freeze, lock] = STORMS.map(run);
    // none: builds race the guests and fail late, their work wasted; nothing refused.
    expect(none.launches.failedLate).toBeGreaterThan(0);
    expect(none.wastedMiB).toBeGreaterThan(0);
    expect(none.launches.refused).toBe(0);
    // claim and freeze: refused at once, never late, nothing wasted.
    for (const m of [claim, freeze]) {
      expect(m.launches.refused).toBeGreaterThan(0);
      expect(m.launches.failedLate).toBe(0);
      expect(m.wastedMiB).toBe(0);
    }
    // claim: the guests are refused pages claimed; freeze: pages past their frozen max_pages.
    expect(Object.values(claim.guests).some((g) => (g.failuresByReason.claimed ?? 0) > 0)).toBe(true);
    expect(Object.values(freeze.guests).some((g) => (g.failuresByReason['over-max'] ?? 0) > 0)).toBe(true);
    // lock: one build at a time, so the storm queues: long waits, builds still waiting at the end.
    expect(lock.launches.refused).toBe(0);
    expect(lock.launches.pending).toBeGreaterThan(0);
    expect(Math.max(...Object.values(lock.builds).map((b) => b.waitMs ?? 0))).toBeGreaterThan(1000);
    expect(lock.latencyMs?.max).toBeGreaterThan(none.latencyMs?.max ?? Number.POSITIVE_INFINITY);
    for (const m of [claim, none, freeze])
      expect(Math.max(...Object.values(m.builds).map((b) => b.waitMs ?? 0))).toBe(0);
  });
});
