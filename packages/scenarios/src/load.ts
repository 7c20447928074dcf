/**
 * Loading scenarios: a built-in by name or a JSON file by path, checked against the
 * schema and then against the rules that span several fields (docs/scenarios.md lists
 * them). Every problem becomes an `IsosimError` naming the file, the field (as a path
 * like `domains[2].workloads[0].rate`), what is wrong and what is allowed, on one line:
 * user strings are shown quoted and escaped, and long ones cut short.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMID_MAX, domainShare, MEMORY_GUEST_KINDS, PROFILES, servedGuests } from '@isosim/actors';
import { IsosimError, MAX_PORTS } from '@isosim/core';
import type { z } from 'zod';
import {
  DOMAIN_NAME,
  LIMITS,
  LimitSchema,
  PAGE_MIB,
  PaperValuesSchema,
  type Scenario,
  ScenarioSchema,
  webWireBytes,
} from './schema.ts';
import { toSystemConfig, vcpuConfig } from './toConfig.ts';
import { makeVariant, matchPath, valueAt } from './variants.ts';

export const BUILTIN_DIR = join(import.meta.dirname, '..', 'scenarios');

export function builtinNames(): string[] {
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** JSON's quoting, plus `\uXXXX` for every invisible character or separator but the space. */
function quote(text: string): string {
  return JSON.stringify(text).replace(/[\p{C}\p{Z}]/gu, (c) => (c === ' ' ? c : codePoint(c, '\\u')));
}

