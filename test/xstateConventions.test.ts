/**
 * XState conventions (issue 14), so that isosim's machines fit into other people's
 * XState models: contexts changed only by `assign` (which the flat interpreter runs
 * with XState's semantics); dependencies and time given with `machine.provide`, with
 * safe defaults, JSON inputs and contexts; persisted snapshots that restore, under both
 * engines, and go on exactly as the original; exported delay names; XState inspection
 * under both engines; no child actors.
 */
import {
  type ActorEngine,
  ActorHost,
  credit,
  creditMachine,
  FEEDBACK_DELAYS,
  FEEDBACK_TIMER_EVENTS,
  feedbackLoopMachine,
  fig6Host,
  type HostEvent,
  NIC_DELAYS,
  NIC_TIMER_EVENTS,
  nicClock,
  nicMachine,
  type PersistedActorSnapshot,
  schedulerClock,
  sedf,
  sedfMachine,
  WORKLOAD_DELAYS,
  WORKLOAD_TIMER_EVENTS,
  workloadMachine,
  XenSystem,
} from '@isosim/actors';
import * as machines from '@isosim/actors/machines';
import { IsosimError, Kernel, LogWriter, MemorySink, NS_PER_MS } from '@isosim/core';
import { getShortestPaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import {
  type AnyStateMachine,
  assign,
  createActor,
  fromCallback,
  getNextSnapshot,
  type InspectionEvent,
  setup,
  spawnChild,
} from 'xstate';
import { type HarnessVcpu, runScheduler } from '../packages/actors/src/scheduler/testHarness.ts';
import type { SchedulerOps } from '../packages/actors/src/scheduler/types.ts';

const ENGINES: readonly ActorEngine[] = ['flat', 'xstate'];
const MS = 1_000_000;
const US = 1_000;
/** No timers at all: XState's `after` stays untimed (events are sent by hand). */
const noClock = { setTimeout: () => 0, clearTimeout: () => {} };
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function logOf(engine: ActorEngine, body: (host: ActorHost, kernel: Kernel) => void): Uint8Array {
  const sink = new MemorySink();
  const log = new LogWriter(sink, {
    format: 'isosim-log',
    schema: 1,
    scenario: { name: 'c' },
    seed: 1,
    versions: {},
  });
  const kernel = new Kernel({ seed: 1, log });
  body(new ActorHost(kernel, { engine }), kernel);
  log.close();
  return sink.bytes();
}

describe('assign on the flat interpreter', () => {
  const seen: string[] = [];
  const counter = setup({
    types: {
      context: {} as { n: number; last: number; log: readonly number[] },
      events: {} as { type: 'add'; by: number } | { type: 'reset' },
    },
    actions: {
      // A property assigner: values and functions of the context, event and params.
      add: assign({ n: ({ context, event }) => context.n + (event.type === 'add' ? event.by : 0), last: 1 }),
      // A function assigner, with params.
      remember: assign(({ context }, params: { tag: number }) => ({
        log: [...context.log, context.n * 10 + params.tag],
      })),
      look: ({ context }) => {
        seen.push(`look n=${context.n}`);
      },
    },
    guards: { big: ({ context }) => context.n >= 5 },
    delays: { wait: ({ context }) => context.n / 1000 },
  }).createMachine({
    id: 'counter',
    context: { n: 0, last: 0, log: [] },
    initial: 'low',
    states: {
      low: {
        entry: [assign({ last: -1 }), 'look'],
        on: {
          add: { actions: ['add', { type: 'remember', params: { tag: 1 } }, 'look'] },
          reset: { target: 'cooling', actions: assign(() => ({ n: 0 })) },
        },
        // Sees the context the transition's actions assigned.
        always: { guard: 'big', target: 'high' },
      },
      high: {
        entry: [
          'look',
          { type: 'remember', params: ({ context }: { context: { n: number } }) => ({ tag: context.n }) },
        ],
        on: { reset: { target: 'cooling', actions: assign({ n: 0 }) } },
      },
      // The delay is resolved from the context after the entry actions.
      cooling: { entry: assign({ n: 3 }), after: { wait: 'low' } },
    },
  });

  it('compiles machines with assign (named, inline, property and function assigners)', () => {
    const host = new ActorHost(new Kernel({ seed: 1 }));
    expect(host.spawn('c', counter).engine).toBe('flat');
  });

  it('gives the same log, snapshots and effects as XState: later actions and guards see the new context', () => {
    const runs = ENGINES.map((engine) => {
      seen.length = 0;
      const snaps: string[] = [];
      const bytes = logOf(engine, (host, kernel) => {
        const a = host.spawn('c', counter);
        a.subscribe((s) => snaps.push(JSON.stringify([s.value, s.context])));
        host.send(a, { type: 'add', by: 2 }, 10);
        host.send(a, { type: 'add', by: 4 }, 20);
        host.send(a, { type: 'reset' }, 30);
        host.send(a, { type: 'add', by: 1 }, 5 * MS);
        kernel.run();
        expect(a.snapshot().value).toBe('low');
        snaps.push(JSON.stringify(a.getPersistedSnapshot()));
      });
      return { bytes: Buffer.from(bytes), snaps, seen: [...seen] };
    });
    expect(runs[0].seen).toEqual(['look n=0', 'look n=2', 'look n=6', 'look n=6', 'look n=3', 'look n=4']);
    expect(runs[1].seen).toEqual(runs[0].seen);
    expect(runs[1].snaps).toEqual(runs[0].snaps);
    expect(runs[0].bytes.equals(runs[1].bytes)).toBe(true);
  });
});

/** Each exported machine, bare: JSON input, and events it takes (timers by their event type). */
const BARE: readonly {
  machine: AnyStateMachine;
  input?: unknown;
  events: HostEvent[];
  /** For @xstate/graph, events valid in every state (default `events`). */
  graphEvents?: HostEvent[];
}[] = [
  {
    machine: machines.nicMachine,
    input: { itrMs: 0.05 },
    events: [{ type: 'nic.rx' }, { type: NIC_TIMER_EVENTS.throttle }, { type: 'nic.enable' }],
  },
  {
    machine: machines.netbackMachine,
    events: [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }, { type: 'napi.drained' }],
  },
  {
    machine: machines.netfrontMachine,
    events: [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }, { type: 'napi.drained' }],
  },
  {
    machine: machines.blkbackMachine,
    events: [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }, { type: 'napi.drained' }],
  },
  {
    machine: machines.blkfrontMachine,
    events: [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }, { type: 'napi.drained' }],
  },
  {
    machine: machines.diskMachine,
    events: [{ type: 'disk.done' }, { type: 'disk.enable' }, { type: 'disk.done' }],
  },
  {
    machine: machines.sedfMachine,
    input: { pcpus: 1 },
    events: [
      { type: 'sched.add', domain: 0, pcpu: 0 },
      { type: 'sched.sedf', vcpu: 0, sliceNs: MS, periodNs: 10 * MS, extratime: 0 },
      { type: 'sched.wake', vcpu: 0 },
      { type: 'sched.do_schedule', pcpu: 0, prevVcpu: -1, ranNs: 0, prevRunnable: 0 },
    ],
    graphEvents: [{ type: 'sched.add', domain: 0, pcpu: 0 }],
  },
  {
    machine: machines.creditMachine,
    input: { pcpus: 2, startNs: 5 },
    events: [
      { type: 'sched.add', domain: 0, pcpu: 1 },
      { type: 'sched.credit', vcpu: 0, weight: 256, capBp: 2500 },
      { type: 'sched.wake', vcpu: 0 },
      { type: 'sched.do_schedule', pcpu: 1, prevVcpu: -1, ranNs: 0, prevRunnable: 0 },
    ],
    graphEvents: [{ type: 'sched.add', domain: 0, pcpu: 0 }],
  },
  {
    machine: machines.workloadMachine,
    input: { startMs: 1, stopMs: 2 },
    events: [{ type: WORKLOAD_TIMER_EVENTS.start }, { type: WORKLOAD_TIMER_EVENTS.run }],
  },
  {
    machine: machines.feedbackLoopMachine,
    input: { periodMs: 500 },
    events: [{ type: FEEDBACK_TIMER_EVENTS.period }, { type: FEEDBACK_TIMER_EVENTS.period }],
  },
  {
    machine: machines.toolstackMachine,
    events: [
      { type: 'toolstack.launch', domain: 1 },
      { type: 'toolstack.batch', domain: 1 },
      { type: 'toolstack.balloon', domain: 2, pages: 512 },
    ],
  },
  {
    machine: machines.dynamicGuestMachine,
    events: [{ type: 'guest.step', domain: 1 }],
  },
];

