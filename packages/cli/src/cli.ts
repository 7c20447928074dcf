/** The `isosim` program: runs the command line (`main.ts` holds the commands). */
import { runCli } from './main.ts';

await runCli(process.argv.slice(2));
