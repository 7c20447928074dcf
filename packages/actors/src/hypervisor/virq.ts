/**
 * Virtual interrupts that cost CPU. An upcall on a domain's event channels does not
 * run anything by itself: it queues an interrupt-handler work item on the domain's
 * vCPU (waking it if blocked). Only when the scheduler runs the vCPU and the handler's
 * time is spent does the domain's actor see `evtchn.pending`, with the ports pending
 * at that moment. That is how an interrupt to a domain that is not scheduled waits.
 */
import type { EventChannelSet } from '@isosim/core';
import type { ActorHost, HostedActor } from '../host/actorHost.ts';
import { pendingEvent } from '../host/channelBridge.ts';
import type { Hypervisor, Vcpu } from './hypervisor.ts';
import type { createPollMachine } from './pollMachine.ts';

export function bindVirq(
  host: ActorHost,
  xen: Hypervisor,
  vcpu: Vcpu,
  channels: EventChannelSet,
  actor: HostedActor,
  irqNs: number,
): void {
  const handler = (): void => {
    const ports = channels.pendingPorts();
    if (ports.length > 0) host.deliver(actor, pendingEvent(ports), channels.endpoint);
  };
  channels.onUpcall(() => {
    xen.submit(vcpu, { remainingNs: irqNs, principal: vcpu.domain.id, onDone: handler });
  });
}

/** What a paravirtual driver gives its polling loop (hypervisor/pollMachine.ts). */
export interface PollDriver {
  poll(): void;
  rearm(): void;
  hasWork(): boolean;
}

/**
 * Spawns a driver's polling loop as actor `name` (netback, netfront, blkback, blkfront:
 * `machine` is theirs) with `driver`'s poll, rearm and hasWork, and binds the virtual
 * interrupt of `channels` to it on `vcpu`, each interrupt costing `irqNs`.
 */
export function spawnPollLoop<M extends ReturnType<typeof createPollMachine>>(
  host: ActorHost,
  xen: Hypervisor,
  vcpu: Vcpu,
  channels: EventChannelSet,
  name: string,
  machine: M,
  driver: PollDriver,
  irqNs: number,
): HostedActor<M> {
  const actor = host.spawn(
    name,
    machine.provide({
      actions: { poll: () => driver.poll(), rearm: () => driver.rearm() },
      guards: { hasWork: () => driver.hasWork() },
    }) as M,
  );
  bindVirq(host, xen, vcpu, channels, actor, irqNs);
  return actor;
}