/**
 * Machines whose events only run provided actions (no state or context of their own
 * changes): the feedback loop's timer re-enters its state; the memory actors' work is
 * all in `MemoryHost`'s provided actions.
 */
const ACTIONS_ONLY = new Set<AnyStateMachine>([
  machines.feedbackLoopMachine,
  machines.toolstackMachine,
  machines.dynamicGuestMachine,
]);

describe('every machine of @isosim/actors/machines, bare', () => {
  it('lists them all here', () => {
    const exported = Object.entries(machines)
      .filter(([, v]) => typeof v === 'object' && v !== null && 'config' in v && 'provide' in v)
      .map(([, v]) => v);
    expect(new Set(BARE.map((b) => b.machine))).toEqual(new Set(exported));
  });

  it.each(BARE.map((b) => [b.machine.id, b] as const))(
    '%s runs with its defaults, with JSON input and context, and restores from JSON',
    (_id, b) => {
      if (b.input !== undefined) expect(json(b.input)).toEqual(b.input);
      const a = createActor(b.machine, { input: b.input, clock: noClock }).start();
      const steps = [JSON.stringify(a.getSnapshot())];
      for (const e of b.events) {
        a.send(e);
        expect(a.getSnapshot().status).not.toBe('error');
        steps.push(JSON.stringify(a.getSnapshot()));
        const ctx = a.getSnapshot().context;
        expect(json(ctx)).toEqual(ctx);
      }
      // Every event did something (ACTIONS_ONLY: the work is in provided actions).
      if (!ACTIONS_ONLY.has(b.machine))
        for (let i = 1; i < steps.length; i++) expect(steps[i]).not.toBe(steps[i - 1]);
      // Persisted through JSON, restored, it has the same state and context.
      const persisted = json(a.getPersistedSnapshot());
      const r = createActor(b.machine, { snapshot: persisted, input: b.input, clock: noClock }).start();
      expect(r.getSnapshot().value).toEqual(a.getSnapshot().value);
      expect(r.getSnapshot().context).toEqual(a.getSnapshot().context);
      a.stop();
      r.stop();
    },
  );

  it.each(BARE.map((b) => [b.machine.id, b] as const))('%s can be traversed by @xstate/graph', (_id, b) => {
    const paths = getShortestPaths(b.machine, {
      input: b.input,
      events: b.graphEvents ?? b.events,
      // The context is the environment's (the schedulers' grows with every vCPU added).
      serializeState: (s: { value: unknown }) => JSON.stringify(s.value),
      limit: 1000,
    } as never);
    const states = Object.keys(b.machine.config.states ?? {});
    expect(paths.length).toBeGreaterThanOrEqual(Math.min(states.length, 2));
  });

  it('names its delays, and its timers by the event types XState gives them', () => {
    const delaysOf = (m: AnyStateMachine, state: string) =>
      Object.keys((m.config.states as Record<string, { after?: object }>)[state].after ?? {});
    expect(delaysOf(nicMachine, 'throttled')).toEqual([NIC_DELAYS.throttle]);
    expect(delaysOf(feedbackLoopMachine, 'waiting')).toEqual([FEEDBACK_DELAYS.period]);
    expect([...delaysOf(workloadMachine, 'pending'), ...delaysOf(workloadMachine, 'active')]).toEqual([
      WORKLOAD_DELAYS.start,
      WORKLOAD_DELAYS.run,
    ]);
    const step = (m: AnyStateMachine, input: unknown, events: string[]) => {
      const a = createActor(m, { input, clock: noClock }).start();
      let s = a.getSnapshot();
      for (const type of events) s = getNextSnapshot(m, s, { type });
      a.stop();
      return s.value;
    };
    expect(step(nicMachine, { itrMs: 1 }, ['nic.rx', NIC_TIMER_EVENTS.throttle])).toBe('masked');
    expect(step(workloadMachine, { startMs: 1, stopMs: 2 }, [WORKLOAD_TIMER_EVENTS.start])).toBe('active');
    expect(step(workloadMachine, { startMs: 1 }, [WORKLOAD_TIMER_EVENTS.start])).toBe('forever');
    expect(
      step(workloadMachine, { startMs: 1, stopMs: 2 }, [
        WORKLOAD_TIMER_EVENTS.start,
        WORKLOAD_TIMER_EVENTS.run,
      ]),
    ).toBe('stopped');
    const loop = createActor(feedbackLoopMachine, { input: { periodMs: 1 }, clock: noClock }).start();
    expect(
      loop.getSnapshot().machine.root.states.waiting.after.map((t: { eventType: string }) => t.eventType),
    ).toEqual([FEEDBACK_TIMER_EVENTS.period]);
    loop.stop();
  });

  it('keeps no function in any input or context of a whole host (the bare scheduler at time 0 included)', () => {
    const kernel = new Kernel({ seed: 3 });
    const sys = new XenSystem(kernel, { ...fig6Host({ steps: 2, stepNs: 20 * MS }), engine: 'flat' });
    sys.start();
    kernel.runUntil(50 * MS);
    for (const a of sys.host.all()) {
      expect(a.engine, a.id).toBe('flat');
      const p = a.getPersistedSnapshot();
      // No function, no non-finite number: JSON gives back an equal value.
      expect(json(p.context), a.id).toEqual(p.context);
    }
  });
});

