/**
 * A tiny deterministic driver for schedulers: it runs a `SchedulerOps` directly (no
 * XState, no kernel) over simulated time, the way the hypervisor would, and records
 * what ran where, so tests and property tests can check a scheduler alone.
 *
 * Design
 * - vCPUs behave as `busy` (always runnable), `periodic` (needs `runNs` of CPU, then
 *   blocks for `blockNs`, again and again) or `idle` (never wakes). All are added at
 *   time 0 in the order given; a non-idle vCPU first wakes at its `startNs` (default 0).
 * - At each instant, in this order: due wakes (by vCPU index), each calling `wake` and
 *   marking the pCPU for rescheduling if it returns true; then each pCPU (by index)
 *   whose decision expired, whose vCPU just used up its work, or that is marked, calls
 *   `doSchedule`. Every pCPU calls `doSchedule` at time 0. No randomness anywhere.
 * - Every decision is checked (positive integer `runNs`; a vCPU that is pinned here,
 *   awake, and not running elsewhere) and a bad one throws, naming the time and call.
 *
 * Recorded: every run interval `[start, end)` with its pCPU, CPU per vCPU, busy and idle
 * time per pCPU, and optionally every call (`trace`), e.g. to replay through XState.
 */
import { InvariantError } from '@isosim/core';
import { type Decision, IDLE, type PrevRun, type SchedulerOps, type VcpuSpec } from './types.ts';

export type Behaviour =
  | { readonly kind: 'busy' }
  | { readonly kind: 'periodic'; readonly runNs: number; readonly blockNs: number }
  | { readonly kind: 'idle' };

export interface HarnessVcpu {
  readonly spec: VcpuSpec;
  readonly behaviour: Behaviour;
  /** When it first wakes, ns (default 0). */
  readonly startNs?: number;
}

export type HarnessCall =
  | { readonly op: 'add'; readonly atNs: number; readonly spec: VcpuSpec; readonly vcpu: number }
  | { readonly op: 'wake'; readonly atNs: number; readonly vcpu: number; readonly preempt: boolean }
  | {
      readonly op: 'doSchedule';
      readonly atNs: number;
      readonly pcpu: number;
      readonly prev: PrevRun;
      readonly decision: Decision;
    };

export interface HarnessOptions<S> {
  readonly pcpus: number;
  readonly vcpus: readonly HarnessVcpu[];
  readonly untilNs: number;
  /** Keep every call in `calls`. */
  readonly trace?: boolean;
  /** Called after every scheduler call with the live state (read it, do not change it). */
  readonly onCall?: (call: HarnessCall, state: S) => void;
}

export interface RunInterval {
  readonly vcpu: number;
  readonly pcpu: number;
  readonly startNs: number;
  readonly endNs: number;
}

export interface HarnessResult<S> {
  readonly state: S;
  readonly elapsedNs: number;
  /** Every run interval, in the order they ended. */
  readonly runs: readonly RunInterval[];
  readonly runsByVcpu: readonly (readonly RunInterval[])[];
  readonly cpuNs: readonly number[];
  readonly busyNs: readonly number[];
  readonly idleNs: readonly number[];
  readonly calls: readonly HarnessCall[];
}

interface VcpuRun {
  blocked: boolean;
  wakeAtNs: number;
  workLeftNs: number;
}

interface PcpuRun {
  running: number;
  sinceNs: number;
  untilNs: number;
  resched: boolean;
}

function workOf(b: Behaviour): number {
  return b.kind === 'periodic' ? b.runNs : Number.POSITIVE_INFINITY;
}

