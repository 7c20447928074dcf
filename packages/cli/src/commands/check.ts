/**
 * `isosim check`: runs one scenario and checks the isolation invariants of
 * docs/verification.md on it, the same checks the property suite runs on generated
 * hosts. For a policy someone is about to build: does this host, with these shares,
 * slices, limits and loads, keep its promises?
 */
import { join } from 'node:path';
import { CHARGING_INFO } from '@isosim/actors';
import { FileSink } from '@isosim/core/node';
import type { Scenario } from '@isosim/scenarios';
import {
  builtinNames,
  type CheckResult,
  chargingExact,
  combinedShare,
  conservation,
  creditCaps,
  diskWaits,
  hardReservations,
  loadScenario,
  memoryAccounting,
  OutputDir,
  outDirOption,
  Progress,
  runChecked,
  shareGuardLimits,
} from '@isosim/scenarios';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';

interface Row {
  readonly label: string;
  /** What `worst` is measured in: nothing (an exact bound), ε, Credit ticks, or a bound without ε. */
  readonly unit: 'exact' | 'ε' | 'tick' | 'bound';
  /** The check, or why it does not apply to this host. */
  readonly result: CheckResult | string;
  /** Whether the host claims it (a violation of an unclaimed bound is shown, not failed). */
  readonly claimed: boolean;
}

/** Whether every workload stops before the end, so that the host can drain and packets balance. */
function stopsBeforeEnd(s: Scenario): boolean {
  return s.domains.every((d) =>
    (d.workloads ?? []).every((w) => w.stopS !== undefined && w.stopS <= s.durationS),
  );
}

function closest(r: CheckResult, unit: Row['unit']): string {
  if (unit === 'exact') return 'exact';
  if (!Number.isFinite(r.worst)) return '-';
  const of = { ε: 'ε', tick: 'a tick', bound: 'the bound' }[unit];
  return `${r.worst.toFixed(2)} of ${of}`;
}

