/**
 * Connects an event-channel set to a hosted actor: every upcall on the set's RxJS
 * stream becomes one XState event `{ type: 'evtchn.pending', portsLo, portsHi }` (the pending ports as
 * a 64-bit set in two words), delivered at once and logged. The actor then clears the
 * ports it handles; until it does, notifications on them coalesce. Ports 64 and up (a
 * driver domain with more than 63 guests) are not in the two words: the event still
 * arrives, and its handler reads the channel's pending bits itself (as netback does).
 */
import type { EventChannelSet } from '@isosim/core';
import type { Subscription } from 'rxjs';
import type { ActorHost, HostedActor } from './actorHost.ts';

export type PendingEvent = {
  readonly type: 'evtchn.pending';
  readonly portsLo: number;
  readonly portsHi: number;
};

export function portsOf(event: PendingEvent): number[] {
  const out: number[] = [];
  for (let p = 0; p < 32; p++) if ((event.portsLo >>> p) & 1) out.push(p);
  for (let p = 0; p < 32; p++) if ((event.portsHi >>> p) & 1) out.push(p + 32);
  return out;
}

export function hasPort(event: PendingEvent, port: number): boolean {
  return port < 32 ? ((event.portsLo >>> port) & 1) === 1 : ((event.portsHi >>> (port - 32)) & 1) === 1;
}

/** The event for a set of ports. */
export function pendingEvent(ports: readonly number[]): PendingEvent {
  let lo = 0;
  let hi = 0;
  for (const p of ports) {
    if (p < 32) lo |= 1 << p;
    else if (p < 64) hi |= 1 << (p - 32);
  }
  return { type: 'evtchn.pending', portsLo: lo >>> 0, portsHi: hi >>> 0 };
}

export function connectChannel(host: ActorHost, channels: EventChannelSet, actor: HostedActor): Subscription {
  return channels.onUpcall((upcall) => {
    host.deliver(actor, pendingEvent(upcall.ports), channels.endpoint);
  });
}
