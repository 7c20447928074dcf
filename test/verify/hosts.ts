/**
 * Generated hosts for the verification suite, as scenario files.
 *
 * A generated host is a scenario object in the CLI's own format (scenarios.md), so a
 * counterexample is a file `isosim run` opens. Hosts have 1–4 pCPUs and 1–8 guests;
 * reservations never exceed 100% of a pCPU; workloads are web, bulk, UDP and CPU-bound
 * with random rates, sizes and start and stop times; the scheduler is SEDF or Credit,
 * with or without debt collection; some guests get a ShareGuard limit.
 *
 * The corners off the paper's path (issue 12), each reached by some draws:
 * - guests with 1–3 vCPUs on different pCPUs, workloads spread or pinned to a vCPU;
 *   driver domains with 1–2 vCPUs;
 * - the driver domain on any pCPU, alone on it or sharing it, and anywhere in the
 *   domain list (not only first);
 * - names other than `Dom-N` (words, spaces, dots, non-ASCII letters);
 * - durations that are not multiples of 100 ms, and fractional parameters: slices and
 *   Credit caps with two decimals, feedback and ShareGuard periods off the 100 ms grid,
 *   fractional ShareGuard limits.
 *
 * Disk I/O and several driver domains (issue 16), when `io` is on (the default):
 * - 1–3 driver domains: one driving the NIC and the disks, a net IDD and a blk IDD
 *   (either of them domain 0), a control domain 0 driving nothing, or a net IDD and one
 *   blk IDD per disk; devices listed or left to the default, vbd backends named or not;
 * - 0–2 disks, `hdd-7200` or `ssd-sata`, each elevator, queue depths 1–32;
 * - guests with 0–2 vbds and a disk job (random or sequential, 0/30/100% reads, 512 B
 *   to 64 KiB including sizes above 44 KiB that split into several blkif requests,
 *   iodepth 1–32, think time 0–2 ms) or a `db` job, beside their network workload or
 *   instead of it;
 * - debt collection over every driver domain (by default or by naming each), and
 *   ShareGuard limits for every driver domain or per driver domain.
 *
 * What the generator keeps out, and why (each is a limit of a mechanism, not a bug):
 * - Inbound traffic to a guest is bounded so that its IDD cost stays below half the
 *   guest's share: inbound packets cost the driver domain before anyone can refuse
 *   them, so no scheduler can bound a flood (that is what ShareGuard is for, and
 *   ShareGuard itself pays the driver's cost for what it drops).
 * - ShareGuard-limited guests send (bulk or UDP out): netback drops their packets
 *   before the stack, which is what makes the limit enforceable. Their disk jobs stay:
 *   blkback holds a limited guest's requests in its ring, which bounds it as well.
 * Disk jobs need no such bound: a guest issues each request from its own CPU
 * (blkfront's `guestReqNs`), so its driver-domain work stops when it stops running.
 */
import { P4_2_8 } from '@isosim/actors';
import fc from 'fast-check';

export type SchedulerKind = 'sedf' | 'sedf-dc' | 'credit' | 'credit-dc';

/** A disk job of a guest: a fio-like `disk` job or a `db` mix, on one of its vbds. */
export interface DiskJobGen {
  readonly kind: 'disk' | 'db';
  readonly pattern: 'sequential' | 'random';
  readonly readPct: number;
  readonly blockBytes: number;
  readonly iodepth: number;
  /** May be fractional. */
  readonly thinkMs: number;
  /** Which of the guest's vbds (clamped to those it has). */
  readonly vbd: number;
  /** The job's vCPU (clamped), or spread (its first). */
  readonly placement: 'spread' | number;
}

