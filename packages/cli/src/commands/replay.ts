/**
 * Replay debugging from the command line: verify, replay (seek, inspect, search,
 * step), diff, resim, export. The work is in `@isosim/replay`; this file prints.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { IsosimError, type LogDamage, LogDamageError, type ScanResult } from '@isosim/core';
import { scanLog } from '@isosim/core/node';
import {
  type DecodedRecord,
  type DiskCounts,
  diffLogs,
  domainNames,
  exportPerfetto,
  exportXentrace,
  hostLayout,
  parseQuery,
  Replay,
  type World,
} from '@isosim/replay';
import { logInput, Progress, parseScenario, runScenario, writeOutputFile } from '@isosim/scenarios';
import { type CommandSpec, intOption, timeOption } from '../args.ts';

function onePath(command: string, positionals: readonly string[], what = 'LOG'): string {
  if (positionals.length !== 1) {
    throw new IsosimError(
      `isosim ${command}`,
      what,
      `expected one log path, got ${positionals.length}`,
      `run 'isosim ${command} path/to/events.isolog'`,
    );
  }
  return logInput(command, positionals[0], what);
}

/** Records printed per read: `--next 10000000` holds at most this many in memory. */
const BATCH = 20_000;

/**
 * Prints records [from, to) as `  #seq …` lines, streaming: a batch at a time, no batch
 * running past the next index snapshot (so each read starts near its first record), and
 * waiting for standard output to drain (a pipe to a slow reader would otherwise buffer
 * everything in memory).
 */
async function printRecords(r: Replay, from: number, to: number): Promise<void> {
  const hi = Math.min(r.records, to);
  const starts = r.index.snapshots.map((x) => x.point.seq);
  for (let a = Math.max(0, from); a < hi; ) {
    const b = Math.min(hi, a + BATCH, starts.find((x) => x > a) ?? hi);
    const text = r
      .read(a, b)
      .map((rec) => `  ${fmtRecord(rec)}\n`)
      .join('');
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
    a = b;
  }
}

export const verify: CommandSpec = {
  name: 'verify',
  brief: "checks a log: header, schema, every block's hash chain",
  summary:
    "Streams a log of any size, checking its header and schema version and every block's\n" +
    'digest against the hash chain and the end block. Prints the record count and digest.\n' +
    'A truncated or corrupted log is reported with the byte offset and the first record not\n' +
    'vouched for (everything before it is sound and usable); exit status 1 then.',
  usage: 'isosim verify LOG',
  options: {},
  run({ positionals }) {
    const path = onePath('verify', positionals);
    const progress = new Progress('verify');
    let lastTime = 0;
    let r: ScanResult;
    try {
      // The reader checks the schema too: a schema 1 log is refused with a clear error.
      r = scanLog(path, {
        onBlock: (p) => progress.update(0, `${p.seq} records`),
        onRecord: (rec) => {
          lastTime = rec.timeNs;
          return undefined;
        },
      });
    } catch (err) {
      if (!(err instanceof LogDamageError)) throw err;
      progress.done();
      console.log(`log       ${path}`);
      console.log(damageLine(err.damage));
      return 1;
    }
    progress.done();
    console.log(`log       ${path}`);
    console.log(`scenario  ${r.header.scenario.name}, seed ${r.header.seed}`);
    console.log(`records   ${r.records} (${(lastTime / 1e9).toFixed(3)} simulated s, ${r.bytes} bytes)`);
    console.log(`digest    ${r.digest}`);
    if (r.complete) {
      console.log('verified  every block and the end block agree with the hash chain');
      return 0;
    }
    console.log(r.damage ? damageLine(r.damage) : 'INCOMPLETE');
    return 1;
  },
};

function damageLine(d: LogDamage): string {
  const sound = d.seq > 0 ? `records 0..${d.seq - 1} are verified and usable` : 'no record is verified';
  return `DAMAGED   at byte ${d.offset}: ${d.message}; ${sound}`;
}

