/**
 * The xentrace export, read back with a parser written here from trace.h and
 * xentrace.c (not from the exporter): a hand-written log checks every word of every
 * record; a simulated two-pCPU host checks the file's structure and its counts
 * against the log; damaged and missing logs fail as documented.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_2, type SystemConfig, XenSystem } from '@isosim/actors';
import { IsosimError, Kernel, LogWriter, logHeader, NS_PER_S } from '@isosim/core';
import { FileSink, scanLog } from '@isosim/core/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { xenalyzeSummary } from './xenalyzeSummary.ts';
import { exportXentrace } from './xentrace.ts';

// Event ids from xen/include/public/trace.h.
const CPU_CHANGE = 0x0001f003;
const DOM_ADD = 0x00028001;
const WAKE = 0x00028004;
const BLOCK = 0x00028006;
const SWITCH = 0x0002800a;
const INFPREV = 0x0002800e;
const INFNEXT = 0x0002800f;
const INFCONT = 0x00028011;
const CONTINUE = 0x00021002;
/** TRC_SCHED_RUNSTATE_CHANGE (0x00021001) with the old state in bits 8–11, the new in 4–7. */
const RS = (from: number, to: number) => 0x00021001 | (from << 8) | (to << 4);
const [RUN, RUNNABLE, BLOCKED] = [0, 1, 2];
const IDLE_DOM = 0x7fff;
/** A runstate record's word: struct { uint16_t vcpu, domain; }. */
const DV = (domain: number, vcpu: number) => domain * 0x10000 + vcpu;
/** Extra words per event, as xen/common/sched/core.c traces them. */
const EXTRA: Record<number, number> = {
  [DOM_ADD]: 1,
  [WAKE]: 2,
  [BLOCK]: 2,
  [SWITCH]: 4,
  [INFPREV]: 3,
  [INFNEXT]: 4,
  [INFCONT]: 4,
  [CONTINUE]: 1,
  [RS(BLOCKED, RUNNABLE)]: 1,
  [RS(RUN, RUNNABLE)]: 1,
  [RS(RUN, BLOCKED)]: 1,
  [RS(RUNNABLE, RUN)]: 1,
};
const isRunstate = (e: number) => e !== CONTINUE && (e & 0xfffff00f) === 0x00021001;

interface Rec {
  cpu: number;
  event: number;
  tsc: number;
  extra: number[];
}

/** Reads a xentrace file: CPU_CHANGE [cpu, bytes] windows of records with TSCs. */
function parse(b: Buffer): { windows: { cpu: number; bytes: number }[]; recs: Rec[] } {
  const windows: { cpu: number; bytes: number }[] = [];
  const recs: Rec[] = [];
  let off = 0;
  while (off < b.length) {
    const h = b.readUInt32LE(off);
    // Outside a window, only a CPU_CHANGE record without TSC, with two extra words.
    expect([h & 0x0fffffff, (h >>> 28) & 7, h >>> 31]).toEqual([CPU_CHANGE, 2, 0]);
    const cpu = b.readUInt32LE(off + 4);
    const bytes = b.readUInt32LE(off + 8);
    windows.push({ cpu, bytes });
    off += 12;
    const end = off + bytes;
    expect(bytes).toBeGreaterThan(0);
    expect(end).toBeLessThanOrEqual(b.length);
    while (off < end) {
      const hh = b.readUInt32LE(off);
      const event = hh & 0x0fffffff;
      const n = (hh >>> 28) & 7;
      expect(hh >>> 31, `cycles_included at byte ${off}`).toBe(1);
      expect(EXTRA[event], `event ${event.toString(16)} at byte ${off}`).toBe(n);
      const tsc = b.readUInt32LE(off + 4) + b.readUInt32LE(off + 8) * 2 ** 32;
      const extra: number[] = [];
      for (let i = 0; i < n; i++) extra.push(b.readUInt32LE(off + 12 + 4 * i));
      recs.push({ cpu, event, tsc, extra });
      off += 12 + 4 * n;
    }
    expect(off, 'a window ends on a record boundary').toBe(end);
  }
  return { windows, recs };
}

const dir = mkdtempSync(join(tmpdir(), 'isosim-xentrace-'));