export interface GuestGen {
  readonly pcpu: number;
  readonly weight: number;
  readonly periodMs: number;
  readonly workload: 'web' | 'cpu' | 'udp-send' | 'udp-receive' | 'bulk-send' | 'bulk-receive';
  readonly intensity: number;
  readonly fileKb: number;
  readonly startMs: number;
  /** 0: runs to the end. */
  readonly runMs: number;
  readonly shareGuardPct: number;
  /** vCPUs (default 1): vCPU j is pinned to the pCPU after vCPU j − 1's. */
  readonly vcpus?: number;
  /** Where the workload runs: 'spread' (default) or a vCPU index (clamped to the guest's). */
  readonly placement?: 'spread' | number;
  /** The disks (index into the host's, mod their number) of the guest's vbds; none without disks. */
  readonly vbds?: readonly number[];
  /** Name each vbd's backend (default: leave it to the disk's driver domain). */
  readonly backendNamed?: boolean;
  /** A disk job on one of its vbds (none without a vbd). */
  readonly disk?: DiskJobGen;
  /** The disk job replaces the network workload instead of joining it. */
  readonly diskOnly?: boolean;
}

/** A disk of the host. */
export interface DiskGen {
  readonly model: 'hdd-7200' | 'ssd-sata';
  readonly elevator: 'fifo' | 'deadline' | 'cfq';
  readonly queueDepth: number;
}

/**
 * Which driver domains there are and what each drives (`A` is domain 0, the first in
 * the domain list): `one` A drives the NIC and the disks; `net-blk` A the NIC, B the
 * disks; `blk-net` A the disks, B the NIC; `control` A nothing (a control domain), B
 * everything; `three` A the NIC, B the first disk, C the second (or nothing).
 */
export type IddLayout = 'one' | 'net-blk' | 'blk-net' | 'control' | 'three';

export interface HostGen {
  readonly pcpus: number;
  readonly scheduler: SchedulerKind;
  /** The driver domains' CPU on each pCPU they use, percent (split among them there). */
  readonly iddPct: number;
  readonly slackPct: number;
  readonly guests: readonly GuestGen[];
  /** Driver-domain vCPUs (default 1) and the pCPU of its first (default 0). */
  readonly iddVcpus?: number;
  readonly iddPcpu?: number;
  /** Keep guests off the driver domain's pCPUs when there is another pCPU for them. */
  readonly iddAlone?: boolean;
  /** The driver domain's place in the domain list (default 0, first). */
  readonly iddAt?: number;
  /** `dom`: Dom-0, Dom-1, … (default); `words`: other names. */
  readonly naming?: 'dom' | 'words';
  /** Added to the run's duration (ms, may be fractional): off the 100 ms grid. */
  readonly extraMs?: number;
  /** Feedback interval of debt collection and ShareGuard's period, ms (default 500). */
  readonly feedbackMs?: number;
  readonly shareGuardMs?: number;
  /** The measurement window as fractions of the run (default: the whole run). */
  readonly window?: readonly [number, number];
  /** The host's disks (default none). */
  readonly disks?: readonly DiskGen[];
  /** The driver domains (default `one`). */
  readonly iddLayout?: IddLayout;
  /** List every driver domain's devices, even where the default would do. */
  readonly devicesNamed?: boolean;
  /** The further driver domains: on the first one's pCPU (0) or the ones after it (1). */
  readonly iddSpread?: number;
  /** The further driver domains: right after the first in the domain list, or last. */
  readonly driversAt?: 'together' | 'end';
  /** Debt collection: from every driver domain by default, or by naming each. */
  readonly debtDrivers?: 'default' | 'named';
  /**
   * ShareGuard limits: one number for every driver domain (`all`), one per driver
   * domain that drives a device (`each`), or only in those that drive a disk (`blk`).
   */
  readonly limitsPer?: 'all' | 'each' | 'blk';
  /**
   * A charging policy (`mechanisms.charging`); with one, debt and ShareGuard read its
   * estimate (`source: 'estimate'`) instead of the ground truth.
   */
  readonly charging?: string;
}

