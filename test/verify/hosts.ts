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
 * What the generator keeps out, and why (each is a limit of a mechanism, not a bug):
 * - Inbound traffic to a guest is bounded so that its IDD cost stays below half the
 *   guest's share: inbound packets cost the driver domain before anyone can refuse
 *   them, so no scheduler can bound a flood (that is what ShareGuard is for, and
 *   ShareGuard itself pays the driver's cost for what it drops).
 * - ShareGuard-limited guests send (bulk or UDP out): netback drops their packets
 *   before the stack, which is what makes the limit enforceable.
 */
import { P4_2_8 } from '@isosim/actors';
import fc from 'fast-check';

export type SchedulerKind = 'sedf' | 'sedf-dc' | 'credit' | 'credit-dc';

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
}

export interface HostGen {
  readonly pcpus: number;
  readonly scheduler: SchedulerKind;
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

const guestArb: fc.Arbitrary<GuestGen> = fc.record({
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
});

export function hostArb(
  options: { schedulers?: readonly SchedulerKind[]; maxPcpus?: number; maxGuests?: number } = {},
): fc.Arbitrary<HostGen> {
  return fc.record({
    pcpus: fc.integer({ min: 1, max: options.maxPcpus ?? 4 }),
    scheduler: fc.constantFrom(
      ...(options.schedulers ?? (['sedf', 'sedf-dc', 'credit', 'credit-dc'] as const)),
    ),
    iddPct: fc.integer({ min: 20, max: 50 }),
    slackPct: fc.integer({ min: 0, max: 20 }),
    guests: fc.array(guestArb, { minLength: 1, maxLength: options.maxGuests ?? 8 }),
    iddVcpus: fc.constantFrom(1, 1, 1, 2),
    iddPcpu: fc.constantFrom(0, 0, 1, 2, 3),
    iddAlone: fc.boolean(),
    iddAt: fc.constantFrom(0, 0, 1, 3),
    naming: fc.constantFrom<'dom' | 'words'>('dom', 'words'),
    extraMs: fc.constantFrom(0, 0, 37, 50.5, 99.999),
    feedbackMs: fc.constantFrom(500, 500, 333.3, 250),
    shareGuardMs: fc.constantFrom(500, 500, 437.5),
    window: fc.constantFrom<readonly [number, number]>([0, 1], [0.25, 1], [0.0913, 0.7771], [0.5, 0.50001]),
  });
}

/** Placement of every vCPU: the driver domain's first, then each guest's (pCPU indices). */
export function layoutOf(h: HostGen): { idd: number[]; guests: number[][] } {
  const iddPcpu = (h.iddPcpu ?? 0) % h.pcpus;
  const idd = Array.from({ length: h.iddVcpus ?? 1 }, (_, k) => (iddPcpu + k) % h.pcpus);
  const free = Array.from({ length: h.pcpus }, (_, p) => p).filter((p) => !idd.includes(p));
  const pool = h.iddAlone && free.length > 0 ? free : Array.from({ length: h.pcpus }, (_, p) => p);
  const guests = h.guests.map((g) =>
    Array.from({ length: g.vcpus ?? 1 }, (_, j) => pool[(g.pcpu + j) % pool.length]),
  );
  return { idd, guests };
}

/** Seconds to the microsecond (a window's edges: off the 100 ms grid, but exact in ns). */
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Two decimals, down: reservations stay within their pCPU. */
const cents = (x: number) => Math.floor(x * 100) / 100;

/**
 * Each vCPU's reservation, percent of its pCPU, per guest (a pCPU's total never exceeds
 * 100%), and the driver domain's per vCPU. Two decimals: fractional parameters.
 */
export function vcpuSharesOf(h: HostGen): { idd: number[]; guests: number[][] } {
  const layout = layoutOf(h);
  const iddOn = (p: number) => layout.idd.filter((q) => q === p).length;
  const idd = layout.idd.map((p) => cents(h.iddPct / iddOn(p)));
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
  return { idd, guests };
}

/** Each guest's whole reservation, percent of one pCPU (the sum over its vCPUs). */
export function sharesOf(h: HostGen): number[] {
  return vcpuSharesOf(h).guests.map((vs) => vs.reduce((a, b) => a + b, 0));
}

/** The guests' names and the driver domain's under the host's naming. */
export function namesOf(h: HostGen): { idd: string; guests: string[] } {
  if (h.naming !== 'words') return { idd: 'Dom-0', guests: h.guests.map((_, i) => `Dom-${i + 1}`) };
  return {
    idd: 'driver domain',
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
  const credit = h.scheduler.startsWith('credit');
  const vcpu = (pcpu: number, pct: number, periodMs: number): Json =>
    credit
      ? { pcpu, credit: { weight: Math.max(1, Math.round(pct * 10)), capPct: pct } }
      : { pcpu, sedf: { sliceMs: (pct * periodMs) / 100, periodMs, extratime: false } };
  const iddShare = perVcpu.idd.reduce((a, b) => a + b, 0);
  const limits: Record<string, number> = {};
  const guests = h.guests.map((g, i) => {
    const limited = g.shareGuardPct > 0 && g.shareGuardPct < iddShare;
    if (limited) limits[names.guests[i]] = g.shareGuardPct;
    const n = layout.guests[i].length;
    const w = workload(g, shares[i], limited);
    const placement = g.placement ?? 'spread';
    if (n > 1 || placement !== 'spread')
      w.vcpu = placement === 'spread' ? 'spread' : Math.min(placement, n - 1);
    return {
      name: names.guests[i],
      vcpus: layout.guests[i].map((p, j) => vcpu(p, perVcpu.guests[i][j], g.periodMs)),
      workloads: [stopBy(w, stopByS)],
    };
  });
  const idd = { name: names.idd, role: 'idd', vcpus: layout.idd.map((p, k) => vcpu(p, perVcpu.idd[k], 10)) };
  const domains: Json[] = [...guests];
  domains.splice(Math.min(h.iddAt ?? 0, guests.length), 0, idd);
  const mechanisms: Json = {};
  if (h.scheduler.endsWith('-dc'))
    mechanisms.debt = { mode: 'immediate', feedbackMs: h.feedbackMs ?? 500, source: 'truth' };
  if (Object.keys(limits).length > 0)
    mechanisms.shareGuard = { periodMs: h.shareGuardMs ?? 500, limitsPct: limits, source: 'truth' };
  const runS = durationS + (h.extraMs ?? 0) / 1000;
  const [w0, w1] = h.window ?? [0, 1];
  const window =
    w0 === 0 && w1 === 1 ? {} : { window: { startS: round6(w0 * runS), endS: round6(w1 * runS) } };
  return {
    ...window,
    name,
    description: `generated host: ${h.pcpus} pCPU(s), ${h.guests.length} guest(s), ${h.scheduler}`,
    host: { profile: 'p4-2.8', pcpus: h.pcpus, scheduler: credit ? 'credit' : 'sedf' },
    domains,
    mechanisms,
    durationS: runS,
    seed,
  };
}
