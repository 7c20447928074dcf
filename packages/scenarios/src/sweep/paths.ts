/**
 * Paths into JSON documents, for sweeps: which fields of a scenario a parameter sets,
 * and which number of metrics.json a sweep records. The syntax (docs/sweeps.md):
 *
 * - `key` and `.key`: an object's field (any characters but `.`, `[`, `]` and `"`);
 * - `["key"]`: a field with any name, as a JSON string;
 * - `[N]`: the N-th element of a list, from 0;
 * - `[field=value]`: the one element of a list whose `field` is `value` (compared as
 *   text; `value` runs to the `]`, or is a JSON string), e.g. `domains[name=Dom-1]`;
 * - `[*]` or `.*`: every element of a list (or every field of an object).
 */

/** One step of a path. */
export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'match'; readonly field: string; readonly value: string }
  | { readonly kind: 'all' };

/** Where a path went wrong: the problem and the fix, for an `IsosimError`. */
export class PathError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}; ${fix}`);
  }
}

const SYNTAX_FIX =
  'write keys joined by dots, [N] for a list element, [field=value] to pick one by a field, [*] for all, ["key"] for odd keys (docs/sweeps.md)';

/** Reads a JSON string starting at `text[i]` (a `"`); returns it and the index after it. */
function jsonString(text: string, i: number): [string, number] {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  if (j >= text.length) throw new PathError(`an unclosed string at character ${i + 1}`, SYNTAX_FIX);
  try {
    return [JSON.parse(text.slice(i, j + 1)) as string, j + 1];
  } catch {
    throw new PathError(`a bad JSON string at character ${i + 1}`, SYNTAX_FIX);
  }
}

/** The steps of `path`; throws `PathError` for bad syntax. */
export function parsePath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '[') {
      const inner = i + 1;
      if (path[inner] === '"') {
        const [key, after] = jsonString(path, inner);
        if (path[after] !== ']')
          throw new PathError(`no ] after the key at character ${inner + 1}`, SYNTAX_FIX);
        steps.push({ kind: 'key', key });
        i = after + 1;
        continue;
      }
      const eq = path.indexOf('=', inner);
      const close = path.indexOf(']', inner);
      if (close < 0) throw new PathError(`an unclosed [ at character ${i + 1}`, SYNTAX_FIX);
      if (eq >= 0 && eq < close) {
        const field = path.slice(inner, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field))
          throw new PathError(`[${field}=…] does not name a field`, SYNTAX_FIX);
        if (path[eq + 1] === '"') {
          const [value, after] = jsonString(path, eq + 1);
          if (path[after] !== ']')
            throw new PathError(`no ] after the value at character ${eq + 2}`, SYNTAX_FIX);
          steps.push({ kind: 'match', field, value });
          i = after + 1;
        } else {
          steps.push({ kind: 'match', field, value: path.slice(eq + 1, close) });
          i = close + 1;
        }
        continue;
      }
      const body = path.slice(inner, close);
      if (body === '*') steps.push({ kind: 'all' });
      else if (/^(0|[1-9]\d{0,8})$/.test(body)) steps.push({ kind: 'index', index: Number(body) });
      else throw new PathError(`[${body}] is not an index, [field=value] or [*]`, SYNTAX_FIX);
      i = close + 1;
      continue;
    }
    if (c === '.') {
      if (i === 0 || i === path.length - 1 || path[i + 1] === '.' || path[i + 1] === '[')
        throw new PathError(`an empty key at character ${i + 1}`, SYNTAX_FIX);
      i++;
      continue;
    }
    let j = i;
    while (j < path.length && !'.[]"'.includes(path[j])) j++;
    if (j === i) throw new PathError(`an unexpected ${JSON.stringify(c)} at character ${i + 1}`, SYNTAX_FIX);
    const key = path.slice(i, j);
    steps.push(key === '*' ? { kind: 'all' } : { kind: 'key', key });
    i = j;
  }
  if (steps.length === 0) throw new PathError('is empty', SYNTAX_FIX);
  return steps;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A step as text, for messages. */
export function stepText(s: PathStep): string {
  switch (s.kind) {
    case 'key':
      return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s.key) ? `.${s.key}` : `[${JSON.stringify(s.key)}]`;
    case 'index':
      return `[${s.index}]`;
    case 'match':
      return `[${s.field}=${s.value}]`;
    case 'all':
      return '[*]';
  }
}

function pathText(steps: readonly PathStep[]): string {
  const t = steps.map(stepText).join('');
  return t.startsWith('.') ? t.slice(1) : t || '(top level)';
}