/** Names that are not `Dom-N` (all round-trip: printable, short). */
export const WORD_NAMES = [
  'web',
  'db 2',
  'cache.1',
  'Ünïcode-vm',
  'batch_job',
  'x',
  'front-end',
  'vm-7',
  'mail',
];

/** The driver domains' names under each naming (the first is domain 0). */
const IDD_NAMES = { dom: ['Dom-0', 'Dom-d1', 'Dom-d2'], words: ['driver domain', 'stør age', 'net.stub'] };

/** I/O sizes: a sector, a page and a half, a page, 8 KiB, 16 KiB, 44 KiB (one full blkif request), 45 KiB and 64 KiB (two). */
const BLOCK_BYTES = [512, 1536, 4096, 8192, 16384, 45056, 46080, 65536];

const diskJobArb: fc.Arbitrary<DiskJobGen> = fc.record({
  kind: fc.constantFrom<'disk' | 'db'>('disk', 'disk', 'disk', 'db'),
  pattern: fc.constantFrom<'sequential' | 'random'>('sequential', 'random'),
  readPct: fc.constantFrom(0, 30, 100),
  blockBytes: fc.constantFrom(...BLOCK_BYTES),
  iodepth: fc.integer({ min: 1, max: 32 }),
  thinkMs: fc.constantFrom(0, 0, 0.05, 0.5, 1.25, 2),
  vbd: fc.nat(1),
  placement: fc.constantFrom<'spread' | number>('spread', 'spread', 0, 1),
});

const diskArb: fc.Arbitrary<DiskGen> = fc.record({
  model: fc.constantFrom<DiskGen['model']>('hdd-7200', 'ssd-sata'),
  elevator: fc.constantFrom<DiskGen['elevator']>('fifo', 'deadline', 'cfq'),
  queueDepth: fc.integer({ min: 1, max: 32 }),
});

const guestBase = {
  pcpu: fc.nat(3),
  weight: fc.integer({ min: 1, max: 10 }),
  periodMs: fc.constantFrom(10, 20, 50, 100),
  workload: fc.constantFrom('web', 'cpu', 'udp-send', 'udp-receive', 'bulk-send', 'bulk-receive'),
  intensity: fc.integer({ min: 1, max: 10 }),
  fileKb: fc.integer({ min: 1, max: 60 }),
  startMs: fc.constantFrom(0, 0, 200, 700),
  runMs: fc.constantFrom(0, 0, 1500, 2500),
  shareGuardPct: fc.constantFrom(0, 0, 0, 2, 5, 3.75),
  vcpus: fc.constantFrom(1, 1, 1, 2, 3),
  placement: fc.constantFrom<'spread' | number>('spread', 'spread', 0, 1),
} as const;

const guestArb: fc.Arbitrary<GuestGen> = fc.record(guestBase);

const guestIoArb: fc.Arbitrary<GuestGen> = fc.record({
  ...guestBase,
  vbds: fc.array(fc.nat(1), { maxLength: 2 }),
  backendNamed: fc.boolean(),
  disk: diskJobArb,
  diskOnly: fc.constantFrom(false, false, true),
});

export interface HostOptions {
  readonly schedulers?: readonly SchedulerKind[];
  readonly maxPcpus?: number;
  readonly maxGuests?: number;
  /**
   * Disks and several driver domains (default true). False draws exactly the hosts of
   * issue 12 (one driver domain, no disks), value for value.
   */
  readonly io?: boolean;
}