interface Case {
  readonly name: string;
  /** The machine with its implementations, effects traced into `trace`. */
  readonly machine: (kernel: Kernel, trace: string[]) => AnyStateMachine;
  readonly input?: unknown;
  /** Events to the original before the snapshot: [time ns, event]. */
  readonly before: readonly (readonly [number, HostEvent])[];
  readonly persistAtNs: number;
  /** Events to both after it. */
  readonly after: readonly (readonly [number, HostEvent])[];
  readonly endNs: number;
}

const at = (trace: string[], kernel: Kernel, what: string) => () => {
  trace.push(`${what}@${kernel.nowNs}`);
};

const nicCase = (persistAtNs: number): Case => ({
  name: `nic, persisted at ${persistAtNs} ns`,
  machine: (k, trace) =>
    nicMachine.provide(nicClock(() => k.nowNs / NS_PER_MS)).provide({
      actions: { raise: at(trace, k, 'irq') },
      guards: { waiting: () => k.nowNs < 150 * US },
    }),
  input: { itrMs: 0.05 },
  before: [
    [0, { type: 'nic.rx' }],
    [10 * US, { type: 'nic.enable' }], // packets wait: throttled, due at 50 us
  ],
  persistAtNs,
  after: [
    [60 * US, { type: 'nic.enable' }],
    [170 * US, { type: 'nic.enable' }],
    [200 * US, { type: 'nic.rx' }],
  ],
  endNs: 400 * US,
});

