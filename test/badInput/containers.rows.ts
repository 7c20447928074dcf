/**
 * Bad resource-container input (issue 17, docs/containers.md): a client class that names
 * no class of the guest, or is missing there, or is given to a guest without containers;
 * a workload a guest with containers cannot run; several vCPUs; shares over 100%; an
 * LRP queue without LRP; containers on a driver domain; a bad class name, share or mode.
 * Each is refused when the file is loaded, in one line naming the file, the field and
 * the fix, before anything is written.
 */
import { type BadInputRow, type Json, scenarioRows } from './row.ts';

const row = scenarioRows('containers', 'containers-flood.json');

const guest = (s: Json) => s.domains[1];

export const rows: readonly BadInputRow[] = [
  row(
    "a client class that is none of the guest's classes",
    (s) => {
      guest(s).workloads[1].clientClass = 'gold';
    },
    ['domains[1].workloads[1].clientClass', 'names no class', '"premium", "besteffort"'],
  ),
  row(
    'a web workload without its client class in a guest with containers',
    (s) => {
      delete guest(s).workloads[0].clientClass;
    },
    ['domains[1].workloads[0].clientClass', 'is missing', '"premium"'],
  ),
  row(
    'a client class in a guest without containers',
    (s) => {
      delete guest(s).containers;
    },
    ['domains[1].workloads[0].clientClass', 'no containers', 'remove it, or give the guest containers'],
  ),
  row(
    'a CPU-bound job in a guest with containers',
    (s) => {
      guest(s).workloads.push({ kind: 'cpu' });
    },
    ['domains[1].workloads[2].kind', 'not supported in a guest with containers', 'another guest'],
  ),
  row(
    'a guest with containers and two vCPUs',
    (s) => {
      guest(s).vcpus.push({ pcpu: 0, sedf: { sliceMs: 1, periodMs: 10 } });
    },
    ['domains[1].vcpus', '2 vCPUs', 'one vCPU'],
  ),
  row(
    'shares adding up to more than 100%',
    (s) => {
      guest(s).containers.classes.besteffort.sharePct = 30;
    },
    ['domains[1].containers.classes', '110%', 'at most 100%'],
  ),
  row(
    'an LRP queue bound without LRP',
    (s) => {
      guest(s).containers.mode = 'eager';
      guest(s).containers.queuePackets = 100;
    },
    ['domains[1].containers.queuePackets', '"eager"', "mode: 'lrp'"],
  ),
  row(
    'containers on the driver domain',
    (s) => {
      s.domains[0].containers = { classes: { premium: { sharePct: 50 } } };
    },
    ['domains[0].containers', 'is for guests'],
  ),
  row(
    'a class name with capitals',
    (s) => {
      guest(s).containers.classes = { Premium: { sharePct: 80 }, besteffort: { sharePct: 20 } };
    },
    ['domains[1].containers.classes', '"Premium"', 'lower-case letters'],
  ),
  row(
    'a share of 0%',
    (s) => {
      guest(s).containers.classes.besteffort.sharePct = 0;
    },
    ['domains[1].containers.classes.besteffort.sharePct', 'give a whole percent, 1 to 100'],
  ),
  row(
    'a containers mode that does not exist',
    (s) => {
      guest(s).containers.mode = 'strict';
    },
    ['domains[1].containers.mode', '"strict"', '"off", "eager", "lrp"'],
  ),
];