export function hostArb(options: HostOptions = {}): fc.Arbitrary<HostGen> {
  const io = options.io ?? true;
  const base = {
    pcpus: fc.integer({ min: 1, max: options.maxPcpus ?? 4 }),
    scheduler: fc.constantFrom(
      ...(options.schedulers ?? (['sedf', 'sedf-dc', 'credit', 'credit-dc'] as const)),
    ),
    iddPct: fc.integer({ min: 20, max: 50 }),
    slackPct: fc.integer({ min: 0, max: 20 }),
    guests: fc.array(io ? guestIoArb : guestArb, { minLength: 1, maxLength: options.maxGuests ?? 8 }),
    iddVcpus: fc.constantFrom(1, 1, 1, 2),
    iddPcpu: fc.constantFrom(0, 0, 1, 2, 3),
    iddAlone: fc.boolean(),
    iddAt: fc.constantFrom(0, 0, 1, 3),
    naming: fc.constantFrom<'dom' | 'words'>('dom', 'words'),
    extraMs: fc.constantFrom(0, 0, 37, 50.5, 99.999),
    feedbackMs: fc.constantFrom(500, 500, 333.3, 250),
    shareGuardMs: fc.constantFrom(500, 500, 437.5),
    window: fc.constantFrom<readonly [number, number]>([0, 1], [0.25, 1], [0.0913, 0.7771], [0.5, 0.50001]),
  };
  if (!io) return fc.record(base);
  return fc.record({
    ...base,
    disks: fc.array(diskArb, { maxLength: 2 }),
    iddLayout: fc.constantFrom<IddLayout>('one', 'one', 'net-blk', 'blk-net', 'control', 'three'),
    devicesNamed: fc.boolean(),
    iddSpread: fc.nat(1),
    driversAt: fc.constantFrom<'together' | 'end'>('together', 'end'),
    debtDrivers: fc.constantFrom<'default' | 'named'>('default', 'named'),
    limitsPer: fc.constantFrom<'all' | 'each' | 'blk'>('all', 'each', 'blk'),
  });
}

/** How many driver domains a layout has. */
export function iddCount(h: HostGen): number {
  const layout = h.iddLayout ?? 'one';
  return layout === 'one' ? 1 : layout === 'three' ? 3 : 2;
}

/**
 * Each driver domain's devices (index 0 is domain 0), in full: `nic0` and disk names.
 * A domain listed with no device drives nothing.
 */
export function devicesOf(h: HostGen): string[][] {
  const disks = (h.disks ?? []).map((_, i) => diskName(i));
  switch (h.iddLayout ?? 'one') {
    case 'one':
      return [['nic0', ...disks]];
    case 'net-blk':
      return [['nic0'], disks];
    case 'blk-net':
      return [disks, ['nic0']];
    case 'control':
      return [[], ['nic0', ...disks]];
    case 'three':
      return [['nic0'], disks.slice(0, 1), disks.slice(1)];
  }
}

/** The disks' names: sda, sdb. */
export function diskName(i: number): string {
  return `sd${String.fromCharCode(97 + i)}`;
}

/** Placement of every vCPU: each driver domain's (the first's first), then each guest's (pCPU indices). */
export function layoutOf(h: HostGen): { idds: number[][]; guests: number[][] } {
  const iddPcpu = (h.iddPcpu ?? 0) % h.pcpus;
  const idds = [Array.from({ length: h.iddVcpus ?? 1 }, (_, k) => (iddPcpu + k) % h.pcpus)];
  for (let d = 1; d < iddCount(h); d++) idds.push([(iddPcpu + d * (h.iddSpread ?? 0)) % h.pcpus]);
  const used = new Set(idds.flat());
  const free = Array.from({ length: h.pcpus }, (_, p) => p).filter((p) => !used.has(p));
  const pool = h.iddAlone && free.length > 0 ? free : Array.from({ length: h.pcpus }, (_, p) => p);
  const guests = h.guests.map((g) =>
    Array.from({ length: g.vcpus ?? 1 }, (_, j) => pool[(g.pcpu + j) % pool.length]),
  );
  return { idds, guests };
}

/** Seconds to the microsecond (a window's edges: off the 100 ms grid, but exact in ns). */
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Two decimals, down: reservations stay within their pCPU. */
const cents = (x: number) => Math.floor(x * 100) / 100;

/**
 * Each vCPU's reservation, percent of its pCPU, per guest (a pCPU's total never exceeds
 * 100%), and each driver domain's per vCPU: the driver domains' vCPUs on a pCPU split
 * `iddPct` of it. Two decimals: fractional parameters.
 */
