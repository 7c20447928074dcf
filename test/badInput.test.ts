/**
 * Bad input, as one table through the CLI (issue 12): every row is a mistake a user
 * can make, and each must give one clear line (what, where, the fix) on stderr with a
 * non-zero exit and no stack trace, and leave nothing half-written. The rows live by
 * area in test/badInput/*.rows.ts.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { BadInputRow } from './badInput/row.ts';
import { BIN } from './isosim.ts';

const rowsDir = join(import.meta.dirname, 'badInput');
const rows: BadInputRow[] = [];
for (const file of readdirSync(rowsDir)
  .filter((f) => f.endsWith('.rows.ts'))
  .sort()) {
  const mod = (await import(join(rowsDir, file))) as { rows: readonly BadInputRow[] };
  rows.push(...mod.rows);
}

function runCli(args: readonly string[], cwd: string, stdin: string | undefined, timeoutMs: number) {
  return new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, CI: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
    child.stdin.end(stdin ?? '');
  });
}

describe('bad input through the CLI', () => {
  test('the table has rows', () => {
    expect(rows.length).toBeGreaterThan(0);
  });
  test.concurrent.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const dir = mkdtempSync(join(tmpdir(), 'isosim-bad-'));
    try {
      await check(row, dir);
    } finally {
      chmodSync(dir, 0o700);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function check(row: BadInputRow, dir: string): Promise<void> {
  const args = row.setup(dir);
  const r = await runCli(args, dir, row.stdin, row.timeoutMs ?? 60_000);
  expect(r.signal, `killed (a hang?)\n${r.err}`).toBeNull();
  if (row.code !== undefined) expect(r.code, r.err).toBe(row.code);
  else expect(r.code, r.err).not.toBe(0);
  expect(r.err, 'a stack trace').not.toMatch(/\n\s+at /);
  const line = r.err.split('\n').find((l) => l.startsWith('error: '));
  expect(line, `no 'error: ' line in:\n${r.err}`).toBeDefined();
  for (const s of row.says) {
    if (typeof s === 'string') expect(line).toContain(s);
    else expect(line).toMatch(s);
  }
  row.after?.(dir);
}
