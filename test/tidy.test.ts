/**
 * Determinism is enforced, not hoped for: simulation code under packages/core/src and
 * packages/actors/src never reads real time or ambient randomness.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SIMULATION_DIRS = ['packages/core/src', 'packages/actors/src'];

const BANNED =
  /\bMath\.random\b|\bDate\.now\b|\bperformance\.now\b|(?<![.\w])setTimeout\s*\(|(?<![.\w])setInterval\s*\(|(?<![.\w])setImmediate\s*\(|\bnew Date\b|\bcrypto\.randomUUID\b|\bcrypto\.getRandomValues\b|\bprocess\.hrtime\b/;

/** Blanks out comments and string literals, keeping line numbers. */
function codeOnly(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(['"`])(?:\\.|(?!\1)[^\\\n])*\1/g, (m) => m[0] + ' '.repeat(m.length - 2) + m[0])
    .replace(/\/\/.*$/gm, '');
}

function bannedCalls(source: string): { line: number; text: string }[] {
  const lines = codeOnly(source).split('\n');
  const raw = source.split('\n');
  const hits: { line: number; text: string }[] = [];
  lines.forEach((l, i) => {
    if (BANNED.test(l)) hits.push({ line: i + 1, text: raw[i].trim() });
  });
  return hits;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('tidy: no ambient non-determinism in simulation code', () => {
  it('finds no banned call under packages/core/src or packages/actors/src', () => {
    const hits: string[] = [];
    for (const dir of SIMULATION_DIRS) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        for (const h of bannedCalls(readFileSync(file, 'utf8')))
          hits.push(`${relative(ROOT, file)}:${h.line}: ${h.text}`);
      }
    }
    expect(hits).toEqual([]);
  });

  it('catches each banned call, and not a property named like one, a comment or a string', () => {
    for (const bad of [
      'const x = Math.random();',
      'const t = Date.now();',
      'const t = performance.now();',
      'setTimeout(() => {}, 1);',
      '  setInterval(f, 10);',
      'const d = new Date();',
      'const id = crypto.randomUUID();',
      'const t = process.hrtime.bigint();',
    ]) {
      expect(bannedCalls(bad), bad).toHaveLength(1);
    }
    for (const fine of [
      'clock.setTimeout(fn, 5);',
      'const clock = { setTimeout: (fn, d) => kernel.post(d) };',
      '// Math.random would break determinism',
      '/* Date.now() is banned */',
      "const msg = 'never call Date.now() here';",
    ]) {
      expect(bannedCalls(fine), fine).toEqual([]);
    }
  });
});