export function vcpuSharesOf(h: HostGen): { idds: number[][]; guests: number[][] } {
  const layout = layoutOf(h);
  const iddOn = (p: number) => layout.idds.flat().filter((q) => q === p).length;
  const idds = layout.idds.map((vs) => vs.map((p) => cents(h.iddPct / iddOn(p))));
  const guests = layout.guests.map((vs) => vs.map(() => 0));
  for (let p = 0; p < h.pcpus; p++) {
    const room = 100 - h.slackPct - (iddOn(p) > 0 ? h.iddPct : 0);
    const on: [number, number][] = [];
    layout.guests.forEach((vs, i) => {
      vs.forEach((q, j) => {
        if (q === p) on.push([i, j]);
      });
    });
    // At least 0.5% each; the rest of the room by weight (at most 24 vCPUs on a pCPU,
    // so the minimums take at most 12% of a room of at least 30%).
    const MIN = 0.5;
    const total = on.reduce((s, [i]) => s + h.guests[i].weight, 0);
    const small = on.filter(([i]) => (room * h.guests[i].weight) / total < MIN);
    const big = on.filter(([i]) => (room * h.guests[i].weight) / total >= MIN);
    const left = room - MIN * small.length;
    const bigTotal = big.reduce((s, [i]) => s + h.guests[i].weight, 0);
    for (const [i, j] of small) guests[i][j] = MIN;
    for (const [i, j] of big) guests[i][j] = Math.max(MIN, cents((left * h.guests[i].weight) / bigTotal));
  }
  return { idds, guests };
}

/** Each guest's whole reservation, percent of one pCPU (the sum over its vCPUs). */
export function sharesOf(h: HostGen): number[] {
  return vcpuSharesOf(h).guests.map((vs) => vs.reduce((a, b) => a + b, 0));
}

/** The guests' names and the driver domains' (the first is domain 0) under the host's naming. */
export function namesOf(h: HostGen): { idd: string; idds: string[]; guests: string[] } {
  const idds = IDD_NAMES[h.naming === 'words' ? 'words' : 'dom'].slice(0, iddCount(h));
  if (h.naming !== 'words') return { idd: idds[0], idds, guests: h.guests.map((_, i) => `Dom-${i + 1}`) };
  return {
    idd: idds[0],
    idds,
    guests: h.guests.map(
      (_, i) => WORD_NAMES[i % WORD_NAMES.length] + (i >= WORD_NAMES.length ? `-${i}` : ''),
    ),
  };
}

type Json = Record<string, unknown>;

function stopBy(w: Json, stopByS: number | undefined): Json {
  if (stopByS === undefined) return w;
  const start = Math.min(Number(w.startS ?? 0), stopByS / 2);
  const stop = Math.min(Number(w.stopS ?? stopByS), stopByS);
  return { ...w, startS: start, stopS: Math.max(stop, start + 0.1) };
}