const pollCase: Case = {
  name: 'poll (netback)',
  machine: (k, trace) =>
    machines.netbackMachine.provide({
      actions: { poll: at(trace, k, 'poll'), rearm: at(trace, k, 'rearm') },
      guards: { hasWork: () => k.nowNs < 15 * US },
    }),
  before: [[0, { type: 'evtchn.pending', portsLo: 1, portsHi: 0 }]],
  persistAtNs: 5 * US,
  after: [
    [10 * US, { type: 'napi.drained' }],
    [20 * US, { type: 'napi.drained' }],
    [30 * US, { type: 'evtchn.pending', portsLo: 2, portsHi: 0 }],
  ],
  endNs: 50 * US,
};

const feedbackCase: Case = {
  name: 'feedback loop',
  machine: (k, trace) => feedbackLoopMachine.provide({ actions: { tick: at(trace, k, 'tick') } }),
  input: { periodMs: 1 },
  before: [],
  persistAtNs: 2.5 * MS,
  after: [],
  endNs: 5.5 * MS,
};

const workloadCase = (persistAtNs: number, stopMs: number | null): Case => ({
  name: `workload (stop ${stopMs}), persisted at ${persistAtNs} ns`,
  machine: (k, trace) =>
    workloadMachine.provide({ actions: { start: at(trace, k, 'start'), stop: at(trace, k, 'stop') } }),
  input: { startMs: 1, stopMs },
  before: [],
  persistAtNs,
  after: [],
  endNs: 5 * MS,
});