/** `U+00A0` style (or with another prefix, `\u00A0`); `{…}` around astral ones after `\u`. */
function codePoint(c: string, prefix = 'U+'): string {
  const hex = (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return prefix === '\\u' && hex.length > 4 ? `${prefix}{${hex}}` : `${prefix}${hex}`;
}

/** A user's value for a one-line message: strings quoted and escaped, long ones cut. */
export function show(v: unknown): string {
  if (typeof v === 'string') {
    const chars = [...v];
    if (chars.length <= 40) return quote(v);
    return `${quote(chars.slice(0, 32).join(''))}… (${chars.length} characters)`;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** `.key` for plain keys, `["key"]` for any other (spaces, dots, control characters). */
function keyPath(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${show(key)}]`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (out === '' && typeof p === 'string' && /^[A-Za-z_]\w*$/.test(p)) out = p;
    else out += keyPath(String(p));
  }
  return out || '(top level)';
}

const KINDS: readonly unknown[] = ['web', 'cpu', 'bulk', 'udp'];
const MEMORY_KINDS: readonly unknown[] = MEMORY_GUEST_KINDS;

/**
 * The field's rule, keyed by its path with indices as `[]`, a workload's kind in the
 * brackets and a map's keys as `*`.
 */
function ruleKey(data: unknown, path: readonly PropertyKey[]): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const p = path[i];
    if (typeof p === 'number') {
      const list = path[i - 1] === 'workloads' ? KINDS : path[i - 1] === 'guests' ? MEMORY_KINDS : [];
      const kind = list.length > 0 ? valueAt(data, [...path.slice(0, i + 1), 'kind']) : undefined;
      out += typeof kind === 'string' && list.includes(kind) ? `[${kind}]` : '[]';
    } else if (
      path[i - 1] === 'limitsPct' ||
      (path[i - 1] === 'domains' && path[i - 2] === 'paper') ||
      (path[i - 1] === 'classes' && path[i - 2] === 'containers')
    ) {
      out += '.*';
    } else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

const NAME_RULE =
  'use 1–64 characters: letters, digits, punctuation, symbols and inner spaces; no control or invisible characters, no leading or trailing space';
const SECONDS = `give 0 to ${LIMITS.durationMaxS} s`;
const CONTROL_MS = `give ${LIMITS.controlMinMs} to ${LIMITS.controlMaxMs} ms: a control loop faster than 1 ms only adds events (Credit ticks every 10 ms, XenMon samples every 100 ms); 10 s is Xen SEDF's longest period`;
const LINE = 'and at most what the NIC carries (docs/scenarios.md)';
const UNSTATED_PATH_FIX =
  'give a dot path to number fields: keys, indices from 0, * for every element or key, e.g. domains.*.workloads.*.timeoutS (docs/scenarios.md)';

/** What each field accepts, and why; the fix of any problem with that field. */
const RULES: Readonly<Record<string, string>> = {
  name: 'use 1–64 lower-case letters, digits and dashes, starting with a letter or digit (it names the output directory)',
  'host.pcpus': `give 1 to ${LIMITS.cpus}`,
  domains: `give 1 to ${LIMITS.domains} domains: the driver domain binds an event-channel port per guest queue plus one for the NIC, and Xen's 2-level event-channel ABI has ${MAX_PORTS} ports (64-bit)`,
  'domains[].name': NAME_RULE,
  'domains[].vcpus': `give 1 to ${LIMITS.cpus} vCPUs`,
  'domains[].vcpus[].pcpu': `give a pCPU index 0..${LIMITS.cpus - 1} (below host.pcpus)`,
  'domains[].vcpus[].sedf.periodMs': `give ${LIMITS.periodMinMs} to ${LIMITS.periodMaxMs} ms: Xen SEDF's PERIOD_MIN (10 µs) and PERIOD_MAX (10 s)`,
  'domains[].vcpus[].sedf.sliceMs': `give 0 (slack time only, with extratime) or ${LIMITS.sliceMinMs} ms (Xen SEDF's SLICE_MIN, 5 µs) up to periodMs`,
  'domains[].vcpus[].credit.weight': "give a whole number 1..65535 (Xen's weights are 16-bit)",
  'domains[].vcpus[].credit.capPct':
    'give 0 (no cap) or a percentage of one pCPU up to 100, in hundredths such as 10.25',
  durationS: `give ${LIMITS.durationMinS} to ${LIMITS.durationMaxS} s`,
  'window.startS': SECONDS,
  'window.endS': `give more than 0 and at most ${LIMITS.durationMaxS} s`,
  'mechanisms.debt.feedbackMs': CONTROL_MS,
  'mechanisms.shareGuard.periodMs': CONTROL_MS,
  'mechanisms.shareGuard.limitsPct': `name guests: ${NAME_RULE}`,
  'mechanisms.shareGuard.limitsPct.*':
    "give a percentage of one CPU above 0 and at most 100, below the driver domain's share",
  'paper.domains': `name domains: ${NAME_RULE}`,
  seed: 'give a whole number 0..9007199254740991',
  unstated: `give at most ${LIMITS.unstated} unstated parameters: isosim paper runs a variant for each value`,
  'unstated[].name':
    'give 1–24 letters and digits, starting with a letter, such as timeoutS (it names the variants)',
  'unstated[].path': `${UNSTATED_PATH_FIX}; at most ${LIMITS.unstatedPathChars} characters`,
  'unstated[].values': `give 1 to ${LIMITS.unstatedValues} numbers: the plausible values, one variant each`,
  'unstated[].values[]': 'give a number, or true or false for a switch',
  'unstated[].source': 'say where the values come from (a non-empty string)',
  'domains[].containers.classes.*.sharePct':
    'give a whole percent, 1 to 100 (the shares add up to at most 100)',
  'domains[].containers.queuePackets': `give a whole number of packets, 1 to ${LIMITS.lrpQueueMax}`,
};

const CLASS_RULE =
  'use 1–32 lower-case letters, digits and dashes, starting with a letter (premium, best-effort)';

function workloadRule(kind: string, field: string): string | undefined {
  switch (field) {
    case 'startS':
      return SECONDS;
    case 'stopS':
      return `give more than 0 and at most ${LIMITS.durationMaxS} s, after startS`;
    case 'vcpu':
      return "give a vCPU index of the domain (0 = its first) or 'spread'";
    case 'rate':
      return kind === 'web'
        ? `give connections per second, at least ${LIMITS.rateMin} ${LINE}: at most ${LIMITS.webRateMax} for the smallest files`
        : `give packets per second, at least ${LIMITS.rateMin} ${LINE}: at most ${LIMITS.udpRateMax} for 64-byte packets`;
    case 'fileBytes':
      return `give 1 to ${LIMITS.fileBytesMax} bytes (100 MiB)`;
    case 'timeoutS':
      return `give ${LIMITS.timeoutMinS} to ${LIMITS.durationMaxS} s`;
    case 'bytes':
      return 'give 64 to 1514 bytes (an Ethernet frame)';
    case 'clientClass':
      return `give one of the guest's containers.classes: ${CLASS_RULE}`;
    case 'windowSegments':
      return `give 1 to ${LIMITS.windowSegmentsMax} segments: a TCP sender keeps at most its send buffer in flight, Linux's tcp_wmem max 4 MiB / MSS 1448 bytes`;
    default:
      return undefined;
  }
}

const PAGES_FIX = 'give a multiple of 1/256 MiB (4 KiB)';
const MIB_MAX = `${LIMITS.memoryMaxMiB} MiB (16 TiB)`;

/** What a field of the memory block accepts (keyed as `ruleKey` makes it). */
function memoryRule(key: string): string | undefined {
  const field = key.slice(key.lastIndexOf('.') + 1);
  switch (field) {
    case 'guests':
    case 'launches':
      return `give at most ${LIMITS.memoryDomains}: memory domains get Xen domain ids after the scenario's domains, up to ${DOMID_MAX} (0x7FEF)`;
    case 'targets':
      return `give at most ${LIMITS.balloonTargets} targets`;
    case 'totalMiB':
      return `give more than 0 and at most ${MIB_MAX}, in whole 4 KiB pages (a multiple of 1/256 MiB)`;
    case 'batchMiB':
      return `give 1/256 MiB (one page) to ${LIMITS.batchMaxMiB} MiB (a 1 GiB extent), in whole pages`;
    case 'batchMs':
      return `give ${LIMITS.batchMinMs} to ${LIMITS.batchMaxMs} ms: shorter batches only add events`;
    case 'stepMs':
    case 'everyMs':
      return `give ${LIMITS.stepMinMs} to ${LIMITS.stepMaxMs} ms: each step is an event, at most 10,000 a simulated second per guest`;
    case 'periodMs':
      return `give ${LIMITS.stepMinMs} to ${LIMITS.sinePeriodMaxMs} ms`;
    case 'lengthMs':
      return `give 0 to ${LIMITS.stepMaxMs} ms, at most everyMs`;
    case 'offsetMs':
    case 'spreadMs':
      return `give 0 to ${LIMITS.durationMaxS * 1000} ms`;
    case 'atS':
      return `${SECONDS}, at most durationS`;
    case 'swapUsPerPage':
      return `give 0 to ${LIMITS.swapMaxUsPerPage} µs per page`;
    case 'sampleMs':
      return `give at least 1 ms, and at most ${LIMITS.memorySamples} samples over the run`;
    case 'persistentPct':
      return 'give a percent from 0 to 100, in tenths (50, 12.5)';
    case 'count':
      return `give a whole number 1 to ${LIMITS.memoryDomains}`;
    case 'name':
    case 'prefix':
      return NAME_RULE;
    default:
      if (field.endsWith('MiBps'))
        return `give 0 to ${LIMITS.memoryRateMaxMiBps} MiB/s (taken in whole pages per second: MiB/s × 256, rounded)`;
      if (field.endsWith('MiB')) {
        const positive = /(peakMiB|maxMiB|baseMiB|sizeMiB)$/.test(field);
        return `give ${positive ? 'more than 0 and at most' : '0 to'} ${MIB_MAX}, in whole 4 KiB pages (a multiple of 1/256 MiB)`;
      }
      return undefined;
  }
}

function ruleOf(key: string): string | undefined {
  const w = /^domains\[\]\.workloads\[(\w+)\]\.(\w+)$/.exec(key);
  if (w) return workloadRule(w[1], w[2]);
  if (key.startsWith('memory.')) return memoryRule(key);
  return Object.hasOwn(RULES, key) ? RULES[key] : undefined;
}

/** What is wrong with a name, for the message. */
function nameProblem(v: unknown): string {
  if (typeof v !== 'string') return `${show(v)} is not a name`;
  const chars = [...v];
  if (chars.length === 0) return 'is empty';
  if (chars.length > LIMITS.nameChars)
    return `${quote(chars.slice(0, 24).join(''))}… is ${chars.length} characters long`;
  const bad = chars.find((c) => /[\p{C}]/u.test(c) || (/\s/u.test(c) && c !== ' '));
  if (bad !== undefined) {
    return `${show(v)} contains the control, invisible or whitespace character ${codePoint(bad)}`;
  }
  if (v.startsWith(' ') || v.endsWith(' ')) return `${show(v)} starts or ends with a space`;
  return `${show(v)} is not a name`;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): { problem: string; fix: string } {
  const value = valueAt(data, issue.path);
  const key = ruleKey(data, issue.path);
  const rule = ruleOf(key);
  const isName = key === 'domains[].name' || /^memory\..*\.(name|prefix)$/.test(key);
  switch (issue.code) {
    case 'invalid_type':
      return {
        problem: value === undefined ? 'is missing' : `${show(value)} is not a ${issue.expected}`,
        fix: rule ?? `give a ${issue.expected}`,
      };
    case 'unrecognized_keys':
      return {
        problem: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => (/^[A-Za-z_][\w-]*$/.test(k) ? k : show(k))).join(', ')}`,
        fix: 'remove it or check its spelling (docs/scenarios.md)',
      };
    case 'invalid_value':
      return {
        problem: `${show(value)} is not allowed`,
        fix: `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'invalid_union':
      if (
        /^memory\.guests\[\w*\]$/.test(key) ||
        (key.startsWith('memory.guests[') && key.endsWith('.kind'))
      ) {
        const kind = valueAt(data, [...issue.path.slice(0, 3), 'kind']);
        return {
          problem:
            kind === undefined ? 'kind is missing' : `kind ${show(kind)} is not a kind of memory guest`,
          fix: "give 'kind': sine, balloon, tmem or sharing, and that kind's fields (docs/scenarios.md)",
        };
      }
      if (/workloads\[\w*\]$/.test(key) || key.endsWith('.kind')) {
        return {
          problem: issue.message,
          fix: "check 'kind': web, cpu, bulk or udp, and that kind's fields",
        };
      }
      if (/^unstated\[\d+\]\.values\[\d+\]$/.test(fieldPath(issue.path)))
        return { problem: `${show(value)} is neither a number nor true or false`, fix: rule ?? '' };
      return { problem: `${show(value)} is not allowed`, fix: rule ?? 'see docs/scenarios.md' };
    case 'too_small':
    case 'too_big': {
      const line = issue.code === 'too_big' ? lineRateBound(data, issue.path) : undefined;
      if (line !== undefined) return { problem: `${show(value)} ${line.problem}`, fix: line.fix };
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      let problem: string;
      if (isName) problem = nameProblem(value);
      else if (Array.isArray(value))
        problem = value.length === 0 ? 'is empty' : `has ${value.length} entries`;
      else if (typeof value === 'string') problem = `${show(value)} is ${[...value].length} characters long`;
      else
        problem = `${show(value)} is ${issue.code === 'too_small' ? 'below the least' : 'above the most'} allowed, ${String(bound)}`;
      return {
        problem,
        fix: rule ?? (issue.code === 'too_small' ? `give at least ${bound}` : `give at most ${bound}`),
      };
    }
    case 'not_multiple_of':
      if (issue.divisor === PAGE_MIB && typeof value === 'number')
        return { problem: pagesProblem(value), fix: PAGES_FIX };
      return {
        problem:
          issue.divisor === 0.01
            ? `${show(value)} has more than two decimals`
            : issue.divisor === 0.1
              ? `${show(value)} has more than one decimal`
              : `${show(value)} is not a multiple of ${issue.divisor}`,
        fix: rule ?? `give a multiple of ${issue.divisor}`,
      };
    case 'invalid_key': {
      const k = issue.path.at(-1);
      if (issue.path.at(-2) === 'classes')
        return { problem: `the class name ${show(k)} is not allowed`, fix: CLASS_RULE };
      return { problem: `the key ${nameProblem(k)}`, fix: NAME_RULE };
    }
    case 'invalid_format':
      return {
        problem: isName ? nameProblem(value) : `${show(value)} is not allowed`,
        fix: rule ?? 'see docs/scenarios.md',
      };
    default:
      return { problem: issue.message, fix: rule ?? 'see docs/scenarios.md' };
  }
}

function fail(where: string, path: readonly PropertyKey[], problem: string, fix: string): never {
  throw new IsosimError(where, fieldPath(path), problem, fix);
}

/**
 * A map keyed by domain names, as JSON.parse made it: every own key kept (zod's record
 * drops `__proto__`), each key a name and each value checked by `value`; the result has
 * no prototype, so no name reads anything inherited.
 */
function nameMap<T>(
  data: unknown,
  path: readonly PropertyKey[],
  value: z.ZodType<T>,
  where: string,
): Record<string, T> {
  const raw = valueAt(data, path);
  const out = Object.create(null) as Record<string, T>;
  if (raw === null || typeof raw !== 'object') return out;
  for (const k of Object.keys(raw)) {
    if (!DOMAIN_NAME.test(k)) fail(where, [...path, k], `the key ${nameProblem(k)}`, NAME_RULE);
    const r = value.safeParse((raw as Record<string, unknown>)[k]);
    if (!r.success) {
      const issue = r.error.issues[0];
      const { problem, fix } = describeIssue({ ...issue, path: [...path, k, ...issue.path] }, data);
      fail(where, [...path, k, ...issue.path], problem, fix);
    }
    out[k] = r.data;
  }
  return out;
}

/**
 * The most a web or UDP workload may ask: what the NIC's line rate carries for its
 * file or packet size, or undefined if `w` is not such a workload (yet).
 */
function rateLimit(
  w: { kind?: unknown; rate?: unknown; fileBytes?: unknown; bytes?: unknown },
  lineBps: number,
  nic: string,
): { rate: number; max: number; problem: string; fix: string } | undefined {
  if (typeof w.rate !== 'number') return undefined;
  let bytes: number;
  let what: string;
  if (w.kind === 'web' && typeof w.fileBytes === 'number' && w.fileBytes >= 1) {
    const wire = webWireBytes(w.fileBytes);
    bytes = Math.max(wire.toClient, wire.toHost);
    what = `connections/s of ${w.fileBytes}-byte files need ${fmtBps(w.rate * bytes * 8)} (${bytes} bytes per connection one way)`;
  } else if (w.kind === 'udp' && typeof w.bytes === 'number' && w.bytes >= 1) {
    bytes = w.bytes;
    what = `packets/s of ${bytes} bytes need ${fmtBps(w.rate * bytes * 8)}`;
  } else return undefined;
  const max = lineBps / 8 / bytes;
  return { rate: w.rate, max, problem: what, fix: `give at most ${fmtRate(max)}: ${nic} carries no more` };
}

function nicOf(profileName: unknown): { lineBps: number; nic: string } {
  const profile =
    typeof profileName === 'string' && Object.hasOwn(PROFILES, profileName)
      ? PROFILES[profileName]
      : PROFILES['p4-2.8'];
  return {
    lineBps: profile.lineRateBps,
    nic: `the host's ${fmtBps(profile.lineRateBps)} NIC (profile ${profile.name})`,
  };
}

/** For a rate above the schema's maximum: the bound for this workload's size. */
function lineRateBound(
  data: unknown,
  path: readonly PropertyKey[],
): { problem: string; fix: string } | undefined {
  if (path.at(-1) !== 'rate' || path.at(-3) !== 'workloads') return undefined;
  const w = valueAt(data, path.slice(0, -1));
  if (w === null || typeof w !== 'object') return undefined;
  const { lineBps, nic } = nicOf(valueAt(data, ['host', 'profile']));
  return rateLimit(w as Record<string, unknown>, lineBps, nic);
}

const fmtBps = (bps: number): string =>
  bps >= 1e9 ? `${+(bps / 1e9).toPrecision(4)} Gbit/s` : `${+(bps / 1e6).toPrecision(4)} Mbit/s`;
const fmtRate = (r: number): string => String(r >= 10 ? Math.floor(r) : Math.floor(r * 1000) / 1000);

/** Checks parsed JSON against the schema and the cross-field rules (docs/scenarios.md). */
export function parseScenario(data: unknown, where: string): Scenario {
  const r = ScenarioSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const { problem, fix } = describeIssue(issue, data);
    fail(where, issue.path, problem, fix);
  }
  const s = r.data;
  if (s.mechanisms.shareGuard) {
    s.mechanisms.shareGuard.limitsPct = nameMap(
      data,
      ['mechanisms', 'shareGuard', 'limitsPct'],
      LimitSchema,
      where,
    );
  }
  if (s.paper) s.paper.domains = nameMap(data, ['paper', 'domains'], PaperValuesSchema, where);

  const idds = s.domains.filter((d) => d.role === 'idd');
  if (idds.length === 0) {
    fail(where, ['domains'], "no domain has role 'idd'", "give at least one driver domain (role: 'idd')");
  }
  const owners = checkDevices(s, where);
  checkContainers(s, where);
  const idd = owners.get('nic0') ?? idds[0];
  const pcpus = s.host.pcpus ?? PROFILES[s.host.profile].pcpus;
  const { lineBps, nic } = nicOf(s.host.profile);
  const names = new Map<string, number>();
  /** Per pCPU: SEDF reservations so far (fraction of the pCPU) and whose. */
  const reserved = new Map<number, { total: number; who: string[] }>();
  let inboundBps = 0;
  let ports = 1; // the NIC's interrupt on the driver domain's channels
  s.domains.forEach((d, i) => {
    if (d.name.normalize('NFC') !== d.name) {
      fail(
        where,
        ['domains', i, 'name'],
        `${show(d.name)} is not in Unicode normal form C`,
        'write it composed (NFC), so that it matches the same name typed elsewhere',
      );
    }
    const first = names.get(d.name);
    if (first !== undefined) {
      fail(
        where,
        ['domains', i, 'name'],
        `${show(d.name)} is also the name of domains[${first}]`,
        'give each domain its own name',
      );
    }
    names.set(d.name, i);
    if (d.role === 'guest') ports += Math.max(1, Math.min(d.vcpus.length, idd.vcpus.length));
    d.vcpus.forEach((v, j) => {
      const at = ['domains', i, 'vcpus', j];
      if (v.pcpu >= pcpus)
        fail(where, [...at, 'pcpu'], `pCPU ${v.pcpu} does not exist`, `the host has pCPUs 0..${pcpus - 1}`);
      if (s.host.scheduler === 'sedf') {
        if (v.credit !== undefined) {
          fail(
            where,
            [...at, 'credit'],
            "is a Credit parameter, but the host's scheduler is 'sedf'",
            "remove it, or set host.scheduler to 'credit'",
          );
        }
        if (v.sedf === undefined) {
          fail(where, [...at, 'sedf'], 'is missing', "give { sliceMs, periodMs } for the 'sedf' scheduler");
        }
        const { sliceMs, periodMs, extratime } = v.sedf;
        if (sliceMs > periodMs) {
          fail(
            where,
            [...at, 'sedf', 'sliceMs'],
            `${sliceMs} ms is longer than periodMs ${periodMs}`,
            'give a slice of at most its period',
          );
        }
        if (sliceMs === 0 && !extratime) {
          fail(
            where,
            [...at, 'sedf', 'sliceMs'],
            'is 0 without extratime: the vCPU would never run',
            'give a slice, or extratime: true',
          );
        }
        const share = sliceMs / periodMs;
        const p = reserved.get(v.pcpu) ?? { total: 0, who: [] };
        p.total += share;
        if (share > 0) p.who.push(`${show(d.name)} ${+(100 * share).toFixed(2)}%`);
        reserved.set(v.pcpu, p);
        if (p.total > 1 + 1e-9) {
          const who =
            p.who.length > 4
              ? `${p.who.slice(0, 3).join(', ')}, … (${p.who.length} vCPUs)`
              : p.who.join(', ');
          fail(
            where,
            [...at, 'sedf'],
            `pCPU ${v.pcpu}'s SEDF reservations add up to ${+(100 * p.total).toFixed(2)}% (${who})`,
            'SEDF guarantees every slice only if they fit in 100% of a pCPU: shorten slices, lengthen periods or move a vCPU',
          );
        }
      } else {
        if (v.sedf !== undefined) {
          fail(
            where,
            [...at, 'sedf'],
            "is an SEDF parameter, but the host's scheduler is 'credit'",
            "remove it (give credit: { weight, capPct }), or set host.scheduler to 'sedf'",
          );
        }
        const cap = v.credit?.capPct ?? 0;
        if (Math.round(cap * 100) / 100 !== cap) {
          fail(
            where,
            [...at, 'credit', 'capPct'],
            `${cap} has more than two decimals`,
            RULES['domains[].vcpus[].credit.capPct'],
          );
        }
      }
    });
    if (d.role === 'idd' && d.workloads.length > 0) {
      fail(
        where,
        ['domains', i, 'workloads'],
        'the driver domain runs no workloads here',
        'move them to a guest',
      );
    }
    d.workloads.forEach((w, j) => {
      const at = ['domains', i, 'workloads', j];
      if (w.stopS !== undefined && w.stopS <= w.startS) {
        fail(
          where,
          [...at, 'stopS'],
          `${w.stopS} is not after startS ${w.startS}`,
          'give a stop time after the start',
        );
      }
      if (typeof w.vcpu === 'number' && w.vcpu >= d.vcpus.length) {
        fail(
          where,
          [...at, 'vcpu'],
          `vCPU ${w.vcpu} does not exist`,
          `the domain has vCPUs 0..${d.vcpus.length - 1}; or give 'spread'`,
        );
      }
      const limit = w.kind === 'web' || w.kind === 'udp' ? rateLimit(w, lineBps, nic) : undefined;
      if (limit !== undefined && limit.rate > limit.max) {
        fail(where, [...at, 'rate'], `${show(limit.rate)} ${limit.problem}`, limit.fix);
      }
      if (w.kind === 'web' && w.rate * w.timeoutS > LIMITS.webConnections) {
        fail(
          where,
          [...at, 'timeoutS'],
          `${show(w.timeoutS)} s at ${show(w.rate)} connections/s keeps up to ${Math.ceil(w.rate * w.timeoutS)} connections open`,
          `give rate × timeoutS at most ${LIMITS.webConnections}: httperf opens each connection from its own client port, and ports are 16 bits`,
        );
      }
      if (w.kind === 'web') inboundBps += w.rate * webWireBytes(w.fileBytes).toHost * 8;
      if (w.kind === 'udp' && w.direction === 'receive') inboundBps += w.rate * w.bytes * 8;
      if (inboundBps > lineBps * (1 + 1e-12)) {
        fail(
          where,
          [...at, 'rate'],
          `with this workload the clients send the host ${fmtBps(inboundBps)} (web requests and UDP received, all workloads counted as if at once)`,
          `${nic} receives at most ${fmtBps(lineBps)}: lower the rates`,
        );
      }
    });
  });
  if (ports > MAX_PORTS) {
    fail(
      where,
      ['domains'],
      `the driver domain would need ${ports} event-channel ports (one per guest queue, one for the NIC)`,
      `Xen's 2-level event-channel ABI has ${MAX_PORTS} (64-bit): give fewer guests, or fewer driver-domain vCPUs`,
    );
  }
  const sg = s.mechanisms.shareGuard;
  const shareOf = (d: Scenario['domains'][number]) =>
    domainShare(s.host.scheduler, { vcpus: d.vcpus.map(vcpuConfig) });
  const driving = new Set(owners.values());
  (s.mechanisms.debt?.drivers ?? []).forEach((n, i) => {
    if (!idds.some((d) => d.name === n)) {
      fail(
        where,
        ['mechanisms', 'debt', 'drivers', i],
        `${show(n)} is not a driver domain`,
        `use one of: ${idds.map((d) => show(d.name)).join(', ')}`,
      );
    }
  });
  if (s.mechanisms.charging === '1A') checkDedicated(s, where);
  if (sg) {
    for (const [name, limit] of Object.entries(sg.limitsPct)) {
      const at = ['mechanisms', 'shareGuard', 'limitsPct', name];
      const d = s.domains.find((x) => x.name === name);
      if (d === undefined || d.role === 'idd') {
        const guests = s.domains.filter((x) => x.role === 'guest').map((x) => show(x.name));
        fail(
          where,
          at,
          d === undefined ? 'names no domain' : 'names the driver domain',
          `use a guest: ${guests.length > 5 ? `${guests.slice(0, 5).join(', ')}, …` : guests.join(', ')}`,
        );
      }
      // One number: a limit in every driver domain that drives a device (the only one, with one).
      const perIdd: [Scenario['domains'][number], number, (string | number)[]][] =
        typeof limit === 'number'
          ? (idds.length === 1 ? idds : idds.filter((x) => driving.has(x))).map((x) => [x, limit, at])
          : Object.entries(limit).map(([dn, pct]) => {
              const x = idds.find((y) => y.name === dn);
              if (x === undefined) {
                fail(
                  where,
                  [...at, dn],
                  `${show(dn)} is not a driver domain`,
                  `use one of: ${idds.map((y) => show(y.name)).join(', ')}`,
                );
              }
              return [x, pct, [...at, dn]];
            });
      for (const [x, pct, path] of perIdd) {
        const share = shareOf(x);
        if (!(pct / 100 < share)) {
          fail(
            where,
            path,
            `${pct}% is not below ${idds.length === 1 ? "the driver domain's" : `${show(x.name)}'s`} share, ${+(100 * share).toFixed(2)}%`,
            "give a limit below it: ShareGuard bounds a guest's use of the driver domain (limit < CPUshare_IDD)",
          );
        }
      }
    }
  }
  if (s.window && !(s.window.startS < s.window.endS && s.window.endS <= s.durationS)) {
    fail(
      where,
      ['window'],
      `[${s.window.startS}, ${s.window.endS}] is not inside the run`,
      `give 0 <= startS < endS <= durationS (${s.durationS})`,
    );
  }
  for (const name of Object.keys(s.paper?.domains ?? {})) {
    if (!names.has(name))
      fail(where, ['paper', 'domains', name], 'names no domain', 'use a domain of this scenario');
  }
  checkMemory(s, where);
  checkUnstated(s, data, where);
  return s;
}

/** `0.1 MiB is 25.6 pages`: a size that is not whole 4 KiB pages. */
function pagesProblem(mib: number): string {
  return `${show(mib)} MiB is ${+(mib * 256).toPrecision(12)} pages`;
}

/**
 * The memory block (docs/scenarios.md, "Memory"): sizes in whole pages that fit the
 * host, rates that are whole pages per second, times inside the run, each kind's
 * bounds, names of their own, and domain ids within Xen's.
 */
function checkMemory(s: Scenario, where: string): void {
  const m = s.memory;
  if (m === undefined) return;
  const totalPages = Math.round(m.totalMiB * 256);
  // Every size in whole pages and every positive rate at least one page a second (the
  // schema's multipleOf is checked in decimal digits; this is exact: × 256 is exact).
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i]);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else if (typeof v === 'number') {
      const k = String(path.at(-1));
      if (k.endsWith('MiB') && !Number.isInteger(v * 256)) fail(where, path, pagesProblem(v), PAGES_FIX);
      if (k.endsWith('MiBps') && v > 0 && Math.round(v * 256) === 0)
        fail(
          where,
          path,
          `${show(v)} MiB/s is ${+(v * 256).toPrecision(12)} pages/s, which rounds to 0`,
          'give 0, or at least 1/512 MiB/s (0.001953125): rates are taken in whole pages per second (MiB/s × 256, rounded to the nearest)',
        );
    }
  };
  walk(m, ['memory']);
  const pages = (mib: number) => Math.round(mib * 256);
  const runEnd = (t: number, path: (string | number)[]) => {
    if (t > s.durationS)
      fail(
        where,
        path,
        `${show(t)} s is after the run's end (durationS ${s.durationS})`,
        `give at most ${s.durationS} s, or a longer durationS`,
      );
  };
  const fits = (mib: number, path: (string | number)[], what: string) => {
    if (pages(mib) > totalPages)
      fail(
        where,
        path,
        `${show(mib)} MiB is more than the host's ${m.totalMiB} MiB (memory.totalMiB): ${what}`,
        `give at most ${m.totalMiB} MiB, or a larger memory.totalMiB`,
      );
  };
  const burstsOk = (
    b: { everyMs: number; lengthMs: number; offsetMs?: number },
    path: (string | number)[],
  ) => {
    if (b.lengthMs > b.everyMs)
      fail(
        where,
        [...path, 'lengthMs'],
        `${b.lengthMs} ms is longer than everyMs ${b.everyMs}`,
        'give a burst at most as long as its cycle (everyMs)',
      );
  };

  // Names: their own, and not a domain of `domains`.
  const names = new Map<string, string>();
  s.domains.forEach((d, i) => {
    names.set(d.name, `domains[${i}]`);
  });
  const named = (name: string, path: (string | number)[], what = show(name)) => {
    if (name.normalize('NFC') !== name)
      fail(
        where,
        path,
        `${show(name)} is not in Unicode normal form C`,
        'write it composed (NFC), so that it matches the same name typed elsewhere',
      );
    const first = names.get(name);
    if (first !== undefined)
      fail(
        where,
        path,
        `${what} is also the name of ${first}`,
        'give each domain its own name (memory guests and launches too): it keys tables, plots and metrics.json',
      );
    names.set(name, fieldPath(path.slice(0, -1)));
  };

  let startPages = 0;
  let sharedPages = 0;
  m.guests.forEach((g, i) => {
    const at = ['memory', 'guests', i];
    named(g.name, [...at, 'name']);
    switch (g.kind) {
      case 'sine':
        fits(g.peakMiB, [...at, 'peakMiB'], "the guest's peak");
        if (g.minMiB > g.peakMiB)
          fail(
            where,
            [...at, 'minMiB'],
            `${g.minMiB} MiB is above peakMiB ${g.peakMiB}`,
            'give a minimum of at most the peak',
          );
        startPages += pages(g.minMiB);
        break;
      case 'balloon':
        fits(g.maxMiB, [...at, 'maxMiB'], "the guest's max_pages");
        if (g.initialMiB > g.maxMiB)
          fail(
            where,
            [...at, 'initialMiB'],
            `${g.initialMiB} MiB is above maxMiB ${g.maxMiB}`,
            "give at most maxMiB: the guest's max_pages",
          );
        if (pages(g.rateMiBps) < 1)
          fail(
            where,
            [...at, 'rateMiBps'],
            'is 0: the balloon would never move',
            'give a rate of at least 1/512 MiB/s (one page a second, rounded)',
          );
        g.targets.forEach((t, j) => {
          if (t.targetMiB > g.maxMiB)
            fail(
              where,
              [...at, 'targets', j, 'targetMiB'],
              `${t.targetMiB} MiB is above the guest's maxMiB ${g.maxMiB}`,
              "give a balloon target of at most maxMiB (the guest's max_pages), or raise maxMiB",
            );
          runEnd(t.atS, [...at, 'targets', j, 'atS']);
        });
        startPages += pages(g.initialMiB);
        break;
      case 'tmem': {
        fits(g.baseMiB, [...at, 'baseMiB'], "the guest's own memory");
        const min = g.minMiB ?? g.baseMiB;
        if (min > g.baseMiB)
          fail(
            where,
            [...at, 'minMiB'],
            `${min} MiB is above baseMiB ${g.baseMiB}`,
            'give a self-ballooning floor of at most baseMiB (baseMiB itself: no self-ballooning)',
          );
        if (min < g.baseMiB && pages(g.selfBalloonMiBps ?? 0) < 1)
          fail(
            where,
            [...at, 'selfBalloonMiBps'],
            `${g.selfBalloonMiBps === undefined ? 'is missing' : 'is 0'}, but minMiB ${min} is below baseMiB ${g.baseMiB}: the guest could never shrink to it`,
            'give a self-ballooning rate, or minMiB equal to baseMiB (no self-ballooning)',
          );
        burstsOk(g.bursts, [...at, 'bursts']);
        startPages += pages(g.baseMiB);
        break;
      }
      case 'sharing':
        fits(g.privateMiB + g.sharedMiB, [...at, 'sharedMiB'], 'privateMiB + sharedMiB, what the guest maps');
        burstsOk(g.bursts, [...at, 'bursts']);
        startPages += pages(g.privateMiB);
        sharedPages = Math.max(sharedPages, pages(g.sharedMiB));
        break;
    }
  });
  if (startPages + sharedPages > totalPages) {
    const mib = (p: number) => `${p / 256} MiB`;
    fail(
      where,
      ['memory', 'guests'],
      `the guests start owning ${mib(startPages + sharedPages)}${sharedPages > 0 ? ` (${mib(sharedPages)} of it shared, held once)` : ''}, more than the host's ${m.totalMiB} MiB`,
      'give smaller guests (sine minMiB, balloon initialMiB, tmem baseMiB, sharing privateMiB and the largest sharedMiB) or a larger memory.totalMiB',
    );
  }
  m.launches.forEach((l, i) => {
    const at = ['memory', 'launches', i];
    named(l.name, [...at, 'name']);
    fits(l.sizeMiB, [...at, 'sizeMiB'], "a claim over the host's size can never be granted");
    runEnd(l.atS, [...at, 'atS']);
  });
  const st = m.storm;
  if (st !== undefined) {
    const at = ['memory', 'storm'];
    const longest = `${st.prefix}-${st.count}`;
    if ([...longest].length > LIMITS.nameChars)
      fail(
        where,
        [...at, 'prefix'],
        `${show(longest)}, the storm's last name, is ${[...longest].length} characters long`,
        `give a shorter prefix: names are at most ${LIMITS.nameChars} characters`,
      );
    for (let k = 1; k <= st.count; k++)
      named(`${st.prefix}-${k}`, [...at, 'prefix'], `${show(`${st.prefix}-${k}`)}, a name of the storm,`);
    fits(st.sizeMiB, [...at, 'sizeMiB'], "a claim over the host's size can never be granted");
    const last = st.atS + ((st.count - 1) * st.spreadMs) / 1000;
    if (last > s.durationS)
      fail(
        where,
        [...at, st.count > 1 && st.spreadMs > 0 ? 'spreadMs' : 'atS'],
        `the storm's last launch would be at ${+last.toFixed(6)} s, after the run's end (durationS ${s.durationS})`,
        `give atS + (count − 1) × spreadMs / 1000 at most ${s.durationS} s, or a longer durationS`,
      );
  }
  const count = m.guests.length + m.launches.length + (st?.count ?? 0);
  const lastId = s.domains.length + count - 1;
  if (lastId > DOMID_MAX)
    fail(
      where,
      ['memory', st !== undefined ? 'storm' : m.launches.length > 0 ? 'launches' : 'guests'],
      `${count} memory domains would take domain ids ${s.domains.length} to ${lastId}, past Xen's last, ${DOMID_MAX} (0x7FEF)`,
      `give at most ${DOMID_MAX - s.domains.length + 1} memory guests and launches in all (their ids follow the scenario's ${s.domains.length} domains)`,
    );
  if (m.sampleMs !== undefined && (s.durationS * 1000) / m.sampleMs > LIMITS.memorySamples)
    fail(
      where,
      ['memory', 'sampleMs'],
      `${m.sampleMs} ms gives ${Math.ceil((s.durationS * 1000) / m.sampleMs)} samples over ${s.durationS} s`,
      `give at least ${(s.durationS * 1000) / LIMITS.memorySamples} ms: at most ${LIMITS.memorySamples} samples a run`,
    );
}

