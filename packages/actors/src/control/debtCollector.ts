/**
 * SEDF-DC's feedback (paper section 4.1; spec "SEDF (allocate) and SEDF-DC"): every
 * feedback interval `t` it reads the IDD CPU spent on behalf of each guest over the
 * last `t` and adds it to the guest's debt in the scheduler. The reading comes from a
 * `DebtSource`: XenMon's weighted-packet estimate, as in the paper, or the
 * simulator's ground truth, so the cost of the estimator's error can be measured.
 *
 * Several vCPUs: where debt lands (docs/host-model.md, "Several vCPUs").
 * A guest's debt for one interval, `D`, is split over its vCPUs in proportion to
 * their guaranteed shares `u_i` (SEDF slice/period, Credit cap): vCPU i gets
 * `d_i = D · u_i / U` with `U = Σ u_i`, in whole nanoseconds by largest remainder
 * (the leftover nanoseconds go to the largest fractional parts, ties to the lower
 * index), so `Σ d_i = D` exactly. Each vCPU pays its part from its own reservation.
 * Why this keeps the guest's combined CPU within its share: over a window of length
 * W, vCPU i's own CPU plus the debt it pays is at most `u_i·W + s_i` (its slices in
 * the window, one slice of edge). A vCPU that runs pays from its slices; one that
 * stays blocked runs nothing, and its part `d_i = D·u_i/U` is at most `u_i·W`
 * whenever the guest's IDD work D is within its share U·W, so leaving its
 * reservation unused covers it. Summing, own + D ≤ U·W + Σ s_i + (debt still
 * outstanding from the last two intervals), which is the bound `isosim check` states
 * (ε = 2 Σ s_i + 2 D_max). An even split (the old rule) gives an idle vCPU with a
 * small reservation a part it can never pay, and the busy vCPU escapes it: the guest
 * then exceeds its share by the unpaid part (test/multiVcpu.test.ts).
 */
import type { Domain } from '../hypervisor/hypervisor.ts';
import type { DebtOptions } from '../scheduler/types.ts';

/** Cumulative IDD CPU spent for each domain since the start, ns, by domain id. */
export type DebtSource = () => readonly number[];

export interface DebtPort {
  configureDebt(options: DebtOptions): void;
  addDebt(vcpu: number, debtNs: number): void;
}

/** A guest whose debt is collected, with each vCPU's guaranteed share (same order). */
export interface DebtGuest {
  readonly domain: Domain;
  readonly shares: readonly number[];
}

/**
 * Splits `total` ns over parts in proportion to `weights`, in whole ns, by largest
 * remainder (ties to the lower index); equal parts if no weight is positive.
 */
export function splitByShares(total: number, weights: readonly number[]): number[] {
  const n = weights.length;
  const positive = weights.map((w) => (Number.isFinite(w) && w > 0 ? w : 0));
  let sum = positive.reduce((a, b) => a + b, 0);
  const w = sum > 0 ? positive : positive.map(() => 1);
  if (sum <= 0) sum = n;
  const parts = w.map((x) => Math.floor((total * x) / sum));
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = w
    .map((x, i) => ({ i, frac: (total * x) / sum - parts[i] }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % n, left--) parts[order[k].i]++;
  return parts;
}

export class DebtCollector {
  private readonly last: number[] = [];
  /** Debt handed to the scheduler per domain id, ns. */
  readonly chargedNs: number[] = [];

  constructor(
    private readonly port: DebtPort,
    private readonly guests: readonly DebtGuest[],
    private readonly source: DebtSource,
  ) {}

  /** One feedback interval has passed: charge what the IDD spent since the last one. */
  collect(): void {
    const now = this.source();
    for (const { domain: g, shares } of this.guests) {
      const total = now[g.id] ?? 0;
      const delta = total - (this.last[g.id] ?? 0);
      this.last[g.id] = total;
      if (delta <= 0) continue;
      this.chargedNs[g.id] = (this.chargedNs[g.id] ?? 0) + delta;
      const parts = g.vcpus.length === 1 ? [delta] : splitByShares(delta, shares);
      g.vcpus.forEach((v, i) => {
        if (parts[i] > 0) this.port.addDebt(v.index, parts[i]);
      });
    }
  }
}
