/**
 * An actor's state over time, read back from a log alone: every `xstate.state` record
 * whose target is the actor, in order. The first step of replay debugging: which
 * state was netback in at 3.2 s, and when did it leave it. A damaged log throws
 * `LogDamageError`: a timeline cut at the damage would be wrong after it.
 */
import { IsosimError, LogDamageError, LogDictionary } from '@isosim/core';
import { scanLog } from '@isosim/core/node';

export interface StateChange {
  readonly seq: number;
  readonly timeNs: number;
  readonly state: string;
}

export function stateTimeline(log: string | Uint8Array, actor: string): StateChange[] {
  const where = typeof log === 'string' ? log : '<memory>';
  const dict = new LogDictionary();
  const out: StateChange[] = [];
  let found = false;
  const scan = scanLog(log, {
    dictionary: dict,
    onRecord(r) {
      if (dict.typeName(r.type) !== 'xstate.state' || dict.name(r.target) !== actor) return undefined;
      found = true;
      out.push({ seq: r.seq, timeNs: r.timeNs, state: dict.name(r.values[0]) });
      return undefined;
    },
  });
  // A timeline cut short by damage would say the actor stays in its last verified state.
  if (scan.damage) throw new LogDamageError(where, scan.damage, `the rest of ${actor}'s timeline`);
  if (!found) {
    const actors = [...new Set(dict.names)].slice(0, 20).join(', ');
    throw new IsosimError(
      where,
      'actor',
      `'${actor}' has no state changes in this log`,
      `names in the log include: ${actors}`,
    );
  }
  return out;
}

/** The actor's state at time `timeNs` (the last change at or before it). */
export function stateAt(timeline: readonly StateChange[], timeNs: number): string | undefined {
  let state: string | undefined;
  for (const c of timeline) {
    if (c.timeNs > timeNs) break;
    state = c.state;
  }
  return state;
}