export const check: CommandSpec = {
  name: 'check',
  brief: 'runs a scenario and checks the isolation invariants on it (docs/verification.md)',
  summary:
    'Runs a scenario (a built-in name or a JSON file) and checks on it the invariants the\n' +
    'verification suite checks on generated hosts: 1 hard reservations (SEDF: own CPU in every\n' +
    'period <= slice; Credit: in any m accounting periods <= m x cap x 30 ms + one tick),\n' +
    '2 combined CPU (own + driver domain for it) <= share + ε over every window >= 2t (claimed\n' +
    'only with debt collection; shown for any host), 3 ShareGuard limits over each t + t_def,\n' +
    '4 conservation of CPU time, debt and (when every workload stops before the end, so the\n' +
    'host can drain) packets and block requests, 7 on hosts with disks: no request waits at a\n' +
    'disk longer than its elevator allows (fifo, deadline, cfq), 8 under a cycle-accurate\n' +
    'charging policy (mechanisms.charging 1A-1E): what XenMon reports is the truth, 9 with a\n' +
    'memory block: every page accounted for and claims within the free pages (MemoryHost also\n' +
    'checks its invariants after every mem.* event; a break stops the run). Prints a\n' +
    'table; "closest" is how near the worst instance came to its bound (1 = at the bound).\n' +
    'Writes the event log to DIR/events.isolog for `isosim replay`. Exit status 1 if a\n' +
    'claimed invariant is violated.',
  usage: 'isosim check <name|file> [--seed N] [--duration S] [--out DIR] [--json]',
  options: {
    seed: { type: 'string', help: "root seed (default: the scenario's)", placeholder: 'N' },
    duration: { type: 'string', help: "simulated seconds (default: the scenario's)", placeholder: 'S' },
    out: {
      type: 'string',
      help: 'where the event log goes (default out/check/<scenario>)',
      placeholder: 'DIR',
    },
    json: { type: 'boolean', help: 'print the results as JSON instead of a table' },
  },
  run({ values, positionals }) {
    if (positionals.length !== 1) {
      console.error(`usage: isosim check <name|file>; built-ins: ${builtinNames().join(', ')}`);
      return 2;
    }
    const loaded = loadScenario(positionals[0]);
    const seed = intOption('check', 'seed', values.seed, loaded.seed);
    const durationS =
      values.duration === undefined
        ? loaded.durationS
        : secondsOption('check', 'duration', values.duration, loaded.durationS, 3600);
    // As `isosim run` does: a --duration measures the whole run (so the log is the same).
    const s: Scenario = {
      ...loaded,
      seed,
      durationS,
      window: values.duration === undefined ? loaded.window : undefined,
    };
    const out = outDirOption('check', values.out, join('out', 'check', s.name));
    const drain = stopsBeforeEnd(s);
    // Locked and staged as isosim run's: the log is moved into place only when whole.
    const dir = OutputDir.open('isosim check', out);
    const logPath = dir.final('events.isolog');
    let run: ReturnType<typeof runChecked>;
    try {
      const progress = new Progress(`check ${s.name}`);
      run = runChecked(s, {
        sink: new FileSink(dir.path('events.isolog')),
        drain,
        onProgress: (f) => progress.update(f, `${(f * durationS).toFixed(0)}/${durationS} s simulated`),
      });
      progress.done();
      dir.commit();
    } finally {
      dir.abandon();
    }

    const sedf = s.host.scheduler === 'sedf';
    // Debt collection claims the bound only when it counts every driver domain's work.
    const idds = s.domains.filter((d) => d.role === 'idd').map((d) => d.name);
    const counted = s.mechanisms.debt?.drivers;
    const partial = counted !== undefined && idds.some((n) => !counted.includes(n));
    const debt = s.mechanisms.debt !== undefined && !partial;
    const rows: Row[] = [
      sedf
        ? { label: '1 hard reservations', unit: 'exact', result: hardReservations(run), claimed: true }
        : { label: '1 Credit caps', unit: 'tick', result: creditCaps(run), claimed: true },
      {
        label: `2 combined <= share + ε${debt ? '' : partial ? ' (debt from some IDDs)' : ' (no debt collection)'}`,
        unit: 'ε',
        result: combinedShare(run),
        claimed: debt,
      },
      {
        label: '3 ShareGuard <= limit + ε',
        unit: 'ε',
        result: s.mechanisms.shareGuard ? shareGuardLimits(run) : 'no ShareGuard',
        claimed: true,
      },
      {
        label: `4 conservation${drain ? '' : ' (CPU, debt)'}`,
        unit: 'exact',
        result: conservation(run),
        claimed: true,
      },
      {
        label: '7 disk waits <= elevator bound',
        unit: 'bound',
        result: (s.disks ?? []).length > 0 ? diskWaits(run) : 'no disk',
        claimed: true,
      },
    ];
    // Only where the scenario chooses a policy (the default, 2C, is near-accurate).
    if (s.mechanisms.charging !== undefined)
      rows.push({
        label: `8 charging ${run.sys.charging} = ground truth`,
        unit: 'exact',
        result: CHARGING_INFO[run.sys.charging].exact
          ? chargingExact(run)
          : `near-accurate policy (${run.sys.charging})`,
        claimed: true,
      });
    if (s.memory !== undefined)
      rows.push({
        label: '9 memory: pages accounted, claims <= free',
        unit: 'exact',
        result: memoryAccounting(run),
        claimed: true,
      });
    const failed = rows.some((r) => r.claimed && typeof r.result !== 'string' && r.result.failures > 0);

    if (values.json) {
      const json = rows.map((r) => ({
        invariant: r.label,
        claimed: r.claimed,
        ...(typeof r.result === 'string'
          ? { applies: false, why: r.result }
          : {
              applies: true,
              checked: r.result.checked,
              violations: r.result.failures,
              worst: Number.isFinite(r.result.worst) ? r.result.worst : null,
              first: r.result.violations.slice(0, 5),
            }),
      }));
      console.log(
        JSON.stringify(
          {
            scenario: s.name,
            seed,
            durationS,
            log: logPath,
            hash: run.digest,
            ok: !failed,
            invariants: json,
          },
          null,
          2,
        ),
      );
      return failed ? 1 : 0;
    }

    const extra = run.durationNs / 1e9 - durationS;
    console.log(
      `${s.name}: seed ${seed}, ${durationS} s simulated${drain ? `, then ${extra.toFixed(1)} s to drain` : ''}; log hash ${run.digest}`,
    );
    if (!drain)
      console.log('(packets are not balanced: some workload runs to the end, so the host cannot drain)');
    const table = rows.map((r) => {
      if (typeof r.result === 'string') return [r.label, '-', '-', r.result];
      const n = r.result.failures;
      const verdict = n === 0 ? 'holds' : r.claimed ? 'VIOLATED' : 'exceeded (not claimed)';
      return [r.label, String(r.result.checked), String(n), closest(r.result, r.unit), verdict];
    });
    const head = ['invariant', 'instances', 'violations', 'closest', ''];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => (t[i] ?? '').length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 0 || i >= 3 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join('  ')
        .trimEnd();
    console.log(`\n${line(head)}`);
    for (const t of table) console.log(line(t));
    for (const r of rows) {
      if (typeof r.result === 'string' || r.result.failures === 0) continue;
      console.log(`\n${r.label}: ${r.result.failures} violation(s); the first:`);
      for (const v of r.result.violations.slice(0, 3)) console.log(`  ${v}`);
    }
    console.log(`\nlog: ${logPath} (isosim replay ${logPath} --until '...')`);
    return failed ? 1 : 0;
  },
};
