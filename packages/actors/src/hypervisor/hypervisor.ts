/**
 * The hypervisor: domains, their vCPUs, and the dispatch of vCPUs on pCPUs as the
 * scheduler decides. It is Xen's `schedule()` path and little else.
 *
 * Design
 * - Each pCPU runs one vCPU (or idle) at a time. While a vCPU runs, it works through
 *   its work items (`work.ts`); the pCPU's single cancellable timer fires at the
 *   earlier of "the head item is finished" and "the scheduler's decision runs out".
 * - Rescheduling is a softirq, as in Xen (`SCHEDULE_SOFTIRQ`): waking a vCPU that
 *   should preempt, or a vCPU blocking, raises it; the reschedule itself runs as a
 *   kernel event at the same instant, after the handler that raised it. So a handler
 *   never re-enters the scheduler, and the order of everything is the queue's order.
 * - The scheduler is a port (`SchedulerPort`) backed by an XState actor; this file
 *   sees only Xen's operations: add, wake, sleep, doSchedule.
 * - Every nanosecond is charged to a (domain, principal) pair or to idle
 *   (`accounting.ts`); observers (XenMon's trace) see switches, wakes and blocks.
 *
 * Invariants: a vCPU runs on at most one pCPU, only the one it is pinned to; a vCPU
 * runs only while it has work; per pCPU busy + idle = elapsed.
 */
import { InvariantError, type Kernel, Priority } from '@isosim/core';
import { type Decision, IDLE, type PrevRun, type VcpuSpec } from '../scheduler/types.ts';
import { Accounting } from './accounting.ts';
import { type WorkItem, WorkQueue } from './work.ts';

export interface SchedulerPort {
  add(spec: VcpuSpec): number;
  wake(vcpu: number): boolean;
  sleep(vcpu: number): void;
  doSchedule(pcpu: number, prev: PrevRun): Decision;
}

/** What XenMon's tracing sees (Xen's TRC_SCHED_* points). */
export interface HypervisorObserver {
  domainAdded?(domain: Domain, nowNs: number): void;
  /**
   * `prev`/`next` are vCPU indices or IDLE; `ranNs` is how long prev ran since its
   * last decision, `runNs` the time next was given. Called at every decision, also
   * when the same vCPU continues (prev === next).
   */
  switched?(pcpu: number, prev: number, next: number, ranNs: number, nowNs: number, runNs: number): void;
  woke?(vcpu: Vcpu, nowNs: number): void;
  blocked?(vcpu: Vcpu, nowNs: number): void;
}

export type VcpuState = 'blocked' | 'runnable' | 'running';

export class Vcpu {
  readonly queue = new WorkQueue();
  state: VcpuState = 'blocked';
  constructor(
    readonly index: number,
    readonly domain: Domain,
    readonly pcpu: number,
  ) {}
}

export class Domain {
  readonly vcpus: Vcpu[] = [];
  constructor(
    readonly id: number,
    readonly name: string,
    readonly isDriverDomain: boolean,
  ) {}
}

export interface HypervisorOptions {
  readonly pcpus: number;
  readonly scheduler: SchedulerPort;
  /** Domain ids of driver domains, whose time is split by principal. */
  readonly driverDomains?: readonly number[];
  readonly bucketNs?: number;
}

const VCPU_STATE_CODE: Record<VcpuState, number> = { blocked: 0, runnable: 1, running: 2 };

export class Hypervisor {
  /** A charging policy's cost per switch of client in a driver domain, ns (0: none; `chargeSwitch`). */
  proxySwitchNs = 0;
  /** What switches of client have cost, by driver domain id, ns. */
  readonly proxyOverheadNs: number[] = [];
  /** The guest each vCPU's kernel work was last for, by vCPU index (switches of client). */
  private readonly lastClient: number[] = [];
  readonly kernel: Kernel;
  readonly pcpus: number;
  readonly domains: Domain[] = [];
  readonly vcpus: Vcpu[] = [];
  readonly accounting: Accounting;
  readonly observers: HypervisorObserver[] = [];
  /** Context switches per pCPU. */
  readonly switches: number[];

