import { ScenarioSchema } from '@isosim/scenarios';
import { z } from 'zod';
import type { CommandSpec } from '../args.ts';

export const schema: CommandSpec = {
  name: 'schema',
  brief: 'prints the JSON Schema of scenario files, for editors',
  summary: 'Prints the JSON Schema (draft 2020-12) of scenario files; see docs/scenarios.md.',
  usage: 'isosim schema',
  options: {},
  run() {
    console.log(JSON.stringify(z.toJSONSchema(ScenarioSchema, { io: 'input' }), null, 2));
    return 0;
  },
};