function fmtRecord(r: DecodedRecord): string {
  const f = Object.entries(r.fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `#${r.seq}  t=${(r.timeNs / 1e9).toFixed(9)}  ${r.type}  ${r.source} -> ${r.target}${f ? `  ${f}` : ''}`;
}

function printState(replay: Replay, n: number, w: World, actor?: string): void {
  const names = domainNames(replay.header);
  const memNames = hostLayout(replay.header).memoryDomains;
  const dom = (id: number) => names[id] ?? memNames[id] ?? `dom${id}`;
  console.log(`state after ${n} of ${replay.records} records, t = ${(w.s.timeNs / 1e9).toFixed(9)} s`);
  const next = replay.read(n, n + 1)[0];
  const d = replay.damage;
  console.log(
    next
      ? `next      ${fmtRecord(next)}`
      : d
        ? `next      (none verified: the log is damaged at byte ${d.offset})`
        : 'next      (end of log)',
  );
  if (actor !== undefined) {
    if (actor.startsWith('sched.') && w.s.scheduler) {
      console.log(`${actor}: ${JSON.stringify(w.s.scheduler.context, null, 2)}`);
      return;
    }
    const v = w.actor(actor);
    if (v === undefined) {
      throw new IsosimError(
        replay.path,
        '--actor',
        `no actor ${actor} at this point`,
        `give one of: ${Object.keys(w.s.actors).join(', ')}`,
      );
    }
    console.log(`${actor}: ${v}`);
    return;
  }
  console.log('\nactors');
  for (const [k, v] of Object.entries(w.s.actors)) console.log(`  ${k.padEnd(28)}${v}`);
  console.log('\npCPUs');
  w.s.pcpus.forEach((p, i) => {
    const d = p.vcpu < 0 ? 'idle' : dom(w.s.vcpus[p.vcpu]?.domain ?? -1);
    const who = p.principal >= 0 && p.vcpu >= 0 ? `, working for ${dom(p.principal)}` : '';
    console.log(
      `  ${i}: ${d} (vCPU ${p.vcpu}) since ${(p.sinceNs / 1e9).toFixed(6)} s, slice ${p.runNs / 1e6} ms${who}`,
    );
  });
  const STATES = ['blocked', 'runnable', 'running'];
  const sched = w.s.scheduler?.context.state as { vcpus?: Record<string, unknown>[] } | undefined;
  console.log('\nvCPUs (state; scheduler view)');
  w.s.vcpus.forEach((v, i) => {
    const sv = sched?.vcpus?.[i] ?? {};
    const extra = ['remainingNs', 'debtNs', 'deadlineNs', 'credit', 'queue']
      .filter((k) => sv[k] !== undefined)
      .map((k) => `${k}=${sv[k]}`)
      .join(' ');
    console.log(`  ${i}: ${dom(v.domain).padEnd(8)} ${STATES[v.state] ?? v.state}  ${extra}`);
  });
  console.log('\nlast second (XenMon samples), % of a CPU');
  for (const id of Object.keys(w.s.xenmon)) {
    const s = w.lastSecond(Number(id));
    console.log(
      `  ${dom(Number(id)).padEnd(8)} own ${(s.ownNs / 1e7).toFixed(1)}  IDD est ${(s.iddEstNs / 1e7).toFixed(1)}  IDD true ${(s.iddTrueNs / 1e7).toFixed(1)}  combined ${((s.ownNs + s.iddTrueNs) / 1e7).toFixed(1)}`,
    );
  }
  const perDriver = Object.keys(w.s.xenmonIdd);
  if (perDriver.length > 0) {
    console.log('\nlast second per driver domain (XenMon samples), % of a CPU');
    for (const key of perDriver) {
      const [drv, id] = key.split(':').map(Number);
      const s = w.lastSecond(id, drv);
      if (s.iddEstNs === 0 && s.iddTrueNs === 0) continue;
      console.log(
        `  ${dom(drv).padEnd(8)} for ${dom(id).padEnd(8)} est ${(s.iddEstNs / 1e7).toFixed(1)}  true ${(s.iddTrueNs / 1e7).toFixed(1)}`,
      );
    }
  }
  const drivers = [...new Set([...hostLayout(replay.header).drivers, ...w.s.drivers])].sort((a, b) => a - b);
  if (drivers.length > 0) {
    console.log("\ndriver domains' work so far (exact, to each pCPU's last timer), ms");
    for (const drv of drivers) {
      const parts = w.workOf(drv).map((x) => `${dom(x.principal)} ${(x.ns / 1e6).toFixed(3)}`);
      console.log(`  ${dom(drv).padEnd(8)} ${parts.join(', ') || '(none yet)'}`);
    }
  }
  const disks = Object.entries(w.s.disks);
  if (disks.length > 0) {
    console.log('\ndisks (requests dispatched, completed, in flight at the device; latency since submitted)');
    const line = (label: string, c: DiskCounts): string => {
      const mean = c.completed > 0 ? (c.latencySumNs / c.completed / 1e6).toFixed(3) : '-';
      const lastMs = c.lastLatencyNs >= 0 ? (c.lastLatencyNs / 1e6).toFixed(3) : '-';
      return `  ${label.padEnd(12)} ${c.dispatched} dispatched, ${c.completed} completed, ${c.inFlight} in flight; latency mean ${mean} ms, last ${lastMs} ms, max ${(c.maxLatencyNs / 1e6).toFixed(3)} ms`;
    };
    for (const [name, disk] of disks) {
      console.log(line(name, disk));
      for (const [g, c] of Object.entries(disk.guests)) console.log(line(`  ${dom(Number(g))}`, c));
    }
  }
  if (w.s.memory !== undefined) printMemory(w.s.memory, dom);
  const blocks = w.blocks();
  if (blocks.length > 0) {
    console.log('\nShareGuard blocks');
    for (const b of blocks)
      console.log(
        `  ${dom(b.guest)}${b.driver === undefined ? '' : ` in ${b.driver}`} since ${(b.sinceNs / 1e9).toFixed(3)} s for ${b.tdefNs / 1e6} ms`,
      );
  }
  const drops = Object.entries(w.s.drops);
  if (drops.length > 0) {
    console.log('\ndrops so far');
    for (const [k, v] of drops) {
      const [g, reason] = k.split(':');
      console.log(`  ${dom(Number(g)).padEnd(8)} ${reason}: ${v}`);
    }
  }
}

/** The host's memory as the World rebuilt it (docs/memory.md), MiB of 4 KiB pages. */
function printMemory(m: NonNullable<World['s']['memory']>, dom: (id: number) => string): void {
  const mib = (p: number) => `${(p / 256).toFixed(p % 256 === 0 ? 0 : 2)} MiB`;
  console.log(
    `\nmemory: ${mib(m.freePages)} free of ${mib(m.totalPages)}, ${mib(m.outstandingClaims)} claimed` +
      (Object.keys(m.frozen).length > 0 ? `; ${Object.keys(m.frozen).length} domains frozen` : ''),
  );
  for (const [id, d] of Object.entries(m.domains)) {
    const extra = [
      d.outstandingPages > 0 ? `claim ${mib(d.outstandingPages)}` : '',
      m.frozen[id] !== undefined ? 'frozen' : '',
      m.balloonTargets[id] !== undefined ? `target ${mib(m.balloonTargets[id])}` : '',
      m.tmem[id] !== undefined
        ? `tmem ${mib(m.tmem[id].ephemeralPages)} ephemeral, ${mib(m.tmem[id].persistentPages)} persistent`
        : '',
      m.sharing[id] !== undefined ? `${mib(m.sharing[id].brokenPages)} shared pages broken` : '',
    ].filter((x) => x !== '');
    console.log(
      `  ${dom(Number(id)).padEnd(20)} ${mib(d.totPages)} of max ${mib(d.maxPages)}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`,
    );
  }
  const builds = Object.entries(m.builds);
  if (builds.length > 0)
    console.log(
      `  builds: ${builds.map(([id, b]) => `${dom(Number(id))} ${b.state}${b.state === 'building' ? ` ${mib(b.populatedPages)} of ${mib(b.pages)}` : ''}`).join(', ')}`,
    );
}

export const replay: CommandSpec = {
  name: 'replay',
  brief: 'rebuilds the state at any record or time from a log; search, step',
  summary:
    'Rebuilds the host from a log alone (no re-run): every actor, the scheduler, vCPUs,\n' +
    "pCPUs, XenMon's last second, each driver domain's work by guest, disks, ShareGuard,\n" +
    'drops. The first use writes an index beside the log (LOG.idx, snapshots every --every\n' +
    'records), so seeking later is quick.\n' +
    '--until EXPR stops at the first record where EXPR holds, for example\n' +
    "  'type=shareguard.block'   'combined(Dom-1) > 22'   'state(nic0)=masked && time >= 2'\n" +
    '(docs/replay.md has the language). --next K / --prev K print records around the point;\n' +
    '--interactive reads commands: n [K], p [K], g N, t SECONDS, u EXPR, s, q.',
  usage:
    'isosim replay LOG [--at N | --time S | --until EXPR] [--actor ID] [--next K] [--prev K] [--interactive]',
  options: {
    at: {
      type: 'string',
      help: 'record number: the state before record N (default: the end)',
      placeholder: 'N',
    },
    time: {
      type: 'string',
      help: 'simulated seconds: the state after every record up to then',
      placeholder: 'S',
    },
    until: {
      type: 'string',
      help: 'first record where EXPR holds (from --at/--time, else 0)',
      placeholder: 'EXPR',
    },
    actor: {
      type: 'string',
      help: "print only this actor's state (sched.sedf: the whole context)",
      placeholder: 'ID',
    },
    next: { type: 'string', help: 'also print the next K records', placeholder: 'K' },
    prev: { type: 'string', help: 'also print the K records before', placeholder: 'K' },
    every: { type: 'string', help: 'records between index snapshots (default 100000)', placeholder: 'K' },
    interactive: { type: 'boolean', help: 'step with commands read from standard input' },
  },
  async run({ values, positionals }) {
    const path = onePath('replay', positionals);
    const progress = new Progress('index');
    const every = intOption('replay', 'every', values.every, 100_000, 1);
    const r = Replay.open(path, { every, onProgress: (n) => progress.update(0, `${n} records`) });
    progress.done();
    if (r.index.damage) {
      console.error(
        `note: the log is damaged at byte ${r.index.damage.offset} (${r.index.damage.message}); replaying its first ${r.records} records`,
      );
    }
    let n = r.records;
    let world: World;
    if (values.at !== undefined && values.time !== undefined) {
      throw new IsosimError('isosim replay', '--at/--time', 'both given', 'give one of them');
    }
    if (values.at !== undefined) {
      // Past the damage of a damaged log, seek says where the damage is.
      n = intOption('replay', 'at', values.at, 0, 0, r.damage ? undefined : r.records);
      world = r.seek(n);
    } else if (values.time !== undefined) {
      const s = timeOption('replay', 'time', values.time) ?? 0;
      ({ n, world } = r.seekTime(Math.round(s * 1e9)));
    } else {
      world = r.seek(values.until !== undefined ? 0 : n);
      if (values.until !== undefined) n = 0;
    }
    if (values.until !== undefined) {
      const pred = parseQuery(String(values.until), r.header);
      const hit = r.until(pred, n);
      if (hit === undefined) {
        console.log(`'${values.until}' holds nowhere from record ${n} to the end (${r.records} records)`);
        return 1;
      }
      console.log(`'${values.until}' first holds at record ${hit.n}:`);
      console.log(`  ${fmtRecord(r.read(hit.n, hit.n + 1)[0])}`);
      n = hit.n + 1;
      world = hit.world;
    }
    const actor = values.actor === undefined ? undefined : String(values.actor);
    const show = async (): Promise<void> => {
      const prev = intOption('replay', 'prev', values.prev, 0);
      if (prev > 0) await printRecords(r, n - prev, n);
      printState(r, n, world, actor);
      const next = intOption('replay', 'next', values.next, 0);
      if (next > 0) {
        console.log('\nnext records');
        await printRecords(r, n, n + next);
        if (r.damage && n + next > r.records)
          console.log(`  (the log is damaged at byte ${r.damage.offset}: no record past #${r.records - 1})`);
      }
    };
    await show();
    // A damaged log exits 1 even when the state asked for lies before the damage.
    const status = r.damage ? 1 : 0;
    if (values.interactive !== true) return status;
    const rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY,
    });
    const prompt = () =>
      process.stdout.write(`\n[${n}/${r.records}] n K | p K | g N | t S | u EXPR | s | q > `);
    prompt();
    let refused = false;
    for await (const line of rl) {
      const [cmd, ...rest] = line.trim().split(/\s+/);
      const arg = rest.join(' ');
      try {
        if (cmd === 'q') break;
        if (cmd === 'n' || cmd === 'p') {
          const k = arg === '' ? 1 : intOption('replay', cmd, arg, 1, 1);
          const to = cmd === 'n' ? Math.min(r.records, n + k) : Math.max(0, n - k);
          await printRecords(r, Math.min(n, to), Math.max(n, to));
          n = to;
          world = r.seek(n);
          console.log(`now before record ${n}, t = ${(world.s.timeNs / 1e9).toFixed(9)} s`);
        } else if (cmd === 'g') {
          n = intOption('replay', 'g', arg, 0, 0, r.damage ? undefined : r.records);
          world = r.seek(n);
          printState(r, n, world, actor);
        } else if (cmd === 't') {
          // Checked first: a bad time leaves the position where it was.
          const s = timeOption('replay', 't', arg) ?? 0;
          ({ n, world } = r.seekTime(Math.round(s * 1e9)));
          printState(r, n, world, actor);
        } else if (cmd === 'u') {
          const hit = r.until(parseQuery(arg, r.header), n);
          if (hit === undefined) console.log(`'${arg}' holds nowhere from record ${n} on`);
          else {
            console.log(`  ${fmtRecord(r.read(hit.n, hit.n + 1)[0])}`);
            n = hit.n + 1;
            world = hit.world;
          }
        } else if (cmd === 's') {
          printState(r, n, world, actor);
        } else if (cmd !== '') {
          throw new IsosimError(
            'isosim replay',
            'command',
            `'${cmd}' is not a command`,
            'give n K, p K, g N, t SECONDS, u EXPR, s or q',
          );
        }
      } catch (err) {
        if (!(err instanceof IsosimError)) throw err;
        // On stderr, and the session ends with status 2: a script feeding commands notices.
        console.error(`error: ${err.message}`);
        refused = true;
      }
      prompt();
    }
    rl.close();
    return refused ? 2 : status;
  },
};