/**
 * The unstated parameters: distinct names (ignoring case: they name directories) and
 * values; each path matches number fields (or, without `*`, a field left unset); and
 * every variant is itself a valid scenario (a file size whose rate the NIC cannot
 * carry is refused here, not after the other runs).
 */
function checkUnstated(s: Scenario, data: unknown, where: string): void {
  const seen = new Map<string, number>();
  (s.unstated ?? []).forEach((u, i) => {
    const at = ['unstated', i];
    const first = seen.get(u.name.toLowerCase());
    if (first !== undefined) {
      fail(
        where,
        [...at, 'name'],
        `${show(u.name)} is also the name of unstated[${first}] (ignoring case)`,
        'give each parameter its own name: it names the variants',
      );
    }
    seen.set(u.name.toLowerCase(), i);
    u.values.forEach((v, j) => {
      const k = u.values.indexOf(v);
      if (k !== j) fail(where, [...at, 'values', j], `${v} is also values[${k}]`, 'give each value once');
    });
    const leaves = matchPath(data, u.path);
    if (leaves.length === 0) {
      fail(where, [...at, 'path'], `${show(u.path)} matches nothing in this scenario`, UNSTATED_PATH_FIX);
    }
    // Values are all numbers, or all switches; the fields they set are of that kind.
    const kind = typeof u.values[0];
    u.values.forEach((v, j) => {
      if (typeof v !== kind)
        fail(
          where,
          [...at, 'values', j],
          `${show(v)} is a ${typeof v}, values[0] a ${kind}`,
          'give values of one kind',
        );
    });
    const bad = leaves.find((l) => l.value !== undefined && typeof l.value !== kind);
    if (bad !== undefined) {
      fail(
        where,
        [...at, 'path'],
        `${show(u.path)} matches ${fieldPath(bad.keys)}, which is ${show(bad.value)}, not a ${kind}`,
        UNSTATED_PATH_FIX,
      );
    }
    u.values.forEach((v, j) => {
      try {
        parseScenario(makeVariant(data, u, v), where);
      } catch (err) {
        if (!(err instanceof IsosimError)) throw err;
        fail(
          where,
          [...at, 'values', j],
          `${v} makes the scenario invalid (${err.field}: ${err.problem})`,
          `drop the value, or: ${err.fix}`,
        );
      }
    });
  });
}

