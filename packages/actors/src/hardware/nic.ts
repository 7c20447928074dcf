/**
 * A network interface card: bounded receive and transmit descriptor queues, a line
 * rate on the transmit side, interrupt throttling (nicMachine.ts), and drops counted
 * by reason.
 *
 * Receive: a packet from the wire goes into the receive queue or, if it is full, is
 * dropped (`nic-rx-full`); the interrupt machine hears of it only while armed.
 * Transmit: packets queue (or drop, `nic-tx-full`) and leave one at a time, each
 * taking its serialisation time at the line rate (`nic.tx_done`).
 */
import { type Kernel, NS_PER_MS, Priority } from '@isosim/core';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import type { Network } from '../net/network.ts';
import type { NetStats, Packet } from '../net/packet.ts';
import { nicClock, nicMachine } from './nicMachine.ts';

export interface NicOptions {
  readonly name: string;
  readonly rxSlots: number;
  readonly txSlots: number;
  readonly itrNs: number;
}

export class Nic {
  readonly actor: HostedActor<typeof nicMachine>;
  readonly rxQueue: Packet[] = [];
  private rxHead = 0;
  private readonly txQueue: Packet[] = [];
  private transmitting = false;
  private readonly endpoint: number;
  private readonly txDoneType: number;
  interrupts = 0;
  /** Called when the NIC raises its physical interrupt (the hypervisor traps it). */
  onInterrupt: () => void = () => {};

  constructor(
    private readonly kernel: Kernel,
    private readonly host: ActorHost,
    private readonly network: Network,
    private readonly statsOf: (guest: number) => NetStats,
    private readonly options: NicOptions,
  ) {
    this.txDoneType = kernel.type('nic.tx_done', ['guest', 'bytes']);
    this.endpoint = kernel.endpoint(`${options.name}.tx`, () => this.txDone());
    const machine = nicMachine.provide(nicClock(() => kernel.nowNs / NS_PER_MS)).provide({
      actions: {
        raise: () => {
          this.interrupts++;
          this.onInterrupt();
        },
      },
      guards: { waiting: () => this.rxWaiting > 0 },
    });
    this.actor = host.spawn(options.name, machine, { input: { itrMs: options.itrNs / NS_PER_MS } });
    network.deliverToHost = (p) => this.receive(p);
  }

  get rxWaiting(): number {
    return this.rxQueue.length - this.rxHead;
  }

  /** A packet arrives from the wire. */
  receive(p: Packet): void {
    if (this.rxWaiting >= this.options.rxSlots) {
      this.drop(p, 'nic-rx-full');
      return;
    }
    this.rxQueue.push(p);
    if (this.actor.snapshot().value === 'armed') this.host.deliver(this.actor, { type: 'nic.rx' });
  }

  /** The driver takes the next received packet (undefined when none). */
  takeRx(): Packet | undefined {
    if (this.rxHead >= this.rxQueue.length) return undefined;
    const p = this.rxQueue[this.rxHead];
    this.rxQueue[this.rxHead++] = undefined as unknown as Packet;
    if (this.rxHead > 1024 && this.rxHead * 2 > this.rxQueue.length) {
      this.rxQueue.splice(0, this.rxHead);
      this.rxHead = 0;
    }
    return p;
  }

  /** The driver, done polling, re-enables the NIC's interrupts. */
  enableInterrupts(): void {
    if (this.actor.snapshot().value === 'masked') this.host.deliver(this.actor, { type: 'nic.enable' });
  }

  /** The driver queues a packet for transmission. */
  transmit(p: Packet): void {
    if (this.txQueue.length >= this.options.txSlots) {
      this.drop(p, 'nic-tx-full');
      return;
    }
    this.txQueue.push(p);
    if (!this.transmitting) this.startTx();
  }

  private startTx(): void {
    const p = this.txQueue[0];
    this.transmitting = true;
    const at = this.kernel.nowNs + this.network.wireNs(p.bytes);
    this.kernel.post(at, Priority.HARDWARE, this.endpoint, this.txDoneType, this.endpoint, p.guest, p.bytes);
  }

  private txDone(): void {
    const p = this.txQueue.shift() as Packet;
    this.transmitting = false;
    this.network.sendToClient(p);
    if (this.txQueue.length > 0) this.startTx();
  }

  private drop(p: Packet, reason: 'nic-rx-full' | 'nic-tx-full'): void {
    this.statsOf(p.guest).drop(reason);
    p.flow.dropped?.(p, reason);
  }
}
