/** A log record as a JSON object, names resolved (the JSON Lines view, `log/jsonl.ts`). */
import type { LogDictionary, LogRecord } from './logReader.ts';

export function recordToJson(rec: LogRecord, dict: LogDictionary): Record<string, unknown> {
  const type = dict.types[rec.type];
  const payload: Record<string, number | string> = {};
  for (let i = 0; i < rec.fieldCount; i++) {
    const f = type.fields[i];
    // A field named `…Name` holds an interned string (a state value, say): show the string.
    payload[f] = f.endsWith('Name') ? dict.name(rec.values[i]) : rec.values[i];
  }
  return {
    seq: rec.seq,
    timeNs: rec.timeNs,
    source: dict.name(rec.source),
    target: dict.name(rec.target),
    type: type.name,
    payload,
  };
}
