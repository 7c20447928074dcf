/**
 * Reachability of every actor machine: every state is reachable from the initial one
 * (by @xstate/graph's traversal), every transition defined in the machine is taken by
 * some event under some outcome of its guards (checked microstep by microstep with
 * XState's pure `getMicrosteps`, so eventless transitions count too), and no reachable
 * state is a dead end (final states and the documented terminal states excepted).
 *
 * Guards read the environment (is there work? packets waiting?); the traversal runs
 * once per combination of guard outcomes and takes the union, so a transition counts
 * as reachable when some environment allows it. Actions are replaced by no-ops
 * (`machine.provide`): reachability is about the machine, not its effects.
 * With ISOSIM_VERIFY_REPORT set, prints the coverage table (docs/verification.md).
 */
import {
  blkbackMachine,
  blkfrontMachine,
  consumerMachine,
  createPollMachine,
  creditMachine,
  diskMachine,
  FEEDBACK_TIMER_EVENTS,
  feedbackLoopMachine,
  NIC_TIMER_EVENTS,
  nicMachine,
  sedfMachine,
  WORKLOAD_TIMER_EVENTS,
  workloadMachine,
} from '@isosim/actors';
import { getAdjacencyMap } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, getInitialMicrosteps, getMicrosteps } from 'xstate';

interface Case {
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly input: unknown;
  readonly events: readonly { type: string; [k: string]: unknown }[];
  readonly guards: readonly string[];
  /** States with no way out by design, and why. */
  readonly terminal?: Readonly<Record<string, string>>;
}

const noop = () => {};
const sched = (pcpus: number) => ({ pcpus });
const schedEvents = [
  { type: 'sched.add', domain: 0, pcpu: 0 },
  { type: 'sched.wake', vcpu: 0 },
  { type: 'sched.sleep', vcpu: 0 },
  { type: 'sched.do_schedule', pcpu: 0, prevVcpu: -1, ranNs: 0, prevRunnable: 0 },
  { type: 'sched.debt', vcpu: 0, debtNs: 1 },
  { type: 'sched.dc', mode: 1, spread: 0, feedbackNs: 1 },
  { type: 'sched.sedf', vcpu: 0, sliceNs: 1, periodNs: 2, extratime: 0 },
  { type: 'sched.credit', vcpu: 0, weight: 256, capBp: 0 },
];

const CASES: readonly Case[] = [
  {
    name: 'poll (netback, netfront)',
    machine: createPollMachine('poll'),
    input: undefined,
    events: [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }, { type: 'napi.drained' }],
    guards: ['hasWork'],
  },
  ...[blkbackMachine, blkfrontMachine].map((machine) => ({
    name: `poll (${machine.id})`,
    machine,
    input: undefined,
    events: [{ type: 'evtchn.pending', portsLo: 1, portsHi: 0 }, { type: 'napi.drained' }],
    guards: ['hasWork'],
  })),
  {
    name: 'disk interrupt line',
    machine: diskMachine,
    input: undefined,
    events: [{ type: 'disk.done' }, { type: 'disk.enable' }],
    guards: ['completedWaiting'],
  },
  {
    name: 'nic',
    machine: nicMachine,
    input: { itrMs: 0.1 },
    events: [{ type: 'nic.rx' }, { type: 'nic.enable' }, { type: NIC_TIMER_EVENTS.throttle }],
    guards: ['waiting'],
  },
  {
    name: 'workload lifecycle',
    machine: workloadMachine,
    input: { startMs: 1, stopMs: 2 },
    events: [{ type: WORKLOAD_TIMER_EVENTS.start }, { type: WORKLOAD_TIMER_EVENTS.run }],
    guards: ['endless'],
    terminal: { forever: 'a workload without a stop time runs to the end of the run' },
  },
  {
    name: 'feedback loop (debt collector, ShareGuard)',
    machine: feedbackLoopMachine,
    input: { periodMs: 500 },
    events: [{ type: FEEDBACK_TIMER_EVENTS.period }],
    guards: [],
  },
  { name: 'scheduler (SEDF)', machine: sedfMachine, input: sched(1), events: schedEvents, guards: [] },
  { name: 'scheduler (Credit)', machine: creditMachine, input: sched(1), events: schedEvents, guards: [] },
  {
    name: 'packet-pipeline consumer (demo)',
    machine: consumerMachine,
    input: {},
    events: [
      { type: 'evtchn.pending', portsLo: 1, portsHi: 0 },
      { type: 'xstate.after.service.consumer.busy' },
    ],
    guards: ['hasWork'],
  },
];

type StatesConfig = Record<string, Record<string, unknown>>;

