/**
 * Replaying your actors' states from the log: run a host with a machine of your own
 * beside isosim's (a fan that a thermostat turns on and off), write the log to a file,
 * then, from the file alone, read back the fan's state timeline, the NIC's, and the
 * whole host's state at a chosen instant (every actor's state value, the scheduler's
 * decisions, the drops). Nothing is re-run to answer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P4_2_8, XenSystem } from '@isosim/actors';
import { Kernel, LogWriter, NS_PER_MS, NS_PER_S } from '@isosim/core';
import { FileSink } from '@isosim/core/node';
import { Replay, stateTimeline } from '@isosim/replay';
import { setup } from 'xstate';

/** A machine of our own: events carry integer fields only (`tenthsC`), as the log needs. */
const fanMachine = setup({
  types: { events: {} as { type: 'temp'; tenthsC: number } },
  guards: {
    hot: ({ event }) => event.tenthsC >= 300,
    cool: ({ event }) => event.tenthsC < 250,
  },
}).createMachine({
  id: 'fan',
  initial: 'off',
  states: {
    off: { on: { temp: { guard: 'hot', target: 'on' } } },
    on: { on: { temp: { guard: 'cool', target: 'off' } } },
  },
});

const path = join(mkdtempSync(join(tmpdir(), 'isosim-replay-')), 'run.isolog');
const log = new LogWriter(new FileSink(path), {
  format: 'isosim-log',
  schema: 1,
  scenario: { name: 'replay-example' },
  seed: 7,
  versions: {},
});
const kernel = new Kernel({ seed: 7, log });
const xen = new XenSystem(kernel, {
  profile: P4_2_8,
  scheduler: 'sedf',
  idd: { name: 'Dom-0', vcpus: [{ pcpu: 0 }] },
  guests: [
    {
      name: 'Dom-1',
      vcpus: [{ pcpu: 0 }],
      workloads: [{ kind: 'web', rate: 200, fileBytes: 10_240, timeoutNs: 10 * NS_PER_S }],
    },
  ],
});
// Our actor lives on the same kernel as the host's: its events go through the log too.
const fan = xen.host.spawn('fan', fanMachine);
const temps = [220, 260, 310, 290, 240, 230, 320];
temps.forEach((tenthsC, i) => {
  xen.host.send(fan, { type: 'temp', tenthsC }, (i + 1) * 100 * NS_PER_MS);
});
xen.start();
kernel.runUntil(NS_PER_S);
xen.settle();
log.close();

// From the file alone.
const fanStates = stateTimeline(path, 'fan');
assert.deepEqual(
  fanStates.map((c) => c.state),
  ['off', 'on', 'off', 'on'],
);
for (const c of fanStates) {
  console.log(`fan: ${c.state.padEnd(3)} at ${c.timeNs / NS_PER_MS} ms (record ${c.seq})`);
}
const nic = stateTimeline(path, 'nic0');
console.log(`nic0: ${nic.length} state changes, first ${nic[0]?.state}, last ${nic.at(-1)?.state}`);

const replay = Replay.open(path, { indexPath: false });
const { n, world } = replay.seekTime(450 * NS_PER_MS);
console.log(
  `at 450 ms (after record ${n}): fan ${world.actor('fan')}, netback ${world.actor('Dom-0.netback')}`,
);
console.log(`scheduler decisions: ${JSON.stringify(world.s.scheduler?.context.decisions)}`);