/**
 * The disks, the driver domains' devices and the guests' vbds: each device driven by one
 * driver domain, each vbd on a disk through the domain that drives it, each disk job on
 * a vbd the guest has. Returns each device's driver domain by device name.
 */
function checkDevices(s: Scenario, where: string): Map<string, Scenario['domains'][number]> {
  const disks = s.disks ?? [];
  const diskNames = new Map<string, number>();
  disks.forEach((d, i) => {
    const first = diskNames.get(d.name);
    if (first !== undefined || d.name === 'nic0') {
      fail(
        where,
        ['disks', i, 'name'],
        first !== undefined ? `${show(d.name)} is also the name of disks[${first}]` : "'nic0' names the NIC",
        'give each disk its own name',
      );
    }
    diskNames.set(d.name, i);
  });
  const owners = new Map<string, Scenario['domains'][number]>();
  s.domains.forEach((d, i) => {
    if (d.role === 'guest' && d.devices !== undefined) {
      fail(
        where,
        ['domains', i, 'devices'],
        'is for driver domains',
        "remove it, or give the domain role 'idd'",
      );
    }
    if (d.role === 'idd' && d.vbds !== undefined) {
      fail(where, ['domains', i, 'vbds'], 'is for guests', 'remove it: a driver domain has no vbds here');
    }
    (d.devices ?? []).forEach((dev, j) => {
      if (dev !== 'nic0' && !diskNames.has(dev)) {
        fail(
          where,
          ['domains', i, 'devices', j],
          `${show(dev)} is neither the NIC nor a disk`,
          `use 'nic0' or a disk's name (${[...diskNames.keys()].map(show).join(', ') || 'no disks given'})`,
        );
      }
      const o = owners.get(dev);
      if (o !== undefined) {
        fail(
          where,
          ['domains', i, 'devices', j],
          `${show(dev)} is driven by ${show(o.name)} too`,
          'give each device to one driver domain',
        );
      }
      owners.set(dev, d);
    });
  });
  const first = s.domains.find((d) => d.role === 'idd');
  if (first !== undefined)
    for (const dev of ['nic0', ...diskNames.keys()]) if (!owners.has(dev)) owners.set(dev, first);
  s.domains.forEach((d, i) => {
    const vbds = d.vbds ?? [];
    vbds.forEach((v, j) => {
      const at = ['domains', i, 'vbds', j];
      if (!diskNames.has(v.disk)) {
        fail(
          where,
          [...at, 'disk'],
          `${show(v.disk)} names no disk`,
          diskNames.size === 0
            ? 'add the disk to disks'
            : `use one of: ${[...diskNames.keys()].map(show).join(', ')}`,
        );
      }
      if (v.backend !== undefined) {
        const b = s.domains.find((x) => x.name === v.backend);
        if (b === undefined || b.role !== 'idd') {
          fail(
            where,
            [...at, 'backend'],
            b === undefined
              ? `${show(v.backend)} names no domain`
              : `${show(v.backend)} is not a driver domain (role 'idd')`,
            `name the driver domain that drives ${show(v.disk)}: ${show(owners.get(v.disk)?.name ?? '')}`,
          );
        }
        if (owners.get(v.disk) !== b) {
          fail(
            where,
            [...at, 'backend'],
            `${show(v.backend)} does not drive ${show(v.disk)}`,
            `name ${show(owners.get(v.disk)?.name ?? '')}, or list ${show(v.disk)} in ${show(v.backend)}'s devices`,
          );
        }
      }
    });
    d.workloads.forEach((w, j) => {
      if (w.kind !== 'disk' && w.kind !== 'db') return;
      if (w.vbd >= vbds.length) {
        fail(
          where,
          ['domains', i, 'workloads', j, 'vbd'],
          vbds.length === 0 ? 'the guest has no vbd' : `vbd ${w.vbd} does not exist`,
          vbds.length === 0
            ? "give the guest a vbd (vbds: [{ disk: 'sda' }]) and the host a disk"
            : `the guest has vbds 0..${vbds.length - 1}`,
        );
      }
    });
  });
  return owners;
}