function workload(g: GuestGen, sharePct: number, limited: boolean): Json {
  const timing: Json = { startS: g.startMs / 1000 };
  if (g.runMs > 0) timing.stopS = (g.startMs + g.runMs) / 1000;
  // Inbound IDD cost per second kept under half the share (see the header).
  const inboundBudgetNs = (sharePct / 100 / 2) * 1e9;
  const kind = limited && !g.workload.endsWith('send') ? 'bulk-send' : g.workload;
  switch (kind) {
    case 'cpu':
      return { kind: 'cpu', ...timing };
    case 'bulk-send':
      return { kind: 'bulk', direction: 'send', windowSegments: 4 * g.intensity, ...timing };
    case 'bulk-receive': {
      // Window-limited: at most this many segments in flight per round trip.
      const seg = Math.max(1, Math.floor(inboundBudgetNs / P4_2_8.iddRecvNs / 2000));
      return {
        kind: 'bulk',
        direction: 'receive',
        windowSegments: Math.min(4 * g.intensity, seg),
        ...timing,
      };
    }
    case 'udp-send':
      return { kind: 'udp', direction: 'send', rate: 500 * g.intensity, bytes: 400, ...timing };
    case 'udp-receive': {
      const maxRate = Math.floor(inboundBudgetNs / P4_2_8.iddRecvNs);
      return {
        kind: 'udp',
        direction: 'receive',
        rate: Math.max(1, Math.min(maxRate, 300 * g.intensity)),
        bytes: 1000,
        ...timing,
      };
    }
    default: {
      const inPerRequest = 4 + Math.ceil(Math.ceil((g.fileKb * 1024) / 1448) / 2);
      const maxRate = Math.floor(inboundBudgetNs / (inPerRequest * P4_2_8.iddRecvNs));
      return {
        kind: 'web',
        rate: Math.max(1, Math.min(maxRate, 40 * g.intensity)),
        fileBytes: g.fileKb * 1024,
        timeoutS: 1,
        ...timing,
      };
    }
  }
}

/** The guest's disk job as a scenario workload, on one of its `vbds` vbds (it has some). */
function diskJob(g: GuestGen, job: DiskJobGen, vbds: number, vcpus: number): Json {
  const timing: Json = { startS: g.startMs / 1000 };
  if (g.runMs > 0) timing.stopS = (g.startMs + g.runMs) / 1000;
  const vbd = Math.min(job.vbd, vbds - 1);
  const where: Json = job.placement === 'spread' ? {} : { vcpu: Math.min(job.placement, vcpus - 1) };
  if (job.kind === 'db')
    return { kind: 'db', iodepth: job.iodepth, thinkMs: job.thinkMs, vbd, ...where, ...timing };
  return {
    kind: 'disk',
    pattern: job.pattern,
    readPct: job.readPct,
    blockBytes: job.blockBytes,
    iodepth: job.iodepth,
    thinkMs: job.thinkMs,
    vbd,
    ...where,
    ...timing,
  };
}

/**
 * The host as a scenario file's content (validate with `parseScenario`). `stopByS`
 * stops every workload by then (so the host can drain before the end).
 */
