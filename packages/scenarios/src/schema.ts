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
import { CHARGING_POLICIES, DOMID_MAX, MAX_PAGES_PER_S, RESERVATION_POLICIES } from '@isosim/actors';
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
  /**
   * A host's memory for domains, MiB: up to 16 TiB, what Xen on x86-64 addresses
   * without CONFIG_BIGMEM (which allows 123 TiB); the model counts pages, so the size
   * costs nothing, but a typo of a few digits is caught.
   */
  memoryMaxMiB: 16 * 1024 * 1024,
  /** A populate batch: one 4 KiB page (order 0) up to a 1 GiB extent (order 18, the largest superpage). */
  batchMaxMiB: 1024,
  /**
   * A populate batch's time: 10 µs to 10 s. Shorter batches only add events (a 1 GiB
   * build at 2 MiB per 10 µs is 512 events in 5 ms); 10 s per batch is already a stall.
   */
  batchMinMs: 0.01,
  batchMaxMs: 10_000,
  /**
   * A dynamic guest's step and a burst cycle: 0.1 ms to 10 s. A step is an event, so a
   * guest steps at most 10,000 times a simulated second (the debate's worst-case domain
   * steps every ms); a guest that changes its memory less often than every 10 s is not
   * dynamic on the scale of a build.
   */
  stepMinMs: 0.1,
  stepMaxMs: 10_000,
  /** A sine guest's period: 0.1 ms to an hour (the longest run). */
  sinePeriodMaxMs: 3_600_000,
  /**
   * Memory rates, MiB/s: at most 35156, MemoryHost's MAX_PAGES_PER_S (9·10^6 pages/s,
   * 34 GiB/s), the fastest rate whose pages × 10^9 ns stay an exact double.
   */
  memoryRateMaxMiBps: Math.floor(MAX_PAGES_PER_S / 256),
  /** The swap-storm proxy's cost per page: 0 to 1 s (a disk seek is ~10 ms; more is a typo). */
  swapMaxUsPerPage: 1_000_000,
  /** Time-series samples of a memory run: at most 10,000 (metrics.json stays a few MB). */
  memorySamples: 10_000,
  /** Balloon targets per guest: 1,000 (a target every 3.6 s of the longest run). */
  balloonTargets: 1_000,
  /**
   * Memory domains (guests, launches, the storm's): their domain ids follow the
   * scenario's domains and must stay at most Xen's DOMID_FIRST_RESERVED − 1 (0x7FEF).
   */
  memoryDomains: DOMID_MAX,
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

/** A size in MiB: whole 4 KiB pages, so a multiple of 1/256 MiB. */
export const PAGE_MIB = 1 / 256;
const mib = (what: string) =>
  z
    .number()
    .min(0)
    .max(LIMITS.memoryMaxMiB)
    .multipleOf(PAGE_MIB)
    .describe(`${what}, MiB: whole 4 KiB pages (a multiple of 1/256 MiB), at most 16 TiB`);
const positiveMib = (what: string) =>
  z
    .number()
    .positive()
    .max(LIMITS.memoryMaxMiB)
    .multipleOf(PAGE_MIB)
    .describe(`${what}, MiB: whole 4 KiB pages (a multiple of 1/256 MiB), more than 0, at most 16 TiB`);
const mibps = (what: string) =>
  z
    .number()
    .min(0)
    .max(LIMITS.memoryRateMaxMiBps)
    .describe(
      `${what}, MiB/s: 0 to ${LIMITS.memoryRateMaxMiBps}; taken as pages/s (× 256) rounded to the nearest page, so a positive rate is at least 1/512 MiB/s`,
    );
const stepMs = z
  .number()
  .min(LIMITS.stepMinMs)
  .max(LIMITS.stepMaxMs)
  .describe(
    "time between the guest's steps, ms: 0.1 to 10000 (each step is an event: at most 10,000 a second)",
  );
const memoryName = (what: string) =>
  domainName.describe(
    `${what}: a domain name (1–64 printable characters, inner spaces only), unique among the memory guests and launches and not one of \`domains\``,
  );

