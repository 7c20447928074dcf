/**
 * The hypervisor's view of a scheduler actor: Xen's operations as synchronous calls.
 * Each call is delivered to the XState scheduler actor (and so logged), and the
 * answer is read from the actor's context right after: a decision per pCPU, and
 * whether the last wake asked for preemption.
 */
import type { AnyStateMachine } from 'xstate';
import type { ActorHost, HostEvent, HostedActor } from '../host/actorHost.ts';
import type { Decision, PrevRun, VcpuSpec } from '../scheduler/types.ts';
import type { SchedulerPort } from './hypervisor.ts';

interface SchedulerSnapshotContext {
  readonly decisions: readonly Decision[];
  readonly preempt: boolean;
}

export class ActorSchedulerPort implements SchedulerPort {
  private vcpus = 0;
  private readonly source: number;

  constructor(
    private readonly host: ActorHost,
    readonly actor: HostedActor<AnyStateMachine>,
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
      this.send({ type: 'sched.credit', vcpu, weight: spec.credit.weight, capPct: spec.credit.capPct });
    }
    return vcpu;
  }

  wake(vcpu: number): boolean {
    this.send({ type: 'sched.wake', vcpu });
    return this.context().preempt;
  }

  sleep(vcpu: number): void {
    this.send({ type: 'sched.sleep', vcpu });
  }

  doSchedule(pcpu: number, prev: PrevRun): Decision {
    this.send({
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

  private context(): SchedulerSnapshotContext {
    return (this.actor.snapshot() as { context: SchedulerSnapshotContext }).context;
  }
}