  private readonly sched: SchedulerPort;
  private readonly endpoint: number;
  private readonly timerType: number;
  private readonly softirqType: number;
  private readonly switchType: number;
  private readonly vcpuType: number;
  private readonly current: number[];
  private readonly dispatchedAt: number[];
  private readonly segStart: number[];
  private readonly decisionEnd: number[];
  private readonly timer: number[];
  private readonly softirqPending: boolean[];
  private started = false;

  constructor(kernel: Kernel, options: HypervisorOptions) {
    this.kernel = kernel;
    this.pcpus = options.pcpus;
    this.sched = options.scheduler;
    const n = options.pcpus;
    this.accounting = new Accounting(n, new Set(options.driverDomains ?? [0]), options.bucketNs);
    this.current = new Array(n).fill(IDLE);
    this.dispatchedAt = new Array(n).fill(0);
    this.segStart = new Array(n).fill(0);
    this.decisionEnd = new Array(n).fill(0);
    this.timer = new Array(n).fill(-1);
    this.softirqPending = new Array(n).fill(false);
    this.switches = new Array(n).fill(0);
    this.timerType = kernel.type('cpu.timer', ['pcpu', 'principal']);
    this.softirqType = kernel.type('cpu.softirq', ['pcpu']);
    this.switchType = kernel.type('cpu.switch', ['pcpu', 'prevVcpu', 'nextVcpu', 'runNs']);
    this.vcpuType = kernel.type('vcpu.state', ['vcpu', 'domain', 'state']);
    this.endpoint = kernel.endpoint('xen', (ev) => {
      if (ev.type === this.timerType) this.onTimer(ev.a0);
      else this.onSoftirq(ev.a0);
    });
  }

  /** Creates a domain with one vCPU per spec (pinned to `spec.pcpu`). */
  addDomain(name: string, specs: readonly Omit<VcpuSpec, 'domain'>[], driverDomain = false): Domain {
    const d = new Domain(this.domains.length, name, driverDomain);
    this.domains.push(d);
    for (const s of specs) {
      if (!(s.pcpu >= 0 && s.pcpu < this.pcpus)) {
        throw new InvariantError(`${name}: vCPU pinned to pCPU ${s.pcpu}, host has ${this.pcpus}`);
      }
      const index = this.sched.add({ ...s, domain: d.id });
      if (index !== this.vcpus.length) throw new InvariantError('scheduler numbered vCPUs out of order');
      const v = new Vcpu(index, d, s.pcpu);
      d.vcpus.push(v);
      this.vcpus.push(v);
    }
    for (const o of this.observers) o.domainAdded?.(d, this.kernel.nowNs);
    return d;
  }

  /** Starts scheduling: every pCPU asks the scheduler what to run. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (let p = 0; p < this.pcpus; p++) this.raiseSoftirq(p);
  }

  /** Queues work on a vCPU; a blocked vCPU wakes (and may preempt). */
  submit(vcpu: Vcpu, item: WorkItem): void {
    if (this.proxySwitchNs > 0) this.chargeSwitch(vcpu, item);
    const before = vcpu.queue.peek();
    vcpu.queue.push(item);
    if (vcpu.state === 'blocked') {
      this.wake(vcpu);
    } else if (vcpu.state === 'running' && before !== undefined && vcpu.queue.peek() !== before) {
      // Kernel work preempts the user item running now: charge it so far, re-aim the timer.
      const p = vcpu.pcpu;
      const now = this.kernel.nowNs;
      this.chargeSegment(p, now, before);
      this.segStart[p] = now;
      this.armTimer(p);
    }
  }

