/**
 * The scenario file format (JSON), as a zod schema: the host, its domains with their
 * scheduler parameters and workloads, the mechanisms, the run's length, seed and
 * measurement window, and the paper's numbers to compare with. Human units in the file
 * (seconds, milliseconds, percent); `toSystemConfig` turns them into the library's
 * integer nanoseconds. `docs/scenarios.md` documents it; `isosim schema` prints the JSON
 * Schema for editors (docs/scenario.schema.json).
 *
 * Everything a single field must satisfy is here, so the JSON Schema says it too; each
 * bound is in `LIMITS` with its reason. What spans several fields (a slice within its
 * period, a pCPU's reservations, rates the NIC can carry, names that must exist) is
 * checked by `parseScenario` in load.ts and listed in docs/scenarios.md.
 */
import { CHARGING_POLICIES } from '@isosim/actors';
import { MAX_PORTS } from '@isosim/core';
import { z } from 'zod';

/**
 * Packet sizes of the model (actors: net/packet.ts, workload/web.ts; the scenario tests
 * check they agree): TCP payload per full segment, a bare TCP segment on the wire, a GET.
 */
export const MSS_BYTES = 1448;
export const ACK_BYTES = 66;
export const GET_BYTES = 250;
/** Every hardware profile's NIC: 1 Gbit/s (profiles.ts); load.ts uses the profile's own. */
const LINE_RATE_BPS = 1_000_000_000;

/** Bytes on the wire per web connection, each way (the exchange in actors' workload/web.ts). */
export function webWireBytes(fileBytes: number): { toClient: number; toHost: number } {
  const n = Math.max(1, Math.ceil(fileBytes / MSS_BYTES));
  return {
    // SYN-ACK, then n data segments carrying the file, each with its headers.
    toClient: ACK_BYTES + fileBytes + n * ACK_BYTES,
    // SYN, ACK, GET, an ACK per two data segments (and for the last), FIN.
    toHost: 3 * ACK_BYTES + GET_BYTES + Math.ceil(n / 2) * ACK_BYTES,
  };
}

/** The bounds of single fields, with their reasons (docs/scenarios.md repeats them). */
export const LIMITS = {
  /** Domain and scenario names: short enough for tables, plots and `--actor`. */
  nameChars: 64,
  /**
   * The driver domain binds one event-channel port per guest queue plus one for the
   * NIC, and Xen's 2-level event-channel ABI gives 4096 ports on 64-bit.
   */
  domains: MAX_PORTS,
  /** vCPUs per domain and pCPUs per host (pCPU and vCPU indices 0..63). */
  cpus: 64,
  /** Xen SEDF (sched_sedf.c): PERIOD_MIN 10 µs, PERIOD_MAX 10 s, SLICE_MIN 5 µs. */
  periodMinMs: 0.01,
  periodMaxMs: 10_000,
  sliceMinMs: 0.005,
  /** Debt feedback and ShareGuard: at least 1 ms, at most Xen SEDF's longest period. */
  controlMinMs: 1,
  controlMaxMs: 10_000,
  /** Run length and any time in it: 1 ms to one hour of simulated time. */
  durationMinS: 0.001,
  durationMaxS: 3600,
  /** httperf --timeout: 1 ms to the longest run. */
  timeoutMinS: 0.001,
  /** Web and UDP rates: at least one per 1000 s (the gap stays a safe integer of ns). */
  rateMin: 0.001,
  /** The fastest web rate any file size allows: the line rate over the smallest exchange. */
  webRateMax: Math.floor(LINE_RATE_BPS / 8 / webWireBytes(1).toHost),
  /** The fastest UDP rate: the line rate over the smallest packet, 64 bytes. */
  udpRateMax: Math.floor(LINE_RATE_BPS / 8 / 64),
  /**
   * Web connections open at once, rate × timeoutS at most: httperf opens each from its
   * own local port of the client, and a port number is 16 bits.
   */
  webConnections: 65_536,
  /** Disks per host and vbds per guest: a handful is what a study needs; 16 each. */
  disks: 16,
  vbds: 16,
  /**
   * Requests a disk holds at once: 1 to 256 (SATA NCQ allows 32, SAS and NVMe queues
   * more; 256 covers them without letting a typo ask for millions).
   */
  queueDepthMax: 256,
  /** fio's iodepth per job: 1 to 256, as the queue depth. */
  iodepthMax: 256,
  /** Disk I/O sizes: 512 B (a sector) to 16 MiB, in whole sectors. */
  blockBytesMax: 16 * 1024 * 1024,
  /** Web files up to 100 MiB (the paper's are 10 and 100 KB). */
  fileBytesMax: 100 * 1024 * 1024,
  /** A TCP sender's window: Linux's largest send buffer (tcp_wmem max, 4 MiB) / MSS. */
  windowSegmentsMax: Math.floor((4 * 1024 * 1024) / MSS_BYTES),
  /**
   * Unstated parameters per scenario, and plausible values per parameter: `isosim paper`
   * runs one variant per value, so these bound its runs (8 × 8 at the most).
   */
  unstated: 8,
  unstatedValues: 8,
  unstatedPathChars: 200,
  /** Client classes (resource containers) per guest: a handful is what a study needs; 16. */
  containerClasses: 16,
  /** An LRP input queue: 1 packet to 65536 (far past any socket or device queue of 2006). */
  lrpQueueMax: 65_536,
} as const;