export const diff: CommandSpec = {
  name: 'diff',
  brief: 'finds the first record where two logs diverge, with context',
  summary:
    'Compares two logs record by record (by name, so logs from different builds compare) and\n' +
    'shows the first record where they differ, with --context records either side of both.\n' +
    'Exit status 0 when they are the same, 1 when they differ.',
  usage: 'isosim diff A B [--context K]',
  options: {
    context: { type: 'string', help: 'records shown either side (default 5)', placeholder: 'K' },
  },
  run({ values, positionals }) {
    if (positionals.length !== 2) {
      throw new IsosimError(
        'isosim diff',
        'LOGS',
        `expected two log paths, got ${positionals.length}`,
        "run 'isosim diff a.isolog b.isolog'",
      );
    }
    const [a, b] = positionals.map((p, i) => logInput('diff', p, i === 0 ? 'A' : 'B'));
    const context = intOption('diff', 'context', values.context, 5);
    const d = diffLogs(a, b, context);
    const damaged = (label: string, path: string, dmg: LogDamage | undefined): void => {
      if (dmg) console.log(`${label} ${path}: ${damageLine(dmg)}`);
    };
    if (d.at === undefined) {
      if (d.damageA || d.damageB) {
        damaged('A', a, d.damageA);
        damaged('B', b, d.damageB);
        console.log(
          `no difference in the ${Math.min(d.recordsA, d.recordsB)} records both have verified; past the damage nothing can be compared`,
        );
        return 1;
      }
      console.log(`same: ${d.recordsA} records, identical`);
      return 0;
    }
    console.log(`A ${a}: ${d.headerA.scenario.name}, seed ${d.headerA.seed}, ${d.recordsA} records`);
    console.log(`B ${b}: ${d.headerB.scenario.name}, seed ${d.headerB.seed}`);
    console.log(`first difference at record ${d.at}\n`);
    const show = (label: string, recs: DecodedRecord[]) => {
      console.log(label);
      for (const rec of recs) console.log(`${rec.seq === d.at ? '>' : ' '} ${fmtRecord(rec)}`);
      if (!recs.some((x) => x.seq === d.at)) console.log(`> (no record ${d.at}: the log ends)`);
    };
    show('A', d.contextA);
    console.log('');
    show('B', d.contextB);
    if (d.damageA || d.damageB) console.log('');
    damaged('A', a, d.damageA);
    damaged('B', b, d.damageB);
    return 1;
  },
};

