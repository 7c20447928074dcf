/**
 * `--until` expressions: a small language for "stop at the first record where …".
 *
 *   expr    := clause ('&&' clause)*
 *   clause  := 'type' '=' NAME | 'source' '=' NAME | 'target' '=' NAME
 *            | 'time' OP SECONDS
 *            | FUNC '(' DOMAIN ')' OP NUMBER
 *            | IDDFUNC '(' DOMAIN ',' DRIVER ')' OP NUMBER
 *            | 'state' '(' ACTOR ')' '=' NAME
 *   FUNC    := combined | own | idd | iddEst | drops
 *   IDDFUNC := combined | idd | iddEst
 *   OP      := > | >= | < | <= | = | !=
 *
 * `combined(Dom-1) > 22`: Dom-1's own CPU plus the driver domains' work for it (ground
 * truth), percent of a CPU over the last second, from XenMon's 100 ms samples in the
 * log; `own`, `idd` (true), `iddEst` (XenMon's estimate) likewise; `drops(Dom-1)` the
 * guest's packet drops so far. With a driver domain after the comma, the driver
 * domains' work is that one's alone (`idd(Dom-1, Dom-blk) > 5`: Dom-blk's work for
 * Dom-1, from XenMon's per-driver samples). Domains are named as in the scenario
 * (`Dom-0` …); their ids are the host's (`hostLayout`: driver domains first).
 */
import { IsosimError, type LogDictionary, type LogHeader, type LogRecord } from '@isosim/core';
import { hostLayout } from './layout.ts';
import type { World } from './world.ts';

// Kept here too for the importers of `query.ts` from before `layout.ts`.
export { domainNames } from './layout.ts';

export type Predicate = (world: World, record: LogRecord, dict: LogDictionary) => boolean;

const OPS: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

export function parseQuery(text: string, header: LogHeader): Predicate {
  const layout = hostLayout(header);
  const names = layout.domains;
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
    m = /^(combined|own|idd|iddEst|drops)\(\s*([^)]*[^)\s])\s*\)\s*(>=|<=|!=|>|<|=)\s*(-?[0-9.]+)$/.exec(c);
    if (m) {
      const [, fn, inner, opText, num] = m;
      // A domain's name may hold a comma: the whole text names a domain if one has that name.
      const comma = inner.lastIndexOf(',');
      const split = !names.includes(inner) && comma >= 0;
      const dom = split ? inner.slice(0, comma).trim() : inner;
      const id = domain(dom);
      let driver: number | undefined;
      if (split) {
        const drv = inner.slice(comma + 1).trim();
        if (fn === 'own' || fn === 'drops') bad(`${fn}(…) takes one domain, not a driver domain too`);
        driver = domain(drv);
        if (!layout.drivers.includes(driver)) {
          bad(
            `${drv} is not a driver domain (the driver domains: ${layout.drivers.map((x) => names[x]).join(', ')})`,
          );
        }
      }
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
        const s = w.lastSecond(id, driver);
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
