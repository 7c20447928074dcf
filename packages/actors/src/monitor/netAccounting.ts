/**
 * The paper's network I/O accounting (section 3): the IDD's CPU time in an interval is
 * split among guests in proportion to their weighted packet counts,
 *   wCount(i) = weight × Send(i) + Recv(i),
 * where Send(i) are the packets guest i sent through the IDD and Recv(i) those the
 * IDD delivered to it. Integer nanoseconds: the parts are floors, and the remainder
 * goes to the largest fractional parts (ties to the lower id), so they sum exactly to
 * the IDD's time. `weightMilli` is the weight × 1000 (1100 for 1.1), to stay in integers.
 */
export function splitByWeightedPackets(
  iddNs: number,
  sends: readonly number[],
  recvs: readonly number[],
  weightMilli: number,
): number[] {
  const n = Math.max(sends.length, recvs.length);
  const w = Array.from({ length: n }, (_, i) => weightMilli * (sends[i] ?? 0) + 1000 * (recvs[i] ?? 0));
  return splitByUnits(iddNs, w);
}

/**
 * Splits `iddNs` in proportion to integer weights `w` (weighted counts, by domain id),
 * in whole ns: floors, the remainder to the largest fractional parts (ties to the
 * lower id). All zero: nothing is given out.
 */
export function splitByUnits(iddNs: number, w: readonly number[]): number[] {
  const n = w.length;
  const total = w.reduce((a, b) => a + (b ?? 0), 0);
  const out = new Array(n).fill(0);
  if (total === 0 || iddNs <= 0) return out;
  let given = 0;
  const rema: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const wi = w[i] ?? 0;
    // iddNs × w / total without losing precision: split iddNs to keep products < 2^53.
    const q = Math.floor((iddNs * wi) / total);
    out[i] = q;
    given += q;
    rema.push([(iddNs * wi) % total, i]);
  }
  rema.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; k < iddNs - given; k++) out[rema[k % rema.length][1]]++;
  return out;
}

export interface EstimateError {
  /** Estimated minus true, ns, per guest. */
  readonly absNs: number[];
  /** |estimated − true| / true per guest (0 when both are 0). */
  readonly relative: number[];
  /** Σ|estimated − true| / Σ true. */
  readonly overall: number;
}

export function estimateError(estimated: readonly number[], truth: readonly number[]): EstimateError {
  const n = Math.max(estimated.length, truth.length);
  const absNs: number[] = [];
  const relative: number[] = [];
  let err = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = estimated[i] ?? 0;
    const t = truth[i] ?? 0;
    absNs.push(e - t);
    relative.push(t === 0 ? (e === 0 ? 0 : 1) : Math.abs(e - t) / t);
    err += Math.abs(e - t);
    sum += t;
  }
  return { absNs, relative, overall: sum === 0 ? 0 : err / sum };
}
