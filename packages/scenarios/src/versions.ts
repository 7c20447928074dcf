/**
 * Versions recorded in every log header: isosim's own and those of the libraries whose
 * code runs inside the model. Read from the installed package.json files, so the
 * header says what actually ran.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function versionOf(spec: string): string {
  try {
    return (require(spec) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const VERSIONS: Readonly<Record<string, string>> = {
  isosim: versionOf('../package.json'),
  xstate: versionOf('xstate/package.json'),
  rxjs: versionOf('rxjs/package.json'),
};
