/**
 * Composing isosim's machines inside your own XState model, with XState's inspection
 * on; then persisting and restoring the whole model, and every machine isosim exports.
 * Checks what it prints (a failed check exits non-zero).
 */
import assert from 'node:assert/strict';
import {
  createPollMachine,
  credit,
  creditMachine,
  feedbackLoopMachine,
  netbackMachine,
  netfrontMachine,
  nicClock,
  nicMachine,
  schedulerClock,
  sedf,
  sedfMachine,
  workloadMachine,
} from '@isosim/actors/machines';
import {
  type AnyActorLogic,
  type AnyActorRef,
  type AnyStateMachine,
  createActor,
  type InspectionEvent,
} from 'xstate';
import { StepClock } from './clock.js';
import { createModel } from './model.js';

// 1. Run the model: 40 packets, one every 50 us, on a deterministic clock.
const clock = new StepClock();
const rxQueue: number[] = [];
const inspected: InspectionEvent[] = [];
const model = createModel(clock, rxQueue);
const actor = createActor(model, { id: 'host', clock, inspect: (e) => inspected.push(e) }).start();
for (let i = 0; i < 40; i++) {
  clock.advanceTo(i * 0.05);
  actor.send({ type: 'packet', id: i });
}
clock.advanceTo(5);
const { context } = actor.getSnapshot();
console.log(`packets ${context.packets}, interrupts ${context.interrupts} (throttled to one per 125 us)`);
assert.equal(context.packets, 40);
assert.ok(context.interrupts > 1 && context.interrupts < 40, 'the NIC throttles its interrupts');

// 2. What the inspector saw: three actors, the NIC's and the scheduler's events and snapshots.
const ids = (type: InspectionEvent['type']) =>
  inspected.filter((e) => e.type === type).map((e) => (e.actorRef as AnyActorRef).id);
const eventTypes = new Set(inspected.flatMap((e) => (e.type === '@xstate.event' ? [e.event.type] : [])));
console.log(`inspected: ${inspected.length} events; actors ${[...new Set(ids('@xstate.actor'))].join(', ')}`);
assert.deepEqual([...new Set(ids('@xstate.actor'))].sort(), ['host', 'nic', 'sched']);
for (const t of ['packet', 'nic.rx', 'irq', 'nic.enable', 'sched.wake', 'sched.do_schedule']) {
  assert.ok(eventTypes.has(t), `the inspector saw ${t}`);
}
assert.ok(ids('@xstate.snapshot').includes('nic') && ids('@xstate.snapshot').includes('sched'));
const schedSnap = actor.getSnapshot().children.sched?.getSnapshot();
console.log(`scheduler's last decision: ${JSON.stringify(schedSnap?.context.decisions[0])}`);

// 3. Persist the whole model (children included) as JSON, restore it, and run both on.
const saved = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
const clock2 = new StepClock();
clock2.nowMs = clock.nowMs;
const rx2: number[] = [];
const restored = createActor(createModel(clock2, rx2), { clock: clock2, snapshot: saved }).start();
for (let i = 0; i < 10; i++) {
  const at = 5 + i * 0.2;
  clock.advanceTo(at);
  clock2.advanceTo(at);
  actor.send({ type: 'packet', id: 100 + i });
  restored.send({ type: 'packet', id: 100 + i });
}
clock.advanceTo(10);
clock2.advanceTo(10);
assert.deepEqual(restored.getSnapshot().context, actor.getSnapshot().context);
assert.deepEqual(
  restored.getSnapshot().children.sched?.getSnapshot().context,
  actor.getSnapshot().children.sched?.getSnapshot().context,
);
console.log(`restored model went on identically: ${JSON.stringify(actor.getSnapshot().context)}`);

// 4. Every exported machine persists to JSON and restores to the same state, then goes on alike.
const now = () => 0;
const cases: [string, AnyStateMachine, unknown, { type: string; [k: string]: unknown }[]][] = [
  ['nicMachine', nicMachine.provide(nicClock(now)), { itrMs: 0.1 }, [{ type: 'nic.rx' }]],
  ['netbackMachine', netbackMachine, undefined, [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }]],
  ['netfrontMachine', netfrontMachine, undefined, [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }]],
  [
    'createPollMachine',
    createPollMachine('my-driver'),
    undefined,
    [{ type: 'evtchn.pending', portsLo: 2, portsHi: 0 }],
  ],
  [
    'sedfMachine',
    sedfMachine.provide(schedulerClock(sedf, now)),
    { pcpus: 1 },
    [
      { type: 'sched.add', domain: 0, pcpu: 0 },
      { type: 'sched.sedf', vcpu: 0, sliceNs: 2_000_000, periodNs: 10_000_000, extratime: 0 },
      { type: 'sched.wake', vcpu: 0 },
    ],
  ],
  [
    'creditMachine',
    creditMachine.provide(schedulerClock(credit, now)),
    { pcpus: 2 },
    [
      { type: 'sched.add', domain: 0, pcpu: 0 },
      { type: 'sched.credit', vcpu: 0, weight: 256, capBp: 0 },
      { type: 'sched.wake', vcpu: 0 },
    ],
  ],
  ['feedbackLoopMachine', feedbackLoopMachine, { periodMs: 500 }, []],
  ['workloadMachine', workloadMachine, { startMs: 100, stopMs: null }, []],
];
const noTimers = { setTimeout: () => 0, clearTimeout: () => {} };
for (const [name, machine, input, events] of cases) {
  const a = createActor(machine as AnyActorLogic, { input, clock: noTimers }).start();
  for (const e of events) a.send(e);
  const persisted = JSON.parse(JSON.stringify(a.getPersistedSnapshot()));
  const b = createActor(machine as AnyActorLogic, { snapshot: persisted, clock: noTimers }).start();
  assert.deepEqual(b.getSnapshot().value, a.getSnapshot().value, name);
  assert.deepEqual(b.getSnapshot().context, a.getSnapshot().context, name);
  const more = { type: 'sched.do_schedule', pcpu: 0, prevVcpu: -1, ranNs: 0, prevRunnable: 0 };
  a.send(more);
  b.send(more);
  assert.deepEqual(b.getSnapshot().context, a.getSnapshot().context, name);
  console.log(`${name}: persisted and restored in state ${JSON.stringify(a.getSnapshot().value)}`);
}
