import { join } from 'node:path';
import { type AccountingSource, fig6Host, XenSystem } from '@isosim/actors';
import { IsosimError, Kernel, LogWriter, logHeader, NS_PER_S } from '@isosim/core';
import { FileSink } from '@isosim/core/node';
import { type OutputDir, outDirOption, Progress, VERSIONS, writeDir } from '@isosim/scenarios';
import { type CommandSpec, intOption, secondsOption } from '../args.ts';

interface Fig6Run {
  readonly perSecond: { own: number; idd: number; combined: number; replies: number }[];
  readonly logHash: string;
  readonly events: number;
}

async function runOnce(
  seed: number,
  durationS: number,
  dc: boolean,
  source: AccountingSource,
  dir: OutputDir,
  checkpoint: (at: () => string) => Promise<void>,
): Promise<Fig6Run> {
  const name = dc ? 'fig6-sedfdc' : 'fig6-sedf';
  const stepNs = Math.max(1, Math.floor((durationS * NS_PER_S) / 10));
  const host = fig6Host({
    steps: 8,
    stepRate: 150,
    stepNs,
    mechanisms: dc
      ? { debt: { mode: 'immediate', spread: true, feedbackNs: NS_PER_S / 2, source } }
      : undefined,
  });
  const header = logHeader(name, seed, { spec: { durationS, source, stepNs }, versions: VERSIONS });
  const log = new LogWriter(new FileSink(dir.path(`${name}.isolog`)), header);
  const kernel = new Kernel({ seed, log });
  const sys = new XenSystem(kernel, host);
  sys.start();
  const endNs = Math.round(durationS * NS_PER_S);
  const progress = new Progress(name);
  try {
    for (let s = 1; s * NS_PER_S <= endNs; s++) {
      kernel.runUntil(s * NS_PER_S);
      progress.update((s * NS_PER_S) / endNs, `${kernel.dispatched} events`);
      await checkpoint(() => `${s} s of ${durationS} s simulated (the ${dc ? 'SEDF-DC' : 'SEDF'} run)`);
    }
  } finally {
    progress.done();
  }
  kernel.runUntil(endNs);
  sys.xen.settle();
  const a = sys.xen.accounting;
  const replies = (s: number) =>
    sys.guests[0].web.reduce((n, w) => n + (w.stats.repliesPerSecond[s] ?? 0), 0);
  const perSecond = Array.from({ length: Math.floor(durationS) }, (_, s) => {
    const from = s * NS_PER_S;
    const to = from + NS_PER_S;
    const own = a.cpuBetween(1, from, to) / 1e7;
    const idd = a.iddBetween(1, from, to) / 1e7;
    return { own, idd, combined: own + idd, replies: replies(s) };
  });
  return { perSecond, logHash: log.close().digest, events: kernel.dispatched };
}

export const fig6: CommandSpec = {
  name: 'fig6',
  brief: "re-runs the paper's Fig. 6 under SEDF and SEDF-DC and prints both",
  summary:
    "Re-runs the paper's Fig. 6 (section 4.2): one 2.8 GHz Pentium-IV, Domain-1 serving web\n" +
    'requests capped at 60%, Domain-0 (the driver domain) at 40%, httperf load rising in 8\n' +
    "steps of 150 requests/s. Under SEDF Domain-1's combined use (its own CPU plus Domain-0's\n" +
    'on its behalf) climbs to ~90%; under SEDF-DC it stays at 60%. Prints both per second and\n' +
    'writes both event logs and result.json to the output directory.',
  usage: 'isosim fig6 [--seed N] [--duration S] [--source truth|estimate] [--out DIR]',
  options: {
    seed: { type: 'string', help: 'root seed (default 1)', placeholder: 'N' },
    duration: { type: 'string', help: 'simulated seconds per run (default 20, 10 to 600)', placeholder: 'S' },
    source: {
      type: 'string',
      help: "SEDF-DC's debt source: XenMon's 'estimate' (the paper, default) or 'truth'",
      placeholder: 'SRC',
    },
    out: { type: 'string', help: 'output directory (default out/fig6)', placeholder: 'DIR' },
  },
  async run({ values }) {
    const seed = intOption('fig6', 'seed', values.seed, 1);
    const durationS = secondsOption('fig6', 'duration', values.duration, 20, 600);
    if (durationS < 10) {
      throw new IsosimError(
        'isosim fig6',
        '--duration',
        `${durationS} s is too short for 8 load steps`,
        'give 10 seconds or more',
      );
    }
    const source = String(values.source ?? 'estimate');
    if (source !== 'truth' && source !== 'estimate') {
      throw new IsosimError(
        'isosim fig6',
        '--source',
        `'${source}' is not a source`,
        "use 'estimate' or 'truth'",
      );
    }
    const out = outDirOption('fig6', values.out, join('out', 'fig6'));
    const { sedf, dc } = await writeDir('isosim fig6', out, [], async (dir, checkpoint) => {
      const sedf = await runOnce(seed, durationS, false, source, dir, checkpoint);
      const dc = await runOnce(seed, durationS, true, source, dir, checkpoint);
      dir.write('result.json', `${JSON.stringify({ seed, durationS, source, sedf, sedfdc: dc }, null, 2)}\n`);
      return { sedf, dc };
    });
    const f = (x: number) => x.toFixed(1).padStart(6);
    console.log("Fig. 6: Domain-1's CPU per second, percent of the CPU (own + Domain-0 for it = combined)\n");
    console.log('             ------------- SEDF -------------   ------------ SEDF-DC ------------');
    console.log('  second       own    idd  combined   req/s       own    idd  combined   req/s');
    sedf.perSecond.forEach((a, s) => {
      const b = dc.perSecond[s];
      console.log(
        `  ${String(s).padStart(6)}  ${f(a.own)} ${f(a.idd)}    ${f(a.combined)}  ${String(a.replies).padStart(6)}    ${f(b.own)} ${f(b.idd)}    ${f(b.combined)}  ${String(b.replies).padStart(6)}`,
      );
    });
    const tail = (r: Fig6Run) => {
      const xs = r.perSecond.slice(Math.ceil(r.perSecond.length * 0.8));
      return xs.reduce((s, x) => s + x.combined, 0) / xs.length;
    };
    console.log(`\nat peak load (last fifth of the run), Domain-1 combined:`);
    console.log(`  SEDF     ${tail(sedf).toFixed(1)}%   (paper: ~90%, "60% + almost 35%")`);
    console.log(
      `  SEDF-DC  ${tail(dc).toFixed(1)}%   (paper: 60%; debt from XenMon's ${source === 'estimate' ? 'estimate' : 'ground truth'})`,
    );
    console.log(`\nlog hashes: SEDF ${sedf.logHash}, SEDF-DC ${dc.logHash}; wrote ${out}/`);
    return 0;
  },
};