/** A scheduler's calls from the test harness (a consistent driver), as events at their times. */
function harnessEvents(kind: 'sedf' | 'credit', untilNs: number): [number, HostEvent][] {
  const busy = { kind: 'busy' } as const;
  const periodic = { kind: 'periodic', runNs: 300 * US, blockNs: 2 * MS } as const;
  const params = (pct: number) => ({
    sedf: { sliceNs: pct * 100 * US, periodNs: 10 * MS, extratime: pct < 50 },
    credit: { weight: 256, capPct: pct },
  });
  const vcpus: HarnessVcpu[] = [
    { spec: { domain: 0, pcpu: 0, ...params(40) }, behaviour: periodic },
    { spec: { domain: 1, pcpu: 0, ...params(30) }, behaviour: busy },
    { spec: { domain: 2, pcpu: 1, ...params(60) }, behaviour: busy, startNs: 3 * MS },
  ];
  const ops = (kind === 'sedf' ? sedf : credit) as SchedulerOps<unknown>;
  const out: [number, HostEvent][] = [];
  for (const call of runScheduler(ops, { pcpus: 2, vcpus, untilNs, trace: true }).calls) {
    const t = call.atNs;
    if (call.op === 'add') {
      const { domain, pcpu, sedf: sp, credit: cp } = call.spec;
      out.push([t, { type: 'sched.add', domain, pcpu }]);
      if (kind === 'sedf' && sp)
        out.push([t, { type: 'sched.sedf', vcpu: call.vcpu, ...sp, extratime: sp.extratime ? 1 : 0 }]);
      if (kind === 'credit' && cp)
        out.push([t, { type: 'sched.credit', vcpu: call.vcpu, weight: cp.weight, capBp: cp.capPct * 100 }]);
    } else if (call.op === 'wake') out.push([t, { type: 'sched.wake', vcpu: call.vcpu }]);
    else {
      const { vcpu, ranNs, runnable } = call.prev;
      out.push([
        t,
        { type: 'sched.do_schedule', pcpu: call.pcpu, prevVcpu: vcpu, ranNs, prevRunnable: runnable ? 1 : 0 },
      ]);
    }
  }
  return out;
}

