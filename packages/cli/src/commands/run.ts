import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import {
  builtinNames,
  formatReport,
  LOG_THREAD_MIN_S,
  loadScenario,
  outDirOption,
  runAndWriteInterruptible,
} from '@isosim/scenarios';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';

export const run: CommandSpec = {
  name: 'run',
  brief: 'runs a built-in scenario or a scenario file; prints a XenMon-like table',
  summary:
    'Runs a scenario (a built-in name, see `isosim list`, or a JSON file: docs/scenarios.md) and\n' +
    'prints per domain its CPU, the driver domain CPU on its behalf (XenMon estimate and ground\n' +
    "truth), combined, web throughput and drops, with the paper's value beside each number the\n" +
    'scenario has one for. Writes DIR/metrics.json (docs/metrics.md), DIR/events.isolog and\n' +
    'DIR/plots/*.svg (CPU by domain, IDD CPU by guest served, combined, web throughput).\n' +
    "A scenario with a memory block (docs/memory.md) also prints the policy, the launches'\n" +
    "outcomes and latency and each guest's refusals, and plots free memory, claims and each\n" +
    "domain's pages (memory.svg, memory-domains.svg).\n" +
    'DIR is locked while the run writes it, and the files are moved into place only at the\n' +
    'end: a run that fails or is stopped (Ctrl-C) leaves DIR as it was (docs/reliability.md).',
  usage: 'isosim run <name|file> [--seed N] [--duration S] [--out DIR] [--engine E] [--no-log-thread]',
  options: {
    seed: { type: 'string', help: "root seed (default: the scenario's)", placeholder: 'N' },
    duration: {
      type: 'string',
      help: "simulated seconds (default: the scenario's; measures the whole run)",
      placeholder: 'S',
    },
    out: { type: 'string', help: 'output directory (default out/<scenario>)', placeholder: 'DIR' },
    engine: {
      type: 'string',
      help: "actor interpreter: 'flat' (default) or 'xstate' (XState's own; same log, slower)",
      placeholder: 'E',
    },
    'no-log-thread': {
      type: 'boolean',
      help: `write the log on the simulation thread (default: on a worker thread for runs of ${LOG_THREAD_MIN_S} s or more; same bytes)`,
    },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) {
      console.error(`usage: isosim run <name|file>; built-ins: ${builtinNames().join(', ')}`);
      return 2;
    }
    const s = loadScenario(positionals[0]);
    const seed = intOption('run', 'seed', values.seed, s.seed);
    const durationS =
      values.duration === undefined
        ? undefined
        : secondsOption('run', 'duration', values.duration, s.durationS, 3600);
    const out = outDirOption('run', values.out, join('out', s.name));
    const engine = values.engine ?? 'flat';
    if (engine !== 'flat' && engine !== 'xstate')
      throw new IsosimError(
        'isosim run',
        '--engine',
        `'${String(engine)}' is not an engine`,
        "give 'flat' or 'xstate'",
      );
    const logThread = values['no-log-thread'] === true ? false : 'auto';
    const { metrics, wallS } = await runAndWriteInterruptible(s, out, seed, durationS, engine, logThread);
    console.log(formatReport(s, metrics));
    console.log(
      `\n${wallS.toFixed(1)} s wall (${(metrics.durationS / wallS).toFixed(1)}x real time); wrote ${out}/metrics.json, ${out}/events.isolog and ${out}/plots/*.svg`,
    );
    return 0;
  },
};

export const list: CommandSpec = {
  name: 'list',
  brief: 'lists the built-in scenarios',
  summary: 'Lists the built-in scenarios with their descriptions.',
  usage: 'isosim list',
  options: {},
  run() {
    for (const name of builtinNames()) {
      const s = loadScenario(name);
      console.log(`${name.padEnd(28)}${s.durationS} s  ${s.description}`);
    }
    return 0;
  },
};