/** Up to 8 of an object's keys, for a fix. */
function someKeys(o: Record<string, unknown>): string {
  const keys = Object.keys(o);
  if (keys.length === 0) return 'it has no fields';
  return `it has ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? `, … (${keys.length})` : ''}`;
}

/**
 * The containers and keys `steps` reach in `data`: every match, in document order. The
 * last step may name a field the object lacks when `create` (a scenario's optional field
 * the file leaves out); anything else missing throws `PathError`.
 */
function locate(
  data: unknown,
  steps: readonly PathStep[],
  create: boolean,
): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  let at: { parent: unknown; key: string | number | undefined; value: unknown }[] = [
    { parent: undefined, key: undefined, value: data },
  ];
  steps.forEach((step, n) => {
    const last = n === steps.length - 1;
    const where = pathText(steps.slice(0, n));
    const next: typeof at = [];
    for (const { value } of at) {
      if (step.kind === 'key') {
        if (!isObject(value))
          throw new PathError(
            `${where} is ${Array.isArray(value) ? 'a list' : typeof value}, not an object with ${JSON.stringify(step.key)}`,
            Array.isArray(value) ? 'pick an element first: [N] or [field=value]' : 'end the path before it',
          );
        if (!Object.hasOwn(value, step.key) && !(last && create))
          throw new PathError(`${where} has no field ${JSON.stringify(step.key)}`, someKeys(value));
        next.push({ parent: value, key: step.key, value: value[step.key] });
      } else if (step.kind === 'all') {
        if (Array.isArray(value))
          for (const [j, v] of value.entries()) next.push({ parent: value, key: j, value: v });
        else if (isObject(value))
          for (const [k, v] of Object.entries(value)) next.push({ parent: value, key: k, value: v });
        else
          throw new PathError(`${where} is ${typeof value}, not a list or object`, 'end the path before [*]');
      } else {
        if (!Array.isArray(value))
          throw new PathError(
            `${where} is ${isObject(value) ? 'an object' : typeof value}, not a list`,
            isObject(value) ? `use .key: ${someKeys(value)}` : 'end the path before it',
          );
        if (step.kind === 'index') {
          if (step.index >= value.length)
            throw new PathError(
              `${where} has ${value.length} element(s), no [${step.index}]`,
              `give an index from 0 to ${value.length - 1}`,
            );
          next.push({ parent: value, key: step.index, value: value[step.index] });
        } else {
          const hits = value.flatMap((v, j) =>
            isObject(v) && Object.hasOwn(v, step.field) && String(v[step.field]) === step.value ? [j] : [],
          );
          if (hits.length !== 1) {
            const have = value
              .filter((v) => isObject(v) && Object.hasOwn(v, step.field))
              .map((v) => String((v as Record<string, unknown>)[step.field]));
            throw new PathError(
              `${where} has ${hits.length === 0 ? 'no' : hits.length} element(s) with ${step.field} ${JSON.stringify(step.value)}`,
              have.length > 0
                ? `give one of: ${have.slice(0, 8).join(', ')}${hits.length > 1 ? ', or pick by [N]' : ''}`
                : `its elements have no field ${JSON.stringify(step.field)}`,
            );
          }
          next.push({ parent: value, key: hits[0], value: value[hits[0]] });
        }
      }
    }
    at = next;
  });
  return at.map(({ parent, key }) => ({
    parent: parent as Record<string, unknown> | unknown[],
    key: key as string | number,
  }));
}

/** The values `path` reaches in `data` (several with `*`); throws `PathError` if it reaches nothing. */
export function getPath(data: unknown, path: string): unknown[] {
  return locate(data, parsePath(path), false).map(({ parent, key }) =>
    Array.isArray(parent) ? parent[key as number] : parent[key as string],
  );
}

/**
 * A copy of `data` with every field `path` reaches set to `value`. A missing last field
 * of an object is added (the scenario check then says whether it is one); anything
 * else missing throws `PathError`.
 */
export function setPath<T>(data: T, path: string, value: unknown): T {
  const copy = structuredClone(data);
  const hits = locate(copy, parsePath(path), true);
  if (hits.length === 0)
    throw new PathError('reaches no field ([*] over an empty list)', 'give a path to a field');
  for (const { parent, key } of hits) {
    const old = Array.isArray(parent) ? parent[key as number] : parent[key as string];
    if (old !== null && typeof old === 'object')
      throw new PathError(
        `${path} is ${Array.isArray(old) ? 'a list' : 'an object'}, not a value`,
        'give a path to a number, string or true/false field',
      );
    if (Array.isArray(parent)) parent[key as number] = value;
    else parent[key as string] = value;
  }
  return copy;
}
