/**
 * `pnpm bench [group…] [--save FILE] [--compare FILE] [--threshold P] [--fail]`: the
 * command line, parsed without side effects (test/benchCompare.test.ts).
 */
import { DEFAULT_THRESHOLD_PCT } from './compare.ts';

/**
 * The groups, in the order they run. In-process measurements come first, child
 * processes after (they need the machine to themselves), replay last (it keeps a large
 * heap). `paper-full` takes minutes and runs only when named.
 */
export const GROUPS = [
  'kernel',
  'actors',
  'sim',
  'cli',
  'paper',
  'paper-full',
  'mem',
  'sweep',
  'replay',
] as const;

export type Group = (typeof GROUPS)[number];

/** What `pnpm bench` with no group runs: all but `paper-full`. */
export const DEFAULT_GROUPS: readonly Group[] = GROUPS.filter((g) => g !== 'paper-full');

export interface Options {
  /** The groups to run, in `GROUPS` order. */
  readonly groups: readonly Group[];
  readonly save?: string;
  readonly compare?: string;
  /** Percent a figure may move the wrong way before it counts as worse. */
  readonly threshold: number;
  /** Exit with status 1 if a figure is worse (else the guard only reports). */
  readonly fail: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: pnpm bench [group...] [--save FILE] [--compare FILE] [--threshold P] [--fail]

Builds the packages and prints one JSON object per line, {"name", "value", "unit"},
running the built JavaScript on plain Node (docs/performance.md).

Groups (default: all but paper-full):
  kernel      the bare kernel: events/s with and without the log, log bytes/event
  actors      the packet pipeline through an XState actor
  sim         fig6, table1 and table2 hosts under both engines; events/s over the kernel's
  cli         start-up of the built CLI (isosim --version)
  paper       isosim paper --no-bands --no-goodput
  paper-full  isosim paper with bands and goodput (minutes)
  mem         peak RSS of table1-sedfdc runs of 60 s and 1,800 s
  replay      scan, fold, index and seek over a Table 2 log; diff

Options:
  --save FILE       also write the figures to FILE (JSON lines)
  --compare FILE    print each figure's ratio to FILE's (a saved run) and a summary
  --threshold P     percent a figure may move the wrong way before it is worse (default ${DEFAULT_THRESHOLD_PCT})
  --fail            exit with status 1 if a figure is worse than the baseline
  -h, --help        show this help`;

function isGroup(s: string): s is Group {
  return (GROUPS as readonly string[]).includes(s);
}

/** The value after option `name` at `argv[i]`, or an error saying it is missing. */
function optionValue(argv: readonly string[], i: number, name: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value\n\n${USAGE}`);
  return v;
}

/** A percent: "10" or "10%", above 0. */
function parseThreshold(s: string): number {
  const p = Number(s.endsWith('%') ? s.slice(0, -1) : s);
  if (!Number.isFinite(p) || p <= 0) throw new Error(`--threshold: '${s}' is not a percent above 0`);
  return p;
}

/** Parses the bench's arguments; throws an Error whose message says what is wrong. */
export function parseOptions(argv: readonly string[]): Options {
  const named = new Set<Group>();
  let save: string | undefined;
  let compare: string | undefined;
  let threshold = DEFAULT_THRESHOLD_PCT;
  let fail = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--')
      continue; // `pnpm bench -- replay` passes it through
    else if (a === '--save') save = optionValue(argv, i++, a);
    else if (a === '--compare') compare = optionValue(argv, i++, a);
    else if (a === '--threshold') threshold = parseThreshold(optionValue(argv, i++, a));
    else if (a === '--fail') fail = true;
    else if (a === '-h' || a === '--help') help = true;
    else if (isGroup(a)) named.add(a);
    else throw new Error(`unknown group or option '${a}'\n\n${USAGE}`);
  }
  const groups = named.size === 0 ? DEFAULT_GROUPS : GROUPS.filter((g) => named.has(g));
  return { groups, save, compare, threshold, fail, help };
}
