/**
 * The CLI as a user meets it: bad input gets one clear line naming the field and the
 * fix, a non-zero exit and no stack trace; good input writes a log that reads back.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, isosim } from './isosim.ts';

function expectCleanError(r: { code: number; err: string }, ...needles: string[]): void {
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^error: /);
  expect(r.err).not.toMatch(/\n\s+at /);
  for (const n of needles) expect(r.err).toContain(n);
}

describe('isosim CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isosim-cli-'));

  it('runs the demo, writes the log and result, and prints the same hash for the same seed', () => {
    const a = isosim('demo', '--seed', '5', '--duration', '0.01', '--out', join(dir, 'a'));
    const b = isosim('demo', '--seed', '5', '--duration', '0.01', '--out', join(dir, 'b'));
    expect(a.code).toBe(0);
    const hash = /log hash\s+([0-9a-f]{16})/.exec(a.out)?.[1];
    expect(hash).toBeDefined();
    expect(b.out).toContain(hash);
    const result = JSON.parse(readFileSync(join(dir, 'a', 'result.json'), 'utf8'));
    expect(result.logHash).toBe(hash);
    expect(result.delivered).toBeGreaterThan(0);
    const info = isosim('log', 'info', join(dir, 'a', 'events.isolog'));
    expect(info.code).toBe(0);
    expect(info.out).toContain(`digest    ${hash}`);
  });

  it('exports JSON Lines with a header, records and an end line', () => {
    isosim('demo', '--seed', '2', '--duration', '0.001', '--out', join(dir, 'j'));
    const out = join(dir, 'j', 'events.jsonl');
    expect(isosim('log', 'export', join(dir, 'j', 'events.isolog'), '--jsonl', out).code).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].header.seed).toBe(2);
    expect(lines[1]).toMatchObject({ seq: 0, type: 'xstate.state', payload: { stateName: 'idle' } });
    expect(lines.at(-1).end.complete).toBe(true);
    expect(lines.at(-1).end.records).toBe(lines.length - 2);
  });

  it('reports a damaged log with its position and exit status 1', () => {
    isosim('demo', '--seed', '3', '--duration', '0.005', '--out', join(dir, 'c'));
    const path = join(dir, 'c', 'events.isolog');
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(path, bytes);
    const r = isosim('log', 'info', path);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/damage\s+at byte \d+, record \d+: .*corrupted/);
  });

  it('stops quietly when the reader of its output goes away', () => {
    const r = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${BIN}" run fig6-sedf --duration 2 --out "${join(dir, 'pipe')}" | head -1`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, CI: '1' },
      },
    );
    expect(r.stdout).toMatch(/^fig6-sedf: /);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('rejects bad input with one clear line and no stack trace', () => {
    expectCleanError(isosim('demo', '--seed', '1.5'), '--seed', 'whole number');
    expectCleanError(isosim('demo', '--seed=-3'), '--seed', 'whole number');
    expectCleanError(isosim('demo', '--seed', '-3'), '--seed');
    expectCleanError(isosim('demo', '--duration', '0'), '--duration', 'seconds');
    expectCleanError(isosim('demo', '--duration', 'soon'), '--duration');
    expectCleanError(isosim('demo', '--bogus'), "Unknown option '--bogus'");
    expectCleanError(isosim('frobnicate'), "'frobnicate' is not a command");
    expectCleanError(isosim('fig6', '--source', 'oracle'), '--source', "use 'estimate' or 'truth'");
    expectCleanError(isosim('fig6', '--duration', '5'), '--duration', '10 seconds or more');
    expectCleanError(isosim('weight', '--profile', 'cray-1'), '--profile', 'system-1');
    expectCleanError(isosim('log', 'info', join(dir, 'missing.isolog')), 'missing.isolog', 'cannot open');
    const notLog = join(dir, 'not-a-log.txt');
    writeFileSync(notLog, 'hello world, this is not a log');
    expectCleanError(isosim('log', 'info', notLog), 'not an isosim log');
  });

  it('prints help for the tool and for every command', () => {
    expect(isosim('--help').out).toContain('Commands:');
    for (const cmd of [['fig6'], ['weight'], ['demo'], ['log', 'info'], ['log', 'export']]) {
      const r = isosim(...cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: isosim ${cmd.join(' ')}`);
    }
  });
});
