/**
 * A test double for the scheduler port: a FIFO of runnable vCPUs per pCPU with a fixed
 * quantum. Tests of the hypervisor and the I/O path use it to stay independent of
 * SEDF's and Credit's policies.
 */
import { type Decision, IDLE, type PrevRun, type VcpuSpec } from '../scheduler/types.ts';
import type { SchedulerPort } from './hypervisor.ts';

export class FifoScheduler implements SchedulerPort {
  private readonly queues: number[][] = [];
  private readonly pcpuOf: number[] = [];
  constructor(
    pcpus: number,
    private readonly quantumNs: number,
  ) {
    for (let p = 0; p < pcpus; p++) this.queues.push([]);
  }
  add(spec: VcpuSpec): number {
    this.pcpuOf.push(spec.pcpu);
    return this.pcpuOf.length - 1;
  }
  wake(v: number): boolean {
    this.queues[this.pcpuOf[v]].push(v);
    return false;
  }
  sleep(v: number): void {
    const q = this.queues[this.pcpuOf[v]];
    q.splice(q.indexOf(v), 1);
  }
  doSchedule(p: number, prev: PrevRun): Decision {
    const q = this.queues[p];
    if (prev.vcpu !== IDLE) {
      q.splice(q.indexOf(prev.vcpu), 1);
      if (prev.runnable) q.push(prev.vcpu);
    }
    return q.length > 0 ? { vcpu: q[0], runNs: this.quantumNs } : { vcpu: IDLE, runNs: 1_000_000_000 };
  }
}
