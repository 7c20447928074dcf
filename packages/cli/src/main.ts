/**
 * `isosim`: the command-line front end. Every user mistake arrives here as an
 * `IsosimError` and is printed as one line naming what to fix, with exit status 2 and
 * no stack trace; so is, as a last resort, a file-system error (ENOENT, EACCES, ENOSPC,
 * …). A command stopped by Ctrl-C says what it kept and exits 130. Anything else is a
 * bug and keeps its stack.
 *
 * Each command's module (and with it the simulator, zod, XState, RxJS) is imported only
 * when that command runs: `isosim --help` and `isosim --version` load nothing else, so
 * they start about as fast as Node does. The list below repeats each command's name and
 * brief for the usage text; `test/cliCommands.test.ts` checks it against the modules.
 */
import { readFileSync } from 'node:fs';
import type { CommandSpec } from './args.ts';

/** A command as the usage text lists it, and how to load the rest of it. */
export interface LazyCommand {
  readonly name: string;
  readonly brief: string;
  readonly load: () => Promise<CommandSpec>;
}

export const COMMANDS: readonly LazyCommand[] = [
  {
    name: 'run',
    brief: 'runs a built-in scenario or a scenario file; prints a XenMon-like table',
    load: async () => (await import('./commands/run.ts')).run,
  },
  {
    name: 'list',
    brief: 'lists the built-in scenarios',
    load: async () => (await import('./commands/run.ts')).list,
  },
  {
    name: 'paper',
    brief: 'runs every built-in scenario and writes EXPERIMENTS.md: paper vs simulated',
    load: async () => (await import('./commands/paper.ts')).paper,
  },
  {
    name: 'goodput',
    brief: 'runs the Fig. 6 host at fixed offered rates: goodput against load, per scheduler',
    load: async () => (await import('./commands/goodput.ts')).goodput,
  },
  {
    name: 'charging',
    brief: 'runs scenarios under every charging policy (1A-2C), scored against the ground truth',
    load: async () => (await import('./commands/charging.ts')).charging,
  },
  {
    name: 'memory',
    brief: 'runs the memory workloads under every reservation policy (none, claim, freeze, lock)',
    load: async () => (await import('./commands/memory.ts')).memory,
  },
  {
    name: 'query',
    brief: "runs SQL on a sweep's results (DuckDB); --summary, --export parquet|csv",
    load: async () => (await import('./commands/query.ts')).query,
  },
  {
    name: 'check',
    brief: 'runs a scenario and checks the isolation invariants on it (docs/verification.md)',
    load: async () => (await import('./commands/check.ts')).check,
  },
  {
    name: 'sweep',
    brief: 'runs a sweep file: a scenario over parameter points and seeds, on every core (docs/sweeps.md)',
    load: async () => (await import('./commands/sweep.ts')).sweep,
  },
  {
    name: 'verify',
    brief: "checks a log: header, schema, every block's hash chain",
    load: async () => (await import('./commands/replay.ts')).verify,
  },
  {
    name: 'replay',
    brief: 'rebuilds the state at any record or time from a log; search, step',
    load: async () => (await import('./commands/replay.ts')).replay,
  },
  {
    name: 'diff',
    brief: 'finds the first record where two logs diverge, with context',
    load: async () => (await import('./commands/replay.ts')).diff,
  },
  {
    name: 'resim',
    brief: 're-runs the scenario recorded in a log and checks for the same hash',
    load: async () => (await import('./commands/replay.ts')).resim,
  },
  {
    name: 'export',
    brief: 'writes a log as a Perfetto/Chrome trace or a xentrace binary',
    load: async () => (await import('./commands/replay.ts')).exportCmd,
  },
  {
    name: 'schema',
    brief: 'prints the JSON Schema of scenario files, for editors',
    load: async () => (await import('./commands/schema.ts')).schema,
  },
  {
    name: 'fig6',
    brief: "re-runs the paper's Fig. 6 under SEDF and SEDF-DC and prints both",
    load: async () => (await import('./commands/fig6.ts')).fig6,
  },
  {
    name: 'weight',
    brief: "runs the paper's weight benchmark (Figs. 4 and 5) on a hardware profile",
    load: async () => (await import('./commands/weight.ts')).weight,
  },
  {
    name: 'demo',
    brief: 'runs the foundation demo (ring, event channel, XState consumer)',
    load: async () => (await import('./commands/demo.ts')).demo,
  },
  {
    name: 'log info',
    brief: "checks a log's hash chain; prints header, records, digest",
    load: async () => (await import('./commands/log.ts')).logInfo,
  },
  {
    name: 'log export',
    brief: 'writes a log as JSON Lines',
    load: async () => (await import('./commands/log.ts')).logExport,
  },
];

const USAGE = `Usage: isosim <command> [options]

isosim simulates performance isolation between virtual machines on a Xen host:
deterministic (one seed, one log, one hash) and replayable.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.brief}`).join('\n')}

Run 'isosim <command> --help' for a command's options.`;

/** This package's version (`isosim --version`), from its package.json. */
function version(): string {
  const manifest = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export function main(argv: readonly string[]): number | Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    console.log(version());
    return 0;
  }
  const two = `${argv[0]} ${argv[1] ?? ''}`;
  const command = COMMANDS.find((c) => c.name === two) ?? COMMANDS.find((c) => c.name === argv[0]);
  if (command === undefined) return notACommand(argv[0]);
  return runCommand(command, argv.slice(command.name.split(' ').length));
}

async function notACommand(word: string): Promise<never> {
  const { IsosimError } = await import('@isosim/core');
  throw new IsosimError(
    'isosim',
    'command',
    `'${word}' is not a command`,
    "run 'isosim --help' for the list",
  );
}

async function runCommand(lazy: LazyCommand, rest: readonly string[]): Promise<number> {
  const [command, { helpText, parse }] = await Promise.all([lazy.load(), import('./args.ts')]);
  const args = parse(command, rest);
  if (args.values.help === true) {
    console.log(helpText(command));
    return 0;
  }
  return command.run(args);
}

/**
 * Runs the command line `argv` as the `isosim` program does (`cli.ts`): the exit status
 * in `process.exitCode`, bad input and file-system errors as one line on stderr, a
 * closed stdout (`isosim run … | head`) as a quiet stop.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  // A write to a closed pipe fails asynchronously, as an 'error' event on stdout, not
  // as an exception below.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  try {
    process.exitCode = await main(argv);
  } catch (err) {
    await failed(argv, err);
  }
}

async function failed(argv: readonly string[], err: unknown): Promise<void> {
  const [{ IsosimError, LogDamageError }, { Interrupted, systemError }] = await Promise.all([
    import('@isosim/core'),
    import('@isosim/scenarios'),
  ]);
  // A file-system error no specific check caught (a disk filling up, a directory
  // removed mid-run): one line naming the path and a fix, not a stack trace.
  const system = systemError(`isosim ${argv[0] ?? ''}`.trim(), err);
  if (err instanceof IsosimError) {
    console.error(`error: ${err.message}`);
    // A damaged log exits 1 (verify's status), other bad input 2.
    process.exitCode = err instanceof LogDamageError ? 1 : 2;
  } else if (system !== undefined) {
    console.error(`error: ${system.message}`);
    process.exitCode = 2;
  } else if (err instanceof Interrupted) {
    // Ctrl-C or SIGTERM: what was kept, and 128 + the signal's number.
    console.error(err.message);
    process.exitCode = err.exitCode;
  } else if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
    // The reader went away (`isosim log export LOG | head`): not an error.
    process.exitCode = 0;
  } else {
    throw err;
  }
}
