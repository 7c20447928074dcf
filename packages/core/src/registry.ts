/**
 * Names and event types, interned to small integers so that the kernel and the log
 * move numbers, not strings. Each new entry is defined in the log the moment it is
 * interned, so a reader always meets a definition before its first use.
 *
 * An event type has a fixed shape: a name (namespaced, `'evtchn.upcall'`) and at most
 * four integer payload fields, like a Xen trace record's extra words.
 */
import { InvariantError } from './errors.ts';
import { MAX_FIELDS } from './log/format.ts';
import type { EventLog } from './log/logWriter.ts';

export interface EventType {
  readonly id: number;
  readonly name: string;
  readonly fields: readonly string[];
}

export class Registry {
  private readonly nameList: string[] = [];
  private readonly nameIds = new Map<string, number>();
  private readonly typeList: EventType[] = [];
  private readonly typeIds = new Map<string, number>();
  private log: EventLog | undefined;

  /** Type ids start at 1: 0 is the log's definition tag. */
  constructor(log?: EventLog) {
    this.log = log;
    this.typeList.push({ id: 0, name: '', fields: [] });
  }

  /** Interns a source/target name and returns its id. */
  name(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.nameList.length;
      this.nameList.push(name);
      this.nameIds.set(name, id);
      this.log?.defineName(id, name);
    }
    return id;
  }

  nameOf(id: number): string {
    const n = this.nameList[id];
    if (n === undefined) throw new InvariantError(`no name with id ${id}`);
    return n;
  }

  /** Interns an event type; defining one name twice with different fields is a bug. */
  type(name: string, fields: readonly string[] = []): EventType {
    const known = this.typeIds.get(name);
    if (known !== undefined) {
      const t = this.typeList[known];
      if (t.fields.length !== fields.length || t.fields.some((f, i) => f !== fields[i])) {
        throw new InvariantError(
          `event type ${name} redefined with fields [${fields.join(', ')}], was [${t.fields.join(', ')}]`,
        );
      }
      return t;
    }
    if (fields.length > MAX_FIELDS) {
      throw new InvariantError(`event type ${name} has ${fields.length} fields; at most ${MAX_FIELDS}`);
    }
    const t: EventType = { id: this.typeList.length, name, fields: [...fields] };
    this.typeList.push(t);
    this.typeIds.set(name, t.id);
    this.log?.defineType(t.id, name, t.fields);
    return t;
  }

  typeById(id: number): EventType {
    const t = this.typeList[id];
    if (t === undefined || id === 0) throw new InvariantError(`no event type with id ${id}`);
    return t;
  }

  findType(name: string): EventType | undefined {
    const id = this.typeIds.get(name);
    return id === undefined ? undefined : this.typeList[id];
  }

  get names(): readonly string[] {
    return this.nameList;
  }

  get types(): readonly EventType[] {
    return this.typeList.slice(1);
  }
}
