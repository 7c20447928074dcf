/**
 * `isosim memory`: the memory study (docs/memory.md, "The study"). Runs each workload
 * built-in (or the given scenarios with a `memory` block) under every reservation
 * policy and prints the tables and the debate's questions answered; writes memory.md,
 * memory.json and a plot per workload into DIR.
 */
import { join } from 'node:path';
import { RESERVATION_POLICIES } from '@isosim/actors';
import { IsosimError } from '@isosim/core';
import {
  loadScenario,
  MEMORY_WORKLOADS,
  memoryClaimsPlot,
  memoryStudyMarkdown,
  memoryStudyPlot,
  OutputDir,
  outDirOption,
  Progress,
  runMemoryStudy,
  type Scenario,
} from '@isosim/scenarios';
import { type CommandSpec, secondsOption } from '../args.ts';

export const memory: CommandSpec = {
  name: 'memory',
  brief: 'runs the memory workloads under every reservation policy (none, claim, freeze, lock)',
  summary:
    'The 2013 xen-devel debate over XENMEM_claim_pages with numbers (docs/memory.md). Runs each\n' +
    `workload (default the built-ins ${MEMORY_WORKLOADS.map((w) => w.name).join(', ')};\n` +
    'or built-in names and scenario files with a memory block) under every reservation policy:\n' +
    `${RESERVATION_POLICIES.join(', ')}, all else equal, and prints per workload the launches that completed,\n` +
    'failed late (after their populate work) or were refused at once, the work wasted, launch\n' +
    "latency, the guests' refused allocations and blocked time (the swap-storm proxy) and the\n" +
    "host's utilisation, then the debate's questions answered from those numbers. Writes\n" +
    'DIR/memory.md, DIR/memory.json, DIR/plots/<workload>.svg (free memory per policy),\n' +
    "DIR/plots/<workload>-claims.svg and each run's log, DIR/runs/<workload>-<policy>/events.isolog\n" +
    '(isosim replay reads it). The populate rate and swap cost are assumptions.',
  usage: 'isosim memory [name|file ...] [--duration S] [--out DIR] [--json]',
  options: {
    duration: {
      type: 'string',
      help: "simulated seconds per run (default: each scenario's own)",
      placeholder: 'S',
    },
    out: { type: 'string', help: 'where the tables and plots go (default out/memory)', placeholder: 'DIR' },
    json: { type: 'boolean', help: 'print the results as JSON instead of tables' },
  },
  run({ values, positionals }) {
    const names = positionals.length > 0 ? positionals : MEMORY_WORKLOADS.map((w) => w.name);
    const scenarios: Scenario[] = names.map((n) => {
      const s = loadScenario(n);
      if (s.memory === undefined)
        throw new IsosimError(
          n,
          'memory',
          'the scenario has no memory block, so there is nothing to compare',
          'give a scenario with "memory": { … } (docs/scenarios.md), or none for the built-in workloads',
        );
      return s;
    });
    const durationS =
      values.duration === undefined
        ? undefined
        : secondsOption('memory', 'duration', values.duration, 10, 3600);
    const out = outDirOption('memory', values.out, 'out/memory');
    const dir = OutputDir.open('isosim memory', out);
    try {
      const progress = new Progress('memory');
      const runs = runMemoryStudy(scenarios, {
        durationS,
        logDir: (w, p) => join(dir.stage, 'runs', `${w}-${p}`),
        onRun: (w, p, i, total) => progress.update(i / total, `${w} under ${p} (${i + 1}/${total})`),
      });
      progress.done();
      const args = positionals.length > 0 ? ` ${positionals.join(' ')}` : '';
      const md = [
        `Made by \`isosim memory${args}${durationS === undefined ? '' : ` --duration ${durationS}`}\`.`,
        '',
        ...memoryStudyMarkdown(runs, '#'),
      ].join('\n');
      dir.write('memory.md', `${md}\n`);
      dir.write('memory.json', `${JSON.stringify(runs, null, 2)}\n`);
      for (const s of scenarios) {
        const rs = runs.filter((r) => r.workload === s.name);
        dir.write(`plots/${s.name}.svg`, memoryStudyPlot(rs));
        dir.write(`plots/${s.name}-claims.svg`, memoryClaimsPlot(rs));
      }
      dir.commit();
      if (values.json) console.log(JSON.stringify(runs, null, 2));
      else console.log(md);
      console.error(
        `wrote ${dir.final('memory.md')}, ${dir.final('memory.json')} and ${dir.final('plots')}/*.svg`,
      );
    } finally {
      dir.abandon();
    }
    return 0;
  },
};
