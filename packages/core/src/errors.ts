/**
 * Two kinds of failure, kept apart on purpose (TigerBeetle style):
 *
 * - `IsosimError`: the user gave us something we cannot use (a seed, an option, a
 *   scenario field). It names where the bad value came from, the field, and the fix.
 *   Front ends print `message` alone, with no stack trace, and exit non-zero.
 * - `InvariantError`: the simulator broke one of its own rules (time went backwards,
 *   a handler re-entered the kernel). It is a bug, and it throws loudly.
 */
export class IsosimError extends Error {
  override readonly name = 'IsosimError';
  constructor(
    /** Where the bad value came from: a file, an option, or an API call. */
    readonly where: string,
    /** The field or parameter that is wrong. */
    readonly field: string,
    /** What is wrong with it. */
    readonly problem: string,
    /** What would be accepted. */
    readonly fix: string,
  ) {
    super(`${where}: ${field}: ${problem}; ${fix}`);
  }
}

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