  /**
   * A charging policy's cost per switch of client (charging/policies.ts, 1C and 1D):
   * a driver domain's kernel work for a guest other than the one its vCPU last worked
   * for costs `proxySwitchNs` more, on behalf of the guest it switches to. A vCPU's
   * kernel items run in the order they are submitted, so the switch is known here.
   */
  private chargeSwitch(vcpu: Vcpu, item: WorkItem): void {
    const d = vcpu.domain;
    // Work of no cost (a packet ShareGuard drops at the ring) does nothing on anyone's behalf.
    if (!d.isDriverDomain || item.user === true || item.principal === d.id || item.remainingNs === 0) return;
    if (this.lastClient[vcpu.index] === item.principal) return;
    this.lastClient[vcpu.index] = item.principal;
    item.remainingNs += this.proxySwitchNs;
    this.proxyOverheadNs[d.id] = (this.proxyOverheadNs[d.id] ?? 0) + this.proxySwitchNs;
  }

  /** The vCPU currently on `pcpu`, or undefined when idle. */
  running(pcpu: number): Vcpu | undefined {
    const c = this.current[pcpu];
    return c === IDLE ? undefined : this.vcpus[c];
  }

  /** Charges every pCPU up to now, so accounting totals are exact at this instant. */
  settle(): void {
    const now = this.kernel.nowNs;
    for (let p = 0; p < this.pcpus; p++) {
      this.chargeSegment(p, now);
      this.segStart[p] = now;
    }
  }

  private wake(v: Vcpu): void {
    this.setState(v, 'runnable');
    for (const o of this.observers) o.woke?.(v, this.kernel.nowNs);
    const preempt = this.sched.wake(v.index);
    if (preempt || this.current[v.pcpu] === IDLE) this.raiseSoftirq(v.pcpu);
  }

  private raiseSoftirq(p: number): void {
    if (this.softirqPending[p]) return;
    this.softirqPending[p] = true;
    this.kernel.postIn(0, Priority.SCHEDULER, this.endpoint, this.softirqType, this.endpoint, p);
  }

  private onSoftirq(p: number): void {
    this.softirqPending[p] = false;
    this.reschedule(p);
  }

  private onTimer(p: number): void {
    this.timer[p] = -1;
    for (;;) {
      const now = this.kernel.nowNs;
      const c = this.current[p];
      if (c === IDLE) {
        this.reschedule(p);
        return;
      }
      const v = this.vcpus[c];
      this.chargeSegment(p, now);
      this.segStart[p] = now;
      // Finish every item whose time is spent; their completions may queue more work.
      for (let head = v.queue.peek(); head !== undefined && head.remainingNs === 0; head = v.queue.peek()) {
        v.queue.pop();
        head.onDone?.(head.arg as never);
      }
      if (now >= this.decisionEnd[p] || v.queue.length === 0) {
        this.reschedule(p);
        return;
      }
      // A completion that queued kernel work has armed the timer: re-arm it as before.
      if (this.timer[p] >= 0) {
        this.armTimer(p);
        return;
      }
      // The next item's end, handled here at once if nothing else comes first.
      const at = this.timerAt(p);
      const principal = this.headPrincipal(p);
      const k = this.kernel;
      if (
        !k.dispatchInPlace(at, Priority.SCHEDULER, this.endpoint, this.timerType, this.endpoint, p, principal)
      ) {
        this.postTimer(p, at);
        return;
      }
    }
  }

