/**
 * Bad disk and driver-domain input (issue 16): a queue depth of 0, an I/O size that is
 * not whole sectors, a vbd whose backend is not a driver domain (or does not drive its
 * disk), a vbd on a disk that does not exist, a disk job on a guest without a vbd, a
 * device driven by two domains; a charging policy that does not exist, and 1A (a driver
 * domain per guest) where one serves two guests (issue 17). Each is refused when the file is loaded, in one line
 * naming the file, the field and the fix, before anything is written.
 */
import { type BadInputRow, type Json, scenarioRows } from './row.ts';

const row = scenarioRows('disk', 'disk-interference.json');

const dom = (s: Json, name: string) => s.domains.find((d: Json) => d.name === name);

export const rows: readonly BadInputRow[] = [
  row(
    'a disk queue depth of 0',
    (s) => {
      s.disks[0].queueDepth = 0;
    },
    ['disks[0].queueDepth', /at least 1|>= ?1/],
  ),
  row(
    'a block size that is not a multiple of 512',
    (s) => {
      dom(s, 'Dom-1').workloads[0].blockBytes = 1000;
    },
    ['workloads[0].blockBytes', 'multiple of 512'],
  ),
  row(
    'a vbd whose backend is a guest, not a driver domain',
    (s) => {
      dom(s, 'Dom-1').vbds[0].backend = 'Dom-2';
    },
    ['vbds[0].backend', 'not a driver domain', 'Dom-blk'],
  ),
  row(
    'a vbd whose backend does not drive its disk',
    (s) => {
      dom(s, 'Dom-1').vbds[0].backend = 'Dom-0';
    },
    ['vbds[0].backend', 'does not drive', 'Dom-blk'],
  ),
  row(
    'a vbd on a disk that does not exist',
    (s) => {
      dom(s, 'Dom-1').vbds[0].disk = 'sdb';
    },
    ['vbds[0].disk', 'names no disk', 'sda'],
  ),
  row(
    'a disk job on a guest without a vbd',
    (s) => {
      delete dom(s, 'Dom-1').vbds;
    },
    ['workloads[0].vbd', 'no vbd', 'vbds'],
  ),
  row(
    'a disk driven by two driver domains',
    (s) => {
      dom(s, 'Dom-0').devices = ['nic0', 'sda'];
    },
    ['domains[1].devices[0]', 'driven by "Dom-0" too', 'one driver domain'],
  ),
  row(
    'a device that is neither the NIC nor a disk',
    (s) => {
      dom(s, 'Dom-blk').devices = ['sda', 'hdx'];
    },
    ['devices[1]', 'neither the NIC nor a disk'],
  ),
  row(
    'an iodepth of 0',
    (s) => {
      dom(s, 'Dom-2').workloads[0].iodepth = 0;
    },
    ['workloads[0].iodepth'],
  ),
  row(
    'a ShareGuard limit for a domain that is not a driver domain',
    (s) => {
      s.mechanisms = { shareGuard: { limitsPct: { 'Dom-2': { 'Dom-1': 5 } } } };
    },
    ['limitsPct', 'not a driver domain'],
  ),
  row(
    "a ShareGuard limit above the block domain's share",
    (s) => {
      s.mechanisms = { shareGuard: { limitsPct: { 'Dom-2': { 'Dom-blk': 40 } } } };
    },
    ['limitsPct', 'Dom-blk', 'share'],
  ),
  row(
    'debt from a domain that is not a driver domain',
    (s) => {
      s.mechanisms = { debt: { drivers: ['Dom-1'] } };
    },
    ['debt.drivers[0]', 'not a driver domain'],
  ),
  row(
    'a charging policy that does not exist',
    (s) => {
      s.mechanisms = { charging: '3A' };
    },
    ['mechanisms.charging', '"1A"', '"2C"'],
  ),
  row(
    'charging 1A (a driver domain per guest) with two guests on one block domain',
    (s) => {
      s.mechanisms = { charging: '1A' };
    },
    ['mechanisms.charging', '"Dom-blk" serves "Dom-1", "Dom-2"', 'its own driver domain'],
  ),
];
