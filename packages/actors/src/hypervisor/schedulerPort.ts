/**
 * The hypervisor's view of a scheduler actor: Xen's operations as synchronous calls,
 * answered from the actor's context (a decision per pCPU; whether the last wake asked
 * for preemption).
 *
 * Configuration (`add`, parameters) is delivered to the XState actor. The operations
 * on the context-switch path (wake, sleep, do_schedule) take a fast path: the port logs
 * the event exactly as a delivery would and applies the machine's own transition
 * function (`applySchedulerEvent`) to the actor's context. XState's interpreter costs
 * a few microseconds an event and these run tens of thousands of times per simulated
 * second; the state, the log and a replay are the same either way (tested in
 * schedulerPort.test.ts). The fast path updates the context in place (the machine's
 * own `apply` assigns a copy): read the actor's context afresh after each call, and
 * take `getPersistedSnapshot()` (a deep copy) to keep one. An inspector still sees
 * each fast-path event and the snapshot after it (`ActorHost.reportStep`).
 * `fastPath: false` sends everything through XState.
 */
import type { AnyStateMachine } from 'xstate';
import type { ActorHost, HostEvent, HostedActor } from '../host/actorHost.ts';
import {
  applySchedulerEvent,
  type MutableSchedulerContext,
  type SchedulerEvent,
} from '../scheduler/schedulerMachine.ts';
import {
  DEBT_MODES,
  type DebtLedger,
  type DebtOptions,
  type Decision,
  type PrevRun,
  type SchedulerOps,
  type VcpuSpec,
} from '../scheduler/types.ts';
import type { SchedulerPort } from './hypervisor.ts';

export class ActorSchedulerPort implements SchedulerPort {
  private vcpus = 0;
  private readonly source: number;

  constructor(
    private readonly host: ActorHost,
    readonly actor: HostedActor<AnyStateMachine>,
    private readonly ops: SchedulerOps<unknown>,
    private readonly fastPath = true,
  ) {
    this.source = host.kernel.registry.name('xen');
  }

  add(spec: VcpuSpec): number {
    const vcpu = this.vcpus++;
    this.send({ type: 'sched.add', domain: spec.domain, pcpu: spec.pcpu });
    if (spec.sedf) {
      const { sliceNs, periodNs, extratime } = spec.sedf;
      this.send({ type: 'sched.sedf', vcpu, sliceNs, periodNs, extratime: extratime ? 1 : 0 });
    }
    if (spec.credit) {
      // Log fields are integers: the cap goes in hundredths of a percent (basis points).
      const capBp = Math.round(spec.credit.capPct * 100);
      this.send({ type: 'sched.credit', vcpu, weight: spec.credit.weight, capBp });
    }
    return vcpu;
  }

  /** Turns debt collection on (SEDF-DC, Credit-DC) or off. */
  configureDebt(options: DebtOptions): void {
    const mode = DEBT_MODES.indexOf(options.mode);
    this.send({ type: 'sched.dc', mode, spread: options.spread ? 1 : 0, feedbackNs: options.feedbackNs });
  }

  /** Adds IDD CPU spent for `vcpu` to its debt. */
  addDebt(vcpu: number, debtNs: number): void {
    this.send({ type: 'sched.debt', vcpu, debtNs });
  }

  /** Debt added, paid and outstanding, from the scheduler's state. */
  debtLedger(): (DebtLedger & { outstandingNs: number }) | undefined {
    return this.ops.debtLedger?.(this.context().state);
  }

  /**
   * Log type ids of `sched.wake` and `sched.do_schedule`, interned on first use. With
   * nothing inspecting, `wake` and `doSchedule` (one per context switch) write the very
   * record `hot` would, from plain numbers, and apply the operation, with no event
   * object per call: the log is the same byte for byte.
   */
  private wakeId = -1;
  private doId = -1;

  wake(vcpu: number): boolean {
    if (this.fastPath && !this.host.inspecting) {
      if (this.wakeId < 0) this.wakeId = this.host.eventTypeId({ type: 'sched.wake', vcpu: 0 });
      const k = this.host.kernel;
      k.record(this.wakeId, this.source, this.actor.endpoint, vcpu);
      const ctx = this.context();
      ctx.preempt = this.ops.wake(ctx.state, vcpu, k.nowNs);
      return ctx.preempt;
    }
    this.hot({ type: 'sched.wake', vcpu });
    return this.context().preempt;
  }

  sleep(vcpu: number): void {
    this.hot({ type: 'sched.sleep', vcpu });
  }

  doSchedule(pcpu: number, prev: PrevRun): Decision {
    if (this.fastPath && !this.host.inspecting) {
      if (this.doId < 0) {
        const shape = { type: 'sched.do_schedule', pcpu: 0, prevVcpu: 0, ranNs: 0, prevRunnable: 0 };
        this.doId = this.host.eventTypeId(shape);
      }
      const k = this.host.kernel;
      k.record(
        this.doId,
        this.source,
        this.actor.endpoint,
        pcpu,
        prev.vcpu,
        prev.ranNs,
        prev.runnable ? 1 : 0,
      );
      const ctx = this.context();
      if (ctx.decisions[pcpu] === undefined) throw new Error(`scheduler has no pCPU ${pcpu}`);
      const d = this.ops.doSchedule(ctx.state, pcpu, k.nowNs, prev);
      ctx.decisions[pcpu] = d;
      return d;
    }
    this.hot({
      type: 'sched.do_schedule',
      pcpu,
      prevVcpu: prev.vcpu,
      ranNs: prev.ranNs,
      prevRunnable: prev.runnable ? 1 : 0,
    });
    return this.context().decisions[pcpu];
  }

  private send(event: HostEvent): void {
    this.host.deliver(this.actor, event, this.source);
  }

  private hot(event: SchedulerEvent): void {
    if (!this.fastPath) {
      this.send(event);
      return;
    }
    this.host.recordDelivery(this.actor, event, this.source);
    applySchedulerEvent(this.ops, this.context(), event, this.host.kernel.nowNs);
    this.host.reportStep(this.actor, event);
  }

  private context(): MutableSchedulerContext<unknown> {
    return (this.actor.snapshot() as { context: MutableSchedulerContext<unknown> }).context;
  }
}
