/** The `isosim` program: runs the command line (`main.ts` holds the commands). */
import { setFlagsFromString } from 'node:v8';
import { runCli } from './main.ts';

// V8 lets its old generation grow to about four times the live heap before a full
// collection, so a long run's RSS climbs with its length though its live data barely
// does (issue 15, flat memory: +67 MB from 60 s to 1,800 s of table1-sedfdc). Growing
// by half instead keeps that within a few MB, for ~2% more time in the collector
// (docs/performance.md, "Memory"). Set here, for the program, not in the library.
setFlagsFromString('--heap-growing-percent=50');

await runCli(process.argv.slice(2));
