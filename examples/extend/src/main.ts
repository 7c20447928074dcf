/**
 * Extending the host with your own workload and your own device.
 *
 * - A workload: a client on the LAN pings Dom-1 every millisecond and Dom-1 answers.
 *   Its packets go through netfront, the rings, netback and the NIC like any built-in
 *   workload's, so they cost Dom-1 and the driver domain, charged to Dom-1.
 * - A device: a paravirtual watchdog that interrupts Dom-1 every 10 ms on an event
 *   channel of its own. `bindVirq` makes each interrupt cost Dom-1 CPU (a handler work
 *   item on its vCPU) and reach our handler actor only when Dom-1 actually runs it, so
 *   the watchdog sees how late a guest that shares its CPU handles interrupts.
 */
import assert from 'node:assert/strict';
import {
  bindVirq,
  type CustomWorkloadConfig,
  Direction,
  type Endpoints,
  type Flow,
  P4_2_8,
  type Packet,
  type WorkloadEngine,
  XenSystem,
} from '@isosim/actors';
import { EventChannelSet, Kernel, NS_PER_MS, NS_PER_S, NS_PER_US } from '@isosim/core';
import { type AnyActorRef, setup } from 'xstate';

/** The workload: `ends` are the guest (through its netfront) and a client machine. */
class Pinger implements WorkloadEngine, Flow {
  sent = 0;
  answered = 0;
  private active = false;
  constructor(private readonly ends: Endpoints) {}
  start(): void {
    this.active = true;
    this.ping();
  }
  stop(): void {
    this.active = false;
  }
  private ping(): void {
    if (!this.active) return;
    this.sent++;
    this.ends.fromClient(100, this, 0); // 100 bytes from the client to the guest
    this.ends.after(NS_PER_MS, 0, () => this.ping());
  }
  /** A packet of this flow reached its end: the guest answers, the client counts. */
  arrived(p: Packet): void {
    if (p.direction === Direction.INBOUND) this.ends.fromGuest(100, this, 1);
    else this.answered++;
  }
}

let pinger: Pinger | undefined;
const pingWorkload: CustomWorkloadConfig = {
  kind: 'custom',
  name: 'pinger',
  create: (ends) => {
    pinger = new Pinger(ends);
    return pinger;
  },
};

const ms = (n: number): number => n * NS_PER_MS;
const kernel = new Kernel({ seed: 1 });
// Every hosted actor's events and snapshots, in XState's inspection format (as
// @statelyai/inspect takes them): here, events counted per actor.
const eventsPerActor = new Map<string, number>();
const xen = new XenSystem(kernel, {
  inspect: (e) => {
    if (e.type !== '@xstate.event') return;
    const id = (e.actorRef as AnyActorRef).id;
    eventsPerActor.set(id, (eventsPerActor.get(id) ?? 0) + 1);
  },
  profile: P4_2_8,
  scheduler: 'sedf',
  idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: { sliceNs: ms(2), periodNs: ms(10), extratime: false } }] },
  guests: [
    {
      name: 'Dom-1',
      vcpus: [{ pcpu: 0, sedf: { sliceNs: ms(3), periodNs: ms(10), extratime: false } }],
      workloads: [pingWorkload, { kind: 'cpu' }],
    },
    {
      name: 'Dom-2',
      vcpus: [{ pcpu: 0, sedf: { sliceNs: ms(5), periodNs: ms(10), extratime: false } }],
      workloads: [{ kind: 'cpu' }],
    },
  ],
});

// The device: its own event channel to Dom-1, a handler actor in Dom-1, and a timer.
const dom1 = xen.guest('Dom-1').domain;
const channels = new EventChannelSet(kernel, 'Dom-1.watchdog-evtchn');
const port = channels.bind('watchdog');
const handler = xen.host.spawn(
  'Dom-1.watchdog',
  setup({
    types: { events: {} as { type: 'evtchn.pending'; portsLo: number; portsHi: number } },
  }).createMachine({
    id: 'watchdog',
    initial: 'waiting',
    states: { waiting: { on: { 'evtchn.pending': { target: 'waiting', reenter: true } } } },
  }),
);
const lateNs: number[] = [];
let firedAt = 0;
handler.subscribe(() => {
  if (kernel.nowNs > 0) lateNs.push(kernel.nowNs - firedAt);
  channels.clearPending(port);
});
const vcpu = dom1.vcpus[0];
if (vcpu === undefined) throw new Error('Dom-1 has no vCPU');
bindVirq(xen.host, xen.xen, vcpu, channels, handler, 5 * NS_PER_US); // 5 us a handler run
const tick = kernel.endpoint('watchdog', () => {
  firedAt = kernel.nowNs;
  channels.notify(port, tick);
  kernel.postIn(ms(10), 0, tick, kernel.type('watchdog.tick'), tick);
});
kernel.postIn(ms(10), 0, tick, kernel.type('watchdog.tick'), tick);

xen.start();
kernel.runUntil(NS_PER_S);
xen.settle();

const { cpuNs, iddForNs } = xen.xen.accounting;
console.log(`pings sent ${pinger?.sent}, answered ${pinger?.answered}`);
console.log(
  `Dom-1 CPU ${(cpuNs[dom1.id] ?? 0) / NS_PER_MS} ms, driver domain for it ${(iddForNs[dom1.id] ?? 0) / NS_PER_MS} ms`,
);
const sorted = [...lateNs].sort((a, b) => a - b);
console.log(
  `watchdog: ${lateNs.length} interrupts handled; latency median ${(sorted[sorted.length >> 1] ?? 0) / NS_PER_US} us, max ${(sorted.at(-1) ?? 0) / NS_PER_US} us`,
);
assert.ok((pinger?.answered ?? 0) > 900, 'the guest answers the pings');
assert.equal(lateNs.length, 99, 'every watchdog interrupt is handled');
const busiest = [...eventsPerActor].sort((a, b) => b[1] - a[1]).slice(0, 4);
console.log(`inspected events, busiest actors: ${busiest.map(([id, n]) => `${id} ${n}`).join(', ')}`);
// The watchdog's handler saw its 99 interrupts (and XState's init event).
assert.equal(eventsPerActor.get('Dom-1.watchdog'), 100);
