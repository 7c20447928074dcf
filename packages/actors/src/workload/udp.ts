/**
 * The paper's calibration benchmark (section 3): UDP packets of a fixed size at a fixed
 * rate, either sent by the guest to a client machine (`send`) or by a client machine
 * to the guest (`receive`). No acknowledgements flow back, so one direction of the
 * IDD's path is measured alone. Packets are evenly spaced.
 */
import type { Flow, Packet } from '../net/packet.ts';
import type { Endpoints } from './endpoints.ts';
import type { WorkloadEngine } from './lifecycle.ts';

export interface UdpOptions {
  readonly direction: 'send' | 'receive';
  /** Packets per second. */
  readonly rate: number;
  /** Bytes per packet on the wire. */
  readonly bytes: number;
}

export interface UdpStats {
  sent: number;
  delivered: number;
  dropped: number;
}

export class UdpStream implements WorkloadEngine, Flow {
  readonly stats: UdpStats = { sent: 0, delivered: 0, dropped: 0 };
  private active = false;
  private readonly intervalNs: number;

  constructor(
    readonly ends: Endpoints,
    readonly options: UdpOptions,
  ) {
    this.intervalNs = Math.round(1e9 / options.rate);
  }

  start(): void {
    this.active = true;
    this.tick();
  }

  stop(): void {
    this.active = false;
  }

  arrived(_p: Packet): void {
    this.stats.delivered++;
  }

  dropped(): void {
    this.stats.dropped++;
  }

  private tick(): void {
    if (!this.active) return;
    this.stats.sent++;
    if (this.options.direction === 'send') this.ends.fromGuest(this.options.bytes, this, 0);
    else this.ends.fromClient(this.options.bytes, this, 0);
    this.ends.after(this.intervalNs, 5, () => this.tick());
  }
}