describe('exportXentrace on a hand-written log', () => {
  const log = join(dir, 'hand.isolog');
  beforeAll(() => {
    const w = new LogWriter(new FileSink(log), logHeader('hand', 1));
    const fields: [string, string[]][] = [
      ['sched.init', ['pcpus']],
      ['sched.add', ['domain', 'pcpu']],
      ['vcpu.state', ['vcpu', 'domain', 'state']],
      ['cpu.switch', ['pcpu', 'prevVcpu', 'nextVcpu', 'runNs']],
      ['nic.rx', ['bytes']],
    ];
    const type: Record<string, number> = {};
    fields.forEach(([name, f], i) => {
      w.defineType(i + 1, name, f);
      type[name] = i + 1;
    });
    w.defineName(1, 'xen');
    w.defineName(2, 'sched.sedf');
    const at = (t: number, name: string, ...v: number[]) =>
      w.append(
        type[name],
        t,
        1,
        name.startsWith('sched.') ? 2 : 1,
        v[0] ?? 0,
        v[1] ?? 0,
        v[2] ?? 0,
        v[3] ?? 0,
      );
    at(0, 'sched.init', 2);
    at(0, 'sched.add', 0, 0); // vCPU 0: d0v0 on pCPU 0
    at(0, 'sched.add', 1, 1); // vCPU 1: d1v0 on pCPU 1
    at(0, 'sched.add', 1, 0); // vCPU 2: d1v1 on pCPU 0
    at(0, 'cpu.switch', 0, -1, -1, 1e9); // idle keeps pCPU 0
    at(50, 'vcpu.state', 1, 1, 1);
    at(50, 'vcpu.state', 1, 1, 2);
    at(50, 'cpu.switch', 1, -1, 1, 1e6);
    at(100, 'vcpu.state', 2, 1, 1);
    at(100, 'vcpu.state', 2, 1, 2);
    at(100, 'cpu.switch', 0, -1, 2, 5000);
    at(150, 'vcpu.state', 0, 0, 1);
    at(200, 'nic.rx', 1500);
    at(300, 'vcpu.state', 2, 1, 1); // preempted: not a wake
    at(300, 'vcpu.state', 0, 0, 2);
    at(300, 'cpu.switch', 0, 2, 0, 2000);
    at(500, 'vcpu.state', 0, 0, 1); // a re-decision: d0v0 goes on
    at(500, 'vcpu.state', 0, 0, 2);
    at(500, 'cpu.switch', 0, 0, 0, 2000);
    at(701, 'vcpu.state', 0, 0, 0);
    at(701, 'vcpu.state', 2, 1, 2);
    at(701, 'cpu.switch', 0, 0, 2, 3000);
    w.close();
  });

  it('writes each scheduler event with the words Xen gives it, per CPU, in time order', () => {
    const out = join(dir, 'hand.bin');
    const r = exportXentrace(log, out, { cpuKhz: 1_000_000 }); // TSC = ns + 1
    expect(r).toEqual({ records: 35, cpus: 2, skipped: 1 });
    const { windows, recs } = parse(readFileSync(out));
    expect(windows.map((x) => x.cpu)).toEqual([0, 1]);
    const on = (cpu: number) =>
      recs.filter((x) => x.cpu === cpu).map((x) => [x.event, x.tsc - 1, ...x.extra]);
    expect(on(0)).toEqual([
      [DOM_ADD, 0, 0],
      [INFCONT, 0, IDLE_DOM, 0, 0, 1e9],
      [CONTINUE, 0, DV(IDLE_DOM, 0)],
      [WAKE, 100, 1, 1],
      [RS(BLOCKED, RUNNABLE), 100, DV(1, 1)],
      [INFPREV, 100, IDLE_DOM, 0, 100],
      [INFNEXT, 100, 1, 1, 0, 5000],
      [SWITCH, 100, IDLE_DOM, 0, 1, 1],
      [RS(RUN, RUNNABLE), 100, DV(IDLE_DOM, 0)],
      [RS(RUNNABLE, RUN), 100, DV(1, 1)],
      [WAKE, 150, 0, 0],
      [RS(BLOCKED, RUNNABLE), 150, DV(0, 0)],
      // d1v1 ran 200 ns; d0v0 had been runnable since its wake at 150.
      [INFPREV, 300, 1, 1, 200],
      [INFNEXT, 300, 0, 0, 150, 2000],
      [SWITCH, 300, 1, 1, 0, 0],
      [RS(RUN, RUNNABLE), 300, DV(1, 1)], // preempted: it still has work
      [RS(RUNNABLE, RUN), 300, DV(0, 0)],
      [INFCONT, 500, 0, 0, 200, 2000],
      [CONTINUE, 500, DV(0, 0)],
      [BLOCK, 701, 0, 0],
      // Run time counts from the switch at 300, across the re-decision at 500.
      [INFPREV, 701, 0, 0, 401],
      [INFNEXT, 701, 1, 1, 401, 3000],
      [SWITCH, 701, 0, 0, 1, 1],
      [RS(RUN, BLOCKED), 701, DV(0, 0)],
      [RS(RUNNABLE, RUN), 701, DV(1, 1)],
      // The end of the log: what runs on each pCPU goes on to there.
      [CONTINUE, 701, DV(1, 1)],
    ]);
    expect(on(1)).toEqual([
      [DOM_ADD, 0, 1],
      [WAKE, 50, 1, 0],
      [RS(BLOCKED, RUNNABLE), 50, DV(1, 0)],
      [INFPREV, 50, IDLE_DOM, 1, 50],
      [INFNEXT, 50, 1, 0, 0, 1e6],
      [SWITCH, 50, IDLE_DOM, 1, 1, 0],
      [RS(RUN, RUNNABLE), 50, DV(IDLE_DOM, 1)],
      [RS(RUNNABLE, RUN), 50, DV(1, 0)],
      [CONTINUE, 701, DV(1, 0)],
    ]);
    expect(windows.map((x) => x.bytes)).toEqual([
      on(0).reduce((s, x) => s + 4 * (x.length + 1), 0),
      on(1).reduce((s, x) => s + 4 * (x.length + 1), 0),
    ]);
  });

  it("gives xenalyze's run times: per vCPU from its runstate records, up to the end of the log", () => {
    const out = join(dir, 'hand.bin');
    exportXentrace(log, out, { cpuKhz: 1_000_000 });
    const s = xenalyzeSummary(out, { cpuHz: 1e9 });
    expect(s.warnings).toEqual([]);
    expect([s.firstTsc, s.lastTsc, s.totalCycles]).toEqual([1, 702, 701]);
    const run = (did: number) => {
      const d = s.domains.find((x) => x.did === did);
      return [d?.totalTime.cycles, ...(d?.vcpus.map((v) => v.runstates[0].cycles) ?? [])];
    };
    // d0v0 ran 300–701; d1v0 50–701 (pCPU 1); d1v1 100–300, then from 701 on.
    expect(run(0)).toEqual([401, 401]);
    expect(run(1)).toEqual([851, 651, 200]);
    // Idle: pCPU 0's from time 0 to 100 (its first record is a continue); pCPU 1's first
    // runstate record takes it out of running, and xenalyze keeps it in "init" until it runs.
    expect(run(IDLE_DOM)).toEqual([100, 100, 0]);
    // d1v1 waited (runnable) from its preemption at 300 to 701. d0v0 waited from its wake at
    // 150 to 300, but xenalyze counts nothing for a vCPU until it first runs ("init").
    expect(s.domains.find((x) => x.did === 1)?.vcpus[1].runstates[1].cycles).toBe(401);
    expect(s.domains.find((x) => x.did === 0)?.vcpus[0].runstates[1].cycles).toBe(0);
  });

  it('stamps TSC = 1 + round(ns × kHz / 10^6), 2.8 GHz by default', () => {
    const out = join(dir, 'hand-default.bin');
    exportXentrace(log, out);
    const tscs = parse(readFileSync(out)).recs.map((x) => x.tsc);
    expect([...new Set(tscs)].sort((a, b) => a - b)).toEqual([1, 141, 281, 421, 841, 1401, 1964]);
    expect(() => exportXentrace(log, out, { cpuKhz: 2.5 })).toThrow(IsosimError);
  });
});