/** On/off phases of a tmem or sharing guest, from its start. */
export const MemoryBurstsSchema = z
  .object({
    everyMs: z
      .number()
      .min(LIMITS.stepMinMs)
      .max(LIMITS.stepMaxMs)
      .describe('a burst starts every everyMs, ms: 0.1 to 10000'),
    lengthMs: z.number().min(0).max(LIMITS.stepMaxMs).describe('how long each burst lasts, ms: 0 to everyMs'),
    offsetMs: z
      .number()
      .min(0)
      .max(LIMITS.durationMaxS * 1000)
      .optional()
      .describe('when the first burst starts, ms after time 0 (default 0)'),
  })
  .strict();

/** A dynamic guest of the memory model (docs/memory.md), by kind. */
export const MemoryGuestSchema = z.discriminatedUnion('kind', [
  z
    .object({
      name: memoryName('the guest'),
      kind: z.literal('sine'),
      minMiB: mib("the wave's minimum, where it starts"),
      peakMiB: positiveMib("the wave's maximum (also the guest's max_pages), at least minMiB"),
      periodMs: z
        .number()
        .min(LIMITS.stepMinMs)
        .max(LIMITS.sinePeriodMaxMs)
        .describe("the wave's period, ms: 0.1 to 3600000"),
      stepMs,
    })
    .strict()
    .describe("the debate's worst-case domain: tot_pages on a fast sine wave, all-or-nothing allocations"),
  z
    .object({
      name: memoryName('the guest'),
      kind: z.literal('balloon'),
      maxMiB: positiveMib("the guest's max_pages"),
      initialMiB: mib('what it owns at start, and its first target; at most maxMiB'),
      rateMiBps: mibps('how fast the balloon inflates or deflates (more than 0)'),
      stepMs,
      targets: z
        .array(
          z
            .object({
              atS: z
                .number()
                .min(0)
                .max(LIMITS.durationMaxS)
                .describe('when the toolstack sets it, seconds from the start; at most durationS'),
              targetMiB: mib('the new target (xenstore memory/target); at most maxMiB'),
            })
            .strict(),
        )
        .max(LIMITS.balloonTargets)
        .default([])
        .describe('targets the toolstack sets over time (default none: the guest stays at initialMiB)'),
    })
    .strict()
    .describe("a guest whose balloon driver follows the toolstack's targets"),
  z
    .object({
      name: memoryName('the guest'),
      kind: z.literal('tmem'),
      baseMiB: positiveMib('its own memory outside self-ballooning (and its max_pages)'),
      minMiB: mib(
        "self-ballooning's floor between bursts, at most baseMiB (default baseMiB: none)",
      ).optional(),
      selfBalloonMiBps: mibps(
        "self-ballooning's rate (default 0; more than 0 when minMiB < baseMiB)",
      ).optional(),
      stepMs,
      bursts: MemoryBurstsSchema.describe('when it puts pages into tmem'),
      putMiBps: mibps('puts into tmem during a burst'),
      getMiBps: mibps('gets back from tmem between bursts (persistent pool first)'),
      persistentPct: z
        .number()
        .min(0)
        .max(100)
        .multipleOf(0.1)
        .default(0)
        .describe(
          'percent of puts that go to the persistent pool (which the hypervisor must keep), in tenths; the rest are ephemeral (default 0)',
        ),
    })
    .strict()
    .describe('a guest putting pages into transcendent memory in bursts, optionally self-ballooning'),
  z
    .object({
      name: memoryName('the guest'),
      kind: z.literal('sharing'),
      privateMiB: mib('what it owns alone at start'),
      sharedMiB: mib(
        "what it maps shared copy-on-write with the other sharing guests (one copy, held by DOMID_COW, the largest guest's sharedMiB)",
      ),
      stepMs,
      bursts: MemoryBurstsSchema.describe('when it writes to shared pages'),
      breakMiBps: mibps('shared pages broken by writes during a burst (each a new private page)'),
      mergeMiBps: mibps('pages merged back by the sharing scanner, always'),
    })
    .strict()
    .describe('a guest whose shared pages break on write in bursts and are merged back steadily'),
]);