/**
 * What the model fills in for a field the schema leaves unset (no zod default): a bulk
 * transfer's window is 64 KiB, 45 segments of 1448 bytes (actors' workload/bulk.ts).
 * An unstated parameter's value equal to it is the built-in's own.
 */
export const MODEL_DEFAULTS: Readonly<Record<string, number>> = {
  windowSegments: Math.floor(65_536 / MSS_BYTES),
};

/**
 * A domain name: 1–64 characters (Unicode letters, digits, punctuation, symbols and
 * inner spaces), no control, format or other invisible characters, no other
 * whitespace, no leading or trailing space. Names are table columns, plot labels,
 * `--actor` arguments and JSON keys: these always print and round-trip.
 */
export const DOMAIN_NAME = /^[^\p{C}\s](?:(?:[^\p{C}\s]| ){0,62}[^\p{C}\s])?$/u;
/** A scenario name: it names the output directory. */
export const SCENARIO_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
/**
 * An unstated parameter's name, such as `timeoutS`: 1–24 letters and digits, from a
 * letter; short enough that a variant's name (the scenario's, `--`, this, `-`, the
 * value) can keep most of the scenario's within 64 characters.
 */
export const UNSTATED_NAME = /^[A-Za-z][A-Za-z0-9]{0,23}$/;
/**
 * A client class (a resource container of a guest, docs/containers.md): 1–32 lower-case
 * letters, digits and dashes, from a letter; it names a column and a key of metrics.json.
 */
export const CLASS_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** A dot path, such as `domains.*.workloads.0.rate`: no empty segment. */
export const UNSTATED_PATH = /^[^.]+(\.[^.]+)*$/;

const domainName = z.string().regex(DOMAIN_NAME);
const ms = (min: number, max: number) => z.number().min(min).max(max);

export const SedfSchema = z
  .object({
    sliceMs: z
      .union([z.literal(0), ms(LIMITS.sliceMinMs, LIMITS.periodMaxMs)])
      .describe(
        'guaranteed CPU per period, ms: 0 (runs only in slack time; needs extratime) or 0.005 (Xen SLICE_MIN) up to periodMs',
      ),
    periodMs: ms(LIMITS.periodMinMs, LIMITS.periodMaxMs).describe(
      'period, ms: 0.01 to 10000 (Xen SEDF PERIOD_MIN 10 µs, PERIOD_MAX 10 s)',
    ),
    extratime: z.boolean().default(false).describe('may run in slack time (work-conserving)'),
  })
  .strict();

export const CreditSchema = z
  .object({
    weight: z.number().int().min(1).max(65_535).default(256).describe("relative share (Xen's uint16)"),
    capPct: z
      .number()
      .min(0)
      .max(100)
      .multipleOf(0.01)
      .default(0)
      .describe('upper bound in percent of one pCPU, in hundredths (10.25); 0 = none'),
  })
  .strict();

