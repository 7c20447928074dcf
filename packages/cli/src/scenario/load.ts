/**
 * Loading scenarios: a built-in by name or a JSON file by path, checked against the
 * schema. Every problem becomes an `IsosimError` naming the file, the field (as a
 * path like `domains[2].workloads[0].rate`) and what is allowed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsosimError } from '@isosim/core';
import type { z } from 'zod';
import { type Scenario, ScenarioSchema } from './schema.ts';

export const BUILTIN_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'scenarios');

export function builtinNames(): string[] {
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): { problem: string; fix: string } {
  switch (issue.code) {
    case 'invalid_type':
      return { problem: issue.message, fix: `give a ${issue.expected}` };
    case 'unrecognized_keys':
      return {
        problem: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`,
        fix: 'remove it or check its spelling (docs/scenarios.md)',
      };
    case 'invalid_value':
      return {
        problem: issue.message,
        fix: `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'invalid_union':
      return { problem: issue.message, fix: "check 'kind': web, cpu, bulk or udp, and that kind's fields" };
    case 'too_small':
      return { problem: issue.message, fix: `give at least ${String(issue.minimum)}` };
    case 'too_big':
      return { problem: issue.message, fix: `give at most ${String(issue.maximum)}` };
    default:
      return { problem: issue.message, fix: 'see docs/scenarios.md' };
  }
}

/** Checks parsed JSON against the schema and the cross-field rules. */
export function parseScenario(data: unknown, where: string): Scenario {
  const r = ScenarioSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const { problem, fix } = describeIssue(issue);
    throw new IsosimError(where, fieldPath(issue.path), problem, fix);
  }
  const s = r.data;
  const idds = s.domains.filter((d) => d.role === 'idd');
  if (idds.length !== 1) {
    throw new IsosimError(
      where,
      'domains',
      `${idds.length} domains have role 'idd'`,
      "give exactly one driver domain (role: 'idd')",
    );
  }
  const pcpus = s.host.pcpus ?? (s.host.profile === 'system-2' ? 2 : 1);
  const names = new Set<string>();
  s.domains.forEach((d, i) => {
    if (names.has(d.name))
      throw new IsosimError(
        where,
        `domains[${i}].name`,
        `'${d.name}' is used twice`,
        'give each domain its own name',
      );
    names.add(d.name);
    d.vcpus.forEach((v, j) => {
      const at = `domains[${i}].vcpus[${j}]`;
      if (v.pcpu >= pcpus)
        throw new IsosimError(
          where,
          `${at}.pcpu`,
          `pCPU ${v.pcpu} does not exist`,
          `the host has pCPUs 0..${pcpus - 1}`,
        );
      if (s.host.scheduler === 'sedf' && v.sedf === undefined) {
        throw new IsosimError(
          where,
          `${at}.sedf`,
          'is missing',
          "give { sliceMs, periodMs } for the 'sedf' scheduler",
        );
      }
    });
    d.workloads.forEach((w, j) => {
      if (w.stopS !== undefined && w.stopS <= w.startS) {
        throw new IsosimError(
          where,
          `domains[${i}].workloads[${j}].stopS`,
          `${w.stopS} is not after startS ${w.startS}`,
          'give a stop time after the start',
        );
      }
    });
    if (d.role === 'idd' && d.workloads.length > 0) {
      throw new IsosimError(
        where,
        `domains[${i}].workloads`,
        'the driver domain runs no workloads here',
        'move them to a guest',
      );
    }
  });
  for (const [name] of Object.entries(s.mechanisms.shareGuard?.limitsPct ?? {})) {
    const d = s.domains.find((x) => x.name === name);
    if (d === undefined || d.role === 'idd') {
      throw new IsosimError(
        where,
        `mechanisms.shareGuard.limitsPct.${name}`,
        'names no guest',
        `use one of ${s.domains
          .filter((x) => x.role === 'guest')
          .map((x) => x.name)
          .join(', ')}`,
      );
    }
  }
  if (s.window && !(s.window.startS < s.window.endS && s.window.endS <= s.durationS)) {
    throw new IsosimError(
      where,
      'window',
      `[${s.window.startS}, ${s.window.endS}] is not inside the run`,
      `give 0 <= startS < endS <= durationS (${s.durationS})`,
    );
  }
  return s;
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