export const resim: CommandSpec = {
  name: 'resim',
  brief: 're-runs the scenario recorded in a log and checks for the same hash',
  summary:
    "Reads the scenario and seed from a log's header, runs it again, and compares the new\n" +
    "log's digest and record count with the old one's: the check that a run is reproducible\n" +
    '(on another machine, or after a change to the code). Exit status 1 on a mismatch.',
  usage: 'isosim resim LOG',
  options: {},
  run({ positionals }) {
    const path = onePath('resim', positionals);
    // A damaged header throws here; damaged records are refused below: the old digest is unknown.
    const old = scanLog(path);
    if (!old.complete) {
      throw new LogDamageError(
        path,
        old.damage ?? { offset: old.bytes, seq: old.records, message: 'the log is incomplete' },
        'the digest resim compares with',
      );
    }
    const spec = (old.header.scenario as { spec?: unknown }).spec;
    if (spec === undefined) {
      throw new IsosimError(
        path,
        'header.scenario.spec',
        'the log does not record its scenario',
        'resim logs written by isosim run or isosim paper',
      );
    }
    const s = parseScenario(spec, `${path} (header)`);
    const dir = mkdtempSync(join(tmpdir(), 'isosim-resim-'));
    try {
      const progress = new Progress(`resim ${s.name}`);
      const { metrics, wallS } = runScenario(s, {
        seed: old.header.seed,
        out: dir,
        onProgress: (f, e) => progress.update(f, `${e} events`),
      });
      progress.done();
      console.log(
        `scenario  ${s.name}, seed ${old.header.seed}, ${s.durationS} s (${wallS.toFixed(1)} s wall)`,
      );
      console.log(`old       ${old.records} records, digest ${old.digest}`);
      console.log(`new       ${metrics.events === undefined ? '' : ''}digest ${metrics.logHash}`);
      if (metrics.logHash === old.digest) {
        console.log('identical: the run reproduces');
        return 0;
      }
      console.log(
        `DIFFERENT: compare with 'isosim diff ${path} <new log>' (re-run with isosim run --out to keep one)`,
      );
      return 1;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export const exportCmd: CommandSpec = {
  name: 'export',
  brief: 'writes a log as a Perfetto/Chrome trace or a xentrace binary',
  summary:
    'Converts a log for other tools. --perfetto OUT.json: Chrome trace-event JSON for\n' +
    'ui.perfetto.dev or chrome://tracing (a track per pCPU, a slice per running domain, the\n' +
    "driver domain's work by guest served, counters, ShareGuard and drop events, interrupt\n" +
    "arrows; docs/replay.md). --xentrace OUT.bin: records in Xen's trace.h layout for\n" +
    "Xen's own trace tools, e.g. xenalyze (docs/xentrace.md).",
  usage: 'isosim export LOG (--perfetto OUT.json [--from S] [--to S] | --xentrace OUT.bin)',
  options: {
    perfetto: { type: 'string', help: 'Chrome trace-event JSON output', placeholder: 'OUT' },
    from: { type: 'string', help: 'Perfetto: only events from S simulated seconds on', placeholder: 'S' },
    to: { type: 'string', help: 'Perfetto: only events up to S simulated seconds', placeholder: 'S' },
    xentrace: { type: 'string', help: 'xentrace binary output', placeholder: 'OUT' },
  },
  run({ values, positionals }) {
    const path = onePath('export', positionals);
    if ((values.perfetto === undefined) === (values.xentrace === undefined)) {
      throw new IsosimError(
        'isosim export',
        '--perfetto/--xentrace',
        'give exactly one',
        "e.g. 'isosim export LOG --perfetto run.json'",
      );
    }
    if (values.perfetto !== undefined) {
      const out = String(values.perfetto);
      const from = timeOption('export', 'from', values.from);
      const to = timeOption('export', 'to', values.to);
      if (from !== undefined && to !== undefined && from > to) {
        throw new IsosimError(
          'isosim export',
          '--from/--to',
          `--from ${from} is after --to ${to}: the window is empty`,
          'give --from at or before --to',
        );
      }
      // Written beside OUT under a temporary name, renamed when whole; never the log itself.
      const r = writeOutputFile('isosim export', '--perfetto', out, [path], (tmp) =>
        exportPerfetto(path, tmp, {
          fromNs: from === undefined ? undefined : Math.round(from * 1e9),
          toNs: to === undefined ? undefined : Math.round(to * 1e9),
        }),
      );
      console.log(
        `wrote ${out}: ${r.events} trace events from ${r.records} records${r.damage ? ` (log damaged: ${r.damage})` : ''}`,
      );
      // With --to the export stops reading a second past it: the rest is not its concern.
      return r.damage ? 1 : 0;
    }
    if (values.from !== undefined || values.to !== undefined) {
      throw new IsosimError(
        'isosim export',
        values.from !== undefined ? '--from' : '--to',
        'applies to --perfetto only (a xentrace export is always the whole log)',
        'drop it, or export with --perfetto',
      );
    }
    const out = String(values.xentrace);
    const r = writeOutputFile('isosim export', '--xentrace', out, [path], (tmp) => exportXentrace(path, tmp));
    console.log(
      `wrote ${out}: ${r.records} trace records on ${r.cpus} CPUs${r.damage ? ` (log damaged: ${r.damage})` : ''}`,
    );
    // xenalyze names domains by id: which is which, and which are driver domains.
    const host = hostLayout(scanLog(path, { onRecord: () => false }).header);
    if (host.domains.length > 0) {
      const named = host.domains.map(
        (n, id) => `d${id} ${n}${host.drivers.includes(id) ? ' (driver domain)' : ''}`,
      );
      console.log(`domains: ${named.join(', ')}`);
    }
    return r.damage ? 1 : 0;
  },
};