export const VcpuSchema = z
  .object({
    pcpu: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.cpus - 1)
      .default(0)
      .describe('the pCPU this vCPU is pinned to'),
    sedf: SedfSchema.optional().describe("required under the 'sedf' scheduler, refused under 'credit'"),
    credit: CreditSchema.optional().describe(
      "only under the 'credit' scheduler (default weight 256, no cap)",
    ),
  })
  .strict();

const seconds = z.number().min(0).max(LIMITS.durationMaxS);
const rate = (max: number) => z.number().min(LIMITS.rateMin).max(max);

const timing = {
  startS: seconds.default(0).describe('start, seconds from the beginning of the run'),
  stopS: seconds.positive().optional().describe('stop, seconds, after startS; absent: runs to the end'),
  vcpu: z
    .union([
      z
        .number()
        .int()
        .min(0)
        .max(LIMITS.cpus - 1),
      z.literal('spread'),
    ])
    .optional()
    .describe(
      "where the workload's threads run: a vCPU of its domain by index, or 'spread' (default): each flow on the vCPU of its hash, a CPU-bound job on every vCPU",
    ),
};

/** A disk job's in-flight I/Os, think time and vbd, with its defaults. */
function diskJob(iodepth: number, thinkMs: number, thinkWhat: string) {
  return {
    iodepth: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.iodepthMax)
      .default(iodepth)
      .describe(`I/Os kept in flight (fio's iodepth): 1 to 256, default ${iodepth}`),
    thinkMs: z
      .number()
      .min(0)
      .max(LIMITS.durationMaxS * 1000)
      .default(thinkMs)
      .describe(`${thinkWhat} (default ${thinkMs})`),
    vbd: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.vbds - 1)
      .default(0)
      .describe("which of the guest's vbds, by index"),
  };
}

export const WorkloadSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('web'),
      rate: rate(LIMITS.webRateMax).describe(
        "httperf connections per second; at most what the NIC's line rate carries for the file size (docs/scenarios.md)",
      ),
      fileBytes: z
        .number()
        .int()
        .min(1)
        .max(LIMITS.fileBytesMax)
        .describe('file size, bytes (at most 100 MiB)'),
      timeoutS: z
        .number()
        .min(LIMITS.timeoutMinS)
        .max(LIMITS.durationMaxS)
        .default(2)
        .describe('httperf --timeout, seconds: a later reply is a failed request'),
      arrivals: z.enum(['uniform', 'poisson']).default('uniform'),
      clientClass: z
        .string()
        .regex(CLASS_NAME)
        .optional()
        .describe(
          "the clients' class in a guest with containers: one of its containers.classes (required there, refused elsewhere)",
        ),
      ...timing,
    })
    .strict(),
  z.object({ kind: z.literal('cpu'), ...timing }).strict(),
  z
    .object({
      kind: z.literal('bulk'),
      direction: z.enum(['send', 'receive']),
      windowSegments: z
        .number()
        .int()
        .min(1)
        .max(LIMITS.windowSegmentsMax)
        .optional()
        .describe(
          'TCP segments in flight (default 45: 64 KiB); at most tcp_wmem max 4 MiB / MSS 1448 = 2896',
        ),
      ...timing,
    })
    .strict(),
  z
    .object({
      kind: z.literal('udp'),
      direction: z.enum(['send', 'receive']),
      rate: rate(LIMITS.udpRateMax).describe(
        "packets per second; at most what the NIC's line rate carries for the packet size (docs/scenarios.md)",
      ),
      bytes: z.number().int().min(64).max(1514).describe('Ethernet frame, bytes'),
      ...timing,
    })
    .strict(),
  z
    .object({
      kind: z.literal('disk'),
      pattern: z.enum(['sequential', 'random']).describe("fio's rw: sequential or random offsets in the vbd"),
      readPct: z
        .number()
        .int()
        .min(0)
        .max(100)
        .describe("percent of I/Os that are reads (fio's rwmixread): 100 a reader, 0 a writer"),
      blockBytes: z
        .number()
        .int()
        .min(512)
        .max(LIMITS.blockBytesMax)
        .multipleOf(512, { message: 'must be a multiple of 512 (whole sectors)' })
        .describe('bytes per I/O (fio bs): a multiple of 512, at most 16 MiB'),
      ...diskJob(1, 0, "guest CPU between an I/O's completion and the next (fio's thinktime), ms"),
      ...timing,
    })
    .strict(),
  z
    .object({
      kind: z.literal('db'),
      ...diskJob(8, 0.5, 'guest CPU per transaction step between I/Os, ms'),
      ...timing,
    })
    .strict()
    .describe('a database-like mix: random 8 KiB I/Os, 70% reads (docs/disk.md)'),
]);