export function toScenario(
  h: HostGen,
  name: string,
  durationS: number,
  seed: number,
  stopByS?: number,
): Json {
  const shares = sharesOf(h);
  const perVcpu = vcpuSharesOf(h);
  const layout = layoutOf(h);
  const names = namesOf(h);
  const devices = devicesOf(h);
  const disks = h.disks ?? [];
  const several = devices.length > 1;
  const credit = h.scheduler.startsWith('credit');
  const vcpu = (pcpu: number, pct: number, periodMs: number): Json =>
    credit
      ? { pcpu, credit: { weight: Math.max(1, Math.round(pct * 10)), capPct: pct } }
      : { pcpu, sedf: { sliceMs: (pct * periodMs) / 100, periodMs, extratime: false } };
  const iddShares = perVcpu.idds.map((vs) => vs.reduce((a, b) => a + b, 0));
  // Where a limit applies (the loader's rule for one number: with several driver
  // domains, those that drive a device), by the host's `limitsPer`.
  const driving = devices.map((d) => !several || d.length > 0);
  const blk = devices.map((d) => d.some((x) => x !== 'nic0'));
  const limitedIn = h.limitsPer === 'blk' && several && blk.some((b) => b) ? blk : driving;
  const ownerOf = (disk: string) => devices.findIndex((d) => d.includes(disk));
  const limits: Record<string, number | Record<string, number>> = {};
  const guests = h.guests.map((g, i) => {
    const n = layout.guests[i].length;
    // A limit must be below the share of every driver domain it applies in.
    const where = devices.map((_, k) => k).filter((k) => limitedIn[k]);
    const limited =
      g.shareGuardPct > 0 && where.length > 0 && where.every((k) => g.shareGuardPct < iddShares[k]);
    if (limited) {
      limits[names.guests[i]] =
        (h.limitsPer ?? 'all') === 'all' || !several
          ? g.shareGuardPct
          : Object.fromEntries(where.map((k) => [names.idds[k], g.shareGuardPct]));
    }
    const vbdDisks = disks.length === 0 ? [] : (g.vbds ?? []).map((d) => diskName(d % disks.length));
    const vbds = vbdDisks.map((disk) =>
      g.backendNamed ? { disk, backend: names.idds[ownerOf(disk)] } : { disk },
    );
    const workloads: Json[] = [];
    const job = g.disk !== undefined && vbds.length > 0 ? diskJob(g, g.disk, vbds.length, n) : undefined;
    if (job === undefined || !g.diskOnly) {
      const w = workload(g, shares[i], limited);
      const placement = g.placement ?? 'spread';
      if (n > 1 || placement !== 'spread')
        w.vcpu = placement === 'spread' ? 'spread' : Math.min(placement, n - 1);
      workloads.push(w);
    }
    if (job !== undefined) workloads.push(job);
    return {
      name: names.guests[i],
      vcpus: layout.guests[i].map((p, j) => vcpu(p, perVcpu.guests[i][j], g.periodMs)),
      ...(vbds.length > 0 ? { vbds } : {}),
      workloads: workloads.map((w) => stopBy(w, stopByS)),
    };
  });
  const idds = layout.idds.map((pcpus, k) => {
    const d: Json = {
      name: names.idds[k],
      role: 'idd',
      vcpus: pcpus.map((p, j) => vcpu(p, perVcpu.idds[k][j], 10)),
    };
    // Domain 0 gets every device no one lists: name its devices when asked, or when it
    // drives less than that (a control domain, or the NIC alone).
    const unlisted = ['nic0', ...disks.map((_, i) => diskName(i))].filter(
      (x) => !devices.slice(1).some((y) => y.includes(x)),
    );
    if (h.devicesNamed || k > 0 || devices[0].length !== unlisted.length) d.devices = devices[k];
    return d;
  });
  const domains: Json[] = [...guests];
  const at = Math.min(h.iddAt ?? 0, guests.length);
  if (h.driversAt === 'end') {
    domains.splice(at, 0, idds[0]);
    domains.push(...idds.slice(1));
  } else domains.splice(at, 0, ...idds);
  const mechanisms: Json = h.charging === undefined ? {} : { charging: h.charging };
  const source = h.charging === undefined ? 'truth' : 'estimate';
  if (h.scheduler.endsWith('-dc'))
    mechanisms.debt = {
      mode: 'immediate',
      feedbackMs: h.feedbackMs ?? 500,
      source,
      ...(h.debtDrivers === 'named' ? { drivers: [...names.idds].reverse() } : {}),
    };
  if (Object.keys(limits).length > 0)
    mechanisms.shareGuard = { periodMs: h.shareGuardMs ?? 500, limitsPct: limits, source };
  const runS = durationS + (h.extraMs ?? 0) / 1000;
  const [w0, w1] = h.window ?? [0, 1];
  const window =
    w0 === 0 && w1 === 1 ? {} : { window: { startS: round6(w0 * runS), endS: round6(w1 * runS) } };
  const io =
    disks.length > 0 || several ? `, ${disks.length} disk(s), ${devices.length} driver domain(s)` : '';
  return {
    ...window,
    name,
    description: `generated host: ${h.pcpus} pCPU(s), ${h.guests.length} guest(s), ${h.scheduler}${io}`,
    host: { profile: 'p4-2.8', pcpus: h.pcpus, scheduler: credit ? 'credit' : 'sedf' },
    ...(disks.length > 0 ? { disks: disks.map((d, i) => ({ name: diskName(i), ...d })) } : {}),
    domains,
    mechanisms,
    durationS: runS,
    seed,
  };
}