const schedCase = (kind: 'sedf' | 'credit'): Case => {
  const persistAtNs = 16 * MS + 1;
  const events = harnessEvents(kind, 60 * MS);
  return {
    name: `scheduler (${kind})`,
    machine: (k) =>
      kind === 'sedf'
        ? sedfMachine.provide(schedulerClock(sedf, () => k.nowNs))
        : creditMachine.provide(schedulerClock(credit, () => k.nowNs)),
    input: { pcpus: 2 },
    // Debt collection off: debt is recorded, decisions stay the harness's.
    before: [
      [0, { type: 'sched.dc', mode: 0, spread: 0, feedbackNs: 500 * MS }],
      ...events.filter(([t]) => t < persistAtNs),
    ],
    persistAtNs,
    after: [
      ...events.filter(([t]) => t >= persistAtNs),
      [30 * MS, { type: 'sched.debt', vcpu: 1, debtNs: MS }],
    ],
    endNs: 60 * MS,
  };
};

const CASES: readonly Case[] = [
  nicCase(20 * US),
  nicCase(55 * US),
  pollCase,
  feedbackCase,
  workloadCase(0.5 * MS, 3),
  workloadCase(2 * MS, 3),
  workloadCase(0.5 * MS, null),
  schedCase('sedf'),
  schedCase('credit'),
];

/**
 * Runs the original on `engineA` up to the snapshot; restores it through JSON on
 * `engineB` in another kernel at the same time; then both get the same events. Returns
 * what each did after the snapshot, and the snapshot.
 */
function persistAndRestore(c: Case, engineA: ActorEngine, engineB: ActorEngine) {
  const kA = new Kernel({ seed: 1 });
  const hA = new ActorHost(kA, { engine: engineA });
  const traceA: string[] = [];
  const a = hA.spawn('x', c.machine(kA, traceA), { input: c.input as never });
  for (const [t, e] of c.before) hA.send(a, e, t);
  kA.runUntil(c.persistAtNs);
  const persisted: PersistedActorSnapshot = json(a.getPersistedSnapshot());
  traceA.length = 0;
  const kB = new Kernel({ seed: 1 });
  kB.runUntil(c.persistAtNs);
  const hB = new ActorHost(kB, { engine: engineB });
  const traceB: string[] = [];
  const b = hB.spawn('x', c.machine(kB, traceB), { snapshot: persisted, input: c.input as never });
  expect(b.engine).toBe(engineB);
  const steps = (k: Kernel, trace: string[]) => (s: { value: unknown; context: unknown }) =>
    trace.push(`${k.nowNs} ${JSON.stringify(s.value)} ${JSON.stringify(s.context)}`);
  a.subscribe(steps(kA, traceA));
  b.subscribe(steps(kB, traceB));
  for (const [t, e] of c.after) {
    hA.send(a, e, t - c.persistAtNs);
    hB.send(b, e, t - c.persistAtNs);
  }
  kA.runUntil(c.endNs);
  kB.runUntil(c.endNs);
  return {
    persisted,
    a: { trace: traceA, end: json(a.getPersistedSnapshot()) },
    b: { trace: traceB, end: json(b.getPersistedSnapshot()) },
  };
}

