/**
 * A progress bar on stderr for runs that last more than about a second. It draws only
 * when stderr is a terminal, and it is the one place that reads the wall clock: it
 * measures the user's wait, never the simulation.
 */
export class Progress {
  private readonly started = process.hrtime.bigint();
  private lastDraw = 0;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && process.env.CI === undefined;
    this.stream = stream;
  }

  private readonly stream: NodeJS.WriteStream;

  /** `fraction` in [0, 1]; `detail` is shown after the bar. */
  update(fraction: number, detail = ''): void {
    if (!this.enabled) return;
    const elapsedMs = Number(process.hrtime.bigint() - this.started) / 1e6;
    if (elapsedMs < 1000 || elapsedMs - this.lastDraw < 100) return;
    this.lastDraw = elapsedMs;
    const width = 30;
    const done = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    const eta = fraction > 0 ? (elapsedMs / fraction - elapsedMs) / 1000 : 0;
    const bar = `${'#'.repeat(done)}${'-'.repeat(width - done)}`;
    this.stream.write(
      `\r${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ETA ${eta.toFixed(0)}s ${detail}\x1b[K`,
    );
    this.drawn = true;
  }

  /** Clears the bar (once; later calls do nothing). */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