/**
 * Resource containers (docs/containers.md): on guests only, 1 to 16 classes whose
 * shares add up to at most 100, `queuePackets` only in mode `lrp`; a guest with containers
 * has one vCPU and web workloads only, each naming one of its classes; a web workload
 * names a class only in a guest with containers.
 */
function checkContainers(s: Scenario, where: string): void {
  s.domains.forEach((d, i) => {
    const at = ['domains', i, 'containers'];
    const c = d.containers;
    if (c !== undefined) {
      if (d.role === 'idd')
        fail(where, at, 'is for guests', 'remove it: a driver domain runs no web server here');
      const names = Object.keys(c.classes);
      if (names.length === 0 || names.length > LIMITS.containerClasses) {
        fail(
          where,
          [...at, 'classes'],
          names.length === 0 ? 'is empty' : `has ${names.length} classes`,
          `give 1 to ${LIMITS.containerClasses} client classes, such as { "premium": { "sharePct": 80 }, "besteffort": { "sharePct": 20 } }`,
        );
      }
      const total = Object.values(c.classes).reduce((n, k) => n + k.sharePct, 0);
      if (total > 100) {
        fail(
          where,
          [...at, 'classes'],
          `the shares add up to ${total}%`,
          "give shares adding up to at most 100% (each is a share of the guest's CPU)",
        );
      }
      if (c.queuePackets !== undefined && c.mode !== 'lrp') {
        fail(
          where,
          [...at, 'queuePackets'],
          `bounds the LRP input queues, but the mode is ${show(c.mode)}`,
          "remove it, or set mode: 'lrp'",
        );
      }
      if (d.vcpus.length !== 1) {
        fail(
          where,
          ['domains', i, 'vcpus'],
          `the guest has ${d.vcpus.length} vCPUs, but its containers are scheduled on one`,
          'give a guest with containers one vCPU (or remove containers)',
        );
      }
    }
    d.workloads.forEach((w, j) => {
      const wat = ['domains', i, 'workloads', j];
      if (c === undefined) {
        if (w.kind === 'web' && w.clientClass !== undefined) {
          fail(
            where,
            [...wat, 'clientClass'],
            `${show(w.clientClass)} is given, but the guest has no containers`,
            'remove it, or give the guest containers: { classes: { … } } (docs/containers.md)',
          );
        }
        return;
      }
      if (w.kind !== 'web') {
        fail(
          where,
          [...wat, 'kind'],
          `${show(w.kind)} is not supported in a guest with containers (its web server's connections are what the containers hold)`,
          'move the workload to another guest, or remove containers',
        );
      }
      if (w.clientClass === undefined || !Object.hasOwn(c.classes, w.clientClass)) {
        fail(
          where,
          [...wat, 'clientClass'],
          w.clientClass === undefined ? 'is missing' : `${show(w.clientClass)} names no class of the guest`,
          `give one of its containers.classes: ${Object.keys(c.classes).map(show).join(', ')}`,
        );
      }
    });
  });
}