/** Every transition the machine defines, as `from|event|to` (`always` for eventless ones). */
function definedTransitions(m: AnyStateMachine): Set<string> {
  const out = new Set<string>();
  const states = (m.config as { states: StatesConfig }).states;
  const targets = (from: string, t: unknown): string[] =>
    (Array.isArray(t) ? t : [t]).map((x) => {
      const target = typeof x === 'string' ? x : (x as { target?: string }).target;
      return target ?? from;
    });
  for (const [name, s] of Object.entries(states)) {
    for (const [ev, t] of Object.entries((s.on ?? {}) as Record<string, unknown>))
      for (const to of targets(name, t)) out.add(`${name}|${ev}|${to}`);
    if (s.always !== undefined) for (const to of targets(name, s.always)) out.add(`${name}|always|${to}`);
    for (const [k, t] of Object.entries((s.after ?? {}) as Record<string, unknown>))
      for (const to of targets(name, t)) out.add(`${name}|xstate.after.${k}.${m.id}.${name}|${to}`);
  }
  return out;
}

function combos(guards: readonly string[]): Record<string, () => boolean>[] {
  const out: Record<string, () => boolean>[] = [];
  for (let mask = 0; mask < 1 << guards.length; mask++) {
    const g: Record<string, () => boolean> = {};
    guards.forEach((name, i) => {
      g[name] = () => (mask & (1 << i)) !== 0;
    });
    out.push(g);
  }
  return out;
}

interface Coverage {
  name: string;
  states: string[];
  reached: Set<string>;
  defined: Set<string>;
  taken: Set<string>;
  deadEnds: string[];
}

function explore(c: Case): Coverage {
  const states = Object.keys((c.machine.config as { states: StatesConfig }).states);
  const actions = Object.fromEntries(Object.keys(c.machine.implementations.actions).map((a) => [a, noop]));
  const delays = Object.fromEntries(Object.keys(c.machine.implementations.delays).map((d) => [d, 1]));
  const reached = new Set<string>();
  const taken = new Set<string>();
  const outgoing = new Map<string, number>();
  for (const guards of combos(c.guards)) {
    const m = c.machine.provide({ actions, guards, delays } as never) as AnyStateMachine;
    // States: @xstate/graph's traversal.
    // States are told apart by their value alone: the context is the environment's,
    // and the guard combinations stand for it.
    const adj = getAdjacencyMap(m, {
      input: c.input as never,
      events: c.events as never,
      serializeState: (snap: { value: unknown }) => JSON.stringify(snap.value),
      limit: 10_000,
    } as never);
    for (const { state } of Object.values(adj)) reached.add(String((state as { value: unknown }).value));
    // Transitions: microsteps from every reachable snapshot, for every event.
    const init = getInitialMicrosteps(m, c.input as never);
    let prev = String(init[0]?.[0].value ?? '');
    for (const [snap] of init.slice(1)) {
      taken.add(`${prev}|always|${String(snap.value)}`);
      prev = String(snap.value);
    }
    for (const { state } of Object.values(adj)) {
      const from = String((state as { value: unknown }).value);
      for (const e of c.events) {
        const steps = getMicrosteps(m, state as never, e as never);
        let at = from;
        steps.forEach(([snap], i) => {
          const to = String(snap.value);
          taken.add(`${at}|${i === 0 ? e.type : 'always'}|${to}`);
          if (i === 0) outgoing.set(from, (outgoing.get(from) ?? 0) + 1);
          at = to;
        });
      }
    }
  }
  const finals = Object.entries((c.machine.config as { states: StatesConfig }).states)
    .filter(([, s]) => s.type === 'final')
    .map(([n]) => n);
  const deadEnds = [...reached].filter(
    (s) => !outgoing.get(s) && !finals.includes(s) && !(s in (c.terminal ?? {})),
  );
  return { name: c.name, states, reached, defined: definedTransitions(c.machine), taken, deadEnds };
}

describe('reachability of every actor machine', () => {
  const results = CASES.map(explore);

  it.each(results.map((r) => [r.name, r] as const))(
    '%s: every state reachable, every transition taken, no dead end',
    (_n, r) => {
      expect([...r.reached].sort()).toEqual([...r.states].sort());
      const missing = [...r.defined].filter((t) => !r.taken.has(t));
      expect(missing).toEqual([]);
      expect(r.deadEnds).toEqual([]);
    },
  );

  it('reports coverage', () => {
    const rows = results.map((r) => {
      const takenDefined = [...r.defined].filter((t) => r.taken.has(t)).length;
      return `| ${r.name} | ${r.reached.size}/${r.states.length} | ${takenDefined}/${r.defined.size} |`;
    });
    if (process.env.ISOSIM_VERIFY_REPORT)
      console.log(
        ['| machine | states reached | transitions taken |', '|---|---:|---:|', ...rows].join('\n'),
      );
    expect(rows.length).toBe(CASES.length);
  });
});
