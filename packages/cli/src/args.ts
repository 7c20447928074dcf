/**
 * Command-line parsing on `node:util`'s `parseArgs`, with every mistake turned into an
 * `IsosimError` that names the option and what it accepts.
 */
import { parseArgs } from 'node:util';
import { IsosimError } from '@isosim/core';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly help: string;
  readonly placeholder?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line for the command list. */
  readonly brief: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly run: (args: ParsedArgs) => number | Promise<number>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parse(command: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(command.options)) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    // Node's messages run to several lines of advice; keep the first sentence.
    let msg = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    const ambiguous = /Option '(--[\w-]+)' argument is ambiguous/.exec(msg);
    if (ambiguous) msg = `option ${ambiguous[1]} needs a value, and values may not start with '-'`;
    throw new IsosimError(`isosim ${command.name}`, 'arguments', msg, `see 'isosim ${command.name} --help'`);
  }
}

export function helpText(command: CommandSpec): string {
  const lines = [`Usage: ${command.usage}`, '', command.summary, '', 'Options:'];
  const rows = Object.entries(command.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
    return [flag, o.help] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  for (const [f, h] of rows) lines.push(`  ${f.padEnd(width)}${h}`);
  return lines.join('\n');
}

/** A whole number in [min, max], from option `name` of `command`. */
export function intOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw);
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new IsosimError(
      `isosim ${command}`,
      `--${name}`,
      `'${text}' is not allowed`,
      `give a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

/** A positive number of seconds up to `max`, from option `name`. */
export function secondsOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  max: number,
  /** The shortest run a scenario file may ask for (1 ms, docs/scenarios.md). */
  min = 0.001,
): number {
  if (raw === undefined) return fallback;
  const text = String(raw);
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new IsosimError(
      `isosim ${command}`,
      `--${name}`,
      `'${text}' is not allowed`,
      `give seconds, at least ${min} and at most ${max}`,
    );
  }
  return n;
}

/**
 * A simulated time in seconds, 0 or more, from option (or command) `name`: plain
 * decimal digits only (not '', 'abc', '0x1' or '1e3', which Number() would take).
 */
export function timeOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !Number.isFinite(Number(text))) {
    throw new IsosimError(
      `isosim ${command}`,
      name.length > 1 ? `--${name}` : name,
      `'${String(raw)}' is not a time`,
      'give seconds ≥ 0, e.g. 2.5',
    );
  }
  return Number(text);
}