describe('persisted snapshots', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: restored on either engine, goes on exactly as the original',
    (_n, c) => {
      const first = persistAndRestore(c, 'flat', 'flat');
      expect(first.a.trace.length).toBeGreaterThan(0);
      for (const [ea, eb] of [
        ['flat', 'flat'],
        ['flat', 'xstate'],
        ['xstate', 'flat'],
        ['xstate', 'xstate'],
      ] as const) {
        const r = persistAndRestore(c, ea, eb);
        // The two engines persist the same snapshot …
        expect(r.persisted, `${ea}->${eb}`).toEqual(first.persisted);
        // … and the restored actor does what the original does, step by step.
        expect(r.b.trace, `${ea}->${eb}`).toEqual(r.a.trace);
        expect(r.b.end, `${ea}->${eb}`).toEqual(r.a.end);
        expect(r.a.trace, `${ea}->${eb}`).toEqual(first.a.trace);
      }
    },
  );

  it('carries pending timers (XState drops them): the NIC restored while throttled raises on time', () => {
    const r = persistAndRestore(nicCase(20 * US), 'flat', 'xstate');
    expect(r.persisted.timers).toEqual({ [NIC_TIMER_EVENTS.throttle]: 30 * US });
    expect(r.b.trace.filter((s) => s.startsWith('irq'))).toEqual(['irq@50000', 'irq@100000', 'irq@200000']);
  });

  it('restores a scheduler actor of a whole host (its fast path updates the context in place)', () => {
    for (const engine of ENGINES) {
      const kernel = new Kernel({ seed: 9 });
      const sys = new XenSystem(kernel, { ...fig6Host({ steps: 1 }), engine });
      sys.start();
      kernel.runUntil(40 * MS);
      const sched = sys.host.get('sched.sedf');
      if (sched === undefined) throw new Error('no scheduler actor');
      const persisted = json(sched.getPersistedSnapshot());
      const before = JSON.stringify(persisted);
      kernel.runUntil(60 * MS);
      // A deep copy: the live context moved on, the snapshot did not.
      expect(JSON.stringify(persisted)).toBe(before);
      expect(JSON.stringify(sched.getPersistedSnapshot())).not.toBe(before);
      const again = new ActorHost(kernel, { engine });
      const copy = again.spawn('copy', sedfMachine.provide(schedulerClock(sedf, () => kernel.nowNs)), {
        snapshot: persisted,
        input: { pcpus: 1 },
      });
      expect(copy.snapshot().context).toEqual(persisted.context);
    }
  });
});

type Seen = { type: string; id: string; source?: string; event?: string; value?: unknown; context?: string };

function inspected(engine: ActorEngine, untilNs: number): { seen: Seen[]; refs: Map<string, unknown> } {
  const seen: Seen[] = [];
  const refs = new Map<string, unknown>();
  const inspect = (e: InspectionEvent): void => {
    if (e.type !== '@xstate.actor' && e.type !== '@xstate.event' && e.type !== '@xstate.snapshot') return;
    const ref = e.actorRef as unknown as { id: string };
    refs.set(ref.id, ref);
    const s: Seen = { type: e.type, id: ref.id };
    if (e.type === '@xstate.event') {
      s.event = e.event.type;
      s.source = (e.sourceRef as unknown as { id: string } | undefined)?.id;
    }
    if (e.type === '@xstate.snapshot') {
      const snap = e.snapshot as unknown as { value: unknown; context: unknown };
      s.event = e.event.type;
      s.value = snap.value;
      s.context = JSON.stringify(snap.context);
    }
    seen.push(s);
  };
  const kernel = new Kernel({ seed: 4 });
  const sys = new XenSystem(kernel, {
    ...fig6Host({
      steps: 1,
      mechanisms: { debt: { mode: 'immediate', spread: false, feedbackNs: 5 * MS, source: 'truth' } },
    }),
    engine,
    inspect,
  });
  sys.start();
  kernel.runUntil(untilNs);
  return { seen, refs };
}

