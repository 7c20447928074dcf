/**
 * A virtual block device (vbd): the shared ring and event-channel ports that join a
 * guest's blkfront to the blkback of the driver domain that drives its disk
 * (xen/include/public/io/blkif.h).
 *
 * - One ring of `BLK_RING_SIZE` (32) slots: blkfront puts requests, blkback answers each
 *   with a response once the disk has completed it. A request names up to
 *   `BLKIF_MAX_SEGMENTS_PER_REQUEST` (11) segments, each a granted 4 KiB page of the
 *   guest's that blkback maps (grant-mapped segments; the model charges the mapping,
 *   `BlockCosts.segNs`, and keeps no page contents).
 * - Notifications: blkback → blkfront on `guestPort` of the guest's channel set;
 *   blkfront → blkback on `iddPort` of the backend's block channel set.
 * - The vbd is a region of its disk: sectors [startSector, startSector + sectors).
 */
import { type BackRing, createRing, type EventChannelSet, type FrontRing } from '@isosim/core';
import type { DiskOp } from '../hardware/disk.ts';
import type { Domain } from '../hypervisor/hypervisor.ts';

/** xen/include/public/io/blkif.h: BLKIF_MAX_SEGMENTS_PER_REQUEST. */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
/** A segment is one page: 4 KiB on x86. */
export const SEGMENT_BYTES = 4096;
/** The largest request, bytes: 11 segments of a page. */
export const MAX_REQUEST_BYTES = BLKIF_MAX_SEGMENTS_PER_REQUEST * SEGMENT_BYTES;

/** One blkif request (and, answered, its response: the same object comes back). */
export interface BlkRequest {
  /** blkfront's id for it (unique per vbd while outstanding). */
  readonly id: number;
  readonly op: DiskOp;
  /** First sector within the vbd. */
  readonly sector: number;
  readonly sectors: number;
  /** Pages it spans: 1 to 11. */
  readonly segments: number;
  /** When blkfront issued it, ns. */
  readonly issuedNs: number;
  /** blkfront's I/Os this request carries (one, or several merged). */
  readonly io: unknown;
}

export interface Vbd {
  readonly guest: Domain;
  /** The guest's vbd index (its `vbds[i]`). */
  readonly index: number;
  /** The driver domain whose blkback serves it. */
  readonly backend: Domain;
  /** The disk's name. */
  readonly disk: string;
  readonly startSector: number;
  readonly sectors: number;
  readonly front: FrontRing<BlkRequest, BlkRequest>;
  readonly back: BackRing<BlkRequest, BlkRequest>;
  readonly iddChannels: EventChannelSet;
  readonly iddPort: number;
  readonly guestChannels: EventChannelSet;
  readonly guestPort: number;
}

export function createVbd(
  guest: Domain,
  index: number,
  backend: Domain,
  disk: string,
  region: { readonly startSector: number; readonly sectors: number },
  iddChannels: EventChannelSet,
  guestChannels: EventChannelSet,
  ringSlots: number,
): Vbd {
  const ring = createRing<BlkRequest, BlkRequest>(ringSlots);
  return {
    guest,
    index,
    backend,
    disk,
    startSector: region.startSector,
    sectors: region.sectors,
    front: ring.front,
    back: ring.back,
    iddChannels,
    iddPort: iddChannels.bind(`vbd${guest.id}.${index}`),
    guestChannels,
    guestPort: guestChannels.bind(`vbd${index}`),
  };
}
