/**
 * A deterministic clock for XState's `createActor(logic, { clock })`: timers fire one
 * at a time in (deadline, order set) order, and a timer set inside a callback fires
 * at its own deadline. (XState's `SimulatedClock` jumps to the end of an increment
 * before firing, so chained `after` delays drift: see isosim's library notes.)
 */
export class StepClock {
  nowMs = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout = (fn: (...args: unknown[]) => void, delayMs: number): number => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.nowMs + delayMs, fn });
    return id;
  };

  clearTimeout = (id: unknown): void => {
    this.timers.delete(id as number);
  };

  /** Runs every timer due by `ms`, in order, and leaves the clock at `ms`. */
  advanceTo(ms: number): void {
    for (;;) {
      let next: number | undefined;
      for (const [id, t] of this.timers) {
        const best = next === undefined ? undefined : this.timers.get(next);
        if (t.at <= ms && (best === undefined || t.at < best.at)) next = id;
      }
      if (next === undefined) break;
      const t = this.timers.get(next);
      this.timers.delete(next);
      if (t === undefined) break;
      this.nowMs = t.at;
      t.fn();
    }
    this.nowMs = ms;
  }
}
