/**
 * `--until` expressions: a small language for "stop at the first record where …".
 *
 *   expr    := clause ('&&' clause)*
 *   clause  := 'type' '=' NAME | 'source' '=' NAME | 'target' '=' NAME
 *            | 'time' OP SECONDS
 *            | FUNC '(' DOMAIN ')' OP NUMBER
 *            | 'state' '(' ACTOR ')' '=' NAME
 *   FUNC    := combined | own | idd | iddEst | drops
 *   OP      := > | >= | < | <= | = | !=
 *
 * `combined(Dom-1) > 22`: Dom-1's own CPU plus the driver domain's work for it (ground
 * truth), percent of a CPU over the last second, from XenMon's 100 ms samples in the
 * log; `own`, `idd` (true), `iddEst` (XenMon's estimate) likewise; `drops(Dom-1)` the
 * guest's packet drops so far. Domains are named as in the scenario (`Dom-0` …).
 */
import { IsosimError, type LogDictionary, type LogHeader, type LogRecord } from '@isosim/core';
import type { World } from './world.ts';

export type Predicate = (world: World, record: LogRecord, dict: LogDictionary) => boolean;

const OPS: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** Domain names by id, as the host built them: the driver domain first, then guests in order. */
export function domainNames(header: LogHeader): string[] {
  const spec = (header.scenario as { spec?: { domains?: { name: string; role?: string }[] } }).spec;
  const doms = spec?.domains ?? [];
  const idd = doms.find((d) => d.role === 'idd');
  return [...(idd ? [idd.name] : []), ...doms.filter((d) => d !== idd).map((d) => d.name)];
}

export function parseQuery(text: string, header: LogHeader): Predicate {
  const names = domainNames(header);
  const bad = (problem: string): never => {
    throw new IsosimError(
      '--until',
      text,
      problem,
      "write e.g. 'type=shareguard.block', 'combined(Dom-1) > 22', 'state(nic0)=masked', 'time >= 2.5', joined by &&",
    );
  };
  const domain = (name: string): number => {
    const id = names.indexOf(name);
    if (id < 0) bad(`no domain ${name} in this log (it has ${names.join(', ') || 'no named domains'})`);
    return id;
  };
  const clauses = text.split('&&').map((c) => c.trim());
  const preds: Predicate[] = clauses.map((c) => {
    let m = /^(type|source|target)\s*=\s*(\S+)$/.exec(c);
    if (m) {
      const [, what, name] = m;
      if (what === 'type') return (_w, r, d) => d.typeName(r.type) === name;
      if (what === 'source') return (_w, r, d) => d.name(r.source) === name;
      return (_w, r, d) => d.name(r.target) === name;
    }
    m = /^time\s*(>=|<=|!=|>|<|=)\s*([0-9.]+)$/.exec(c);
    if (m) {
      const op = OPS[m[1]];
      const ns = Math.round(Number(m[2]) * 1e9);
      return (_w, r) => op(r.timeNs, ns);
    }
    m = /^state\(\s*([^)\s]+)\s*\)\s*=\s*(\S+)$/.exec(c);
    if (m) {
      const [, actor, value] = m;
      return (w) => w.actor(actor) === value;
    }
    m = /^(combined|own|idd|iddEst|drops)\(\s*([^)\s]+)\s*\)\s*(>=|<=|!=|>|<|=)\s*(-?[0-9.]+)$/.exec(c);
    if (m) {
      const [, fn, dom, opText, num] = m;
      const id = domain(dom);
      const op = OPS[opText];
      const limit = Number(num);
      if (fn === 'drops') {
        const prefix = `${id}:`;
        return (w) => {
          let n = 0;
          for (const [k, v] of Object.entries(w.s.drops)) if (k.startsWith(prefix)) n += v;
          return op(n, limit);
        };
      }
      return (w) => {
        const s = w.lastSecond(id);
        const ns =
          fn === 'combined'
            ? s.ownNs + s.iddTrueNs
            : fn === 'own'
              ? s.ownNs
              : fn === 'idd'
                ? s.iddTrueNs
                : s.iddEstNs;
        return op(ns / 1e7, limit);
      };
    }
    return bad(`cannot read '${c}'`);
  });
  return (w, r, d) => preds.every((p) => p(w, r, d));
}
