/**
 * Scenario files: every built-in is valid; bad files get one line naming the file, the
 * field and the fix; `isosim run` writes metrics.json as docs/metrics.md describes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P4_2_8, PROFILES } from '@isosim/actors';
import { EventChannelSet, IsosimError, Kernel, MAX_PORTS } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import {
  ACK_BYTES as MODEL_ACK_BYTES,
  MSS_BYTES as MODEL_MSS_BYTES,
} from '../packages/actors/src/net/packet.ts';
import { MAX_WINDOW, GET_BYTES as MODEL_GET_BYTES } from '../packages/actors/src/workload/web.ts';
import { builtinNames, loadScenario, parseScenario } from '../packages/scenarios/src/load.ts';
import { buildRun, runSeconds } from '../packages/scenarios/src/runScenario.ts';
import { ACK_BYTES, GET_BYTES, LIMITS, MSS_BYTES, webWireBytes } from '../packages/scenarios/src/schema.ts';
import { toSystemConfig } from '../packages/scenarios/src/toConfig.ts';
import { isosim } from './isosim.ts';

const BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'isosim.js');
const base = () =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'scenarios', 'table1-sedf.json'), 'utf8'));

function errorOf(data: unknown): IsosimError {
  try {
    parseScenario(data, 'my.json');
  } catch (err) {
    if (err instanceof IsosimError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('scenario files', () => {
  it('has the built-ins the paper needs, all valid', () => {
    expect(builtinNames()).toEqual(
      expect.arrayContaining([
        'fig6-sedf',
        'fig6-sedfdc',
        'table1-sedf',
        'table1-sedfdc',
        'table2-baseline',
        'table2-without-shareguard',
        'table2-with-shareguard',
      ]),
    );
    for (const n of builtinNames()) expect(loadScenario(n).name).toBe(n);
  });

  it('names the file, the field and the fix for bad input', () => {
    const s1 = base();
    s1.domains[1].workloads[0].rate = -5;
    let e = errorOf(s1);
    expect(e.message).toMatch(/^my\.json: domains\[1\]\.workloads\[0\]\.rate: /);
    const s2 = base();
    s2.domains[0].vcpus[0].pcpu = 3;
    expect(errorOf(s2).message).toContain(
      'domains[0].vcpus[0].pcpu: pCPU 3 does not exist; the host has pCPUs 0..0',
    );
    const s3 = base();
    s3.host.scheduler = 'bvt';
    e = errorOf(s3);
    expect(e.field).toBe('host.scheduler');
    expect(e.fix).toContain('"sedf"');
    const s4 = base();
    s4.domains[1].workloads[0].colour = 'red';
    expect(errorOf(s4).message).toContain('unknown field colour');
    const s5 = base();
    s5.domains[1].vcpus[0].sedf.sliceMs = 20;
    expect(errorOf(s5).field).toBe('domains[1].vcpus[0].sedf.sliceMs');
    // Several driver domains are allowed (issue 16); none is not, and one runs no workloads.
    const s6 = base();
    s6.domains[1].role = 'idd';
    expect(errorOf(s6).message).toContain('the driver domain runs no workloads here');
    const s6b = base();
    s6b.domains[0].role = 'guest';
    expect(errorOf(s6b).message).toContain("no domain has role 'idd'");
    const s7 = base();
    s7.mechanisms = { shareGuard: { limitsPct: { 'Dom-9': 5 } } };
    expect(errorOf(s7).field).toBe('mechanisms.shareGuard.limitsPct.Dom-9');
  });

  it('reports a bad file from the CLI in one line, without a stack trace, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-sc-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "name": "x", ');
    const r = spawnSync(process.execPath, [BIN, 'run', bad, '--out', join(dir, 'o')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: JSON: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs a scenario and writes metrics.json with the documented fields', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-sc-'));
    const s = base();
    s.name = 'short';
    s.durationS = 3;
    const file = join(dir, 'short.json');
    writeFileSync(file, JSON.stringify(s));
    const r = spawnSync(process.execPath, [BIN, 'run', file, '--out', dir], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Dom-1');
    const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(Object.keys(m)).toEqual([
      'scenario',
      'seed',
      'durationS',
      'windowS',
      'events',
      'logHash',
      'logRecords',
      'domains',
      'series',
    ]);
    expect(m.windowS).toEqual([0, 3]);
    expect(Object.keys(m.domains)).toEqual(['Dom-0', 'Dom-1', 'Dom-2', 'Dom-3']);
    expect(m.domains['Dom-1']).toHaveProperty('webReqPerSec');
    expect(m.domains['Dom-1'].combinedPct).toBeCloseTo(
      m.domains['Dom-1'].cpuPct + m.domains['Dom-1'].iddPctTrue,
      2,
    );
    expect(m.series).toHaveLength(3);
    for (const plot of ['cpu.svg', 'idd.svg', 'combined.svg', 'web.svg']) {
      const svg = readFileSync(join(dir, 'plots', plot), 'utf8');
      expect(svg).toMatch(/^<svg /);
      expect(svg.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(2);
    }
    const r2 = spawnSync(process.execPath, [BIN, 'run', file, '--out', join(dir, 'again')], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    expect(readFileSync(join(dir, 'again', 'metrics.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'metrics.json'), 'utf8'),
    );
    expect(r2.status).toBe(0);
  });
});

type Json = Record<string, unknown>;
const sedfVcpu = (sliceMs: number, periodMs = 10, extratime = false, pcpu = 0): Json => ({
  pcpu,
  sedf: { sliceMs, periodMs, extratime },
});

/** A one-pCPU SEDF host: Dom-0 at 20%, one guest at 50% with `workloads`, and `extra`. */
function small(workloads: Json[], extra: Json = {}, guest: Json = {}): Json {
  return {
    name: 'small',
    host: { profile: 'p4-2.8', scheduler: 'sedf' },
    domains: [
      { name: 'Dom-0', role: 'idd', vcpus: [sedfVcpu(2)] },
      { name: 'Dom-1', vcpus: [sedfVcpu(5)], workloads, ...guest },
    ],
    durationS: 0.05,
    ...extra,
  };
}

