/**
 * The scenario file format (JSON), as a zod schema: the host, its domains with their
 * scheduler parameters and workloads, the mechanisms, the run's length, seed and
 * measurement window, and the paper's numbers to compare with. Human units in the file
 * (seconds, milliseconds, percent); `toSystemConfig` turns them into the library's
 * integer nanoseconds. `docs/scenarios.md` documents it; `isosim schema` prints the JSON
 * Schema for editors.
 */
import { z } from 'zod';

const positive = z.number().positive();
const percent = z.number().min(0).max(100);

export const SedfSchema = z
  .object({
    sliceMs: z.number().min(0).describe('guaranteed CPU per period, ms'),
    periodMs: positive.describe('period, ms'),
    extratime: z.boolean().default(false).describe('may run in slack time (work-conserving)'),
  })
  .strict()
  .refine((s) => s.sliceMs <= s.periodMs, { message: 'sliceMs must not exceed periodMs', path: ['sliceMs'] });

export const CreditSchema = z
  .object({
    weight: z.number().int().min(1).max(65_535).default(256),
    capPct: percent.default(0).describe('upper bound in percent of one pCPU; 0 = none'),
  })
  .strict();

export const VcpuSchema = z
  .object({
    pcpu: z.number().int().min(0).default(0).describe('the pCPU this vCPU is pinned to'),
    sedf: SedfSchema.optional(),
    credit: CreditSchema.optional(),
  })
  .strict();

const timing = {
  startS: z.number().min(0).default(0).describe('start, seconds from the beginning of the run'),
  stopS: z.number().positive().optional().describe('stop, seconds; absent: runs to the end'),
  vcpu: z
    .union([z.number().int().min(0), z.literal('spread')])
    .optional()
    .describe(
      "where the workload's threads run: a vCPU of its domain by index, or 'spread' (default): each flow on the vCPU of its hash, a CPU-bound job on every vCPU",
    ),
};

export const WorkloadSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('web'),
      rate: positive.describe('httperf connections per second'),
      fileBytes: z.number().int().positive(),
      timeoutS: positive.default(2).describe('httperf --timeout: a later reply is a failed request'),
      arrivals: z.enum(['uniform', 'poisson']).default('uniform'),
      ...timing,
    })
    .strict(),
  z.object({ kind: z.literal('cpu'), ...timing }).strict(),
  z
    .object({
      kind: z.literal('bulk'),
      direction: z.enum(['send', 'receive']),
      windowSegments: z.number().int().positive().optional(),
      ...timing,
    })
    .strict(),
  z
    .object({
      kind: z.literal('udp'),
      direction: z.enum(['send', 'receive']),
      rate: positive.describe('packets per second'),
      bytes: z.number().int().min(64).max(1514),
      ...timing,
    })
    .strict(),
]);

export const DomainSchema = z
  .object({
    name: z.string().min(1).describe("as in the paper: 'Dom-0', 'Dom-1', …"),
    role: z.enum(['idd', 'guest']).default('guest').describe('idd: the driver domain (exactly one)'),
    vcpus: z.array(VcpuSchema).min(1),
    workloads: z.array(WorkloadSchema).default([]),
  })
  .strict();

const source = z.enum(['estimate', 'truth']).default('estimate');

export const MechanismsSchema = z
  .object({
    debt: z
      .object({
        mode: z.enum(['immediate', 'next-quantum', 'off']).default('immediate'),
        spread: z.boolean().default(false),
        feedbackMs: positive.default(500),
        source,
      })
      .strict()
      .optional(),
    shareGuard: z
      .object({
        periodMs: positive.default(500),
        limitsPct: z
          .record(z.string(), z.number().positive().max(100))
          .describe('per guest name, percent of one CPU'),
        source,
      })
      .strict()
      .optional(),
  })
  .strict();

export const PaperValuesSchema = z
  .object({
    webReqPerSec: z.number().optional(),
    cpuPct: z.number().optional(),
    iddPct: z.number().optional(),
    combinedPct: z.number().optional(),
  })
  .strict();

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'),
    description: z.string().default(''),
    host: z
      .object({
        profile: z.enum(['p4-2.8', 'system-1', 'system-2']),
        pcpus: z.number().int().min(1).max(64).optional(),
        scheduler: z.enum(['sedf', 'credit']),
      })
      .strict(),
    domains: z.array(DomainSchema).min(1),
    mechanisms: MechanismsSchema.default({}),
    durationS: positive.max(3600),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
    window: z
      .object({ startS: z.number().min(0), endS: positive })
      .strict()
      .optional()
      .describe('the measurement window the percentages cover; default the whole run'),
    paper: z
      .object({
        source: z.string(),
        fitted: z.boolean().describe('true: this column was used for calibration; false: a prediction'),
        domains: z.record(z.string(), PaperValuesSchema),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
