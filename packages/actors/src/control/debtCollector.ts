/**
 * SEDF-DC's feedback (paper section 4.1; spec "SEDF (allocate) and SEDF-DC"): every
 * feedback interval `t` it reads the IDD CPU spent on behalf of each guest over the
 * last `t` and adds it to the guest's debt in the scheduler. The reading comes from a
 * `DebtSource`: XenMon's weighted-packet estimate, as in the paper, or the
 * simulator's ground truth, so the cost of the estimator's error can be measured.
 *
 * A guest with several vCPUs has its debt split evenly among them (the remainder to
 * the first), so each vCPU pays for a share of the I/O its domain caused.
 */
import type { Domain } from '../hypervisor/hypervisor.ts';
import type { DebtOptions } from '../scheduler/types.ts';

/** Cumulative IDD CPU spent for each domain since the start, ns, by domain id. */
export type DebtSource = () => readonly number[];

export interface DebtPort {
  configureDebt(options: DebtOptions): void;
  addDebt(vcpu: number, debtNs: number): void;
}

export class DebtCollector {
  private readonly last: number[] = [];
  /** Debt handed to the scheduler per domain id, ns. */
  readonly chargedNs: number[] = [];

  constructor(
    private readonly port: DebtPort,
    private readonly guests: readonly Domain[],
    private readonly source: DebtSource,
  ) {}

  /** One feedback interval has passed: charge what the IDD spent since the last one. */
  collect(): void {
    const now = this.source();
    for (const g of this.guests) {
      const total = now[g.id] ?? 0;
      const delta = total - (this.last[g.id] ?? 0);
      this.last[g.id] = total;
      if (delta <= 0) continue;
      this.chargedNs[g.id] = (this.chargedNs[g.id] ?? 0) + delta;
      const n = g.vcpus.length;
      const share = Math.floor(delta / n);
      g.vcpus.forEach((v, i) => {
        const part = share + (i === 0 ? delta - share * n : 0);
        if (part > 0) this.port.addDebt(v.index, part);
      });
    }
  }
}
