/**
 * The memory actors' machines (issue 18, slice 2): the toolstack that builds domains
 * and the dynamic guest whose `tot_pages` moves without the toolstack's knowledge.
 * Both are flat, single-state machines whose work is done by provided actions
 * (`machine.provide({ actions })`); `MemoryHost` (memoryHost.ts) provides them and
 * paces them with events it posts through the kernel (`host.send(..., delayNs)`), so
 * every launch, populate batch and guest step is a logged kernel event, and concurrent
 * builds are simply interleaved `toolstack.batch` events for different domains.
 */
import { setup } from 'xstate';

/**
 * What the toolstack receives: `toolstack.launch` (start building `domain`, whose size
 * and policy the host knows), `toolstack.batch` (populate `domain`'s next batch) and
 * `toolstack.balloon` (set a balloon guest's target, as `xl mem-set` writes
 * xenstore's `memory/target`).
 */
export type ToolstackEvent =
  | { readonly type: 'toolstack.launch'; readonly domain: number }
  | { readonly type: 'toolstack.batch'; readonly domain: number }
  | { readonly type: 'toolstack.balloon'; readonly domain: number; readonly pages: number };

/** What a dynamic guest receives: `guest.step`, one step of its memory curve. */
export type DynamicGuestEvent = { readonly type: 'guest.step'; readonly domain: number };

/**
 * The toolstack (`xl`/libxl's domain builder, reduced to its memory calls).
 *
 * - Events received: `ToolstackEvent`. Emits none; no timers (the host posts batches).
 * - Provide: `launch` (action: set `max_pages`, reserve per the policy, post the first
 *   batch or fail the launch) and `populate` (action: one populate-physmap batch, then
 *   post the next, finish, or fail late) and `setTarget` (action: a balloon target).
 *   All default to no-ops.
 */
export const toolstackMachine = setup({
  types: { events: {} as ToolstackEvent },
  actions: {
    /** Starts a build: provide it. */
    launch: (_: { event: ToolstackEvent }) => {},
    /** Populates one batch of a build: provide it. */
    populate: (_: { event: ToolstackEvent }) => {},
    /** Sets a balloon guest's target: provide it. */
    setTarget: (_: { event: ToolstackEvent }) => {},
  },
}).createMachine({
  id: 'toolstack',
  initial: 'running',
  states: {
    running: {
      on: {
        'toolstack.launch': { actions: 'launch' },
        'toolstack.batch': { actions: 'populate' },
        'toolstack.balloon': { actions: 'setTarget' },
      },
    },
  },
});

/**
 * A guest whose memory grows and shrinks by itself (tmem, in-guest ballooning, shared
 * pages broken on write: the debate's "dynamic allocations"); one machine for every
 * kind (guestSpecs.ts), the kind's behaviour being the provided `step`.
 *
 * - Events received: `guest.step`. Emits none; no timers (the host posts the steps).
 * - Provide: `step` (action: one step of the guest's kind, post the next step).
 */
export const dynamicGuestMachine = setup({
  types: { events: {} as DynamicGuestEvent },
  actions: {
    /** One step of the guest's memory curve: provide it. */
    step: (_: { event: DynamicGuestEvent }) => {},
  },
}).createMachine({
  id: 'dynamicGuest',
  initial: 'running',
  states: { running: { on: { 'guest.step': { actions: 'step' } } } },
});