describe('exportXentrace on a simulated two-pCPU host', () => {
  const log = join(dir, 'host.isolog');
  const out = join(dir, 'host.bin');
  const ns = join(dir, 'host-ns.bin');
  const domains = new Set<number>();
  const byType = new Map<string, number>();
  const switches: { pcpu: number; t: number; same: boolean }[] = [];
  let wakes = 0;
  let blocks = 0;

  beforeAll(() => {
    const config: SystemConfig = {
      profile: SYSTEM_2,
      scheduler: 'sedf',
      idd: { name: 'Dom-0', vcpus: [{ pcpu: 0 }, { pcpu: 1 }] },
      guests: [
        {
          name: 'Dom-1',
          vcpus: [{ pcpu: 0 }],
          workloads: [{ kind: 'web', rate: 400, fileBytes: 10_240, timeoutNs: NS_PER_S }],
        },
        { name: 'Dom-2', vcpus: [{ pcpu: 1 }], workloads: [{ kind: 'cpu' }] },
      ],
    };
    const kernel = new Kernel({ seed: 7, log: new LogWriter(new FileSink(log), logHeader('xentrace', 7)) });
    const sys = new XenSystem(kernel, config);
    sys.start();
    kernel.runUntil(0.3 * NS_PER_S);
    kernel.log?.close();
    // What the log says, read here independently of the exporter.
    const state = new Map<number, number>();
    scanLog(log, {
      onRecord: (r, d) => {
        const name = d.typeName(r.type);
        byType.set(name, (byType.get(name) ?? 0) + 1);
        if (name === 'sched.add') domains.add(r.values[0]);
        if (name === 'cpu.switch')
          switches.push({ pcpu: r.values[0], t: r.timeNs, same: r.values[1] === r.values[2] });
        if (name === 'vcpu.state') {
          const from = state.get(r.values[0]) ?? 0;
          const to = r.values[2];
          if (from === 0 && to === 1) wakes++;
          if (from !== 0 && to === 0) blocks++;
          state.set(r.values[0], to);
        }
        return undefined;
      },
    });
    exportXentrace(log, ns, { cpuKhz: 1_000_000 });
  });

  it('writes windows of whole records and the counts the log implies', () => {
    const r = exportXentrace(log, out);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const { windows, recs } = parse(readFileSync(out));
    expect(r.cpus).toBe(2);
    expect(r.records).toBe(recs.length);
    const used = ['sched.init', 'sched.add', 'cpu.switch', 'vcpu.state'];
    let others = 0;
    for (const [name, n] of byType) if (!used.includes(name)) others += n;
    expect(r.skipped).toBe(others);
    // Windows name valid CPUs, come in rounds of ascending CPUs, and several rounds were written.
    for (const w of windows) expect(w.cpu).toBeLessThan(2);
    expect(windows.length).toBeGreaterThan(2);
    expect(windows.filter((w, i) => i > 0 && w.cpu <= windows[i - 1].cpu).length).toBeGreaterThan(0);
    const count = (e: number) => recs.filter((x) => x.event === e).length;
    const changes = switches.filter((s) => !s.same).length;
    expect(changes).toBeGreaterThan(100);
    expect(count(SWITCH)).toBe(changes);
    expect(count(INFPREV)).toBe(changes);
    expect(count(INFNEXT)).toBe(changes);
    expect(count(INFCONT)).toBe(switches.length - changes);
    expect(count(WAKE)).toBe(wakes);
    expect(count(BLOCK)).toBe(blocks);
    // Runstates: two per change of vCPU, one per wake; a continue per re-decision and per pCPU at the end.
    expect(recs.filter((x) => isRunstate(x.event)).length).toBe(2 * changes + wakes);
    expect(count(CONTINUE)).toBe(switches.length - changes + 2);
    expect(wakes).toBeGreaterThan(100);
    expect(new Set(recs.filter((x) => x.event === DOM_ADD).map((x) => x.extra[0]))).toEqual(domains);
    expect(count(DOM_ADD)).toBe(domains.size);
  });

  it('keeps each CPU in time order, with switches that chain and match the log', () => {
    const { recs } = parse(readFileSync(ns));
    for (const cpu of [0, 1]) {
      const mine = recs.filter((x) => x.cpu === cpu);
      for (let i = 1; i < mine.length; i++) expect(mine[i].tsc).toBeGreaterThanOrEqual(mine[i - 1].tsc);
      // With TSC = ns, the SWITCH records sit at the log's switches to another vCPU.
      const sw = mine.filter((x) => x.event === SWITCH);
      const logged = switches.filter((s) => s.pcpu === cpu && !s.same).map((s) => s.t + 1);
      expect(sw.map((x) => x.tsc)).toEqual(logged);
      // Each switch starts from what the one before put on the CPU (idle at first),
      // and INFPREV's run time is the time since then.
      let running = [IDLE_DOM, cpu];
      let since = 1; // the TSC at time 0
      mine.forEach((x, i) => {
        if (x.event !== SWITCH) return;
        const [prev, next] = [mine[i - 2], mine[i - 1]];
        expect([prev.event, next.event]).toEqual([INFPREV, INFNEXT]);
        expect([prev.tsc, next.tsc]).toEqual([x.tsc, x.tsc]);
        expect(x.extra.slice(0, 2)).toEqual(running);
        expect(prev.extra).toEqual([...running, x.tsc - since]);
        expect(next.extra.slice(0, 2)).toEqual(x.extra.slice(2));
        running = x.extra.slice(2);
        since = x.tsc;
      });
    }
  });

  it('exports a damaged log up to the damage, and leaves nothing behind for a missing one', () => {
    const cut = join(dir, 'cut.isolog');
    copyFileSync(log, cut);
    truncateSync(cut, Math.floor(readFileSync(log).length / 2));
    const whole = exportXentrace(log, join(dir, 'whole.bin'));
    const r = exportXentrace(cut, join(dir, 'cut.bin'));
    expect(r.damage).toMatch(/at byte \d+/);
    expect(r.records).toBeGreaterThan(0);
    expect(r.records).toBeLessThan(whole.records);
    expect(parse(readFileSync(join(dir, 'cut.bin'))).recs.length).toBe(r.records);
    const missing = join(dir, 'missing.bin');
    expect(() => exportXentrace(join(dir, 'nope.isolog'), missing)).toThrow(IsosimError);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(`${missing}.partial`)).toBe(false);
  });
});
