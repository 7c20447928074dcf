/** docs/log-format.md must state the format as the code writes it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  BLOCK_TRAILER_BYTES,
  DEFAULT_BLOCK_BYTES,
  END_BLOCK_BYTES,
  END_MAGIC,
  FILE_MAGIC,
  LOG_SCHEMA,
  MAX_FIELDS,
} from '../packages/core/src/log/format.ts';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'log-format.md'), 'utf8');
const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

describe('docs/log-format.md', () => {
  it('quotes the constants of the format', () => {
    expect(doc).toContain(`schema ${LOG_SCHEMA}`);
    expect(doc).toContain(`"${new TextDecoder().decode(FILE_MAGIC)}"`);
    expect(doc).toContain(hex(BLOCK_MAGIC));
    expect(doc).toContain(hex(END_MAGIC));
    expect(doc).toContain(`block header, ${BLOCK_HEADER_BYTES} bytes`);
    expect(doc).toContain(`trailer, ${BLOCK_TRAILER_BYTES} bytes`);
    expect(doc).toContain(`${END_BLOCK_BYTES} bytes`);
    expect(doc).toContain(`${DEFAULT_BLOCK_BYTES / 1024} KiB`);
    expect(doc).toContain(`up to ${MAX_FIELDS} integer fields`);
  });

  it('names the magic words as they read in ASCII', () => {
    const ascii = (n: number) => String.fromCharCode(n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24);
    expect(doc).toContain(`("${ascii(BLOCK_MAGIC)}")`);
    expect(doc).toContain(`("${ascii(END_MAGIC)}")`);
  });
});