export function runScheduler<S>(ops: SchedulerOps<S>, options: HarnessOptions<S>): HarnessResult<S> {
  const { pcpus, vcpus, untilNs } = options;
  const calls: HarnessCall[] = [];
  const note = (call: HarnessCall, state: S): void => {
    if (options.trace) calls.push(call);
    options.onCall?.(call, state);
  };
  const state = ops.init(pcpus, 0);
  const vs: VcpuRun[] = [];
  vcpus.forEach((h, i) => {
    if (h.behaviour.kind === 'periodic' && !(h.behaviour.runNs > 0 && h.behaviour.blockNs > 0)) {
      throw new InvariantError(`harness: vCPU ${i} needs positive runNs and blockNs`);
    }
    const index = ops.addVcpu(state, h.spec, 0);
    if (index !== i) throw new InvariantError(`harness: ${ops.name} numbered vCPU ${i} as ${index}`);
    note({ op: 'add', atNs: 0, spec: h.spec, vcpu: i }, state);
    const never = h.behaviour.kind === 'idle';
    vs.push({ blocked: true, wakeAtNs: never ? Number.POSITIVE_INFINITY : (h.startNs ?? 0), workLeftNs: 0 });
  });
  const ps: PcpuRun[] = [];
  for (let p = 0; p < pcpus; p++) ps.push({ running: IDLE, sinceNs: 0, untilNs: 0, resched: true });
  const runs: RunInterval[] = [];
  const runsByVcpu: RunInterval[][] = vcpus.map(() => []);
  const cpuNs = new Array<number>(vcpus.length).fill(0);
  const busyNs = new Array<number>(pcpus).fill(0);
  const idleNs = new Array<number>(pcpus).fill(0);

  /** Charges pCPU p's current segment up to `t` and returns what ran and for how long. */
  const close = (p: number, t: number): number => {
    const pc = ps[p];
    const ran = t - pc.sinceNs;
    if (pc.running === IDLE) {
      idleNs[p] += ran;
    } else if (ran > 0) {
      const r = { vcpu: pc.running, pcpu: p, startNs: pc.sinceNs, endNs: t };
      runs.push(r);
      runsByVcpu[pc.running].push(r);
      cpuNs[pc.running] += ran;
      busyNs[p] += ran;
      vs[pc.running].workLeftNs -= ran;
    }
    return ran;
  };

  const reschedule = (p: number, now: number): void => {
    const pc = ps[p];
    const cur = pc.running;
    const ran = close(p, now);
    let prev: PrevRun = { vcpu: IDLE, ranNs: 0, runnable: false };
    if (cur !== IDLE) {
      const v = vs[cur];
      prev = { vcpu: cur, ranNs: ran, runnable: v.workLeftNs > 0 };
      if (v.workLeftNs === 0) {
        const b = vcpus[cur].behaviour;
        v.blocked = true;
        v.wakeAtNs = b.kind === 'periodic' ? now + b.blockNs : Number.POSITIVE_INFINITY;
      }
    }
    const d = ops.doSchedule(state, p, now, prev);
    note({ op: 'doSchedule', atNs: now, pcpu: p, prev, decision: d }, state);
    const bad = (why: string): never => {
      throw new InvariantError(
        `harness: ${ops.name} at ${now} ns on pCPU ${p}: ${why} (${JSON.stringify(d)})`,
      );
    };
    if (!Number.isSafeInteger(d.runNs) || d.runNs <= 0) bad('runNs is not a positive integer');
    if (d.vcpu !== IDLE) {
      if (vcpus[d.vcpu] === undefined) bad('no such vCPU');
      if (vcpus[d.vcpu].spec.pcpu !== p) bad('vCPU is pinned elsewhere');
      if (vs[d.vcpu].blocked) bad('vCPU is blocked');
      for (let q = 0; q < pcpus; q++) if (q !== p && ps[q].running === d.vcpu) bad(`vCPU runs on pCPU ${q}`);
    }
    pc.running = d.vcpu;
    pc.sinceNs = now;
    pc.untilNs = now + d.runNs;
    pc.resched = false;
  };

  let now = 0;
  for (;;) {
    let t = Number.POSITIVE_INFINITY;
    for (const v of vs) if (v.blocked && v.wakeAtNs < t) t = v.wakeAtNs;
    for (const pc of ps) {
      if (pc.resched) t = Math.min(t, now);
      t = Math.min(t, pc.untilNs);
      if (pc.running !== IDLE) t = Math.min(t, pc.sinceNs + vs[pc.running].workLeftNs);
    }
    if (t > untilNs) break;
    now = t;
    vs.forEach((v, i) => {
      if (!v.blocked || v.wakeAtNs !== now) return;
      v.blocked = false;
      v.workLeftNs = workOf(vcpus[i].behaviour);
      const preempt = ops.wake(state, i, now);
      note({ op: 'wake', atNs: now, vcpu: i, preempt }, state);
      if (preempt) ps[vcpus[i].spec.pcpu].resched = true;
    });
    ps.forEach((pc, p) => {
      const used = pc.running !== IDLE && pc.sinceNs + vs[pc.running].workLeftNs === now;
      if (pc.resched || pc.untilNs === now || used) reschedule(p, now);
    });
  }
  for (let p = 0; p < pcpus; p++) close(p, untilNs);
  return { state, elapsedNs: untilNs, runs, runsByVcpu, cpuNs, busyNs, idleNs, calls };
}

/**
 * CPU time of `runs` in each whole window `[origin + k w, origin + (k + 1) w)` that
 * ends by `endNs` (a trailing partial window is left out).
 */
export function cpuPerWindow(
  runs: readonly RunInterval[],
  originNs: number,
  windowNs: number,
  endNs: number,
): number[] {
  const n = Math.max(0, Math.floor((endNs - originNs) / windowNs));
  const out = new Array<number>(n).fill(0);
  for (const r of runs) {
    let s = Math.max(r.startNs, originNs);
    while (s < r.endNs) {
      const k = Math.floor((s - originNs) / windowNs);
      if (k >= n) break;
      const e = Math.min(r.endNs, originNs + (k + 1) * windowNs);
      out[k] += e - s;
      s = e;
    }
  }
  return out;
}

/**
 * The harness's own invariants, as a list of violations (empty when all hold): per
 * pCPU busy + idle = elapsed; runs on one pCPU never overlap; a vCPU never runs on two
 * pCPUs at once; busy time is the sum of the runs.
 */
export function harnessViolations<S>(r: HarnessResult<S>): string[] {
  const out: string[] = [];
  r.busyNs.forEach((busy, p) => {
    if (busy + r.idleNs[p] !== r.elapsedNs)
      out.push(`pCPU ${p}: busy ${busy} + idle ${r.idleNs[p]} != ${r.elapsedNs}`);
    const mine = r.runs.filter((x) => x.pcpu === p).sort((a, b) => a.startNs - b.startNs);
    let sum = 0;
    mine.forEach((x, i) => {
      sum += x.endNs - x.startNs;
      if (i > 0 && x.startNs < mine[i - 1].endNs) out.push(`pCPU ${p}: runs overlap at ${x.startNs}`);
    });
    if (sum !== busy) out.push(`pCPU ${p}: runs sum to ${sum}, busy is ${busy}`);
  });
  r.runsByVcpu.forEach((list, v) => {
    const sorted = [...list].sort((a, b) => a.startNs - b.startNs);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].startNs < sorted[i - 1].endNs) out.push(`vCPU ${v} runs twice at ${sorted[i].startNs}`);
    }
  });
  return out;
}
