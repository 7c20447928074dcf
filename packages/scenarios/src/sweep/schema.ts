/**
 * The sweep file format (JSON), as a zod schema: a base scenario, the parameters to
 * vary (each a path into the scenario with a list of values, an exact decimal range or
 * seeded random draws), how many seeds each parameter point runs with, and what to
 * record of each run. docs/sweeps.md documents it; `isosim schema --sweep` prints the
 * JSON Schema (docs/sweep.schema.json). What spans fields (a path that exists, values
 * the scenario accepts, a range that ends) is checked by `loadSweep` (expand.ts).
 */
import { z } from 'zod';

/** The bounds of sweep fields, with their reasons. */
export const SWEEP_LIMITS = {
  /** Parameters per sweep: more would be a product nobody runs. */
  params: 16,
  /** Values per parameter (a list, a range's steps or draws). */
  values: 10_000,
  /** Seeds per parameter point. */
  seeds: 10_000,
  /** Runs per sweep (points × seeds): a million runs is already days on a cluster. */
  runs: 1_000_000,
  /** Path length, characters. */
  pathChars: 300,
  /** Metrics and checks recorded. */
  recorded: 64,
} as const;

const PATH = z
  .string()
  .min(1)
  .max(SWEEP_LIMITS.pathChars)
  .describe(
    'A path into the scenario: keys joined by dots, [N] for the N-th element of a list (from 0), [field=value] for the element of a list whose field is value (e.g. domains[name=Dom-1]), [*] or .* for every element, ["key"] for a key with dots or brackets (docs/sweeps.md)',
  );

const VALUE = z
  .union([z.number(), z.string(), z.boolean()])
  .describe('A value the path takes: a number, a string or true/false');

const RANGE = z
  .object({
    from: z.number().describe('The first value'),
    to: z.number().describe('The last value, included if from + k × step lands on it (up to 1e-9 of step)'),
    step: z
      .number()
      .describe(
        'The step, above 0: values are from + k × step rounded to 12 significant digits, never accumulated',
      ),
  })
  .strict()
  .describe('An inclusive range of numbers: from, from + step, … up to to');

const RANDOM = z
  .object({
    min: z.number().describe('The smallest value'),
    max: z.number().describe('The largest value (reached only with int: true)'),
    count: z.number().int().min(1).max(SWEEP_LIMITS.values).describe('How many values to draw'),
    int: z
      .boolean()
      .optional()
      .describe('Draw whole numbers in [min, max] (default false: real numbers in [min, max))'),
  })
  .strict()
  .describe("Values drawn from the sweep's seed (a stream per path): the same file always draws the same");

export const SweepParamSchema = z
  .object({
    path: PATH.optional(),
    unstated: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        "Instead of path: the name of one of the base scenario's unstated parameters (its 'unstated' field, docs/scenarios.md), set as isosim paper sets it (every field its path matches, with its scale fields); without values, its plausible values",
      ),
    values: z
      .array(VALUE)
      .min(1)
      .max(SWEEP_LIMITS.values)
      .optional()
      .describe('The values, in the order they run'),
    range: RANGE.optional(),
    random: RANDOM.optional(),
  })
  .strict()
  .describe(
    'One swept parameter: a path and exactly one of values, range or random; or the name of an unstated parameter of the base, with or without values',
  );

export const SweepSchema = z
  .object({
    $schema: z.string().optional().describe('The JSON Schema this file follows, for editors'),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
      .describe('The sweep name: 1–64 lower-case letters, digits and dashes (it names the results file)'),
    description: z.string().optional().describe('What the sweep studies'),
    base: z
      .string()
      .min(1)
      .describe(
        'The base scenario: a built-in name (isosim list) or a scenario file path, relative to the sweep file',
      ),
    durationS: z
      .number()
      .positive()
      .max(3600)
      .optional()
      .describe(
        "Every run's simulated seconds (default the base's); with it, the whole run is measured, as with isosim run --duration",
      ),
    params: z
      .array(SweepParamSchema)
      .max(SWEEP_LIMITS.params)
      .describe(
        'The swept parameters: every combination of their values runs (the first varies slowest), or one at a time (design)',
      ),
    design: z
      .enum(['grid', 'one-at-a-time'])
      .optional()
      .describe(
        "Which points run: 'grid' (default), every combination of the parameters' values; 'one-at-a-time', the base alone, then each parameter at each of its values with the others left as the base has them (a value the base already has is not run again)",
      ),
    seeds: z
      .number()
      .int()
      .min(1)
      .max(SWEEP_LIMITS.seeds)
      .optional()
      .describe('How many seeds each parameter point runs with: seed, seed + 1, … (default 1)'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("The first run seed, and the seed of random draws (default the base scenario's seed)"),
    record: z
      .object({
        metrics: z
          .array(PATH)
          .max(SWEEP_LIMITS.recorded)
          .optional()
          .describe('Paths into metrics.json to record, each a number, e.g. domains.Dom-1.combinedPct'),
        checks: z
          .array(
            z.enum(['reservations', 'combined', 'shareguard', 'conservation', 'disk', 'charging', 'memory']),
          )
          .max(SWEEP_LIMITS.recorded)
          .optional()
          .describe('Invariant checks of isosim check to record as holds or not (docs/sweeps.md lists them)'),
      })
      .strict()
      .describe('What to record of each run'),
  })
  .strict()
  .describe('A sweep: a base scenario run over parameter points and seeds (docs/sweeps.md)');

export type SweepFile = z.infer<typeof SweepSchema>;
export type SweepParam = z.infer<typeof SweepParamSchema>;
/** The names of the checks a sweep can record. */
export const SWEEP_CHECKS = SweepSchema.shape.record.shape.checks.unwrap().element.options;
export type SweepCheck = (typeof SWEEP_CHECKS)[number];
