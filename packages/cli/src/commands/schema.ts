import { ScenarioSchema, SweepSchema } from '@isosim/scenarios';
import { z } from 'zod';
import type { CommandSpec } from '../args.ts';

export const schema: CommandSpec = {
  name: 'schema',
  brief: 'prints the JSON Schema of scenario files, for editors',
  summary:
    'Prints the JSON Schema (draft 2020-12) of scenario files (docs/scenarios.md), or with\n' +
    '--sweep of sweep files (docs/sweeps.md).',
  usage: 'isosim schema [--sweep]',
  options: { sweep: { type: 'boolean', help: 'the schema of sweep files instead' } },
  run({ values }) {
    const schema = values.sweep ? SweepSchema : ScenarioSchema;
    console.log(JSON.stringify(z.toJSONSchema(schema, { io: 'input' }), null, 2));
    return 0;
  },
};
