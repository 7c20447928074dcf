/**
 * The CLI imports each command's module only when that command runs (start-up of
 * `isosim --help` and `--version` without the simulator): main.ts lists every command's
 * name and brief for the usage text, and this checks that list against the modules.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../packages/cli/src/main.ts';

const COMMANDS_DIR = join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'commands');

describe('the lazily loaded commands', () => {
  it("list each command's own name and brief", async () => {
    for (const c of COMMANDS) {
      const spec = await c.load();
      expect({ name: spec.name, brief: spec.brief }, c.name).toEqual({ name: c.name, brief: c.brief });
    }
  });

  it('leave out no command a module exports', async () => {
    const exported: string[] = [];
    for (const file of readdirSync(COMMANDS_DIR).filter((f) => f.endsWith('.ts') && !f.includes('.test.'))) {
      const module: Record<string, unknown> = await import(join(COMMANDS_DIR, file));
      for (const value of Object.values(module)) {
        if (
          typeof value === 'object' &&
          value !== null &&
          'name' in value &&
          'brief' in value &&
          'run' in value
        )
          exported.push(String(value.name));
      }
    }
    expect(COMMANDS.map((c) => c.name).sort()).toEqual(exported.sort());
  });
});