/** A disk of the host (docs/disk.md). */
export const DiskSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,15}$/)
      .describe("a device name such as 'sda': 1-16 lower-case letters and digits, from a letter"),
    model: z
      .enum(['hdd-7200', 'ssd-sata'])
      .describe('hdd-7200: a 7200 rpm SATA disk of 2006; ssd-sata: a SATA SSD (actors: hardware/disk.ts)'),
    elevator: z
      .enum(['fifo', 'deadline', 'cfq'])
      .default('deadline')
      .describe("the I/O scheduler in the driver domain: fifo (noop), deadline or cfq (Linux 2.6's)"),
    queueDepth: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.queueDepthMax)
      .default(1)
      .describe('requests at the device at once (NCQ depth; 1: none): 1 to 256'),
  })
  .strict();

/** A guest kernel with resource containers and LRP (docs/containers.md). */
export const ContainersSchema = z
  .object({
    classes: z
      .record(
        z.string().regex(CLASS_NAME),
        z
          .object({
            sharePct: z
              .number()
              .int()
              .min(1)
              .max(100)
              .describe(
                "the container's share of the guest's CPU when others want it too, whole percent 1-100",
              ),
          })
          .strict(),
      )
      .describe(
        'one container per client class, by name (1-32 lower-case letters, digits and dashes, from a letter): 1 to 16, shares adding up to at most 100',
      ),
    mode: z
      .enum(['off', 'eager', 'lrp'])
      .default('lrp')
      .describe(
        "lrp: resource containers with early demultiplexing (a packet is classified on arrival, its protocol work scheduled by its container's share, dropped early when its container's queue is full); eager: containers whose received packets' protocol work is done eagerly at interrupt level and only charged after; off: a stock kernel, the classes only label clients",
      ),
    queuePackets: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.lrpQueueMax)
      .optional()
      .describe("packets a container's LRP input queue holds before dropping (default 300); mode lrp only"),
  })
  .strict();

/** A guest's virtual block device: a region of a disk, served by a driver domain's blkback. */
export const VbdSchema = z
  .object({
    disk: z.string().describe("the disk's name (disks[].name)"),
    backend: domainName
      .optional()
      .describe('the driver domain serving it (default: the one that drives the disk); must drive the disk'),
  })
  .strict();

export const DomainSchema = z
  .object({
    name: domainName.describe(
      "as in the paper: 'Dom-0', 'Dom-1', …; 1–64 printable characters, inner spaces only, unique",
    ),
    role: z
      .enum(['idd', 'guest'])
      .default('guest')
      .describe('idd: a driver domain (at least one; the first is domain 0)'),
    vcpus: z.array(VcpuSchema).min(1).max(LIMITS.cpus),
    workloads: z.array(WorkloadSchema).default([]),
    devices: z
      .array(z.string())
      .max(LIMITS.disks + 1)
      .optional()
      .describe(
        "a driver domain's devices: 'nic0' and disk names (default: the first driver domain drives the NIC and every disk no other lists)",
      ),
    vbds: z.array(VbdSchema).max(LIMITS.vbds).optional().describe("a guest's virtual block devices"),
    containers: ContainersSchema.optional().describe(
      'a guest kernel with resource containers (docs/containers.md): one vCPU, web workloads only, each with its clientClass',
    ),
  })
  .strict();

const source = z.enum(['estimate', 'truth']).default('estimate');
/** A ShareGuard limit, percent of one CPU. */
export const LimitPctSchema = z.number().positive().max(100);
/** A guest's ShareGuard limit: one for every driver domain, or per driver domain name. */
export const LimitSchema = z.union([LimitPctSchema, z.record(domainName, LimitPctSchema)]);
const controlMs = ms(LIMITS.controlMinMs, LIMITS.controlMaxMs);