describe('inspection', () => {
  it('sees every actor, event and snapshot, the same under both engines, fast-path events included', () => {
    const flat = inspected('flat', 12 * MS);
    const xs = inspected('xstate', 12 * MS);
    expect(flat.seen.length).toBeGreaterThan(300);
    expect(flat.seen).toEqual(xs.seen);
    const types = (id: string) =>
      new Set(flat.seen.filter((s) => s.id === id && s.type === '@xstate.event').map((s) => s.event));
    expect(types('sched.sedf')).toEqual(
      new Set([
        'xstate.init',
        'sched.add',
        'sched.sedf',
        'sched.dc',
        'sched.wake',
        'sched.do_schedule',
        'sched.debt',
      ]),
    );
    // A snapshot after every event of the scheduler, the fast path's included.
    const sched = flat.seen.filter((s) => s.id === 'sched.sedf');
    expect(sched.filter((s) => s.type === '@xstate.snapshot').length).toBe(
      sched.filter((s) => s.type === '@xstate.event').length,
    );
    expect(flat.seen.filter((s) => s.type === '@xstate.actor').map((s) => s.id)).toEqual(
      xs.seen.filter((s) => s.type === '@xstate.actor').map((s) => s.id),
    );
    // Timers come from the actor itself.
    expect(flat.seen.find((s) => s.event === NIC_TIMER_EVENTS.throttle)?.source).toBe('nic0');
  });

  it('gives the flat engine an ActorRef: what @statelyai/inspect reads, and XState snapshots', () => {
    const { refs } = inspected('flat', MS);
    const ref = refs.get('nic0') as {
      id: string;
      sessionId: string;
      logic: AnyStateMachine;
      _parent: unknown;
      getSnapshot(): { value: unknown; matches(v: string): boolean; toJSON(): unknown };
      getPersistedSnapshot(): PersistedActorSnapshot;
    };
    expect(ref.id).toBe('nic0');
    expect(ref.sessionId).toMatch(/^flat:/);
    expect(ref._parent).toBeUndefined();
    expect(
      JSON.parse(JSON.stringify(ref.logic.config, (_k, v) => (typeof v === 'function' ? {} : v))).id,
    ).toBe('nic');
    const snap = ref.getSnapshot();
    expect(snap.matches(String(snap.value))).toBe(true);
    expect(JSON.stringify(snap)).toContain('itrMs');
    expect(ref.getPersistedSnapshot().value).toBe(snap.value);
  });

  it('gives every hosted actor a ref, with or without an inspector', () => {
    const host = new ActorHost(new Kernel({ seed: 1 }));
    const a = host.spawn('loop', feedbackLoopMachine, { input: { periodMs: 1 } });
    expect(a.engine).toBe('flat');
    expect(a.ref.id).toBe('loop');
    expect(a.ref.getSnapshot().value).toBe('waiting');
    a.ref.send({ type: FEEDBACK_TIMER_EVENTS.period } as never); // through the kernel: logged
    expect(host.kernel.pending).toBeGreaterThan(1);
  });
});

describe('children', () => {
  const child = fromCallback(() => () => {});
  const invoking = setup({ actors: { child } }).createMachine({
    id: 'parent',
    initial: 'a',
    states: { a: { invoke: { src: 'child' } } },
  });
  const spawning = setup({ actors: { child }, actions: { make: spawnChild('child') } }).createMachine({
    id: 'parent',
    initial: 'a',
    states: { a: { on: { go: { actions: 'make' } } } },
  });
  const spawningInline = setup({ actors: { child } }).createMachine({
    id: 'parent',
    initial: 'a',
    states: { a: { entry: spawnChild('child') } },
  });
  const spawningInAssign = setup({
    types: { context: {} as { kid: unknown } },
    actors: { child },
  }).createMachine({
    id: 'parent',
    context: { kid: null },
    initial: 'a',
    states: { a: { on: { go: { actions: assign({ kid: ({ spawn }) => spawn('child') }) } } } },
  });

  it.each(ENGINES)('refuses machines that invoke or spawn child actors (%s)', (engine) => {
    for (const [m, what] of [
      [invoking, /invokes a child actor \(state a\)/],
      [spawning, /spawns a child actor \(state a, a transition\)/],
      [spawningInline, /spawns a child actor \(state a, entry or exit\)/],
    ] as const) {
      const host = new ActorHost(new Kernel({ seed: 1 }), { engine });
      expect(() => host.spawn('p', m)).toThrow(IsosimError);
      expect(() => host.spawn('p', m)).toThrow(what);
      expect(() => host.spawn('p', m)).toThrow(/actor p: .*host each child as an actor of its own/);
      expect(host.get('p')).toBeUndefined();
    }
    // A spawn the definition does not show fails the run when it happens.
    const kernel = new Kernel({ seed: 1 });
    const host = new ActorHost(kernel, { engine });
    host.spawn('p', spawningInAssign);
    host.send('p', { type: 'go' }, 5);
    expect(() => kernel.run()).toThrow(/actor p.*host each child as an actor of its own/);
  });
});
