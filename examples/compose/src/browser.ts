/**
 * The browser entry: `@isosim/actors/machines` alone, bundled with esbuild for a
 * browser (`npm run check`). Runs the NIC's machine and prints its states.
 */
import { nicClock, nicMachine } from '@isosim/actors/machines';
import { createActor } from 'xstate';

const seen: string[] = [];
const nic = createActor(nicMachine.provide(nicClock(() => 0)), { input: { itrMs: 0 } });
nic.subscribe((s) => seen.push(String(s.value)));
nic.start();
nic.send({ type: 'nic.rx' });
export const states = seen;