export const MechanismsSchema = z
  .object({
    debt: z
      .object({
        mode: z.enum(['immediate', 'next-quantum', 'off']).default('immediate'),
        spread: z.boolean().default(false),
        feedbackMs: controlMs.default(500).describe('feedback interval, ms: 1 to 10000'),
        source,
        drivers: z
          .array(domainName)
          .min(1)
          .optional()
          .describe("driver domains whose work becomes a guest's debt (default: every one)"),
      })
      .strict()
      .optional(),
    shareGuard: z
      .object({
        periodMs: controlMs.default(500).describe('period, ms: 1 to 10000'),
        limitsPct: z
          .record(domainName, LimitSchema)
          .describe(
            "per guest name, percent of one CPU, below the driver domain's share: one number for every driver domain, or one per driver domain name",
          ),
        source,
      })
      .strict()
      .optional(),
    charging: z
      .enum(CHARGING_POLICIES as unknown as [string, ...string[]])
      .optional()
      .describe(
        "how driver domains' work is charged to guests (docs/charging.md): 1A-1E cycle-accurate, 2A-2C near-accurate; default 2C, XenMon's weighted packet counts",
      ),
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

export const UnstatedSchema = z
  .object({
    name: z
      .string()
      .regex(UNSTATED_NAME)
      .describe(
        '1–24 letters and digits, from a letter (timeoutS); names the variants, so unique (ignoring case)',
      ),
    path: z
      .string()
      .max(LIMITS.unstatedPathChars)
      .regex(UNSTATED_PATH)
      .describe(
        "dot path to the number fields it sets: keys, indices from 0, '*' for every element or key (domains.*.workloads.*.timeoutS); must match something",
      ),
    values: z
      .array(z.union([z.number(), z.boolean()]))
      .min(1)
      .max(LIMITS.unstatedValues)
      .describe(
        'the plausible values, 1 to 8 distinct numbers (or true and false, for a switch): one variant each',
      ),
    scale: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/))
      .max(4)
      .optional()
      .describe(
        "fields beside each matched one scaled in proportion to it (['sliceMs'] keeps an SEDF share when the path sets periodMs)",
      ),
    source: z.string().min(1).describe('where the values come from, and why they are plausible'),
  })
  .strict();

export const ScenarioSchema = z
  .object({
    name: z
      .string()
      .regex(SCENARIO_NAME)
      .describe('1–64 lower-case letters, digits and dashes; names the output directory'),
    description: z.string().default(''),
    host: z
      .object({
        profile: z.enum(['p4-2.8', 'system-1', 'system-2']),
        pcpus: z.number().int().min(1).max(LIMITS.cpus).optional(),
        scheduler: z.enum(['sedf', 'credit']),
      })
      .strict(),
    domains: z.array(DomainSchema).min(1).max(LIMITS.domains),
    disks: z.array(DiskSchema).max(LIMITS.disks).optional().describe("the host's disks (none by default)"),
    mechanisms: MechanismsSchema.default({}),
    durationS: z
      .number()
      .min(LIMITS.durationMinS)
      .max(LIMITS.durationMaxS)
      .describe('simulated seconds: 0.001 to 3600'),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
    window: z
      .object({ startS: seconds, endS: seconds.positive() })
      .strict()
      .optional()
      .describe('the measurement window the percentages cover; default the whole run'),
    paper: z
      .object({
        source: z.string(),
        fitted: z.boolean().describe('true: this column was used for calibration; false: a prediction'),
        domains: z.record(domainName, PaperValuesSchema).describe('per domain name'),
      })
      .strict()
      .optional(),
    unstated: z
      .array(UnstatedSchema)
      .max(LIMITS.unstated)
      .optional()
      .describe(
        "parameters the paper does not state, each with a documented plausible set: 'isosim paper' runs a variant per value and reports the band of each number",
      ),
  })
  .strict();

export type Unstated = z.infer<typeof UnstatedSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