  private reschedule(p: number): void {
    const now = this.kernel.nowNs;
    if (this.timer[p] >= 0) {
      this.kernel.cancel(this.timer[p]);
      this.timer[p] = -1;
    }
    this.chargeSegment(p, now);
    this.segStart[p] = now;
    const c = this.current[p];
    let prev: PrevRun = { vcpu: IDLE, ranNs: 0, runnable: false };
    if (c !== IDLE) {
      const v = this.vcpus[c];
      const runnable = v.queue.length > 0;
      prev = { vcpu: c, ranNs: now - this.dispatchedAt[p], runnable };
      this.setState(v, runnable ? 'runnable' : 'blocked');
      if (!runnable) for (const o of this.observers) o.blocked?.(v, now);
    }
    const d = this.sched.doSchedule(p, prev);
    if (!(d.runNs > 0) || !Number.isSafeInteger(d.runNs)) {
      throw new InvariantError(`scheduler gave pCPU ${p} a run time of ${d.runNs} ns`);
    }
    if (d.vcpu !== IDLE) {
      const v = this.vcpus[d.vcpu];
      if (v === undefined || v.pcpu !== p || v.state === 'blocked' || v.queue.length === 0) {
        throw new InvariantError(`scheduler picked vCPU ${d.vcpu} for pCPU ${p}, which cannot run it`);
      }
      if (v.state === 'running' && c !== d.vcpu) throw new InvariantError(`vCPU ${d.vcpu} already running`);
      this.setState(v, 'running');
    }
    if (c !== d.vcpu) this.switches[p]++;
    this.kernel.record(this.switchType, this.endpoint, this.endpoint, p, c, d.vcpu, d.runNs);
    for (const o of this.observers) o.switched?.(p, c, d.vcpu, prev.ranNs, now, d.runNs);
    this.current[p] = d.vcpu;
    this.dispatchedAt[p] = now;
    this.decisionEnd[p] = now + d.runNs;
    this.armTimer(p);
  }

  /** (Re)arms `p`'s one timer: the head item's end or the decision's end, whichever is first. */
  private armTimer(p: number): void {
    if (this.timer[p] >= 0) this.kernel.cancel(this.timer[p]);
    this.postTimer(p, this.timerAt(p));
  }

  private timerAt(p: number): number {
    const c = this.current[p];
    let at = this.decisionEnd[p];
    if (c !== IDLE) {
      const head = this.vcpus[c].queue.peek();
      if (head !== undefined && this.kernel.nowNs + head.remainingNs < at)
        at = this.kernel.nowNs + head.remainingNs;
    }
    return at;
  }

  /**
   * The principal of the item running on `p` (-1 when idle): the timer's record names
   * it, so that a log says whose work each stretch of CPU between timers was (the
   * Perfetto export's `onBehalfOf`). Exact for kernel work, which nothing preempts.
   */
  private headPrincipal(p: number): number {
    const c = this.current[p];
    if (c === IDLE) return -1;
    return this.vcpus[c].queue.peek()?.principal ?? -1;
  }

  private postTimer(p: number, at: number): void {
    this.timer[p] = this.kernel.postCancellable(
      at,
      Priority.SCHEDULER,
      this.endpoint,
      this.timerType,
      this.endpoint,
      p,
      this.headPrincipal(p),
    );
  }

  /** Charges the time since the segment started to what ran on `p`. */
  private chargeSegment(p: number, now: number, running?: WorkItem): void {
    const start = this.segStart[p];
    if (now <= start) return;
    const c = this.current[p];
    if (c === IDLE) {
      this.accounting.charge(p, -1, -1, start, now);
      return;
    }
    const v = this.vcpus[c];
    const head = running ?? v.queue.peek();
    if (head === undefined) throw new InvariantError(`vCPU ${c} ran with no work`);
    const elapsed = now - start;
    if (elapsed > head.remainingNs) throw new InvariantError(`vCPU ${c} overran its work item`);
    head.remainingNs -= elapsed;
    this.accounting.charge(p, v.domain.id, head.principal, start, now);
  }

  private setState(v: Vcpu, state: VcpuState): void {
    if (v.state === state) return;
    v.state = state;
    this.kernel.record(
      this.vcpuType,
      this.endpoint,
      this.endpoint,
      v.index,
      v.domain.id,
      VCPU_STATE_CODE[state],
    );
  }
}