/** Loads `data` and runs it in this process for its duration; returns the host. */
function runs(data: unknown) {
  const s = parseScenario(data, 'test.json');
  const run = buildRun(s, s.seed, s.durationS, true);
  run.sys.start();
  runSeconds(run.kernel, Math.round(s.durationS * 1e9));
  run.sys.xen.settle();
  return run;
}

describe('what the scenario schema accepts (issue 12, items 3 and 10)', () => {
  it('publishes the JSON Schema isosim checks (docs/scenario.schema.json is `isosim schema`)', () => {
    const doc = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'docs', 'scenario.schema.json'), 'utf8'),
    );
    const printed = isosim('schema');
    expect(printed.code).toBe(0);
    expect(doc).toEqual(JSON.parse(printed.out));
  });

  it("derives its bounds from the model's own numbers", () => {
    expect([MSS_BYTES, ACK_BYTES, GET_BYTES]).toEqual([MODEL_MSS_BYTES, MODEL_ACK_BYTES, MODEL_GET_BYTES]);
    for (const p of Object.values(PROFILES)) expect(p.lineRateBps).toBe(1e9);
    expect(LIMITS.domains).toBe(MAX_PORTS);
    expect(MAX_PORTS).toBe(4096);
    expect(LIMITS.udpRateMax).toBe(1_953_125);
    expect(LIMITS.webRateMax).toBe(Math.floor(125e6 / webWireBytes(1).toHost));
    expect(LIMITS.windowSegmentsMax).toBe(2896);
    expect(LIMITS.windowSegmentsMax).toBeGreaterThan(MAX_WINDOW);
    // 10 KB: 8 segments; the server sends SYN-ACK + 10240 + 8 headers, the client
    // SYN, ACK, GET, 4 ACKs and FIN.
    expect(webWireBytes(10_240)).toEqual({ toClient: 66 + 10_240 + 8 * 66, toHost: 3 * 66 + 250 + 4 * 66 });
  });

  it('accepts each bound and refuses just past it, naming the field', () => {
    const at = (edit: (s: Json & { domains: Json[] }) => void) => {
      const s = base();
      edit(s);
      return s;
    };
    const sedf = (s: Json & { domains: Json[] }) =>
      ((s.domains[1] as { vcpus: Json[] }).vcpus[0] as { sedf: Json }).sedf;
    const web = (s: Json & { domains: Json[] }) => (s.domains[1] as { workloads: Json[] }).workloads[0];
    const cases: [string, (s: Json & { domains: Json[] }) => void, string | undefined][] = [
      [
        'period 10 µs, slice 5 µs',
        (s) => {
          Object.assign(sedf(s), { periodMs: 0.01, sliceMs: 0.005 });
          const dom3 = (s.domains[3] as { vcpus: Json[] }).vcpus[0] as { sedf: Json };
          dom3.sedf = { sliceMs: 0, periodMs: 10, extratime: true };
        },
        undefined,
      ],
      [
        'period below 10 µs',
        (s) => Object.assign(sedf(s), { periodMs: 0.0099, sliceMs: 0.005 }),
        'domains[1].vcpus[0].sedf.periodMs',
      ],
      ['period 10 s', (s) => Object.assign(sedf(s), { periodMs: 10_000, sliceMs: 2200 }), undefined],
      [
        'period above 10 s',
        (s) => Object.assign(sedf(s), { periodMs: 10_000.001 }),
        'domains[1].vcpus[0].sedf.periodMs',
      ],
      [
        'slice below 5 µs',
        (s) => Object.assign(sedf(s), { sliceMs: 0.004 }),
        'domains[1].vcpus[0].sedf.sliceMs',
      ],
      ['slice 0 with extratime', (s) => Object.assign(sedf(s), { sliceMs: 0, extratime: true }), undefined],
      ['slice 0 without', (s) => Object.assign(sedf(s), { sliceMs: 0 }), 'domains[1].vcpus[0].sedf.sliceMs'],
      ['run 1 ms', (s) => Object.assign(s, { durationS: 0.001 }), undefined],
      ['run shorter', (s) => Object.assign(s, { durationS: 0.0009 }), 'durationS'],
      ['run 1 h', (s) => Object.assign(s, { durationS: 3600 }), undefined],
      ['run longer', (s) => Object.assign(s, { durationS: 3600.5 }), 'durationS'],
      ['timeout 1 ms', (s) => Object.assign(web(s), { timeoutS: 0.001 }), undefined],
      [
        'timeout shorter',
        (s) => Object.assign(web(s), { timeoutS: 0.0005 }),
        'domains[1].workloads[0].timeoutS',
      ],
      ['65536 connections', (s) => Object.assign(web(s), { rate: 32.768, timeoutS: 2000 }), undefined],
      [
        '65537',
        (s) => Object.assign(web(s), { rate: 65.537, timeoutS: 1000 }),
        'domains[1].workloads[0].timeoutS',
      ],
      [
        'web at the line rate',
        (s) => Object.assign(web(s), { rate: 125e6 / webWireBytes(10_240).toClient, timeoutS: 1 }),
        undefined,
      ],
      [
        'web past it',
        (s) => Object.assign(web(s), { rate: 11_538, timeoutS: 1 }),
        'domains[1].workloads[0].rate',
      ],
      [
        'udp at the line rate',
        (s) => {
          (s.domains[1] as { workloads: Json[] }).workloads = [
            { kind: 'udp', direction: 'send', rate: 312_500, bytes: 400 },
          ];
        },
        undefined,
      ],
      [
        'udp past it',
        (s) => {
          (s.domains[1] as { workloads: Json[] }).workloads = [
            { kind: 'udp', direction: 'send', rate: 312_501, bytes: 400 },
          ];
        },
        'domains[1].workloads[0].rate',
      ],
      ['file 100 MiB', (s) => Object.assign(web(s), { rate: 1, fileBytes: 100 * 2 ** 20 }), undefined],
      [
        'file larger',
        (s) => Object.assign(web(s), { rate: 1, fileBytes: 100 * 2 ** 20 + 1 }),
        'domains[1].workloads[0].fileBytes',
      ],
      ['feedback 1 ms', (s) => Object.assign(s, { mechanisms: { debt: { feedbackMs: 1 } } }), undefined],
      ['feedback 10 s', (s) => Object.assign(s, { mechanisms: { debt: { feedbackMs: 10_000 } } }), undefined],
      [
        'feedback longer',
        (s) => Object.assign(s, { mechanisms: { debt: { feedbackMs: 10_001 } } }),
        'mechanisms.debt.feedbackMs',
      ],
      ['pCPU exactly full', (s) => Object.assign(sedf(s), { sliceMs: 2.2, periodMs: 10 }), undefined],
      ['pCPU over full', (s) => Object.assign(sedf(s), { sliceMs: 2.21 }), 'domains[3].vcpus[0].sedf'],
      [
        'IDD share limit just below',
        (s) => Object.assign(s, { mechanisms: { shareGuard: { limitsPct: { 'Dom-1': 21.99 } } } }),
        undefined,
      ],
      [
        'IDD share limit equal',
        (s) => Object.assign(s, { mechanisms: { shareGuard: { limitsPct: { 'Dom-1': 22 } } } }),
        'mechanisms.shareGuard.limitsPct.Dom-1',
      ],
    ];
    for (const [name, edit, field] of cases) {
      const s = at(edit);
      if (field === undefined) expect(() => parseScenario(s, 'my.json'), name).not.toThrow();
      else expect(errorOf(s).field, name).toBe(field);
    }
  });

  it('runs what it accepts at the extremes: tiny periods, loops and runs, the fastest rates, the largest window', () => {
    const r1 = runs(
      small(
        [{ kind: 'cpu' }],
        {
          durationS: 0.01,
          mechanisms: { debt: { feedbackMs: 1 }, shareGuard: { periodMs: 1, limitsPct: { 'Dom-1': 10 } } },
        },
        {
          vcpus: [sedfVcpu(0.005, 0.01, true)],
        },
      ),
    );
    expect(r1.sys.xen.accounting.cpuNs[1]).toBeGreaterThan(0);
    runs(small([{ kind: 'cpu' }], { durationS: 0.001 }));
    const r2 = runs(
      small([{ kind: 'udp', direction: 'receive', rate: LIMITS.udpRateMax, bytes: 64 }], { durationS: 0.01 }),
    );
    expect(r2.sys.guests[0].stats.offered[0]).toBeGreaterThan(10_000);
    runs(
      small([{ kind: 'web', rate: LIMITS.webRateMax, fileBytes: 1, timeoutS: 0.25 }], { durationS: 0.01 }),
    );
    runs(
      small([{ kind: 'bulk', direction: 'receive', windowSegments: LIMITS.windowSegmentsMax }], {
        durationS: 0.01,
      }),
    );
  });

  it('runs a fractional Credit cap (10.25% of a pCPU: 3 075 000 ns of credit per 30 ms)', () => {
    const s = {
      ...small([{ kind: 'cpu' }], { durationS: 0.3 }),
      host: { profile: 'p4-2.8', scheduler: 'credit' },
      domains: [
        { name: 'Dom-0', role: 'idd', vcpus: [{ credit: { weight: 256, capPct: 20 } }] },
        { name: 'Dom-1', vcpus: [{ credit: { weight: 256, capPct: 10.25 } }], workloads: [{ kind: 'cpu' }] },
      ],
    };
    const run = runs(s);
    const ran = run.sys.xen.accounting.cpuNs[1] ?? 0;
    // Capped: at most 10.25% of each 30 ms accounting period, plus one 10 ms tick.
    expect(ran).toBeGreaterThan(0.08 * 0.3e9);
    expect(ran).toBeLessThanOrEqual(10 * 3_075_000 + 10_000_000);
    // And through the CLI, which used to die with a stack trace on the log's integer check.
    const dir = mkdtempSync(join(tmpdir(), 'isosim-cap-'));
    const file = join(dir, 'cap.json');
    writeFileSync(file, JSON.stringify({ ...s, name: 'cap', durationS: 0.05 }));
    const r = spawnSync(process.execPath, [BIN, 'run', file, '--out', join(dir, 'out')], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs a host with 100 guests (the driver domain binds 101 event-channel ports)', () => {
    const guests = Array.from({ length: 100 }, (_, i) => ({
      name: `Dom-${i + 1}`,
      vcpus: [sedfVcpu(0.08, 10, true)],
      workloads: [{ kind: 'udp', direction: i % 2 === 0 ? 'receive' : 'send', rate: 200, bytes: 400 }],
    }));
    const run = runs({
      name: 'hundred',
      host: { profile: 'p4-2.8', scheduler: 'sedf' },
      domains: [{ name: 'Dom-0', role: 'idd', vcpus: [sedfVcpu(2)] }, ...guests],
      durationS: 0.2,
    });
    expect(run.sys.guests).toHaveLength(100);
    for (const g of run.sys.guests) expect(g.stats.delivered[0] + g.stats.delivered[1]).toBeGreaterThan(0);
  });

  it('binds up to 4096 event-channel ports per receiver, as Xen 2-level ABI on 64-bit', () => {
    const chans = new EventChannelSet(new Kernel({ seed: 1 }), 'idd.evtchn');
    for (let p = 0; p < MAX_PORTS; p++) expect(chans.bind(`p${p}`)).toBe(p);
    expect(() => chans.bind('one more')).toThrow(/more than 4096 ports/);
  });

  it('takes any printable name, and refuses names that cannot round-trip, saying why', () => {
    const named = (name: string) => {
      const s = base();
      s.domains[1].name = name;
      s.paper = undefined;
      return s;
    };
    for (const name of [
      'db 2',
      'cache.1',
      'Ünïcode-vm',
      'driver domain',
      '__proto__',
      'constructor',
      'x',
      'é',
      '🙂',
      'a'.repeat(64),
    ])
      expect(parseScenario(named(name), 'my.json').domains[1].name).toBe(name);
    const refused: [string, RegExp][] = [
      ['a'.repeat(65), /is 65 characters long/],
      ['', /is empty/],
      [' Dom-1', /starts or ends with a space/],
      ['Dom-1 ', /starts or ends with a space/],
      ['Dom\t1', /"Dom\\t1" contains .* U\+0009/],
      ['Dom\u200b1', /"Dom\\u200B1" contains .* U\+200B/],
      ['Dom\u202e1', /U\+202E/],
      ['Dom\u00a01', /U\+00A0/],
      ['Dom\u20281', /"Dom\\u20281" contains .* U\+2028/],
      ['e\u0301', /normal form C/],
    ];
    for (const [name, says] of refused) {
      const e = errorOf(named(name));
      expect(e.field, JSON.stringify(name)).toBe('domains[1].name');
      expect(e.message).toMatch(says);
      expect(e.message).not.toMatch(/[\n\r\u2028\u2029]/);
    }
  });

  it('keeps __proto__ and constructor keys in name-keyed maps, or refuses them clearly', () => {
    const withGuard = (limits: string) => {
      const s = JSON.stringify(base()).replace(
        '"mechanisms":{}',
        `"mechanisms":{"shareGuard":{"limitsPct":${limits}}}`,
      );
      return JSON.parse(s);
    };
    // No such guest: refused, not dropped.
    expect(errorOf(withGuard('{"__proto__": 5}')).message).toContain(
      'mechanisms.shareGuard.limitsPct.__proto__: names no domain',
    );
    expect(errorOf(withGuard('{"__proto__": -1}')).field).toBe('mechanisms.shareGuard.limitsPct.__proto__');
    // A guest of that name: kept, all the way to the library's config.
    const s = withGuard('{"__proto__": 5, "constructor": 6}');
    s.paper = undefined;
    s.domains[1].name = '__proto__';
    s.domains[2].name = 'constructor';
    const parsed = parseScenario(s, 'my.json');
    expect(Object.keys(parsed.mechanisms.shareGuard?.limitsPct ?? {})).toEqual(['__proto__', 'constructor']);
    const limits = toSystemConfig(parsed).mechanisms?.shareGuard?.limits ?? {};
    expect(Object.entries(limits)).toEqual([
      ['__proto__', 0.05],
      ['constructor', 0.06],
    ]);
    // paper.domains: own keys only, and nothing inherited for a name it lacks.
    const p = base();
    p.domains[3].name = 'constructor';
    p.paper.domains = JSON.parse('{"Dom-1": {}, "constructor": {"cpuPct": 1}}');
    const pp = parseScenario(p, 'my.json');
    expect(pp.paper?.domains.constructor).toEqual({ cpuPct: 1 });
    expect(pp.paper?.domains.toString).toBeUndefined();
    expect(
      errorOf({ ...base(), paper: { source: 'x', fitted: false, domains: { 'Dom-9': {} } } }).field,
    ).toBe('paper.domains.Dom-9');
  });

  it("refuses the other scheduler's parameters and over-full SEDF pCPUs", () => {
    const s = base();
    s.domains[2].vcpus[0].credit = { weight: 5 };
    expect(errorOf(s).message).toContain(
      "domains[2].vcpus[0].credit: is a Credit parameter, but the host's scheduler is 'sedf'",
    );
    const over = base();
    over.domains[3].vcpus[0].sedf.sliceMs = 3.5;
    expect(errorOf(over).message).toMatch(
      /domains\[3\]\.vcpus\[0\]\.sedf: pCPU 0's SEDF reservations add up to 101%/,
    );
    // Two pCPUs are counted apart.
    const two = base();
    two.host.pcpus = 2;
    two.domains[3].vcpus[0] = { pcpu: 1, sedf: { sliceMs: 10, periodMs: 10, extratime: false } };
    expect(() => parseScenario(two, 'my.json')).not.toThrow();
    expect(P4_2_8.pcpus).toBe(1);
  });
});