/** A domain the toolstack builds. */
export const MemoryLaunchSchema = z
  .object({
    name: memoryName('the domain'),
    sizeMiB: positiveMib('its memory, populated in batches; at most totalMiB'),
    atS: z
      .number()
      .min(0)
      .max(LIMITS.durationMaxS)
      .default(0)
      .describe('when it is asked for, seconds from the start (default 0); at most durationS'),
  })
  .strict();

/** The memory model of a host (docs/memory.md): its size, the toolstack's policy, guests and launches. */
export const MemorySchema = z
  .object({
    totalMiB: positiveMib("the host's memory for domains"),
    policy: z
      .enum(RESERVATION_POLICIES as unknown as [string, ...string[]])
      .describe(
        "how the toolstack protects a build: none; claim (XENMEM_claim_pages for the whole size first); freeze (the toolstack-only scheme: every other domain's max_pages lowered to what it owns while a domain is built); lock (builds one at a time)",
      ),
    populate: z
      .object({
        batchMiB: z
          .number()
          .positive()
          .max(LIMITS.batchMaxMiB)
          .multipleOf(PAGE_MIB)
          .optional()
          .describe(
            'MiB per populate batch: one page (1/256) to 1024 (a 1 GiB extent); default 2 (a 2 MiB extent)',
          ),
        batchMs: z
          .number()
          .min(LIMITS.batchMinMs)
          .max(LIMITS.batchMaxMs)
          .optional()
          .describe('time per batch, ms: 0.01 to 10000; default 2 (an assumption: 1 GiB/s, docs/memory.md)'),
      })
      .strict()
      .optional()
      .describe("the toolstack's populate rate (default 2 MiB per 2 ms, assumed)"),
    swapUsPerPage: z
      .number()
      .min(0)
      .max(LIMITS.swapMaxUsPerPage)
      .optional()
      .describe(
        'blocked time per page a guest could not get, µs (the swap-storm proxy): 0 to 1000000; default 40 (an assumption)',
      ),
    sampleMs: z
      .number()
      .min(1)
      .max(LIMITS.durationMaxS * 1000)
      .optional()
      .describe(
        "how often metrics.json samples free memory, claims and each domain's pages, ms: at least 1, at most 10,000 samples a run; default the run's length / 500, rounded to the ms (at least 1)",
      ),
    guests: z
      .array(MemoryGuestSchema)
      .max(LIMITS.memoryDomains)
      .default([])
      .describe('dynamic guests, each created at time 0 owning its starting memory'),
    launches: z
      .array(MemoryLaunchSchema)
      .max(LIMITS.memoryDomains)
      .default([])
      .describe('domains the toolstack builds, each at its atS'),
    storm: z
      .object({
        count: z
          .number()
          .int()
          .min(1)
          .max(LIMITS.memoryDomains)
          .describe('how many domains: launches named prefix-1 … prefix-count'),
        sizeMiB: positiveMib("each domain's memory; at most totalMiB"),
        atS: z
          .number()
          .min(0)
          .max(LIMITS.durationMaxS)
          .default(0)
          .describe('when the first is asked for, seconds (default 0)'),
        spreadMs: z
          .number()
          .min(0)
          .max(LIMITS.durationMaxS * 1000)
          .default(0)
          .describe('the k-th (from 0) is asked for at atS + k × spreadMs, ms (default 0: all at once)'),
        prefix: domainName.default('vm').describe("the domains' names before -1, -2, … (default 'vm')"),
      })
      .strict()
      .optional()
      .describe('a launch storm: count launches of one size, spread over time; after `launches`'),
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
    memory: MemorySchema.optional().describe(
      "the host's memory (docs/memory.md): a page allocator, a toolstack building domains under a reservation policy, and dynamic guests; beyond the paper",
    ),
  })
  .strict();

export type Unstated = z.infer<typeof UnstatedSchema>;
export type MemorySpec = z.infer<typeof MemorySchema>;
export type MemoryGuest = z.infer<typeof MemoryGuestSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
