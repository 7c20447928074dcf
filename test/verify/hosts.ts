/**
 * Generated hosts for the verification suite, as scenario files.
 *
 * A generated host is a scenario object in the CLI's own format (scenarios.md), so a
 * counterexample is a file `isosim run` opens. Hosts have 1–4 pCPUs and 1–8 guests;
 * the driver domain (Dom-0) is pinned to pCPU 0; reservations never exceed 100% of a
 * pCPU; workloads are web, bulk, UDP and CPU-bound with random rates, sizes and start
 * and stop times; the scheduler is SEDF or Credit, with or without debt collection;
 * some guests get a ShareGuard limit.
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
}

export interface HostGen {
  readonly pcpus: number;
  readonly scheduler: SchedulerKind;
  readonly iddPct: number;
  readonly slackPct: number;
  readonly guests: readonly GuestGen[];
}

const guestArb: fc.Arbitrary<GuestGen> = fc.record({
  pcpu: fc.nat(3),
  weight: fc.integer({ min: 1, max: 10 }),
  periodMs: fc.constantFrom(10, 20, 50, 100),
  workload: fc.constantFrom('web', 'cpu', 'udp-send', 'udp-receive', 'bulk-send', 'bulk-receive'),
  intensity: fc.integer({ min: 1, max: 10 }),
  fileKb: fc.integer({ min: 1, max: 60 }),
  startMs: fc.constantFrom(0, 0, 200, 700),
  runMs: fc.constantFrom(0, 0, 1500, 2500),
  shareGuardPct: fc.constantFrom(0, 0, 0, 2, 5),
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
  });
}

/** Each guest's reservation, percent of its pCPU (the pCPUs' total never exceeds 100%). */
export function sharesOf(h: HostGen): number[] {
  const pcpuOf = h.guests.map((g) => g.pcpu % h.pcpus);
  const out: number[] = [];
  for (let p = 0; p < h.pcpus; p++) {
    const room = 100 - h.slackPct - (p === 0 ? h.iddPct : 0);
    const idx = h.guests.map((_, i) => i).filter((i) => pcpuOf[i] === p);
    const total = idx.reduce((s, i) => s + h.guests[i].weight, 0);
    for (const i of idx) out[i] = Math.max(1, Math.floor((room * h.guests[i].weight) / total));
  }
  return out;
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
  const credit = h.scheduler.startsWith('credit');
  const vcpu = (pcpu: number, pct: number, periodMs: number): Json =>
    credit
      ? { pcpu, credit: { weight: Math.max(1, Math.round(pct * 10)), capPct: pct } }
      : { pcpu, sedf: { sliceMs: (pct * periodMs) / 100, periodMs, extratime: false } };
  const limits: Record<string, number> = {};
  const guests = h.guests.map((g, i) => {
    const limited = g.shareGuardPct > 0 && g.shareGuardPct < h.iddPct;
    if (limited) limits[`Dom-${i + 1}`] = g.shareGuardPct;
    return {
      name: `Dom-${i + 1}`,
      vcpus: [vcpu(g.pcpu % h.pcpus, shares[i], g.periodMs)],
      workloads: [stopBy(workload(g, shares[i], limited), stopByS)],
    };
  });
  const mechanisms: Json = {};
  if (h.scheduler.endsWith('-dc')) mechanisms.debt = { mode: 'immediate', feedbackMs: 500, source: 'truth' };
  if (Object.keys(limits).length > 0)
    mechanisms.shareGuard = { periodMs: 500, limitsPct: limits, source: 'truth' };
  return {
    name,
    description: `generated host: ${h.pcpus} pCPU(s), ${h.guests.length} guest(s), ${h.scheduler}`,
    host: { profile: 'p4-2.8', pcpus: h.pcpus, scheduler: credit ? 'credit' : 'sedf' },
    domains: [{ name: 'Dom-0', role: 'idd', vcpus: [vcpu(0, h.iddPct, 10)] }, ...guests],
    mechanisms,
    durationS,
    seed,
  };
}
