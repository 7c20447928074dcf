#!/usr/bin/env node
/**
 * `isosim`: the command-line front end. Every user mistake arrives here as an
 * `IsosimError` and is printed as one line naming what to fix, with exit status 2 and
 * no stack trace; so is, as a last resort, a file-system error (ENOENT, EACCES, ENOSPC,
 * …). A command stopped by Ctrl-C says what it kept and exits 130. Anything else is a
 * bug and keeps its stack.
 */
import { IsosimError, LogDamageError } from '@isosim/core';
import { Interrupted, systemError } from '@isosim/scenarios';
import { type CommandSpec, helpText, parse } from './args.ts';
import { check } from './commands/check.ts';
import { demo } from './commands/demo.ts';
import { fig6 } from './commands/fig6.ts';
import { goodput } from './commands/goodput.ts';
import { logExport, logInfo } from './commands/log.ts';
import { paper } from './commands/paper.ts';
import { diff, exportCmd, replay, resim, verify } from './commands/replay.ts';
import { list, run } from './commands/run.ts';
import { schema } from './commands/schema.ts';
import { weight } from './commands/weight.ts';

const COMMANDS: readonly CommandSpec[] = [
  run,
  list,
  paper,
  goodput,
  check,
  verify,
  replay,
  diff,
  resim,
  exportCmd,
  schema,
  fig6,
  weight,
  demo,
  logInfo,
  logExport,
];

const USAGE = `Usage: isosim <command> [options]

isosim simulates performance isolation between virtual machines on a Xen host:
deterministic (one seed, one log, one hash) and replayable.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.brief}`).join('\n')}

Run 'isosim <command> --help' for a command's options.`;

export function main(argv: readonly string[]): number | Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const two = `${argv[0]} ${argv[1] ?? ''}`;
  const command = COMMANDS.find((c) => c.name === two) ?? COMMANDS.find((c) => c.name === argv[0]);
  if (command === undefined) {
    throw new IsosimError(
      'isosim',
      'command',
      `'${argv[0]}' is not a command`,
      "run 'isosim --help' for the list",
    );
  }
  const rest = argv.slice(command.name.split(' ').length);
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
    failed(argv, err);
  }
}

function failed(argv: readonly string[], err: unknown): void {
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