/** A built-in name or a path to a JSON scenario file. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtin = builtinNames().includes(nameOrPath);
  const path = builtin ? join(BUILTIN_DIR, `${nameOrPath}.json`) : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new IsosimError(
      path,
      'scenario',
      `cannot read it (${code})`,
      `give a file path or one of: ${builtinNames().join(', ')}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new IsosimError(path, 'JSON', (err as Error).message, 'fix the JSON syntax');
  }
  return parseScenario(data, path);
}

/**
 * Charging policy 1A (a driver domain per guest): every driver domain serves at most
 * one guest (@isosim/actors `servedGuests`: the NIC's serves the guests with network
 * workloads, a disk's the guests with a vbd on it).
 */
function checkDedicated(s: Scenario, where: string): void {
  const idds = s.domains.filter((d) => d.role === 'idd');
  for (const [i, guests] of servedGuests(toSystemConfig(s))) {
    if (guests.length > 1) {
      fail(
        where,
        ['mechanisms', 'charging'],
        `1A charges each guest a driver domain of its own, but ${show(idds[i].name)} serves ${guests.map(show).join(', ')}`,
        'give each guest its own driver domain (a disk each in its own domain; the one NIC for at most one guest), or choose another policy: 1B-1E, 2A-2C',
      );
    }
  }
}
