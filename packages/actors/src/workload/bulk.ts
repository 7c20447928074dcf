/**
 * A bulk file transfer between a guest and a client machine, as TCP would run it with
 * a fixed window: up to `windowSegments` full segments in flight, the receiver
 * acknowledging every second one, each acknowledgement letting the sender send two
 * more. A lost segment is sent again after `RTO_NS`; one the guest's full qdisc refuses
 * waits in the socket instead (netfront holds it). The transfer runs as fast as the
 * host lets it, between its start and stop times. `send`: the guest sends (Table 2's
 * Domain-3); `receive`: the client sends to the guest.
 */
import { ACK_BYTES, Direction, type Flow, MSS_BYTES, type Packet } from '../net/packet.ts';
import type { Endpoints } from './endpoints.ts';
import type { WorkloadEngine } from './lifecycle.ts';
import { RTO_NS } from './web.ts';

const DATA = 0;
const ACK = 1;

export interface BulkOptions {
  readonly direction: 'send' | 'receive';
  /** Segments in flight at most (64 KiB / MSS = 45 by default). */
  readonly windowSegments?: number;
}

export interface BulkStats {
  segmentsSent: number;
  segmentsDelivered: number;
  retransmits: number;
  bytesDelivered: number;
}

export class BulkTransfer implements WorkloadEngine, Flow {
  readonly stats: BulkStats = { segmentsSent: 0, segmentsDelivered: 0, retransmits: 0, bytesDelivered: 0 };
  private active = false;
  private inFlight = 0;
  private unacked = 0;
  private readonly window: number;
  private readonly senderIsGuest: boolean;

  constructor(
    readonly ends: Endpoints,
    options: BulkOptions,
  ) {
    this.window = options.windowSegments ?? Math.floor(65_536 / MSS_BYTES);
    this.senderIsGuest = options.direction === 'send';
  }

  start(): void {
    this.active = true;
    this.fill();
  }

  stop(): void {
    this.active = false;
  }

  arrived(p: Packet): void {
    const atReceiver = (p.direction === Direction.OUTBOUND) === this.senderIsGuest;
    if (p.tag === DATA && atReceiver) {
      this.stats.segmentsDelivered++;
      this.stats.bytesDelivered += MSS_BYTES;
      if (++this.unacked >= 2) {
        this.unacked = 0;
        this.ack();
      }
    } else if (p.tag === ACK) {
      this.inFlight = Math.max(0, this.inFlight - 2);
      this.fill();
    }
  }

  /**
   * The guest's qdisc was full: the segment waits in the socket and goes out when room
   * frees (netfront holds it); the window here is fixed, so nothing else changes.
   */
  localCongestion(_p: Packet): void {}

  dropped(p: Packet): void {
    if (p.tag === DATA) {
      this.ends.after(RTO_NS, 3, () => {
        if (!this.active) {
          this.inFlight--;
          return;
        }
        this.stats.retransmits++;
        this.ends.resend(p);
      });
    } else {
      // A lost ACK: the sender's window reopens on its next one; model it as delivered late.
      this.ends.after(RTO_NS, 4, () => {
        this.inFlight = Math.max(0, this.inFlight - 2);
        this.fill();
      });
    }
  }

  private fill(): void {
    while (this.active && this.inFlight < this.window) {
      this.inFlight++;
      this.stats.segmentsSent++;
      const bytes = MSS_BYTES + ACK_BYTES;
      if (this.senderIsGuest) this.ends.fromGuest(bytes, this, DATA);
      else this.ends.fromClient(bytes, this, DATA);
    }
  }

  private ack(): void {
    if (this.senderIsGuest) this.ends.fromClient(ACK_BYTES, this, ACK);
    else this.ends.fromGuest(ACK_BYTES, this, ACK);
  }
}
