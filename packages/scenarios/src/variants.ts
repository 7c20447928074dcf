/**
 * Variants of a scenario over the parameters the paper leaves unstated (its `unstated`
 * field, docs/scenarios.md): a dot path picks number fields of the scenario's JSON, and
 * a variant sets every one of them to one plausible value. `isosim paper` runs one
 * variant per (parameter, value), the others left at the scenario's own values, and
 * shows the range of each number over them: its band.
 *
 * Paths: segments separated by dots; a segment is an object key, an array index
 * (0, 1, …) or `*`, every element of an array or every key of an object. A path
 * without `*` may end at a field its object leaves unset (a bulk transfer's
 * `windowSegments`), which the variant then sets; with `*` only fields that are there
 * match, so `domains.*.workloads.*.timeoutS` sets the web workloads' and passes the
 * others by. A key with a dot in it cannot be named (but `*` reaches it).
 */
import { IsosimError } from '@isosim/core';
import { MODEL_DEFAULTS } from './schema.ts';

export type Key = string | number;

/** A value an unstated parameter takes: a number, or a switch (`spread`). */
export type UnstatedValue = number | boolean;

/** A field a path matched: its keys from the top, and its value (undefined: unset). */
export interface Leaf {
  readonly keys: readonly Key[];
  readonly value: unknown;
}

/** What a variant needs of an unstated parameter. */
export interface Param {
  readonly name: string;
  readonly path: string;
  /**
   * Fields beside each matched one, scaled by new / old value of it: `['sliceMs']`
   * with a path to `periodMs` changes an SEDF period and keeps the share.
   */
  readonly scale?: readonly string[];
}

const INDEX = /^(0|[1-9]\d*)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The fields of `data` that `path` matches, in document order. */
export function matchPath(data: unknown, path: string): Leaf[] {
  const segments = path.split('.');
  const wild = segments.includes('*');
  let at: Leaf[] = [{ keys: [], value: data }];
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    const next: Leaf[] = [];
    for (const { keys, value } of at) {
      if (Array.isArray(value)) {
        if (seg === '*') {
          value.forEach((v, j) => {
            next.push({ keys: [...keys, j], value: v });
          });
        } else if (INDEX.test(seg) && Number(seg) < value.length) {
          next.push({ keys: [...keys, Number(seg)], value: value[Number(seg)] });
        }
      } else if (isObject(value)) {
        if (seg === '*')
          for (const k of Object.keys(value)) next.push({ keys: [...keys, k], value: value[k] });
        else if (Object.hasOwn(value, seg)) next.push({ keys: [...keys, seg], value: value[seg] });
        else if (last && !wild) next.push({ keys: [...keys, seg], value: undefined });
      }
    }
    at = next;
  });
  return at;
}

/** A value as part of a scenario name: `231.5` → `231p5`, `-1e-7` → `m1em7`, `true`. */
export function numberSlug(value: UnstatedValue): string {
  return String(value).toLowerCase().replace(/\./g, 'p').replace(/-/g, 'm').replace(/\+/g, '');
}

/**
 * The name of the variant of scenario `base` with `param` = `value`:
 * `table1-sedfdc--timeouts-5`. Valid as a scenario name (lower-case letters, digits
 * and dashes, at most 64: the scenario's part is cut if need be) and distinct for
 * distinct (parameter, value) pairs of one scenario, whose parameter names differ
 * ignoring case.
 */
export function variantName(base: string, param: string, value: UnstatedValue): string {
  const suffix = `--${param.toLowerCase()}-${numberSlug(value)}`;
  return `${base.slice(0, Math.max(1, 64 - suffix.length))}${suffix}`;
}

/**
 * The scenario JSON `raw` with every field `param.path` matches set to `value`, named
 * by `variantName` and without `unstated` (a variant is one point of the band). `raw`
 * is not changed: the variant is a deep copy (through JSON, as the file was read: a
 * key such as `__proto__` stays an own key). Throws if the path matches nothing.
 *
 * Not immer's `produce` (tried, issue 14): its variants would share the unchanged parts
 * with `raw` and freeze them, `raw`'s own objects included, so a write to a variant
 * would throw where it now changes only the variant; and on a draft a write to an own
 * `__proto__` key goes to Object's `__proto__` setter and is silently dropped. A
 * scenario is a few KB and a band has a few variants: the copy costs nothing that
 * sharing would save.
 */
export function makeVariant(raw: unknown, param: Param, value: UnstatedValue): Record<string, unknown> {
  const copy = setUnstated(raw, param, value);
  const name = typeof copy.name === 'string' ? copy.name : 'scenario';
  copy.name = variantName(name, param.name, value);
  const description = typeof copy.description === 'string' ? `${copy.description} ` : '';
  copy.description = `${description}Variant: ${param.name} = ${value} (${param.path}).`;
  delete copy.unstated;
  return copy;
}

/**
 * A deep copy of the scenario JSON `raw` with every field `param.path` matches set to
 * `value` and each of its `scale` fields scaled by new / old value: what a variant
 * changes, without renaming it (a sweep's `unstated` parameter, docs/sweeps.md). Throws
 * if the path matches nothing.
 */
export function setUnstated(raw: unknown, param: Param, value: UnstatedValue): Record<string, unknown> {
  if (!isObject(raw)) throw new IsosimError('variant', 'scenario', 'is not a JSON object', 'give a scenario');
  const leaves = matchPath(raw, param.path);
  const name = typeof raw.name === 'string' ? raw.name : 'scenario';
  if (leaves.length === 0) {
    throw new IsosimError(
      name,
      `unstated ${param.name}`,
      `the path ${param.path} matches nothing`,
      'give a dot path to number fields of the scenario (docs/scenarios.md)',
    );
  }
  const copy = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
  for (const { keys } of leaves) {
    let parent: unknown = copy;
    for (const k of keys.slice(0, -1)) parent = (parent as Record<Key, unknown>)[k];
    const old = (parent as Record<Key, unknown>)[keys[keys.length - 1]];
    for (const field of param.scale ?? []) {
      const sibling = (parent as Record<Key, unknown>)[field];
      if (
        typeof old === 'number' &&
        typeof value === 'number' &&
        old !== 0 &&
        typeof sibling === 'number' &&
        Object.hasOwn(parent as object, field)
      )
        (parent as Record<string, unknown>)[field] = Math.round(((sibling * value) / old) * 1e6) / 1e6;
    }
    // defineProperty, not assignment: a key named `__proto__` stays a plain key.
    Object.defineProperty(parent, keys[keys.length - 1], {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** The raw value at `path` in parsed JSON (own properties only), or undefined. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * The scenario's own values at the fields `path` matches in `raw`, each once: read in
 * `parsed` (the checked scenario, with the schema's defaults filled in), or, for a
 * field left to the model, its default (MODEL_DEFAULTS); undefined if neither has one.
 */
export function ownValues(raw: unknown, parsed: unknown, path: string): unknown[] {
  const own = matchPath(raw, path).map(({ keys }) => {
    const last = keys[keys.length - 1];
    const fallback =
      typeof last === 'string' && Object.hasOwn(MODEL_DEFAULTS, last) ? MODEL_DEFAULTS[last] : undefined;
    return valueAt(parsed, keys) ?? fallback;
  });
  return [...new Set(own)];
}

/**
 * Whether `value` is what the scenario already has at every field `path` matches: such
 * a variant would repeat the scenario's own run.
 */
export function isOwnValue(raw: unknown, parsed: unknown, path: string, value: UnstatedValue): boolean {
  const own = ownValues(raw, parsed, path);
  return own.length === 1 && own[0] === value;
}
